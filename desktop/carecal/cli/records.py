"""Domain objects -> the plain dicts the JSON output and the tables are made of."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from carecal.domain.errors import NotFound
from carecal.domain.models import Event, Occurrence, Patient, ServiceType, When
from carecal.store.repo import Repository


def iso(value: When | None, zone: ZoneInfo | None = None) -> str | None:
    """ISO 8601: a date as YYYY-MM-DD, a date-time with its offset (in ``zone`` when given)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if zone is not None and value.tzinfo is not None:
            value = value.astimezone(zone)
        return value.isoformat(timespec="seconds")
    return value.isoformat()


class Names:
    """Calendar, patient and service names by id, fetched once per id (the caller's thread)."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self.calendars = {c.id: c.name for c in repo.list_calendars()}
        self._patients: dict[str, str | None] = {}
        self._services: dict[str, str | None] | None = None

    def calendar(self, calendar_id: str) -> str:
        return self.calendars.get(calendar_id, calendar_id)

    def patient(self, patient_id: str | None) -> str | None:
        if not patient_id:
            return None
        if patient_id not in self._patients:
            try:
                self._patients[patient_id] = self._repo.get_patient(patient_id).full_name
            except NotFound:
                self._patients[patient_id] = None
        return self._patients[patient_id]

    def service(self, service_id: str | None) -> str | None:
        if not service_id:
            return None
        if self._services is None:
            self._services = {s.id: s.name for s in self._repo.list_services()}
        return self._services.get(service_id)


def occurrence_record(
    occ: Occurrence, names: Names, zone: ZoneInfo, double_booked: bool
) -> dict[str, object]:
    """One occurrence as the documented ``events list`` JSON object."""
    ev = occ.event
    series_id = ev.master_id if ev.is_override else (ev.id if ev.is_recurring else None)
    return {
        "id": ev.id,
        "series_id": series_id,
        "uid": ev.uid,
        "recurrence_id": iso(occ.recurrence_id, zone),
        "title": ev.title,
        "start": iso(occ.start, zone),
        "end": iso(occ.end, zone),
        "all_day": isinstance(occ.start, date) and not isinstance(occ.start, datetime),
        "timezone": ev.tzid,
        "calendar": names.calendar(ev.calendar_id),
        "calendar_id": ev.calendar_id,
        "status": ev.status.value,
        "patient": names.patient(ev.patient_id),
        "patient_id": ev.patient_id,
        "participants": [
            {
                "patient_id": p.patient_id,
                "patient": names.patient(p.patient_id),
                "attendance": p.attendance.value,
            }
            for p in ev.participants
        ],
        "capacity": ev.capacity,
        "service": names.service(ev.service_id),
        "service_id": ev.service_id,
        "mode": ev.mode.value,
        "video_url": ev.video_url,
        "location": ev.location,
        "notes": ev.description,
        "price": None if ev.price is None else str(ev.price),
        "busy": ev.busy,
        "recurring": series_id is not None,
        "rrule": ev.rrule,
        "double_booked": double_booked,
    }


def event_record(event: Event, names: Names, zone: ZoneInfo) -> dict[str, object]:
    """A stored event (not expanded) in the same shape as an occurrence."""
    occ = Occurrence(event, event.start, event.end, event.recurrence_id)
    return occurrence_record(occ, names, zone, False)


def patient_record(p: Patient) -> dict[str, object]:
    return {
        "id": p.id,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "full_name": p.full_name,
        "phone": p.phone,
        "email": p.email,
        "birth_date": iso(p.birth_date),
    }


def service_record(s: ServiceType) -> dict[str, object]:
    return {
        "id": s.id,
        "name": s.name,
        "duration_minutes": s.duration_minutes,
        "price": None if s.price is None else str(s.price),
        "color": s.color,
        "online": s.online,
        "buffer_minutes": s.buffer_minutes,
        "capacity": s.capacity,
    }
