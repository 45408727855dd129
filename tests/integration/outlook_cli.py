"""Driving ``carecal`` child processes against the Graph emulator: the environment (the
emulator's authority, API and client id; MSAL's cache in the test-only file keyring), the
sign-in through ``accounts add outlook --no-browser`` with this process following the printed
address as a browser would, and the emulator's events as the crash test compares them."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.fakes.graph_server import GraphEmulator
from tests.integration.cli_client import Item
from tests.integration.google_cli import PROJECT_ROOT, SIGN_IN_TIMEOUT_S
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
    cmd = [
        sys.executable, "-m", "carecal", "--data-dir", str(data_dir),
        "accounts", "add", "outlook", "--no-browser", "--all", *extra_args,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []

    def follow() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            found = re.search(r"https?://\S+/authorize\S*", line)
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
