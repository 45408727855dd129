"""Driving ``carecal`` child processes against the Google emulator: the environment (the
emulator's endpoints and OAuth client, tokens in the test-only file keyring), the sign-in
through ``accounts add google --no-browser`` with this process following the printed address
as a browser would, and the emulator's events as the crash test compares them."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.integration.cli_client import PROJECT_ROOT, Item
from tests.integration.cli_sign_in import sign_in_by_address

CLIENT_ID = "carecal-cli-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-cli-test"


def emulator() -> GoogleCalendarEmulator:
    """An emulator (not started) whose OAuth client is the one ``google_env`` names."""
    return GoogleCalendarEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def google_env(emu: GoogleCalendarEmulator, keyring_file: Path) -> dict[str, str]:
    """Variables a child ``carecal`` needs to reach the emulator and keep its tokens."""
    return {
        "PYTHON_KEYRING_BACKEND": "tests.filekeyring.FileKeyring",
        "CARECAL_TEST_KEYRING": str(keyring_file),
        "CARECAL_GOOGLE_CLIENT_ID": CLIENT_ID,
        "CARECAL_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "CARECAL_GOOGLE_AUTH_URI": emu.auth_uri,
        "CARECAL_GOOGLE_TOKEN_URI": emu.token_uri,
        "CARECAL_GOOGLE_REVOKE_URI": emu.revoke_uri,
        "CARECAL_GOOGLE_API_BASE": emu.api_base,
    }


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([*paths, str(PROJECT_ROOT / "desktop"), str(PROJECT_ROOT)])
    # No graphical session: the sign-in prints its address instead of opening a browser.
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def sign_in(data_dir: Path, env: dict[str, str], *extra_args: str) -> str:
    """``carecal accounts add google --no-browser --all``, approving in the emulator's browser
    page by following the printed address. Returns the command's output; raises
    AssertionError when it fails."""
    return sign_in_by_address(data_dir, env, "google", r"https?://\S+/auth\S*", *extra_args)


def google_items(
    emu: GoogleCalendarEmulator, calendar_id: str = "primary"
) -> list[tuple[str, Item, str]]:
    """The calendar's live events as (Google id, Item with Carecal's UID, "") for the crash
    test's comparisons; cancelled entries are deletions and left out."""
    with emu.lock:
        events = copy.deepcopy(list(emu._calendar(calendar_id).events.values()))
    out = []
    for ev in events:
        if ev.get("status") == "cancelled" or ev.get("recurringEventId"):
            continue
        private = ev.get("extendedProperties", {}).get("private", {})
        uid = private.get("carecalUid") or ev["iCalUID"]
        item = Item(uid, ev.get("summary", ""), ev.get("location", ""), ev.get("description", ""))
        out.append((ev["id"], item, ""))
    return out
