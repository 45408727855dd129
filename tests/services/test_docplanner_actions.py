"""Docplanner actions out and double bookings against the emulator: a move under a timeout
after the write was committed does not book twice (the day's listing finds the first move),
book/confirm/presence/cancel queued while offline go out once online, and a booking over
time made busy elsewhere is flagged and resolved by a move."""

from __future__ import annotations

from carecal.domain.models import AppointmentStatus, Event, Patient, new_id
from carecal.services import docplanner_actions as acts
from carecal.store.docplanner_actions import ActionStore
from tests.services.test_docplanner_sync import PATIENT, Practice, practice

__all__ = ["practice"]


def _booked(practice: Practice, address: str) -> list[dict[str, object]]:
    return [b for b in practice.emu.bookings_at(address) if b["status"] == "booked"]


def test_move_under_timeout_after_commit_books_once(practice: Practice) -> None:
    emu = practice.emu
    assert practice.sync().ok
    free = practice.free(emu.ids.office, "2026-11-03")
    booked = emu.patient_books(emu.ids.office, free[1], patient=PATIENT)
    assert booked is not None
    assert practice.sync().ok
    (before,) = practice.appointments()
    repo = practice.session.repo
    acts.queue_move(repo, practice.account, booked["id"], free[4], now=practice.time.now())
    emu.timeout_after_commit(path_contains="/move", method="POST")
    lost = practice.sync()
    assert not lost.ok
    (action,) = ActionStore(repo).pending(practice.account.id)
    assert action.attempted
    again = practice.sync()
    assert again.ok, again.errors
    moves = [p for m, p, _ in emu.log if m == "POST" and p.endswith("/move")]
    assert len(moves) == 1  # never sent twice
    now_booked = _booked(practice, emu.ids.office)
    assert len(now_booked) == 1
    (after,) = practice.appointments()
    assert after.id == before.id and after.start == free[4]
    link = practice.store.link(practice.account.id, str(now_booked[0]["id"]))
    assert link is not None and link.current and link.event_id == before.id
    assert ActionStore(repo).pending(practice.account.id) == []


def test_actions_queued_offline_go_out_once_online(practice: Practice) -> None:
    emu, repo = practice.emu, practice.session.repo
    assert practice.sync().ok
    free = practice.free(emu.ids.office, "2026-11-05")
    one = emu.patient_books(emu.ids.office, free[0], patient=PATIENT)
    two = emu.patient_books(emu.ids.office, free[2], patient={**PATIENT, "email": "b@ex.pl"})
    assert one is not None and two is not None
    assert practice.sync().ok
    patient = Patient(new_id(), "Adam", "Nowak", phone="+48511222333", email="adam@ex.pl")
    repo.add_patient(patient, actor="test")
    account, now = practice.account, practice.time.now()
    acts.queue_simple(repo, account, "confirm", one["id"], now=now)
    acts.queue_simple(repo, account, "presence", one["id"], present=False, now=now)
    acts.queue_simple(repo, account, "cancel", two["id"], reason="doctor ill", now=now)
    acts.queue_book(
        repo, account, address_id=emu.ids.office, start=free[4], patient_id=patient.id, now=now
    )
    emu.drop_before_next(path_contains="/notifications")
    offline = practice.sync()
    assert offline.offline and offline.actions_sent == 0
    assert len(ActionStore(repo).pending(account.id)) == 4
    online = practice.sync()
    assert online.ok, online.errors
    assert online.actions_sent == 4
    assert emu.booking(one["id"])["presence"] == "absent"
    assert emu.booking(two["id"])["status"] == "canceled"
    new = [b for b in _booked(practice, emu.ids.office) if b["booked_by"] == "integration"]
    assert len(new) == 1
    events = {e.start: e for e in practice.appointments()}
    assert events[free[0]].status is AppointmentStatus.NO_SHOW
    assert events[free[2]].status is AppointmentStatus.CANCELLED
    assert events[free[4]].patient_id == patient.id
    writes = len([m for m, _, _ in emu.log if m != "GET"])
    quiet = practice.sync()
    assert quiet.ok and quiet.actions_sent == 0
    assert len([m for m, p, _ in emu.log if m != "GET" and "/slots" not in p]) <= writes


def test_double_booking_flagged_and_resolved_by_a_move(practice: Practice) -> None:
    emu, repo = practice.emu, practice.session.repo
    assert practice.sync().ok
    free = practice.free(emu.ids.office, "2026-11-10")
    # Offline: a Google event is added, and a patient books the same time on Docplanner.
    other, _ = repo.add_calendar("Google (mirror)", "#ff0000", actor="test")
    practice.session.events.create(
        Event(new_id(), other.id, "", "Dentist", free[1], free[1] + (free[2] - free[1]))
    )
    booked = emu.patient_books(emu.ids.office, free[1], patient=PATIENT)
    assert booked is not None
    report = practice.sync()
    assert any("double booking" in line for line in report.conflicts), report.conflicts
    assert "double booking" in report.summary()
    (flag,) = ActionStore(repo).conflicts(practice.account.id)
    assert flag.booking_id == booked["id"] and flag.proposals
    target = flag.proposals[0]
    assert target != free[1]
    acts.queue_move(repo, practice.account, flag.booking_id, target, now=practice.time.now())
    fixed = practice.sync()
    assert fixed.ok, fixed.errors
    assert ActionStore(repo).conflicts(practice.account.id) == []
    (moved,) = [e for e in practice.appointments() if e.calendar_id == practice.calendar.id]
    assert moved.start == target
    assert len(_booked(practice, emu.ids.office)) == 1
    assert target >= practice.time.now()
