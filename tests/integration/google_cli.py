"""Driving ``carecal`` child processes against the Google emulator: the environment (the
emulator's endpoints and OAuth client, tokens in the test-only file keyring), the sign-in
through ``accounts add google --no-browser`` with this process following the printed address
as a browser would, and the emulator's events as the crash test compares them."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.integration.cli_client import Item

CLIENT_ID = "carecal-cli-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-cli-test"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SIGN_IN_TIMEOUT_S = 120.0


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
    cmd = [
        sys.executable, "-m", "carecal", "--data-dir", str(data_dir),
        "accounts", "add", "google", "--no-browser", "--all", *extra_args,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []

    def follow() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"https?://\S+/auth\S*", line)
            if found:
                with httpx.Client(follow_redirects=True, timeout=30) as http:
                    http.get(found.group(0))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=SIGN_IN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=5)
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, f"sign-in exited {code}:\n{''.join(lines)}\n{err[-3000:]}"
    return "".join(lines)


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
