"""Shared helpers for Outlook sign-in tests: a "browser" that signs in at the Graph emulator
(its authorize page approves at once and redirects to Carecal's loopback receiver), and the
registration settings pointing at the emulator."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from carecal.services.outlook_client import OutlookSettings
from tests.fakes.graph_server import GraphEmulator


def ms_settings(emu: GraphEmulator) -> OutlookSettings:
    return OutlookSettings(emu.identity.client_id, emu.authority, emu.api_base)


@dataclass
class MsBrowser:
    """Follows Microsoft's sign-in page to the redirect, as a browser would; ``opened`` keeps
    the addresses it was given."""

    opened: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        page = httpx.get(url, follow_redirects=False)
        assert page.status_code == 302, page.text
        httpx.get(page.headers["location"], timeout=10)
        return True
