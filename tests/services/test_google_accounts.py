"""Google account use cases against the Google emulator: the OAuth client, keeping a sign-in
(tokens only in the keyring), the same Google account twice, privacy, sign-out and removal.
The browser sign-in with calendar discovery end to end is in tests/integration."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from carecal.domain.errors import ValidationError
from carecal.domain.models import Event, Patient, ServiceType, Settings, new_id
from carecal.net.tokens import TokenSet
from carecal.services import accounts as svc
from carecal.services import google_accounts as google
from carecal.services.accounts import RemoteCalendar
from carecal.services.session import Session
from carecal.store.syncstate import SyncStore
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.fakes.google_oauth import CALENDAR
from tests.google_signin_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    Browser,
    client,
    emulator,
    keyring_entries,
)

PRIMARY = RemoteCalendar("practitioner@example.com", "Practice", "#9fe1e7")
HOME = RemoteCalendar("abc123@group.calendar.google.com", "Home visits", "#f691b2")
HOLIDAYS = RemoteCalendar(
    "en.polish#holiday@group.v.calendar.google.com", "Holidays", "#16a765", read_only=True
)


@pytest.fixture
def emu() -> Iterator[GoogleCalendarEmulator]:
    with emulator() as server:
        yield server


def granted(
    emu: GoogleCalendarEmulator, calendars: tuple[RemoteCalendar, ...]
) -> google.GoogleSignIn:
    """A sign-in as the browser flow leaves it: a live grant at the emulator, in memory."""
    with emu.lock:
        access, refresh = emu.oauth.issue(
            (CALENDAR + ".events", CALENDAR + ".calendarlist.readonly")
        )
    tokens = TokenSet(access_token=access, refresh_token=refresh, expires_at=time.time() + 3500)
    return google.GoogleSignIn(client(emu), tokens, calendars, google.guess_email(calendars))


def test_client_id_comes_from_the_argument_then_settings_then_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {google.CLIENT_ID_ENV: "env-id", google.CLIENT_SECRET_ENV: "env-secret"}
    app = Settings(google_client_id="settings-id")
    assert google.resolve_client(app, client_id="arg-id", environ=env).client_id == "arg-id"
    found = google.resolve_client(app, environ=env)
    assert (found.client_id, found.client_secret) == ("settings-id", "env-secret")
    assert google.resolve_client(None, environ=env).client_id == "env-id"
    assert google.resolve_client(Settings(), environ=env).auth_uri == google.AUTH_URI
    with pytest.raises(google.ClientIdMissing, match="CARECAL_GOOGLE_CLIENT_ID"):
        google.resolve_client(Settings(), environ={})
    monkeypatch.setenv("CARECAL_GOOGLE_TOKEN_URI", "http://127.0.0.1:9/token")
    monkeypatch.setenv(google.CLIENT_ID_ENV, "process-env-id")
    found = google.resolve_client(None)
    assert found.client_id == "process-env-id" and found.token_uri == "http://127.0.0.1:9/token"
    assert found.api_base == google.API_BASE


def test_oauth_config_asks_for_the_two_scopes_offline_with_consent() -> None:
    config = google.oauth_config(google.GoogleSettings("id", "secret"))
    assert config.scopes == (
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
    )
    assert dict(config.authorize_params) == {"access_type": "offline", "prompt": "consent"}
    assert config.token_url == google.TOKEN_URI and config.revoke_url == google.REVOKE_URI
    assert "secret" not in repr(google.GoogleSettings("id", "secret"))


def test_email_and_default_choice_take_the_own_writable_calendars() -> None:
    shared = RemoteCalendar("colleague@example.com", "Colleague", read_only=True)
    found = [HOLIDAYS, shared, HOME, PRIMARY]
    assert google.guess_email(found) == "practitioner@example.com"
    assert google.guess_email([HOLIDAYS, HOME]) is None
    assert google.default_choice(found) == [HOME, PRIMARY]
    assert google.pick_calendars(found, None, every=True) == found
    assert google.pick_calendars(found, ["holidays"]) == [HOLIDAYS]
    with pytest.raises(ValidationError, match="no calendar named 'Gym'"):
        google.pick_calendars(found, ["Gym"])


def test_keeping_a_sign_in_stores_tokens_only_in_the_keyring(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    signin = granted(emu, (PRIMARY, HOME, HOLIDAYS))
    added = google.finish_add(
        session.repo, signin, google.default_choice(signin.calendars), actor="user"
    )
    account = added.account
    assert not added.existed and account.name == "practitioner@example.com"
    assert [c.remote_id for c in added.mirrored] == [PRIMARY.remote_id, HOME.remote_id]
    assert [c.color for c in added.mirrored] == ["#9fe1e7", "#f691b2"]
    settings = SyncStore(session.repo).account(account.id).settings
    assert settings["privacy"] == "initials" and settings["email"] == "practitioner@example.com"
    assert settings["client_id"] == CLIENT_ID and settings["token_uri"] == emu.token_uri
    stored = TokenSet.from_json(keyring_entries()[account.id])
    assert stored.access_token == signin.tokens.access_token
    assert signin.tokens.access_token not in json.dumps(settings)
    assert str(signin.tokens.refresh_token) not in json.dumps(settings)
    assert google.token_source(account)._current().refresh_token == signin.tokens.refresh_token
    # The first client used becomes the app's, so the next sign-in needs no client id.
    assert session.repo.settings().google_client_id == CLIENT_ID
    assert google.resolve_client(session.repo.settings(), environ={}).client_secret == (
        CLIENT_SECRET
    )


def test_the_same_google_account_twice_is_one_account(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    first = google.finish_add(session.repo, granted(emu, (PRIMARY, HOME)), [PRIMARY], actor="u")
    SyncStore(session.repo).update_account_settings(
        first.account.id, {"needs_sign_in": True}, actor="sync"
    )
    again = granted(emu, (PRIMARY, HOME))
    second = google.finish_add(
        session.repo, again, [PRIMARY, HOME], name="Other", privacy="busy", actor="u"
    )
    assert second.existed and second.account.id == first.account.id
    assert [c.remote_id for c in second.mirrored] == [HOME.remote_id]  # only the new one
    assert google.google_accounts(session.repo) == [second.account]
    assert second.account.settings["needs_sign_in"] is False
    assert google.privacy_of(second.account) == "busy"
    assert TokenSet.from_json(keyring_entries()[first.account.id]).access_token == (
        again.tokens.access_token
    )
    # Another Google address is another account; a taken name is refused before anything.
    other = RemoteCalendar("front.desk@example.com", "Front desk")
    with pytest.raises(ValidationError, match="already exists"):
        google.finish_add(
            session.repo,
            granted(emu, (other,)),
            [other],
            name="practitioner@example.com",
            actor="u",
        )
    third = google.finish_add(session.repo, granted(emu, (other,)), [other], actor="u")
    assert not third.existed and len(google.google_accounts(session.repo)) == 2


def test_unknown_address_matches_by_client_and_calendars(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    first = google.finish_add(session.repo, granted(emu, (HOME,)), [HOME], actor="u")
    assert first.account.name == "Google" and google.email_of(first.account) is None
    again = google.finish_add(session.repo, granted(emu, (HOME, HOLIDAYS)), [HOME], actor="u")
    assert again.existed and again.account.id == first.account.id


def test_a_failed_write_takes_the_tokens_back_out(
    session: Session, emu: GoogleCalendarEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dict(keyring_entries())

    def broken(*args: object, **kwargs: object) -> object:
        raise ValidationError("disk full")

    monkeypatch.setattr(svc, "mirror_calendars", broken)
    with pytest.raises(ValidationError, match="disk full"):
        google.finish_add(session.repo, granted(emu, (PRIMARY,)), [PRIMARY], actor="u")
    assert keyring_entries() == before
    assert google.google_accounts(session.repo) == []


def test_cancel_and_timeout_leave_nothing_behind(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    before = dict(keyring_entries())
    browser = Browser(hold=True)
    started = time.monotonic()
    with pytest.raises(google.SignInTimedOut):
        google.sign_in_blocking(client(emu), open_browser=browser, timeout=0.3)
    assert time.monotonic() - started < 5

    cancel = google.SignInCancel()
    held = Browser(hold=True)

    def open_then_cancel(url: str) -> bool:
        held(url)
        cancel.cancel()  # the Cancel button, pressed from another thread
        return True

    with pytest.raises(google.SignInCancelled):
        google.sign_in_blocking(client(emu), open_browser=open_then_cancel, cancel=cancel)
    early = google.SignInCancel()
    early.cancel()
    with pytest.raises(google.SignInCancelled):
        google.sign_in_blocking(client(emu), open_browser=Browser(hold=True), cancel=early)
    assert keyring_entries() == before
    assert google.google_accounts(session.repo) == []
    assert not any(path.startswith("/token") for _, path, _ in emu.log)  # no code exchanged


def test_refused_consent_is_a_clear_failure(emu: GoogleCalendarEmulator) -> None:
    emu.oauth.deny_consent = True
    with pytest.raises(google.SignInFailed, match="access_denied"):
        google.sign_in_blocking(client(emu), open_browser=Browser(), timeout=10)


def test_sign_out_revokes_and_forgets_the_tokens(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    added = google.finish_add(session.repo, granted(emu, (PRIMARY,)), [PRIMARY], actor="u")
    assert google.sign_out(session.repo, added.account, actor="u") is True
    assert ("POST", "/revoke", 200) in emu.log
    assert not any(g.alive for g in emu.oauth.grants)
    assert added.account.id not in keyring_entries()
    account = SyncStore(session.repo).account(added.account.id)
    assert account.settings["needs_sign_in"] is True and account.settings["signed_out"] is True
    assert [c.remote_id for c in SyncStore(session.repo).calendars_of(account.id)] == [
        PRIMARY.remote_id
    ]
    # Signed out already: nothing to revoke, still no error.
    assert google.revoke_sign_in(account) is False


def test_sign_out_when_google_cannot_be_reached_still_forgets(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    signin = granted(emu, (PRIMARY,))
    dead = replace(signin, settings=replace(signin.settings, revoke_uri="http://127.0.0.1:9/r"))
    added = google.finish_add(session.repo, dead, [PRIMARY], actor="u")
    assert google.revoke_sign_in(added.account) is False
    assert added.account.id not in keyring_entries()


def _queue_edit(session: Session, calendar_id: str) -> None:
    start = datetime(2025, 5, 20, 9, tzinfo=UTC)
    session.repo.add_event(
        Event(
            new_id(), calendar_id, f"{new_id()}@carecal", "Physio", start, start.replace(hour=10)
        ),
        actor="user",
    )


def test_removing_signs_out_first_and_keeps_unsent_changes_unless_told(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    added = google.finish_add(session.repo, granted(emu, (PRIMARY,)), [PRIMARY], actor="u")
    _queue_edit(session, added.mirrored[0].id)
    with pytest.raises(ValidationError, match="1 unsent"):
        google.remove_google_account(session.repo, added.account, actor="u")
    assert added.account.id in keyring_entries()  # refused: still signed in
    assert not any(path == "/revoke" for _, path, _ in emu.log)
    removal, revoked = google.remove_google_account(
        session.repo, added.account, actor="u", discard_unsent=True
    )
    assert revoked and removal.calendars == 1 and removal.discarded_ops == 1
    assert added.account.id not in keyring_entries()
    assert google.google_accounts(session.repo) == []


def test_privacy_is_per_account_and_checked(session: Session, emu: GoogleCalendarEmulator) -> None:
    added = google.finish_add(
        session.repo, granted(emu, (PRIMARY,)), [PRIMARY], privacy="full", actor="u"
    )
    assert google.privacy_of(added.account) == "full"
    changed = google.set_privacy(session.repo, added.account, "busy", actor="u")
    assert google.privacy_of(changed) == "busy"
    with pytest.raises(ValidationError, match="full, initials, busy"):
        google.set_privacy(session.repo, changed, "secret", actor="u")
    with pytest.raises(ValidationError):
        google.finish_add(session.repo, granted(emu, (HOME,)), [HOME], privacy="x", actor="u")


def test_labels_carry_patient_initials_and_service_names(session: Session) -> None:
    repo = session.repo
    repo.add_patient(Patient(new_id(), "Anna", "Kowalska"), actor="u")
    repo.add_patient(Patient(new_id(), "madonna"), actor="u")
    service = ServiceType(new_id(), "Physiotherapy")
    repo.save_service(service, actor="u")
    labels = google.labels_from(repo)
    assert sorted(labels.patient_initials.values()) == ["A.K.", "M."]
    assert labels.service_names[service.id] == "Physiotherapy"


def test_sign_in_cancel_handle_works_from_another_loop() -> None:
    cancel = google.SignInCancel()

    async def wait() -> bool:
        event = cancel.event()
        asyncio.get_running_loop().run_in_executor(None, cancel.cancel)
        await asyncio.wait_for(event.wait(), 5)
        return True

    assert asyncio.run(wait()) and cancel.cancelled
    cancel.cancel()  # the loop is gone: still no error


def test_client_secret_env_is_optional(emu: GoogleCalendarEmulator) -> None:
    found = google.resolve_client(None, client_id=CLIENT_ID, environ={})
    assert found.client_secret is None
    assert "client_secret" not in found.stored()
    assert (
        google.resolve_client(None, client_id="x", client_secret=CLIENT_SECRET).stored()[
            "client_secret"
        ]
        == CLIENT_SECRET
    )
