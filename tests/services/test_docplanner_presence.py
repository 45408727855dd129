"""Presence from the front desk to Docplanner against the emulator: the kiosk's check-in sends
"present" and a no-show "absent" once the visit has started, once only; the status at sync time
wins; a presence Docplanner reported is never sent back; a manual presence action is not
doubled."""

from __future__ import annotations

from datetime import datetime, timedelta

from carecal.domain.models import AppointmentStatus, Event
from carecal.services import docplanner_actions as acts
from carecal.services.docplanner_presence import presence_of, queue_presence
from carecal.services.kiosk import KioskService
from carecal.store.docplanner_actions import ActionStore
from tests.services.test_docplanner_sync import PATIENT, Practice, practice

__all__ = ["practice"]


def _presence_calls(practice: Practice) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in practice.emu.log if p.endswith("/presence/patient")]


def _book_today(practice: Practice, index: int = 0, email: str = "ewa@ex.pl") -> dict[str, object]:
    """A patient books one of today's free starts; synced into Carecal."""
    emu = practice.emu
    assert practice.sync().ok  # the first sync publishes the slots
    today = practice.time.now().astimezone(emu.state.zone).date().isoformat()
    start = practice.free(emu.ids.office, today)[index]
    booked = emu.patient_books(emu.ids.office, start, patient={**PATIENT, "email": email})
    assert booked is not None
    report = practice.sync()
    assert report.ok, report.errors
    return booked


def _event(practice: Practice, booking_id: str) -> Event:
    link = practice.store.link(practice.account.id, booking_id)
    assert link is not None
    return practice.session.repo.get_event(link.event_id)


def _start(practice: Practice, booking_id: str) -> datetime:
    link = practice.store.link(practice.account.id, booking_id)
    assert link is not None
    return link.start


def _kiosk(practice: Practice) -> KioskService:
    return KioskService(practice.session.repo, clock=practice.time.now)


def test_status_to_presence() -> None:
    assert presence_of(AppointmentStatus.ARRIVED) is True
    assert presence_of(AppointmentStatus.COMPLETED) is True
    assert presence_of(AppointmentStatus.NO_SHOW) is False
    for quiet in (
        AppointmentStatus.SCHEDULED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.CANCELLED,
    ):
        assert presence_of(quiet) is None


def test_kiosk_check_in_sends_present_once_the_visit_has_started(practice: Practice) -> None:
    emu = practice.emu
    booked = _book_today(practice)
    booking_id = str(booked["id"])
    kiosk = _kiosk(practice)
    event = _event(practice, booking_id)
    (visit,) = [v for v in kiosk.visits(kiosk.today()) if v.key[0] == event.id]
    assert practice.time.now() < _start(practice, booking_id)
    kiosk.check_in(visit.key, kiosk.today(), visit.attendees[0].patient_id)
    assert _event(practice, booking_id).status is AppointmentStatus.ARRIVED
    early = practice.sync()  # the patient is early: the visit has not started
    assert early.ok, early.errors
    assert _presence_calls(practice) == []
    assert ActionStore(practice.session.repo).actions(practice.account.id) == []
    assert emu.booking(booking_id)["presence"] is None
    emu.clock.set(_start(practice, booking_id) + timedelta(minutes=5))
    started = practice.sync()
    assert started.ok, started.errors
    assert started.actions_sent == 1
    assert emu.booking(booking_id)["presence"] == "present"
    assert [m for m, _ in _presence_calls(practice)] == ["POST"]
    link = practice.store.link(practice.account.id, booking_id)
    assert link is not None and link.presence == "present"
    # The visit may still be going on: the check-in stays "arrived" in Carecal.
    assert _event(practice, booking_id).status is AppointmentStatus.ARRIVED
    # The echoed presence-marked notification comes back; nothing is queued or sent again.
    again = practice.sync()
    assert again.ok, again.errors
    assert again.applied >= 1 and again.actions_sent == 0
    assert len(_presence_calls(practice)) == 1
    (action,) = ActionStore(practice.session.repo).actions(practice.account.id)
    assert action.kind == "presence" and action.state == "done"
    assert action.payload == {"present": True}
    # Completing the visit later says nothing new to Docplanner.
    event = _event(practice, booking_id)
    practice.session.events.update(event.with_changes(status=AppointmentStatus.COMPLETED))
    assert practice.sync().actions_sent == 0
    assert len(_presence_calls(practice)) == 1


