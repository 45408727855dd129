"""Patients created on the fly (typed into an appointment), without creating the same one twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from carecal.domain.changes import Changes
from carecal.domain.errors import NotFound
from carecal.domain.models import Event, Participant, Patient
from carecal.store.repo import Repository


def add_or_reuse_patients(
    repo: Repository, patients: Sequence[Patient], *, actor: str
) -> tuple[dict[str, str], Changes]:
    """Store ``patients`` unless a patient with the same full name exists already.

    A name typed before a search answer arrived (or typed in full instead of picked) must not
    split one person's visits over two records. Returns the ids to replace (new id -> stored id)
    and what changed. The caller's thread; disk I/O. Raises StoreError.
    """
    replaced: dict[str, str] = {}
    changes = Changes()
    for patient in patients:
        try:
            existing = repo.find_patient(patient.full_name)
        except NotFound:
            changes |= repo.add_patient(patient, actor=actor)
        else:
            replaced[patient.id] = existing.id
    return replaced, changes


def with_patient_ids(event: Event, replaced: Mapping[str, str]) -> Event:
    """The event with patient ids swapped as ``replaced`` says (main patient and participants)."""
    if not replaced:
        return event
    patient_id = replaced.get(event.patient_id or "", event.patient_id)
    participants = tuple(
        Participant(replaced.get(p.patient_id, p.patient_id), p.attendance)
        for p in event.participants
    )
    return event.with_changes(patient_id=patient_id, participants=participants)
