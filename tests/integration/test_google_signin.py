"""Google sign-in end to end against the emulator: the browser is a client that follows the
authorize URL and its redirect to Carecal's loopback. Then the account exists, its tokens are in
the (in-memory) keyring and in no file of the data directory, its calendars are mirrored, and a
sync cycle through services.syncing pulls the events. A dead refresh token marks the account
"needs sign-in" and keeps its queue; signing in again sends it; signing out revokes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from carecal.domain.models import Event, new_id
from carecal.net.tokens import TokenSet
from carecal.services import google_accounts as google
from carecal.services.session import Session, open_session
from carecal.services.syncing import CycleResult, keyring_providers, run_cycle
from carecal.store.syncstate import SyncStore
from carecal.sync.engine import CancelToken
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.google_signin_helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    Browser,
    emulator,
    endpoints,
    keyring_entries,
)

PRIMARY_ID = "practitioner@example.com"
GROUP = "c0ffee@group.calendar.google.com"
HOLIDAYS = "en.polish#holiday@group.v.calendar.google.com"


@pytest.fixture
def emu() -> Iterator[GoogleCalendarEmulator]:
    with emulator() as server:
        server.add_calendar(GROUP, "Home visits")
        server.add_calendar(HOLIDAYS, "Holidays in Poland", access_role="reader")
        server.remote_insert(
            {
                "summary": "Physio: first visit",
                "start": {"dateTime": "2026-11-24T10:00:00+01:00", "timeZone": "Europe/Warsaw"},
                "end": {"dateTime": "2026-11-24T10:50:00+01:00", "timeZone": "Europe/Warsaw"},
            }
        )
        yield server


@pytest.fixture
def session(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    with open_session(data_dir, actor="user") as s:
        yield s


def cycle(session: Session, *, force: bool = False) -> CycleResult:
    return asyncio.run(run_cycle(session.db, keyring_providers, CancelToken(), force, None))


def add(session: Session, emu: GoogleCalendarEmulator, browser: Browser) -> google.GoogleAdded:
    return google.add_google_account(
        session.repo,
        open_browser=browser,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        endpoints=endpoints(emu),
        timeout=20,
        actor="user",
    )


def files_holding(directory: Path, secret: str) -> list[str]:
    needle = secret.encode()
    return [p.name for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_sign_in_mirrors_calendars_keeps_tokens_in_the_keyring_and_syncs(
    session: Session, emu: GoogleCalendarEmulator, data_dir: Path
) -> None:
    browser = Browser()
    added = add(session, emu, browser)
    account = added.account

    # The browser was sent to Google's consent page with PKCE, both scopes, offline access.
    params = httpx.URL(browser.urls[0]).params
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["scope"].split() == list(google.SCOPES)
    assert (params["access_type"], params["prompt"]) == ("offline", "consent")
    assert params["redirect_uri"].startswith("http://127.0.0.1:")
    assert browser.pages[0].status_code == 200 and "go back to Carecal" in browser.pages[0].text

    assert not added.existed and account.name == "practitioner@example.com"
    mirrored = {c.remote_id: c for c in session.repo.list_calendars() if c.account_id == account.id}
    assert set(mirrored) == {"practitioner@example.com", GROUP}  # not the read-only holidays
    assert mirrored[GROUP].name == "Home visits" and mirrored[GROUP].color == "#9fe1e7"

    tokens = TokenSet.from_json(keyring_entries()[account.id])
    assert tokens.refresh_token and tokens.access_token
    result = cycle(session)
    assert result.ok, result.errors
    practice = mirrored["practitioner@example.com"]
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    titles = [e.title for e in session.repo.events_in_window(*window, [practice.id])]
    assert titles == ["Physio: first visit"]

    for secret in (tokens.access_token, str(tokens.refresh_token)):
        assert files_holding(data_dir, secret) == []
    assert "ya29." not in str(SyncStore(session.repo).account(account.id).settings)

    # The same Google account once more: no second account, tokens replaced.
    again = add(session, emu, Browser())
    assert again.existed and again.account.id == account.id
    assert [a.id for a in google.google_accounts(session.repo)] == [account.id]


def test_dead_refresh_token_keeps_the_queue_until_signed_in_again(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    account = add(session, emu, Browser()).account
    assert cycle(session).ok
    calendars = SyncStore(session.repo).calendars_of(account.id)
    practice = next(c for c in calendars if c.remote_id == "practitioner@example.com")
    start = datetime(2026, 11, 25, 9, tzinfo=UTC)
    uid = f"{new_id()}@carecal"
    session.repo.add_event(
        Event(new_id(), practice.id, uid, "Lunch", start, start.replace(hour=10)), actor="user"
    )
    emu.expire_access_tokens()
    emu.kill_refresh_tokens()  # revoked elsewhere, or the 7-day limit of a "Testing" app

    result = cycle(session)
    assert not result.ok
    stored = SyncStore(session.repo).account(account.id)
    assert stored.settings["needs_sign_in"] is True
    assert len(SyncStore(session.repo).pending_ops()) == 1  # the edit waits
    assert cycle(session).reports == []  # not retried every few minutes while signed out

    signin = google.sign_in_again_blocking(stored, open_browser=Browser(), timeout=20)
    google.finish_sign_in_again(session.repo, stored, signin, actor="user")
    result = cycle(session)
    assert result.ok, result.errors
    assert SyncStore(session.repo).pending_ops() == []
    assert SyncStore(session.repo).account(account.id).settings["needs_sign_in"] is False
    on_google = [
        e
        for e in emu.calendars["practitioner@example.com"].events.values()
        if e.get("summary") == "Lunch"
    ]
    assert len(on_google) == 1

    # Signing out revokes the grant at Google and forgets the tokens here.
    assert google.sign_out(session.repo, stored, actor="user") is True
    assert ("POST", "/revoke", 200) in emu.log
    assert account.id not in keyring_entries()


def test_sign_in_again_with_another_google_account_is_refused(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    account = add(session, emu, Browser()).account
    before = keyring_entries()[account.id]
    other = account.__class__(
        account.id, account.kind, account.name, {**account.settings, "email": "someone@else.org"}
    )
    with pytest.raises(google.WrongGoogleAccount, match=r"signed in as practitioner@example\.com"):
        google.sign_in_again_blocking(other, open_browser=Browser(), timeout=20)
    assert keyring_entries()[account.id] == before
    assert sum(1 for g in emu.oauth.grants if g.alive) == 1  # the refused grant was revoked


def test_the_sync_lane_gives_google_the_accounts_privacy_with_labels_from_the_store(
    session: Session, emu: GoogleCalendarEmulator
) -> None:
    from carecal.domain.models import Patient, ServiceType

    account = add(session, emu, Browser()).account
    repo = session.repo
    patient = Patient(new_id(), "Anna", "Kowalska")
    service = ServiceType(new_id(), "Physiotherapy")
    repo.add_patient(patient, actor="user")
    repo.save_service(service, actor="user")
    practice = next(
        c for c in SyncStore(repo).calendars_of(account.id) if c.remote_id == PRIMARY_ID
    )
    start = datetime(2026, 11, 26, 9, tzinfo=UTC)
    visit = Event(
        new_id(),
        practice.id,
        f"{new_id()}@carecal",
        "Physio: Anna Kowalska",
        start,
        start.replace(hour=10),
        description="Knee, second visit",
        location="Room 2",
        patient_id=patient.id,
        service_id=service.id,
    )
    repo.add_event(visit, actor="user")
    assert cycle(session).ok

    def on_google() -> dict[str, object]:
        [event] = [
            e
            for e in emu.calendars[PRIMARY_ID].events.values()
            if e.get("extendedProperties", {}).get("private", {}).get("carecalId") == visit.id
        ]
        return event

    sent = on_google()
    assert sent["summary"] == "Physiotherapy · A.K."
    assert "Kowalska" not in str(sent) and "Room 2" not in str(sent) and "Knee" not in str(sent)

    google.set_privacy(repo, SyncStore(repo).account(account.id), "busy", actor="user")
    repo.update_event(
        repo.get_event(visit.id).with_changes(title="Physio: A. Kowalska"), actor="user"
    )
    assert cycle(session).ok
    busy = on_google()
    assert busy["summary"] == "Busy" and not busy.get("description") and not busy.get("location")
    assert "Kowalska" not in str(busy)

    # A stricter level reaches what is already on Google at the next sync, with no edit, and
    # the local appointment keeps its real details.
    google.set_privacy(repo, SyncStore(repo).account(account.id), "initials", actor="user")
    assert cycle(session).ok
    assert on_google()["summary"] == "Physiotherapy · A.K."
    google.set_privacy(repo, SyncStore(repo).account(account.id), "busy", actor="user")
    assert cycle(session).ok
    assert on_google()["summary"] == "Busy"
    local = repo.get_event(visit.id)
    assert (local.title, local.location) == ("Physio: A. Kowalska", "Room 2")
    # Setting the same level again queues nothing.
    google.set_privacy(repo, SyncStore(repo).account(account.id), "busy", actor="user")
    assert google.unsent_count(repo, SyncStore(repo).account(account.id)) == 0
