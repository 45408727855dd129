"""Patients created on the fly (typed into an appointment), without creating the same one twice,
and the patient a booking from outside (a request, Docplanner) stands for."""

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


def phone_key(phone: str) -> str:
    """The digits a phone number is compared by: the last nine (so "+48 600 100 200" and
    "600100200" match), or all when there are fewer. Pure."""
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-9:] if len(digits) >= 9 else digits


def match_patient(
    patients: Sequence[Patient], *, email: str, phone: str, full_name: str
) -> Patient | None:
    """The patient with this e-mail address, else with this phone number (``phone_key``, six
    digits at least), preferring one whose full name also matches; None when none. Pure."""
    email = email.casefold()
    key = phone_key(phone)
    by_email = [p for p in patients if email and p.email.strip().casefold() == email]
    by_phone = [p for p in patients if len(key) >= 6 and phone_key(p.phone) == key]
    name = " ".join(full_name.split()).casefold()
    for group in (by_email, by_phone):
        if group:
            same = [p for p in group if p.full_name.casefold() == name]
            return (same or group)[0]
    return None
