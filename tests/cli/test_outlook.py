"""``carecal accounts add outlook [--device-code]``, ``signin``, ``signout``, ``set --privacy``,
``list``, ``sync`` and ``remove`` for Outlook accounts, through the CLI's entry function against
the Graph emulator (MSAL talking to its identity endpoints)."""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Iterator

import pytest

from carecal.services import outlook_client
from tests.cli.conftest import Run
from tests.fakes.graph_server import GraphEmulator
from tests.google_signin_helpers import keyring_entries
from tests.outlook_signin_helpers import MsBrowser
from tests.providers.outlook_support import running_emulator


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    with running_emulator() as server:
        monkeypatch.setenv(outlook_client.CLIENT_ID_ENV, server.identity.client_id)
        monkeypatch.setenv(outlook_client.AUTHORITY_ENV, server.authority)
        monkeypatch.setenv(outlook_client.API_BASE_ENV, server.api_base)
        yield server


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> MsBrowser:
    fake = MsBrowser()
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(webbrowser, "open", fake)
    return fake


def test_add_outlook_without_a_client_id_says_where_to_put_one(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(outlook_client.CLIENT_ID_ENV, raising=False)
    result = run("accounts", "add", "outlook", "--no-browser")
    assert result.code == 1
    assert "no Microsoft client id" in result.err and "CARECAL_MS_CLIENT_ID" in result.err
    assert "Traceback" not in result.err and result.err.count("\n") == 1


def test_add_outlook_in_the_browser_then_list_sync_set_signout_signin_remove(
    run: Run, emu: GraphEmulator, browser: MsBrowser
) -> None:
    added = run("accounts", "add", "outlook", "--privacy", "busy", "--name", "Clinic")
    assert added.code == 0, added.err
    assert "Signed in as practitioner@example.com" in added.out
    assert "Added account 'Clinic'; mirroring 1 of 1" in added.out and "[x] Calendar" in added.out
    assert browser.opened and "Privacy: busy." in added.out
    [record] = run("accounts", "list", "--format", "json").json()  # type: ignore[misc]
    assert (record["kind"], record["privacy"], record["username"]) == (
        "outlook", "busy", "practitioner@example.com",
    )  # fmt: skip
    emu.remote_create(
        {"subject": "From Outlook", "start": {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"}}
    )  # fmt: skip
    synced = run("sync")
    assert synced.code == 0, synced.err
    assert "Clinic / Calendar: 0 sent, 1 received" in synced.out
    assert run("accounts", "set", "Clinic", "--privacy", "full").code == 0
    out = run("accounts", "signout", "Clinic")
    assert out.code == 0 and "removed from the keyring" in out.out
    assert record["id"] not in keyring_entries()
    failed = run("sync")
    assert failed.code == 1 and "needs sign-in" in failed.err
    again = run("accounts", "signin", "Clinic")
    assert again.code == 0 and "Signed in to 'Clinic' again" in again.out, again.err
    assert run("sync").code == 0
    removed = run("accounts", "remove", "Clinic")
    assert removed.code == 0 and "nothing was deleted in Outlook" in removed.out
    assert record["id"] not in keyring_entries()


def test_add_outlook_with_a_device_code(
    run: Run, emu: GraphEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda url: pytest.fail("no browser expected"))
    emu.identity.device_interval = 1  # Microsoft's is 5 s; the test need not wait that long

    def approve_when_shown() -> None:
        for _ in range(200):
            with emu.lock:
                pending = [d for d in emu.identity.devices.values() if d.state == "pending"]
            if pending:
                emu.approve_device_code(pending[0].user_code)
                return
            threading.Event().wait(0.02)

    threading.Thread(target=approve_when_shown, daemon=True).start()
    result = run("accounts", "add", "outlook", "--device-code")
    assert result.code == 0, result.err
    assert "and enter the code" in result.out and "Added account" in result.out


def test_a_declined_device_code_exits_non_zero_keeping_nothing(
    run: Run, emu: GraphEmulator
) -> None:
    def decline_when_shown() -> None:
        for _ in range(200):
            with emu.lock:
                pending = [d for d in emu.identity.devices.values() if d.state == "pending"]
            if pending:
                emu.decline_device_code(pending[0].user_code)
                return
            threading.Event().wait(0.02)

    emu.identity.device_interval = 1
    before = dict(keyring_entries())
    threading.Thread(target=decline_when_shown, daemon=True).start()
    result = run("accounts", "add", "outlook", "--device-code")
    assert result.code == 1 and "declined" in result.err and "Traceback" not in result.err
    assert keyring_entries() == before
    assert run("accounts", "list", "--format", "json").json() == []
