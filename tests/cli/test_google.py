"""``carecal accounts add google``, ``signin``, ``signout``, ``set --privacy``, ``list`` and
``remove`` for Google accounts, run through the CLI's entry function against the emulator."""

from __future__ import annotations

import io
import threading
import time
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest

from carecal import cli
from carecal.net.tokens import TokenSet
from carecal.services import google_accounts as google
from carecal.services.accounts import RemoteCalendar
from carecal.services.session import open_session
from tests.cli.conftest import Run
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.fakes.google_oauth import CALENDAR
from tests.google_signin_helpers import Browser, client, emulator, endpoints, keyring_entries

PRIMARY = RemoteCalendar("practitioner@example.com", "Practice", "#9fe1e7")


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleCalendarEmulator]:
    with emulator() as server:
        for key, url in endpoints(server).items():
            monkeypatch.setenv(google.ENDPOINT_ENV[key], url)
        monkeypatch.setenv(google.CLIENT_ID_ENV, server.oauth.client_id)
        monkeypatch.setenv(google.CLIENT_SECRET_ENV, server.oauth.client_secret)
        yield server


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    """``webbrowser.open`` replaced by a client that follows the redirect; a display present."""
    fake = Browser()
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(webbrowser, "open", fake)
    return fake


def stored_account(data_dir: Path, emu: GoogleCalendarEmulator, **kw: object) -> str:
    """A Google account written through the service (a grant issued by the emulator)."""
    with emu.lock:
        access, refresh = emu.oauth.issue((CALENDAR + ".events",))
    tokens = TokenSet(access_token=access, refresh_token=refresh, expires_at=time.time() + 3500)
    signin = google.GoogleSignIn(client(emu), tokens, (PRIMARY,), PRIMARY.remote_id)
    with open_session(data_dir, actor="test") as session:
        added = google.finish_add(session.repo, signin, [PRIMARY], actor="test", **kw)  # type: ignore[arg-type]
    return added.account.name


def test_add_google_without_a_client_id_says_where_to_put_one(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(google.CLIENT_ID_ENV, raising=False)
    result = run("accounts", "add", "google", "--no-browser")
    assert result.code == 1
    assert "no Google OAuth client id" in result.err and "--client-id" in result.err
    assert "Traceback" not in result.err and result.err.count("\n") == 1


def test_add_google_timeout_and_refusal_exit_non_zero_leaving_nothing(
    run: Run, emu: GoogleCalendarEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = Browser(hold=True)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(webbrowser, "open", held)
    before = dict(keyring_entries())
    result = run("accounts", "add", "google", "--timeout", "0.3")
    assert result.code == 1 and "nobody finished the sign-in" in result.err
    assert "Opening your browser" in result.out and held.urls[0] in result.out
    emu.oauth.deny_consent = True
    monkeypatch.setattr(webbrowser, "open", Browser())
    refused = run("accounts", "add", "google")
    assert refused.code == 1 and "access_denied" in refused.err
    assert "Traceback" not in result.err + refused.err
    assert keyring_entries() == before
    assert run("accounts", "list", "--format", "json").json() == []


def test_no_browser_prints_the_address_and_waits_for_the_redirect(
    emu: GoogleCalendarEmulator, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a browser the user opens the printed address elsewhere on this computer."""
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)  # must not be called
    emu.oauth.deny_consent = True  # the end of the flow is the browser's answer either way

    class Terminal(io.StringIO):
        """Standard output that, like a user, opens the first address it shows."""

        def write(self, text: str) -> int:
            if text.strip().startswith("http://127.0.0.1"):
                threading.Thread(target=Browser(), args=(text.strip(),), daemon=True).start()
            return super().write(text)

    terminal = Terminal()
    monkeypatch.setattr("sys.stdout", terminal)
    code = cli.main(["accounts", "add", "google", "--no-browser", "--data-dir", str(data_dir)])
    assert code == 1 and opened == []
    assert "Open this address in a browser" in terminal.getvalue()
    assert "/o/oauth2/v2/auth?" in terminal.getvalue()


def test_list_set_privacy_signout_and_remove(
    run: Run, emu: GoogleCalendarEmulator, data_dir: Path
) -> None:
    name = stored_account(data_dir, emu)
    [record] = run("accounts", "list", "--format", "json").json()  # type: ignore[misc]
    assert record["kind"] == "google" and record["privacy"] == "initials"
    assert record["username"] == PRIMARY.remote_id and record["calendars"] == ["Practice"]
    assert record["needs_sign_in"] is False and record["signed_out"] is False
    table = run("accounts", "list").out
    assert "google" in table and "ok" in table

    changed = run("accounts", "set", name, "--privacy", "busy")
    assert changed.code == 0 and "only “Busy”" in changed.out
    assert run("accounts", "set", name, "--privacy", "loud").code == 2

    out = run("accounts", "signout", name)
    assert out.code == 0, out.err
    assert "Google revoked Carecal's access" in out.out
    assert ("POST", "/revoke", 200) in emu.log
    [record] = run("accounts", "list", "--format", "json").json()  # type: ignore[misc]
    assert record["signed_out"] is True and record["privacy"] == "busy"
    assert "signed out" in run("accounts", "list").out
    assert record["id"] not in keyring_entries()

    removed = run("accounts", "remove", name)
    assert removed.code == 0 and "nothing was deleted on Google" in removed.out
    assert run("accounts", "list", "--format", "json").json() == []


def test_remove_signs_out_first(run: Run, emu: GoogleCalendarEmulator, data_dir: Path) -> None:
    name = stored_account(data_dir, emu, privacy="full")
    removed = run("accounts", "remove", name)
    assert removed.code == 0, removed.err
    assert "Signed out: Google revoked" in removed.out
    assert not any(g.alive for g in emu.oauth.grants)


def test_google_commands_refuse_a_caldav_account(run: Run, data_dir: Path) -> None:
    from tests.services.sync_helpers import make_remote

    with open_session(data_dir, actor="test") as session:
        make_remote(session.repo, name="Dav")
    for argv in (("signin", "Dav"), ("signout", "Dav")):
        result = run("accounts", *argv)
        assert result.code == 1 and "is a caldav account" in result.err
    result = run("accounts", "set", "Dav", "--privacy", "busy")
    assert result.code == 1 and "not a Google account" in result.err
    assert run("accounts", "signin", "nobody").code == 1
