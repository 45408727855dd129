"""A small practice for follow-up and booking-request tests (service and UI tests share it).

"Now" is Wednesday 14 May 2025, 10:37 in Warsaw. Working hours Monday-Friday 08:00-16:00 with a
13:00-13:30 lunch break. Physiotherapy (50 min) has a 4-week follow-up interval, Massage none.
Everything is written through the repository and EventService, as the app would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from carecal.domain.models import (
    AppointmentStatus,
    Break,
    Event,
    Patient,
    ServiceType,
    WorkingHours,
    new_id,
)
from carecal.services.session import Session

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)
TODAY = date(2025, 5, 14)


def at(day: date, hhmm: str) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=WARSAW)


@dataclass
class Desk:
    physio: ServiceType
    massage: ServiceType
    anna: Patient
    marek: Patient
    zofia: Patient


def build_desk(session: Session) -> Desk:
    """Settings, hours, services and three patients. Caller's thread."""
    repo = session.repo
    repo.save_settings(
        replace(repo.settings(), display_tz="Europe/Warsaw", slot_minutes=30), actor="test"
    )
    repo.set_working_hours(
        [WorkingHours(new_id(), d, time(8), time(16)) for d in range(5)], actor="test"
    )
    repo.set_breaks(
        [Break(new_id(), time(13), time(13, 30), weekday=d, label="Lunch") for d in range(5)],
        actor="test",
    )
    physio = ServiceType(new_id(), "Physiotherapy", 50, Decimal("200"), followup_weeks=4)
    massage = ServiceType(new_id(), "Massage", 60, Decimal("150"))
    for s in (physio, massage):
        repo.save_service(s, actor="test")
    anna = Patient(new_id(), "Anna", "Nowak", phone="+48 600 100 200", email="anna@example.org")
    marek = Patient(new_id(), "Marek", "Zieliński", phone="601 200 300")
    zofia = Patient(new_id(), "Zofia", "Wójcik", email="zofia@example.org")
    for p in (anna, marek, zofia):
        repo.add_patient(p, actor="test")
    return Desk(physio, massage, anna, marek, zofia)


def visit(
    session: Session,
    patient: Patient,
    service: ServiceType,
    start: datetime,
    status: AppointmentStatus = AppointmentStatus.SCHEDULED,
) -> Event:
    """A single visit of ``service`` stored through EventService."""
    event = Event(
        id=new_id(),
        calendar_id=session.repo.ensure_local_calendar().id,
        uid="",
        title=service.name,
        start=start,
        end=start + timedelta(minutes=service.duration_minutes),
        tzid="Europe/Warsaw",
        status=status,
        patient_id=patient.id,
        service_id=service.id,
    )
    session.events.create(event)
    return session.repo.get_event(event.id)


def private(session: Session, start: datetime, end: datetime) -> Event:
    """Private busy time (no patient)."""
    event = Event(
        id=new_id(),
        calendar_id=session.repo.ensure_local_calendar().id,
        uid="",
        title="Dentist",
        start=start,
        end=end,
        tzid="Europe/Warsaw",
    )
    session.events.create(event)
    return event
