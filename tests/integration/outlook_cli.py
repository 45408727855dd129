"""Driving ``carecal`` child processes against the Graph emulator: the environment (the
emulator's authority, API and client id; MSAL's cache in the test-only file keyring), the
sign-in through ``accounts add outlook --no-browser`` with this process following the printed
address as a browser would, and the emulator's events as the crash test compares them."""

from __future__ import annotations

import html
from pathlib import Path

from tests.fakes.graph_server import GraphEmulator
from tests.integration.cli_client import Item
from tests.integration.cli_sign_in import sign_in_by_address
from tests.providers.outlook_support import SEEN_VIEW

__all__ = ["outlook_env", "outlook_items", "sign_in"]


def outlook_env(emu: GraphEmulator, keyring_file: Path) -> dict[str, str]:
    """Variables a child ``carecal`` needs to reach the emulator and keep MSAL's cache."""
    return {
        "PYTHON_KEYRING_BACKEND": "tests.filekeyring.FileKeyring",
        "CARECAL_TEST_KEYRING": str(keyring_file),
        "CARECAL_MS_CLIENT_ID": emu.identity.client_id,
        "CARECAL_MS_AUTHORITY": emu.authority,
        "CARECAL_MS_API_BASE": emu.api_base,
    }


def sign_in(data_dir: Path, env: dict[str, str], *extra_args: str) -> str:
    """``carecal accounts add outlook --no-browser --all``, approving at the emulator's
    authorize page by following the printed address. Returns the output; raises
    AssertionError when it fails."""
    return sign_in_by_address(data_dir, env, "outlook", r"https?://\S+/authorize\S*", *extra_args)


def outlook_items(emu: GraphEmulator) -> list[tuple[str, Item, str]]:
    """The default calendar's events as (Graph id, Item with Carecal's UID, "") for the crash
    test's comparisons."""
    from carecal.providers.outlook_map import body_text, item_uid, location_text, subject_text

    box = emu.mailbox
    with emu.lock:
        cal = box.default_calendar().id
        events = [box.render(box.as_inst(i), SEEN_VIEW) for i in box.items.values()
                  if i.calendar_id == cal]  # fmt: skip
    out = []
    for ev in events:
        notes = html.unescape(body_text(ev))
        item = Item(item_uid(ev), subject_text(ev), location_text(ev), notes)
        out.append((str(ev["id"]), item, ""))
    return out
