"""Docplanner bookings in and availability out against the emulator: notifications applied
idempotently and in order (also after a lost pull answer), one appointment per booking chain
across moves, a 4-day offline period reconciled by listing with nothing lost or doubled,
busy time in any calendar taken out of the published slots, and only changed days sent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.models import (
    Account,
    AppointmentStatus,
    Calendar,
    Event,
    Patient,
    VisitMode,
    WorkingHours,
    new_id,
)
from carecal.providers.docplanner_api import DocplannerApi
from carecal.services import docplanner_client as dpc
from carecal.services.docplanner_publish import Publisher, diff_lines
from carecal.services.docplanner_sync import DocplannerReport, sync_docplanner
from carecal.services.session import Session
from carecal.store.docplanner import DocplannerStore
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.providers.docplanner_support import EmuTime
from tests.services.docplanner_setup import add_docplanner_account, map_addresses

WARSAW = ZoneInfo("Europe/Warsaw")
PATIENT = {"name": "Ewa", "surname": "Zielińska", "phone": "+48600700800", "email": "ewa@ex.pl"}


@dataclass
class Practice:
    emu: DocplannerEmulator
    time: EmuTime
    session: Session
    account: Account
    api: DocplannerApi
    calendar: Calendar

    @property
    def store(self) -> DocplannerStore:
        return DocplannerStore(self.session.repo)

    def sync(self, *, publish: bool = True) -> DocplannerReport:
        return asyncio.run(
            sync_docplanner(
                self.session.repo, self.account, self.api, clock=self.time.now, publish=publish
            )
        )

    def appointments(self) -> list[Event]:
        start = datetime(2026, 10, 1, tzinfo=WARSAW)
        end = datetime(2027, 3, 1, tzinfo=WARSAW)
        return [
            self.session.repo.get_event(e.id)
            for e in self.session.repo.events_in_window(start, end, [self.calendar.id])
        ]

    def free(self, address: str, day: str) -> list[datetime]:
        return self.emu.free_starts_on(address, day)

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, s in self.emu.log if m in ("PUT", "DELETE") and "/slots" in p]


@pytest.fixture
def practice(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Practice]:
    with DocplannerEmulator() as emu:
        emu.tokens.access_ttl = 3600.0
        monkeypatch.setenv(dpc.HOST_ENV, emu.host_template)
        clock = EmuTime(emu)
        repo = session.repo
        account, api = add_docplanner_account(repo, emu, clock)
        calendar = repo.ensure_local_calendar()
        map_addresses(repo, account, api, calendar, [emu.ids.office, emu.ids.online], clock)
        repo.set_working_hours(
            [WorkingHours(new_id(), wd, time(9), time(17)) for wd in range(5)], actor="test"
        )
        yield Practice(emu, clock, session, account, api, calendar)


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=WARSAW)


def test_bookings_become_appointments_idempotently_and_in_order(practice: Practice) -> None:
    emu, repo = practice.emu, practice.session.repo
    known = Patient(new_id(), "Ewa", "Zielińska", phone="600 700 800")
    repo.add_patient(known, actor="test")
    first = practice.sync()
    assert first.ok, first.errors
    office_start = practice.free(emu.ids.office, "2026-11-03")[1]
    online_start = practice.free(emu.ids.online, "2026-11-04")[0]
    office = emu.patient_books(
        emu.ids.office, office_start, patient=PATIENT, comment="Back pain since May"
    )
    online = emu.patient_books(emu.ids.online, online_start, patient={**PATIENT, "email": ""})
    assert office is not None and online is not None
    emu.doctor_confirms(office["id"])
    emu.patient_pays(online["id"])
    report = practice.sync()
    assert report.ok, report.errors
    assert report.pulled == 4 and report.applied == 4
    events = {e.start: e for e in practice.appointments()}
    assert len(events) == 2
    seen = events[office_start.astimezone(WARSAW)]
    assert seen.patient_id == known.id  # matched by phone
    assert seen.status is AppointmentStatus.CONFIRMED
    assert seen.price is not None and int(seen.price) == 200
    assert seen.service_id is not None
    assert "Back pain since May" in seen.description and "by the patient" in seen.description
    video = events[online_start.astimezone(WARSAW)]
    assert video.mode is VisitMode.VIDEO and video.video_url.startswith("https://video.")
    assert "Visit payment: paid" in video.description
    link = practice.store.link(practice.account.id, online["id"])
    assert link is not None and link.payment_status == "paid" and link.visit_payment
    # Every notification applied again (a replay, duplicates): nothing changes.
    bodies = [item.body for item in practice.store.inbox(practice.account.id)]
    practice.store.receive(practice.account.id, bodies, practice.time.now())
    again = practice.sync(publish=False)
    assert again.applied == len(bodies) and again.failed == 0
    assert {e.id: e for e in practice.appointments()} == {e.id: e for e in events.values()}
    assert len(repo.list_patients()) == 1


def test_a_moved_booking_keeps_one_appointment(practice: Practice) -> None:
    emu = practice.emu
    practice.sync()
    starts = practice.free(emu.ids.office, "2026-11-05")
    booked = emu.patient_books(emu.ids.office, starts[0], patient=PATIENT)
    assert booked is not None
    practice.sync()
    (event,) = practice.appointments()
    moved = emu.patient_moves(booked["id"], starts[3])
    assert moved is not None and moved["id"] != booked["id"]
    again = emu.doctor_moves(moved["id"], at("2026-11-06", 15))
    practice.sync()
    (after,) = practice.appointments()
    assert after.id == event.id and after.start == at("2026-11-06", 15)
    links = practice.store.links_of_event(event.id)
    assert {x.booking_id for x in links} == {booked["id"], moved["id"], again["id"]}
    assert [x.booking_id for x in links if x.current] == [again["id"]]
    emu.patient_cancels(again["id"])
    practice.sync()
    (cancelled,) = practice.appointments()
    assert cancelled.id == event.id and cancelled.status is AppointmentStatus.CANCELLED


def test_a_lost_pull_answer_is_made_good_by_listing(practice: Practice) -> None:
    emu = practice.emu
    practice.sync()
    start = practice.free(emu.ids.office, "2026-11-05")[2]
    emu.patient_books(emu.ids.office, start, patient=PATIENT)
    emu.timeout_after_commit(path_contains="/notifications")
    lost = practice.sync()
    assert not lost.ok and lost.pulled == 0
    assert emu.queue_names() == []  # the server dequeued it: pulling is the acknowledgement
    assert practice.store.state(practice.account.id).needs_reconcile
    assert practice.appointments() == []
    healed = practice.sync()
    assert healed.ok, healed.errors
    assert healed.reconciled
    (event,) = practice.appointments()
    assert event.start == start.astimezone(WARSAW)


def test_four_days_offline_reconciles_with_nothing_lost_or_doubled(practice: Practice) -> None:
    emu = practice.emu
    practice.sync()
    day = "2026-11-10"
    starts = practice.free(emu.ids.office, day)
    a = emu.patient_books(emu.ids.office, starts[0], patient=PATIENT)
    b = emu.patient_books(emu.ids.office, starts[1], patient={**PATIENT, "phone": "+48111222333"})
    c = emu.patient_books(emu.ids.office, starts[2], patient={**PATIENT, "phone": "+48999888777"})
    assert a and b and c
    practice.sync()
    before = {e.id: e for e in practice.appointments()}
    assert len(before) == 3
    # Offline: the patients and the practice go on without Carecal for four days.
    moved = emu.patient_moves(a["id"], starts[5])
    assert moved is not None
    emu.patient_cancels(b["id"])
    d = emu.patient_books(emu.ids.office, starts[6], patient={**PATIENT, "phone": "+48123123123"})
    e = emu.doctor_books(emu.ids.online, at("2026-11-11", 12))
    assert d is not None
    emu.advance(timedelta(days=4))
    assert len(emu.outbox.expired) >= 4 and emu.queue_names() == []
    report = practice.sync()
    assert report.ok, report.errors
    assert report.reconciled and report.pulled == 0
    after = {x.id: x for x in practice.appointments()}
    assert len(after) == 5
    link_a = practice.store.link(practice.account.id, moved["id"])
    assert link_a is not None and after[link_a.event_id].start == starts[5].astimezone(WARSAW)
    assert link_a.event_id in before  # the same appointment, moved
    link_b = practice.store.link(practice.account.id, b["id"])
    assert link_b is not None
    assert after[link_b.event_id].status is AppointmentStatus.CANCELLED
    for booking in (d, e):
        assert practice.store.link(practice.account.id, booking["id"]) is not None
    practice.store.set_state(practice.account.id, needs_reconcile=True)
    again = practice.sync()
    assert again.reconciled and {x.id: x for x in practice.appointments()} == after


def test_busy_time_anywhere_leaves_the_slots_and_only_changed_days_are_sent(
    practice: Practice,
) -> None:
    emu, repo = practice.emu, practice.session.repo
    first = practice.sync()
    assert first.ok, first.errors
    # 12 weeks of Monday..Friday for two addresses; the rest of the days cleared.
    assert first.published_days == 2 * 60 and first.deleted_days == 2 * 24
    assert practice.free(emu.ids.office, "2026-11-03")[0] == at("2026-11-03", 9)
    sent = len(practice.writes())
    quiet = practice.sync()
    assert quiet.published_days == 0 and quiet.deleted_days == 0
    assert len(practice.writes()) == sent
    other, _ = repo.add_calendar("Google (mirror)", "#ff0000", actor="test")
    practice.session.events.create(
        Event(new_id(), other.id, "", "Dentist", at("2026-11-03", 12), at("2026-11-03", 13))
    )
    practice.session.events.create(
        Event(
            new_id(),
            other.id,
            "",
            "Free-time note",
            at("2026-11-04", 12),
            at("2026-11-04", 13),
            busy=False,
        )
    )
    plans = Publisher(repo, practice.account, practice.api, clock=practice.time.now).plan()
    lines = diff_lines(plans)
    assert len(lines) == 2 and all(line.startswith("2026-11-03") for line in lines)
    assert "09:00-12:00, 13:00-17:00" in lines[0]
    changed = practice.sync()
    assert changed.published_days == 2 and changed.deleted_days == 0
    assert len(practice.writes()) == sent + 2
    noon = [s for s in practice.free(emu.ids.office, "2026-11-03") if s.hour in (11, 12)]
    for start in noon:
        assert start + timedelta(minutes=50) <= at("2026-11-03", 12) or start >= at(
            "2026-11-03", 13
        )
    assert practice.free(emu.ids.office, "2026-11-04")[0] == at("2026-11-04", 9)


def test_breaks_and_changed_service_ids_are_followed(practice: Practice) -> None:
    emu = practice.emu
    practice.sync()
    store = practice.store
    old = emu.ids.office_services[0]
    before = {s.address_service_id: s for s in store.services(practice.account.id, emu.ids.office)}
    new = emu.doctor_readds_service(emu.ids.office, old)
    emu.doctor_adds_break(emu.ids.office, at("2026-11-05", 9), at("2026-11-05", 11), "Training")
    report = practice.sync()
    assert report.ok, report.errors
    after = {s.address_service_id: s for s in store.services(practice.account.id, emu.ids.office)}
    assert after[new].service_type_id == before[old].service_type_id
    assert after[old].deleted
    assert store.breaks(practice.account.id, emu.ids.office) == [
        (at("2026-11-05", 9), at("2026-11-05", 11))
    ]
    assert practice.free(emu.ids.office, "2026-11-05")[0] == at("2026-11-05", 11)
    assert report.published_days >= 59  # every office day names the new service id
