"""Helpers for Google sign-in tests: the emulator's client, a browser stand-in that follows the
authorize URL and its redirect to Carecal's loopback, and a look into the test keyring."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import keyring

from carecal.domain.models import ProviderKind
from carecal.services import google_accounts as google
from carecal.services.secrets import SERVICE
from carecal.store.repo import Repository
from tests.fakes.google_calendar import GoogleCalendarEmulator

CLIENT_ID = "carecal-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-test-secret"


def endpoints(emu: GoogleCalendarEmulator) -> dict[str, str]:
    return {
        "auth_uri": emu.auth_uri,
        "token_uri": emu.token_uri,
        "revoke_uri": emu.revoke_uri,
        "api_base": emu.api_base,
    }


def client(emu: GoogleCalendarEmulator) -> google.GoogleSettings:
    """The emulator's OAuth client and endpoints, as a new sign-in would use them."""
    return google.resolve_client(
        None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, endpoints=endpoints(emu)
    )


class Browser:
    """Stands in for the system browser: GETs the authorize URL and follows the emulator's 302 to
    the loopback redirect, as a user who clicks "Allow" would. ``hold`` makes it open nothing
    (a user who never comes back)."""

    def __init__(self, *, hold: bool = False) -> None:
        self.hold = hold
        self.urls: list[str] = []
        self.pages: list[httpx.Response] = []
        self.opened = threading.Event()

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        self.opened.set()
        if self.hold:
            return True
        with httpx.Client(follow_redirects=True, timeout=10) as http:
            self.pages.append(http.get(url))
        return True


def keyring_entries() -> dict[str, str]:
    """Carecal's keyring entries (account id -> secret) in the test-wide memory keyring."""
    backend = keyring.get_keyring()
    store: dict[tuple[str, str], str] = getattr(backend, "_store", {})
    return {user: secret for (service, user), secret in store.items() if service == SERVICE}


def google_ids(repo: Repository) -> list[str]:
    return [a.id for a in google.google_accounts(repo) if a.kind is ProviderKind.GOOGLE]


@contextmanager
def emulator() -> Iterator[GoogleCalendarEmulator]:
    with GoogleCalendarEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as emu:
        yield emu


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