def test_no_show_sends_absent(practice: Practice) -> None:
    emu = practice.emu
    booked = _book_today(practice)
    booking_id = str(booked["id"])
    emu.clock.set(_start(practice, booking_id) + timedelta(minutes=20))
    kiosk = _kiosk(practice)
    event = _event(practice, booking_id)
    (visit,) = [v for v in kiosk.visits(kiosk.today()) if v.key[0] == event.id]
    kiosk.no_show(visit.key, kiosk.today(), visit.attendees[0].patient_id)
    report = practice.sync()
    assert report.ok, report.errors
    assert emu.booking(booking_id)["presence"] == "absent"
    assert [m for m, _ in _presence_calls(practice)] == ["DELETE"]
    assert _event(practice, booking_id).status is AppointmentStatus.NO_SHOW
    assert practice.sync().actions_sent == 0
    assert len(_presence_calls(practice)) == 1


def test_the_status_at_sync_time_wins(practice: Practice) -> None:
    emu = practice.emu
    booked = _book_today(practice)
    booking_id = str(booked["id"])
    emu.clock.set(_start(practice, booking_id) + timedelta(minutes=20))
    kiosk = _kiosk(practice)
    event = _event(practice, booking_id)
    (visit,) = [v for v in kiosk.visits(kiosk.today()) if v.key[0] == event.id]
    patient = visit.attendees[0].patient_id
    kiosk.no_show(visit.key, kiosk.today(), patient)
    kiosk.check_in(visit.key, kiosk.today(), patient)  # a very late patient after all
    report = practice.sync()
    assert report.ok, report.errors
    assert [m for m, _ in _presence_calls(practice)] == ["POST"]
    assert emu.booking(booking_id)["presence"] == "present"
    (action,) = ActionStore(practice.session.repo).actions(practice.account.id)
    assert action.payload == {"present": True}


def test_presence_marked_on_docplanner_is_not_sent_back(practice: Practice) -> None:
    emu = practice.emu
    booked = _book_today(practice)
    booking_id = str(booked["id"])
    emu.clock.set(_start(practice, booking_id) + timedelta(minutes=50))
    emu.doctor_marks_presence(booking_id, present=False)
    report = practice.sync()
    assert report.ok, report.errors
    assert _event(practice, booking_id).status is AppointmentStatus.NO_SHOW
    link = practice.store.link(practice.account.id, booking_id)
    assert link is not None and link.presence == "absent"
    assert _presence_calls(practice) == []
    assert ActionStore(practice.session.repo).actions(practice.account.id) == []
    # The practitioner later completes the visit in Carecal: Docplanner's own mark stands.
    event = _event(practice, booking_id)
    practice.session.events.update(event.with_changes(status=AppointmentStatus.COMPLETED))
    assert practice.sync().actions_sent == 0
    assert _presence_calls(practice) == []
    assert emu.booking(booking_id)["presence"] == "absent"


def test_a_manual_presence_action_is_not_doubled_and_other_visits_wait(
    practice: Practice,
) -> None:
    emu = practice.emu
    repo, account = practice.session.repo, practice.account
    first = _book_today(practice, 0)
    today = practice.time.now().astimezone(emu.state.zone).date().isoformat()
    later = emu.patient_books(
        emu.ids.office,
        practice.free(emu.ids.office, today)[3],
        patient={**PATIENT, "email": "other@ex.pl", "phone": "+48600111222"},
    )
    assert later is not None
    assert practice.sync().ok
    emu.clock.set(_start(practice, str(first["id"])) + timedelta(minutes=10))
    acts.queue_simple(repo, account, "presence", str(first["id"]), present=True)
    for booking in (first, later):
        event = _event(practice, str(booking["id"]))
        practice.session.events.update(event.with_changes(status=AppointmentStatus.ARRIVED))
    # Only the visit that has started is due, and it already has its action.
    assert queue_presence(repo, account, now=practice.time.now()) == []
    report = practice.sync()
    assert report.ok, report.errors
    assert report.actions_sent == 1
    assert [m for m, _ in _presence_calls(practice)] == ["POST"]
    assert emu.booking(str(later["id"]))["presence"] is None
    emu.clock.set(_start(practice, str(later["id"])))
    assert practice.sync().actions_sent == 1
    assert emu.booking(str(later["id"]))["presence"] == "present"
    assert len(_presence_calls(practice)) == 2


def test_a_parked_presence_action_is_not_queued_again(practice: Practice) -> None:
    emu = practice.emu
    booked = _book_today(practice)
    booking_id = str(booked["id"])
    emu.clock.set(_start(practice, booking_id) + timedelta(minutes=5))
    event = _event(practice, booking_id)
    practice.session.events.update(event.with_changes(status=AppointmentStatus.ARRIVED))
    emu.fail_next(1, 409, path_contains="/presence/patient")
    refused = practice.sync()
    assert any("marking presence" in e for e in refused.errors), refused.errors
    (action,) = ActionStore(practice.session.repo).actions(practice.account.id)
    assert action.state == "parked"
    after = practice.sync()
    assert after.ok and after.actions_sent == 0
    assert len(ActionStore(practice.session.repo).actions(practice.account.id)) == 1
    assert len(_presence_calls(practice)) == 1
