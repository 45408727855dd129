"""A realistic, clearly fictional practice week for ``carecal gui --demo`` and screenshots.

A practitioner offering psychotherapy and physiotherapy: working hours, a lunch break, six service
types, 25 made-up patients (e-mail addresses on example.com), about 45 appointments in the week
around ``today`` and about 30 in the next (past ones completed or no-show, future ones scheduled
or confirmed), a weekly
supervision, a group session, a video visit, an all-day training day, one deliberate double
booking and a "Personal" calendar with a few private events.

Idempotent: every demo event has a fixed UID and every patient/service a fixed name, so a second
run adds nothing. Runs on the caller's thread and does disk I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from carecal.domain.errors import NotFound
from carecal.domain.models import (
    AppointmentStatus,
    Break,
    Event,
    Participant,
    Patient,
    ServiceType,
    VisitMode,
    WorkingHours,
    new_id,
)
from carecal.services.events import validate_event, with_raw
from carecal.services.zones import zone_or_utc
from carecal.store.repo import Repository

ACTOR = "demo"
PERSONAL_CALENDAR = "Personal"
PERSONAL_COLOR = "#f97316"

# name, minutes, price, colour, online, buffer, capacity
_SERVICES: tuple[tuple[str, int, str, str, bool, int, int], ...] = (
    ("Initial consultation", 80, "250.00", "#6366f1", False, 10, 1),
    ("Therapy session", 50, "180.00", "#10b981", False, 10, 1),
    ("Follow-up", 30, "120.00", "#f59e0b", False, 0, 1),
    ("Video consultation", 50, "170.00", "#0ea5e9", True, 10, 1),
    ("Group therapy", 90, "90.00", "#a855f7", False, 15, 8),
    ("Physio treatment", 45, "160.00", "#ef4444", False, 15, 1),
)

# fmt: off
_PATIENTS: tuple[tuple[str, str], ...] = (
    ("Zofia", "Kowalczyk"), ("Marek", "Zieliński"), ("Agnieszka", "Wróbel"),
    ("Tomasz", "Pawlak"), ("Katarzyna", "Dudek"), ("Paweł", "Jabłoński"),
    ("Ewa", "Szymańska"), ("Michał", "Kaczmarek"), ("Olivia", "Hartley"),
    ("James", "Whitmore"), ("Emily", "Carter"), ("Daniel", "Brooks"),
    ("Grace", "Holloway"), ("Samuel", "Fletcher"), ("Lucía", "Romero"),
    ("Javier", "Morales"), ("Carmen", "Ortega"), ("Diego", "Navarro"),
    ("Marta", "Castillo"), ("Giulia", "Ferraro"), ("Luca", "Bianchi"),
    ("Chiara", "Esposito"), ("Matteo", "Greco"), ("Francesca", "Moretti"),
    ("Alessandro", "Conti"),
)

# (weekday 0=Mon, "HH:MM", service index, patient index) for the practice calendar.
_APPOINTMENTS: tuple[tuple[int, str, int, int], ...] = (
    (0, "08:00", 0, 0), (0, "09:30", 1, 1), (0, "10:30", 1, 2), (0, "11:30", 2, 3),
    (0, "12:00", 2, 15), (0, "13:00", 5, 4), (0, "14:00", 1, 5), (0, "15:00", 3, 8),
    (0, "17:00", 2, 6),
    (1, "08:00", 5, 7), (1, "09:00", 5, 9), (1, "10:00", 1, 10), (1, "11:00", 0, 11),
    (1, "15:00", 1, 17), (1, "16:00", 3, 18), (1, "17:00", 1, 19),
    (2, "08:00", 1, 20), (2, "09:00", 2, 21), (2, "09:30", 2, 22), (2, "10:00", 5, 23),
    (2, "11:00", 1, 24), (2, "12:00", 2, 23), (2, "14:00", 1, 0), (2, "15:00", 1, 1),
    (2, "17:30", 3, 2),
    (3, "08:00", 0, 3), (3, "09:30", 1, 4), (3, "10:30", 5, 5), (3, "11:30", 2, 6),
    (3, "13:00", 1, 7), (3, "14:00", 1, 8), (3, "14:30", 2, 9), (3, "15:30", 3, 10),
    (3, "16:30", 5, 11), (3, "17:30", 2, 12),
    (4, "08:00", 1, 12), (4, "09:00", 5, 13), (4, "10:00", 2, 14), (4, "11:00", 0, 16),
    (4, "13:00", 2, 17),
)
# fmt: on
_GROUP_SLOT = (1, "13:00")
_GROUP_MEMBERS = (12, 13, 14, 15, 16)
_DOUBLE_BOOKED = (3, "14:30")  # overlaps the 14:00 therapy session on Thursday, on purpose
_NO_SHOWS = {(0, "11:30"), (2, "09:30")}
_CANCELLED = {(1, "17:00")}
_PHONE = {(2, "12:00")}


@dataclass(frozen=True, slots=True)
class _Context:
    zone: ZoneInfo
    monday: date
    today: date
    practice_id: str
    personal_id: str


def fill_demo_week(repo: Repository, today: date) -> None:
    """Fill the week containing ``today``, and most of the next, with the demo practice.

    Idempotent.

    The caller's thread; disk I/O. Raises StoreError.
    """
    settings = repo.settings()
    zone = zone_or_utc(settings.display_tz)
    practice = repo.ensure_local_calendar()
    try:
        personal = repo.find_calendar(PERSONAL_CALENDAR)
    except NotFound:
        personal, _ = repo.add_calendar(PERSONAL_CALENDAR, PERSONAL_COLOR, actor=ACTOR)
    _ensure_schedule(repo)
    services = _ensure_services(repo)
    patients = _ensure_patients(repo)
    ctx = _Context(zone, today - timedelta(days=today.weekday()), today, practice.id, personal.id)
    events = _practice_events(ctx, services, patients) + _personal_events(ctx)
    for calendar_id in (practice.id, personal.id):
        fresh: list[Event] = []
        for event in events:
            if event.calendar_id == calendar_id and not repo.find_by_uid(calendar_id, event.uid):
                validate_event(event)
                fresh.append(with_raw(event))
        if fresh:
            repo.import_events(fresh, calendar_id, actor=ACTOR)


def _ensure_schedule(repo: Repository) -> None:
    if not repo.working_hours():
        hours = [
            WorkingHours(id=new_id(), weekday=d, start=time(8), end=time(14 if d == 4 else 18))
            for d in range(5)
        ]
        repo.set_working_hours(hours, actor=ACTOR)
    if not repo.breaks():
        lunch = [
            Break(id=new_id(), start=time(12, 30), end=time(13), weekday=d, label="Lunch")
            for d in range(5)
        ]
        repo.set_breaks(lunch, actor=ACTOR)


def _ensure_services(repo: Repository) -> list[ServiceType]:
    existing = {s.name.casefold(): s for s in repo.list_services()}
    result: list[ServiceType] = []
    for name, minutes, price, color, online, buffer, capacity in _SERVICES:
        service = existing.get(name.casefold())
        if service is None:
            service = ServiceType(
                id=new_id(),
                name=name,
                duration_minutes=minutes,
                price=Decimal(price),
                color=color,
                online=online,
                buffer_minutes=buffer,
                capacity=capacity,
            )
            repo.save_service(service, actor=ACTOR)
        result.append(service)
    return result


def _ensure_patients(repo: Repository) -> list[Patient]:
    result: list[Patient] = []
    for i, (first, last) in enumerate(_PATIENTS):
        try:
            patient = repo.find_patient(f"{first} {last}")
        except NotFound:
            patient = Patient(
                id=new_id(),
                first_name=first,
                last_name=last,
                phone=f"+48 555 010 {100 + i:03d}",
                email=f"{_ascii(first)}.{_ascii(last)}@example.com".lower(),
            )
            repo.add_patient(patient, actor=ACTOR)
        result.append(patient)
    return result


def _ascii(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżáéíóúñàèìòùÁÉÍÓÚŁŚŻŹ", "acelnoszzaeiounaeiouAEIOULSZZ")
    return text.translate(table)


def _at(ctx: _Context, weekday: int, hhmm: str, week: int = 0) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    day = ctx.monday + timedelta(days=weekday, weeks=week)
    return datetime.combine(day, time(hour, minute), tzinfo=ctx.zone)


def _status(ctx: _Context, weekday: int, hhmm: str, index: int, week: int = 0) -> AppointmentStatus:
    day = ctx.monday + timedelta(days=weekday, weeks=week)
    if week == 0 and (weekday, hhmm) in _CANCELLED:
        return AppointmentStatus.CANCELLED
    if day < ctx.today:
        if week == 0 and (weekday, hhmm) in _NO_SHOWS:
            return AppointmentStatus.NO_SHOW
        return AppointmentStatus.COMPLETED
    if day == ctx.today:
        return AppointmentStatus.CONFIRMED
    return AppointmentStatus.SCHEDULED if index % 3 == 0 else AppointmentStatus.CONFIRMED


def _location(mode: VisitMode, service_index: int) -> str:
    if mode is VisitMode.VIDEO:
        return "Online"
    if mode is VisitMode.PHONE:
        return "Phone"
    return "Physio room" if service_index == 5 else "Room 1"


def _bookings() -> list[tuple[int, int, tuple[int, str, int, int]]]:
    """(week, index, appointment) for this week and a lighter next week.

    Next week is already mostly booked (every fourth slot still free, and no double booking), so
    the calendar has upcoming work whatever weekday the demo starts on.
    """
    out = [(0, i, a) for i, a in enumerate(_APPOINTMENTS)]
    out += [
        (1, i, a)
        for i, a in enumerate(_APPOINTMENTS)
        if i % 4 != 1 and (a[0], a[1]) != _DOUBLE_BOOKED
    ]
    return out


def _practice_events(
    ctx: _Context, services: list[ServiceType], patients: list[Patient]
) -> list[Event]:
    events: list[Event] = []
    for week, index, (weekday, hhmm, s_index, p_index) in _bookings():
        service, patient = services[s_index], patients[(p_index + 7 * week) % len(patients)]
        start = _at(ctx, weekday, hhmm, week)
        key = f"{weekday}-{hhmm.replace(':', '')}"
        if week:
            key = f"next-{key}"
        mode = VisitMode.VIDEO if service.online else VisitMode.IN_PERSON
        if (weekday, hhmm) in _PHONE:
            mode = VisitMode.PHONE
        events.append(
            Event(
                id=new_id(),
                calendar_id=ctx.practice_id,
                uid=f"demo-{key}@carecal.example",
                title=service.name,
                start=start,
                end=start + timedelta(minutes=service.duration_minutes),
                tzid=ctx.zone.key,
                status=_status(ctx, weekday, hhmm, index, week),
                location=_location(mode, s_index),
                patient_id=patient.id,
                service_id=service.id,
                mode=mode,
                price=service.price,
                video_url=f"https://meet.example.com/carecal-demo-{key}"
                if mode is VisitMode.VIDEO
                else "",
                description="Booked twice by mistake: please reschedule one."
                if week == 0 and (weekday, hhmm) == _DOUBLE_BOOKED
                else "",
            )
        )
    group = services[4]
    g_start = _at(ctx, *_GROUP_SLOT)
    past = g_start.date() < ctx.today
    events.append(
        Event(
            id=new_id(),
            calendar_id=ctx.practice_id,
            uid="demo-group@carecal.example",
            title="Group therapy: stress and sleep",
            start=g_start,
            end=g_start + timedelta(minutes=group.duration_minutes),
            tzid=ctx.zone.key,
            status=AppointmentStatus.COMPLETED if past else AppointmentStatus.CONFIRMED,
            location="Group room",
            service_id=group.id,
            price=group.price,
            capacity=group.capacity,
            participants=tuple(Participant(patients[i].id) for i in _GROUP_MEMBERS),
        )
    )
    # Supervision: weekly on Wednesdays since three weeks before this one.
    sup_start = _at(ctx, 2, "16:00") - timedelta(weeks=3)
    events.append(
        Event(
            id=new_id(),
            calendar_id=ctx.practice_id,
            uid="demo-supervision@carecal.example",
            title="Clinical supervision",
            start=sup_start,
            end=sup_start + timedelta(hours=1),
            tzid=ctx.zone.key,
            rrule="FREQ=WEEKLY;BYDAY=WE",
            location="Online",
            mode=VisitMode.VIDEO,
            video_url="https://meet.example.com/carecal-demo-supervision",
            status=AppointmentStatus.CONFIRMED,
        )
    )
    saturday = ctx.monday + timedelta(days=5)
    events.append(
        Event(
            id=new_id(),
            calendar_id=ctx.practice_id,
            uid="demo-training@carecal.example",
            title="Training day: manual therapy course",
            start=saturday,
            end=saturday + timedelta(days=1),
            all_day=True,
            busy=False,
            location="Conference centre",
            status=AppointmentStatus.CONFIRMED,
        )
    )
    return events


def _personal_events(ctx: _Context) -> list[Event]:
    specs = (
        ("dentist", 1, "18:30", 45, "Dentist"),
        ("bank", 2, "12:30", 30, "Bank appointment"),
        ("dinner", 3, "19:30", 150, "Dinner with friends"),
        ("swim", 4, "16:00", 60, "Swimming"),
    )
    events: list[Event] = []
    for key, weekday, hhmm, minutes, title in specs:
        start = _at(ctx, weekday, hhmm)
        events.append(
            Event(
                id=new_id(),
                calendar_id=ctx.personal_id,
                uid=f"demo-personal-{key}@carecal.example",
                title=title,
                start=start,
                end=start + timedelta(minutes=minutes),
                tzid=ctx.zone.key,
                status=AppointmentStatus.CONFIRMED,
            )
        )
    return events
