"""Patients typed into an appointment: new ones are stored, known names are reused."""

from __future__ import annotations

from datetime import UTC, datetime

from carecal.domain.models import Attendance, Event, Participant, Patient, new_id
from carecal.services.patients import add_or_reuse_patients, with_patient_ids
from carecal.services.session import Session


def test_known_name_is_reused_and_new_one_stored(session: Session) -> None:
    repo = session.repo
    anna = Patient(id=new_id(), first_name="Anna", last_name="Nowak")
    repo.add_patient(anna, actor="test")
    typed_again = Patient(id=new_id(), first_name="anna", last_name="NOWAK")
    brand_new = Patient(id=new_id(), first_name="Jan", last_name="Kos")

    replaced, changes = add_or_reuse_patients(repo, [typed_again, brand_new], actor="test")

    assert replaced == {typed_again.id: anna.id}
    assert changes.patients
    names = sorted(p.full_name for p in repo.list_patients())
    assert names == ["Anna Nowak", "Jan Kos"]


def test_ids_are_swapped_in_main_patient_and_participants() -> None:
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    event = Event(
        id=new_id(),
        calendar_id="c",
        uid="u",
        title="Group",
        start=start,
        end=start.replace(hour=10),
        patient_id="typed",
        capacity=4,
        participants=(Participant("typed", Attendance.ARRIVED), Participant("other")),
    )
    swapped = with_patient_ids(event, {"typed": "stored"})
    assert swapped.patient_id == "stored"
    assert swapped.participants == (
        Participant("stored", Attendance.ARRIVED),
        Participant("other"),
    )
    assert with_patient_ids(event, {}) is event
