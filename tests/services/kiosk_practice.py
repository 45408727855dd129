"""A small practice day for kiosk tests: Wednesday 14 May 2025, 10:37 in Warsaw.

Shared by tests/services/test_kiosk.py and tests/ui/test_kiosk.py. Everything is written through
the repository and EventService, as the app would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from carecal.domain.models import (
    Account,
    AppointmentStatus,
    Break,
    Event,
    Participant,
    Patient,
    ProviderKind,
    ServiceType,
    WorkingHours,
    new_id,
)
from carecal.services.session import Session

WARSAW = ZoneInfo("Europe/Warsaw")
NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)  # 10:37 in Warsaw
TODAY = date(2025, 5, 14)
PIN = "2468"


def at(hhmm: str, day: date = TODAY) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=WARSAW)


@dataclass
class Practice:
    therapy: ServiceType
    group: ServiceType
    anna: Patient
    marek: Patient
    zofia: Patient
    tomasz: Patient
    ewa: Patient
    # events
    anna_9: Event  # today 09:00, in the past: may be a no-show
    marek_11: Event  # today 11:00, not started yet
    group_12: Event  # today 12:00, group: zofia, tomasz, ewa
    anna_tomorrow: Event
    personal: Event  # no patient: never on the kiosk


def build_practice(session: Session, *, self_checkin: bool = True, pin: bool = True) -> Practice:
    """Settings, hours, services, patients and today's appointments. Caller's thread."""
    from carecal.services.kiosk import hash_pin

    repo = session.repo
    settings = replace(
        repo.settings(),
        display_tz="Europe/Warsaw",
        slot_minutes=15,
        kiosk_self_checkin=self_checkin,
        kiosk_pin_hash=hash_pin(PIN) if pin else "",
    )
    repo.save_settings(settings, actor="test")
    repo.set_working_hours(
        [WorkingHours(new_id(), d, time(8), time(16)) for d in range(5)], actor="test"
    )
    repo.set_breaks(
        [Break(new_id(), time(13), time(13, 30), weekday=d, label="Lunch") for d in range(5)],
        actor="test",
    )
    therapy = ServiceType(new_id(), "Therapy session", 50, Decimal("180"), buffer_minutes=10)
    group = ServiceType(new_id(), "Group therapy", 90, Decimal("90"), capacity=6)
    for s in (therapy, group):
        repo.save_service(s, actor="test")

    def patient(first: str, last: str, born: date) -> Patient:
        p = Patient(new_id(), first, last, birth_date=born, phone="+48 555 000 111")
        repo.add_patient(p, actor="test")
        return p

    anna = patient("Anna", "Nowak", date(1985, 3, 2))
    marek = patient("Marek", "Zieliński", date(1990, 7, 21))
    zofia = patient("Zofia", "Kowalczyk", date(1979, 11, 5))
    tomasz = patient("Tomasz", "Pawlak", date(2001, 1, 30))
    ewa = patient("Ewa", "Łukasik", date(1966, 6, 16))
    # A calendar of a CalDAV account, so every kiosk edit waits in the outbox for the next sync.
    account = Account(new_id(), ProviderKind.CALDAV, "Practice hub")
    repo.add_account(account, actor="test")
    cal, _ = repo.add_calendar("Practice", "#2563eb", actor="test", account_id=account.id)
    repo.update_calendar(replace(cal, is_default=True), actor="test")
    events = session.events

    def book(start: datetime, service: ServiceType, **fields: object) -> Event:
        event = Event(
            id=new_id(),
            calendar_id=cal.id,
            uid="",
            title=str(fields.pop("title", service.name)),
            start=start,
            end=start + timedelta(minutes=service.duration_minutes),
            tzid="Europe/Warsaw",
            service_id=service.id,
            status=AppointmentStatus.CONFIRMED,
        ).with_changes(**fields)
        events.create(event)
        return repo.get_event(event.id)

    anna_9 = book(at("09:00"), therapy, patient_id=anna.id, title="Anna Nowak – therapy")
    marek_11 = book(at("11:00"), therapy, patient_id=marek.id)
    group_12 = book(
        at("12:00"),
        group,
        capacity=6,
        participants=tuple(Participant(p.id) for p in (zofia, tomasz, ewa)),
    )
    anna_tomorrow = book(at("09:00", TODAY + timedelta(days=1)), therapy, patient_id=anna.id)
    personal = book(at("15:00"), therapy, title="Dentist", service_id=None)
    return Practice(
        therapy,
        group,
        anna,
        marek,
        zofia,
        tomasz,
        ewa,
        anna_9,
        marek_11,
        group_12,
        anna_tomorrow,
        personal,
    )
