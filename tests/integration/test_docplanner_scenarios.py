"""Docplanner end to end, with real SQLite and the emulators:

- a visit-payment booking left unpaid is cancelled by Docplanner after 90 minutes and Carecal
  follows (payment "cancelled", the time published again); a paid one stays;
- a Google event closes its time in the Docplanner slots within one sync cycle (Docplanner runs
  after the calendars) and deleting it opens the time again;
- a booking made while Carecal was offline over a Google event added meanwhile is flagged as a
  double booking by the first cycle after reconnecting, and a move to a proposed start resolves
  it (a new booking id, the same appointment).

The payment scenario runs on the emulator's manual clock (sync_docplanner with that clock); the
cycle scenarios run the app's own ``run_cycle``, which reads the wall clock, so there the
Docplanner emulator's clock starts at the wall clock's now.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from carecal.domain.models import (
    Account,
    AppointmentStatus,
    Calendar,
    Event,
    ProviderKind,
    WorkingHours,
    new_id,
)
from carecal.providers.docplanner_api import path_of
from carecal.providers.google_map import Privacy
from carecal.services import docplanner_actions as acts
from carecal.services import docplanner_client as dpc
from carecal.services.docplanner_info import PAYMENT_WINDOW, booking_infos
from carecal.services.docplanner_mapping import find_node, list_tree, map_address
from carecal.services.session import Session, open_session
from carecal.services.syncing import CycleResult, run_cycle
from carecal.store.docplanner import DocplannerStore
from carecal.store.docplanner_actions import ActionStore
from carecal.sync.engine import CancelToken
from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.providers.google_support import OWNER, google_provider, running_emulator
from tests.services.test_docplanner_sync import PATIENT, Practice, practice

__all__ = ["practice"]

WARSAW = ZoneInfo("Europe/Warsaw")


@pytest.fixture()
def session(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    with open_session(data_dir, actor="user") as s:
        yield s


def _covered(emu: DocplannerEmulator, address: str, start: datetime, end: datetime) -> bool:
    """Whether the slots Carecal last published for ``address`` hold [start, end)."""
    with emu.lock:
        ranges = list(emu.state.slots.get(address, []))
    return any(r.start <= start and end <= r.end and r.services for r in ranges)


# --- a: the 90-minute payment window ----------------------------------------------------------


def test_an_unpaid_booking_is_cancelled_after_90_minutes_and_its_time_offered_again(
    practice: Practice,
) -> None:
    emu, repo = practice.emu, practice.session.repo
    assert practice.sync().ok
    day = "2026-11-04"
    start = practice.free(emu.ids.online, day)[2]
    booked = emu.patient_books(emu.ids.online, start, patient=PATIENT)
    assert booked is not None
    booked_at = datetime.fromisoformat(booked["booked_at"])
    end = datetime.fromisoformat(booked["end_at"])
    assert _covered(emu, emu.ids.online, start, end)  # published before the booking
    report = practice.sync()
    assert report.ok, report.errors
    link = practice.store.link(practice.account.id, booked["id"])
    assert link is not None and link.visit_payment
    info = booking_infos(repo, [link.event_id])[link.event_id]
    assert info.payment == "awaiting"
    assert info.deadline() == booked_at + PAYMENT_WINDOW
    left = info.time_left(practice.time.now())
    assert left is not None and timedelta(minutes=80) < left <= PAYMENT_WINDOW
    assert "min left" in info.payment_line(practice.time.now())
    assert repo.get_event(link.event_id).status is AppointmentStatus.SCHEDULED
    # Carecal's next publish took the booked time out of what it offers.
    assert not _covered(emu, emu.ids.online, start, end)
    # 91 minutes, no payment: Docplanner cancels the booking on its own.
    emu.advance(timedelta(minutes=91))
    assert emu.booking(booked["id"])["status"] == "canceled"
    after = practice.sync()
    assert after.ok, after.errors
    event = repo.get_event(link.event_id)
    assert event.status is AppointmentStatus.CANCELLED
    info = booking_infos(repo, [event.id])[event.id]
    assert info.payment == "cancelled" and info.deadline() is None
    assert info.payment_line(practice.time.now()) == "Cancelled: not paid in time"
    # The time is in what Carecal publishes again, and patients see it.
    assert _covered(emu, emu.ids.online, start, end)
    assert start in practice.free(emu.ids.online, day)


def test_a_paid_booking_is_not_cancelled_after_90_minutes(practice: Practice) -> None:
    emu, repo = practice.emu, practice.session.repo
    assert practice.sync().ok
    day = "2026-11-05"
    start = practice.free(emu.ids.online, day)[1]
    booked = emu.patient_books(emu.ids.online, start, patient=PATIENT)
    assert booked is not None
    end = datetime.fromisoformat(booked["end_at"])
    assert practice.sync().ok
    link = practice.store.link(practice.account.id, booked["id"])
    assert link is not None
    assert booking_infos(repo, [link.event_id])[link.event_id].payment == "awaiting"
    emu.advance(timedelta(minutes=30))
    emu.patient_pays(booked["id"])
    assert practice.sync().ok
    info = booking_infos(repo, [link.event_id])[link.event_id]
    assert info.payment == "paid" and info.deadline() is None
    emu.advance(timedelta(minutes=61))  # past the 90 minutes from booking
    assert emu.booking(booked["id"])["status"] == "booked"
    report = practice.sync()
    assert report.ok, report.errors
    event = repo.get_event(link.event_id)
    assert event.status is not AppointmentStatus.CANCELLED
    assert "Visit payment: paid" in event.description
    assert booking_infos(repo, [event.id])[event.id].payment == "paid"
    assert not _covered(emu, emu.ids.online, start, end)
    assert start not in practice.free(emu.ids.online, day)


# --- b, c: the app's cycle with Google and Docplanner -----------------------------------------


GOOGLE_ID = "google-practice"


@dataclass
class Both:
    session: Session
    docplanner: DocplannerEmulator
    google: GoogleCalendarEmulator
    account: Account
    practice: Calendar  # Carecal's calendar the Docplanner address is mapped to
    mirror: Calendar  # the Google calendar's copy
    day: str  # a local day two days ahead

    @property
    def office(self) -> str:
        return self.docplanner.ids.office

    def cycle(self) -> CycleResult:
        """One pass of the app's sync cycle; like the app, a fresh Google provider each time
        (Docplanner accounts are synced by the cycle itself, from the keyring)."""
        return asyncio.run(
            run_cycle(
                self.session.db,
                lambda account: google_provider(self.google, privacy=Privacy.FULL),
                CancelToken(),
                False,
                None,
            )
        )

    def at(self, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(
            datetime.fromisoformat(self.day).date(), time(hour, minute), tzinfo=WARSAW
        )

    def offered(self) -> list[datetime]:
        """The starts Docplanner offers patients on ``day`` (GET slots, as the marketplace)."""
        emu = self.docplanner
        token = emu.issue_token()
        path = path_of(emu.ids.facility, emu.ids.doctor, self.office)
        since, till = self.at(0), self.at(0) + timedelta(days=1)
        answer = httpx.get(
            f"{emu.api_base}{path}/slots",
            params={"start": since.isoformat(), "end": till.isoformat()},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return [datetime.fromisoformat(s["start"]) for s in answer.json()["_items"]]

    def google_event(self, start: datetime, end: datetime) -> str:
        body = {
            "summary": "Dentist",
            "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Warsaw"},
            "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Warsaw"},
        }
        return str(self.google.remote_insert(body)["id"])

    def appointments(self) -> list[Event]:
        repo = self.session.repo
        since, till = self.at(0) - timedelta(days=3), self.at(0) + timedelta(days=20)
        return [
            repo.get_event(e.id) for e in repo.events_in_window(since, till, [self.practice.id])
        ]


@pytest.fixture()
def both(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Both]:
    with (
        # Carecal's cycle reads the wall clock: the emulator's starts at it (and moves only when
        # a test moves it, for Docplanner's own time rules).
        DocplannerEmulator(clock=Clock(datetime.now(UTC))) as docplanner,
        running_emulator() as google,
    ):
        # The first publish sends 12 weeks of days at once; 40 writes a minute would make it
        # wait for the rate limit's reset, which this clock never reaches on its own.
        docplanner.limits.configure(writes=1000)
        monkeypatch.setenv(dpc.HOST_ENV, docplanner.host_template)
        repo = session.repo
        account, _ = dpc.add_account(
            repo,
            domain="pl",
            client_id=docplanner.client_id,
            client_secret=docplanner.client_secret,
            actor="test",
        )
        practice_calendar = repo.ensure_local_calendar()
        api = dpc.api_for(account)
        try:
            tree = asyncio.run(list_tree(api))
        finally:
            asyncio.run(api.close())
        map_address(
            repo,
            account,
            find_node(tree, docplanner.ids.office),
            practice_calendar,
            create_services=True,
            actor="test",
        )
        repo.add_account(
            Account(GOOGLE_ID, ProviderKind.GOOGLE, OWNER, {"conflict_policy": "ask"}),
            actor="test",
        )
        mirror, _ = repo.add_calendar("Google", "#4285f4", actor="test", account_id=GOOGLE_ID)
        mirror = replace(mirror, remote_id=OWNER)
        repo.update_calendar(mirror, actor="test")
        repo.set_working_hours(
            [WorkingHours(new_id(), wd, time(9), time(17)) for wd in range(7)], actor="test"
        )
        soon = datetime.now(UTC).astimezone(WARSAW) + timedelta(days=2)
        yield Both(
            session,
            docplanner,
            google,
            account,
            practice_calendar,
            mirror,
            soon.date().isoformat(),
        )


def _overlaps(start: datetime, minutes: int, since: datetime, till: datetime) -> bool:
    return start < till and start + timedelta(minutes=minutes) > since


def test_a_google_event_closes_its_time_on_docplanner_within_one_cycle(both: Both) -> None:
    first = both.cycle()
    assert first.ok, first.errors
    before = both.offered()
    services = both.docplanner.state.tree.address_by_id(both.office).services.values()
    shortest = min(s.duration for s in services)
    busy_from, busy_till = both.at(11), both.at(12)
    assert before[0] == both.at(9)
    assert any(_overlaps(s, shortest, busy_from, busy_till) for s in before)
    event_id = both.google_event(busy_from, busy_till)
    result = both.cycle()
    assert result.ok, result.errors
    mirrored = both.session.repo.events_in_window(busy_from, busy_till, [both.mirror.id])
    assert [e.title for e in mirrored] == ["Dentist"]
    during = both.offered()
    assert not any(_overlaps(s, shortest, busy_from, busy_till) for s in during)
    # The rest of the working hours is still offered: before the event and from its end on.
    assert during[0] == both.at(9) and both.at(12) in during
    assert max(during) >= both.at(16)
    assert {s for s in before if not _overlaps(s, shortest, busy_from, busy_till)} >= {
        s for s in during if s < busy_from
    }
    # Within Docplanner's 3 minutes in which a PUT identical to an earlier one is ignored: the
    # day goes back to what the first cycle sent, so Carecal must send it written differently.
    both.google.remote_delete(event_id)
    again = both.cycle()
    assert again.ok, again.errors
    assert both.offered() == before


def test_offline_double_booking_flagged_then_resolved_by_a_move(both: Both) -> None:
    emu, repo = both.docplanner, both.session.repo
    assert both.cycle().ok
    start = both.offered()[2]
    # Offline: the practitioner adds a Google event, a patient books the same time.
    both.google_event(start - timedelta(minutes=20), start + timedelta(minutes=40))
    booked = emu.patient_books(both.office, start, patient=PATIENT)
    assert booked is not None
    emu.drop_before_next(path_contains="/notifications")
    down = both.cycle()  # Docplanner cannot be reached: the booking is not known yet
    assert down.offline and down.double_bookings == []
    assert ActionStore(repo).conflicts(both.account.id) == []
    # The first cycle back: Docplanner runs after the calendars; the booking arrives over the
    # event that is already in Carecal.
    result = both.cycle()
    assert result.ok, result.errors
    assert len(result.double_bookings) == 1, result.double_bookings
    assert booked["id"] in result.double_bookings[0]
    assert "Zielińska" not in result.double_bookings[0]
    (flag,) = ActionStore(repo).conflicts(both.account.id)
    assert flag.booking_id == booked["id"] and flag.proposals
    (appointment,) = both.appointments()
    target = flag.proposals[0]
    assert target != start
    # A quiet cycle does not announce it again.
    assert both.cycle().double_bookings == []
    acts.queue_move(repo, both.account, flag.booking_id, target)
    fixed = both.cycle()
    assert fixed.ok, fixed.errors
    assert fixed.double_bookings == []
    assert ActionStore(repo).conflicts(both.account.id) == []
    assert emu.booking(booked["id"])["status"] == "canceled"
    now_booked = [b for b in emu.bookings_at(both.office) if b["status"] == "booked"]
    assert len(now_booked) == 1
    (new,) = now_booked
    assert new["id"] != booked["id"]
    assert datetime.fromisoformat(new["start_at"]) == target
    (moved,) = both.appointments()
    assert moved.id == appointment.id and moved.start == target
    assert moved.status is not AppointmentStatus.CANCELLED
    link = DocplannerStore(repo).link(both.account.id, str(new["id"]))
    assert link is not None and link.current and link.event_id == appointment.id
