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


def test_add_google_signs_in_mirrors_and_syncs(
    run: Run, emu: GoogleCalendarEmulator, browser: Browser
) -> None:
    emu.add_calendar(
        "en.polish#holiday@group.v.calendar.google.com", "Holidays", access_role="reader"
    )
    emu.remote_insert(
        {
            "summary": "Physio: first visit",
            "start": {"dateTime": "2026-11-24T10:00:00+01:00", "timeZone": "Europe/Warsaw"},
            "end": {"dateTime": "2026-11-24T10:50:00+01:00", "timeZone": "Europe/Warsaw"},
        }
    )
    result = run("accounts", "add", "google", "--privacy", "full", "--name", "Practice Google")
    assert result.code == 0, result.err
    assert "Signed in as practitioner@example.com" in result.out
    assert "Added account 'Practice Google'; mirroring 1 of 2" in result.out
    assert "[x] Practice" in result.out and "[ ] Holidays (read-only)" in result.out
    assert "Privacy: full" in result.out and browser.urls
    [record] = run("accounts", "list", "--format", "json").json()  # type: ignore[misc]
    assert record["privacy"] == "full" and record["id"] in keyring_entries()

    synced = run("sync")
    assert synced.code == 0, synced.err
    assert "Practice Google / Practice: 0 sent, 1 received" in synced.out
    listed = run("events", "list", "--from", "2026-11-23", "--to", "2026-11-29", "--format", "json")
    assert [e["title"] for e in listed.json()] == ["Physio: first visit"]  # type: ignore[union-attr]

    again = run("accounts", "add", "google", "--all")
    assert again.code == 0 and "was already on this computer" in again.out
    assert "mirroring 2 of 2" in again.out
    assert len(run("accounts", "list", "--format", "json").json()) == 1  # type: ignore[arg-type]


def test_signin_after_a_dead_refresh_token(
    run: Run, emu: GoogleCalendarEmulator, browser: Browser
) -> None:
    assert run("accounts", "add", "google").code == 0
    emu.expire_access_tokens()
    emu.kill_refresh_tokens()
    failed = run("sync")
    assert failed.code == 1 and "carecal accounts signin" in failed.err
    assert "sign in again" in run("accounts", "list").out
    result = run("accounts", "signin", "practitioner@example.com")
    assert result.code == 0, result.err
    assert "Signed in to 'practitioner@example.com' again" in result.out
    assert run("sync").code == 0
    assert "ok" in run("accounts", "list").out
