"""Loading what a calendar view shows for its visible window (runs on the database thread)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecal.domain.models import (
    Break,
    Calendar,
    Occurrence,
    Patient,
    ServiceType,
    Settings,
    WorkingHours,
)
from carecal.services.docplanner_info import BookingInfo, booking_infos
from carecal.sync.conflicts import list_conflicts
from carecal.ui.context import UiContext

Minutes = tuple[int, int]  # minutes after local midnight, half-open


@dataclass(slots=True)
class ViewData:
    """Everything a day/week/month/agenda view paints for one window. Immutable once built."""

    first_day: date
    last_day: date  # inclusive
    tz: ZoneInfo
    occurrences: list[Occurrence] = field(default_factory=list)
    double_booked: set[tuple[str, str]] = field(default_factory=set)
    calendars: dict[str, Calendar] = field(default_factory=dict)
    services: dict[str, ServiceType] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)
    working: dict[date, list[Minutes]] = field(default_factory=dict)
    breaks: dict[date, list[Minutes]] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    conflicted: set[tuple[str, str]] = field(default_factory=set)  # (calendar id, uid) in inbox
    bookings: dict[str, BookingInfo] = field(default_factory=dict)  # event id -> Docplanner

    def booking_of(self, occ: Occurrence) -> BookingInfo | None:
        """The appointment's current Docplanner booking, if it has one."""
        return self.bookings.get(occ.event.id)

    def color_of(self, occ: Occurrence) -> str:
        """Service colour when the appointment has a service, else its calendar's colour."""
        ev = occ.event
        if ev.service_id and ev.service_id in self.services:
            return self.services[ev.service_id].color
        cal = self.calendars.get(ev.calendar_id)
        return cal.color if cal else "#3b82f6"

    def patient_label(self, occ: Occurrence) -> str:
        """Short patient name(s) for a card: "Anna K." or "Anna K. +3" for a group."""
        ids = occ.event.patient_ids()
        if not ids:
            return ""
        first = self.patients.get(ids[0])
        name = first.short_name if first else ""
        return f"{name} +{len(ids) - 1}" if len(ids) > 1 else name


def _to_minutes(start: time, end: time) -> Minutes:
    return (start.hour * 60 + start.minute, end.hour * 60 + end.minute or 24 * 60)


def working_minutes(
    day: date, hours: Collection[WorkingHours], breaks: Collection[Break]
) -> tuple[list[Minutes], list[Minutes]]:
    """Working intervals and breaks of one local day, as minutes. Any thread; raises nothing."""
    work = sorted(
        _to_minutes(h.start, h.end)
        for h in hours
        if h.weekday == day.weekday()
        and (h.valid_from is None or h.valid_from <= day)
        and (h.valid_to is None or day <= h.valid_to)
    )
    pauses = sorted(
        _to_minutes(b.start, b.end)
        for b in breaks
        if (b.on_date == day) or (b.on_date is None and b.weekday == day.weekday())
    )
    return work, pauses


def load_view_data(
    ctx: UiContext, first_day: date, last_day: date, hidden: Collection[str] = ()
) -> ViewData:
    """Query the window [first_day, last_day] in the display zone.

    Runs on the database thread (or inline in tests); raises CarecalError subclasses from the
    services.
    """
    repo = ctx.session.repo
    settings = repo.settings()
    tz = ctx.session.events.display_zone()
    calendars = {c.id: c for c in repo.list_calendars()}
    shown = [cid for cid in calendars if cid not in hidden]
    start = datetime.combine(first_day, time(), tz)
    end = datetime.combine(last_day + timedelta(days=1), time(), tz)
    occs = ctx.session.events.occurrences(start, end, shown)
    data = ViewData(first_day, last_day, tz, occurrences=occs, calendars=calendars)
    data.settings = settings
    data.double_booked = set(ctx.session.events.double_bookings(occs))
    data.conflicted = {(c.calendar_id, c.uid) for c in list_conflicts(repo)}
    data.services = {s.id: s for s in repo.list_services()}
    # One batch query for the whole window: the cards never ask per paint.
    data.bookings = booking_infos(repo, {o.event.id for o in occs})
    for pid in {pid for o in occs for pid in o.event.patient_ids()}:
        try:
            data.patients[pid] = repo.get_patient(pid)
        except Exception:  # a dangling reference must not break the whole view
            continue
    hours, pauses = repo.working_hours(), repo.breaks()
    day = first_day
    while day <= last_day:
        data.working[day], data.breaks[day] = working_minutes(day, hours, pauses)
        day += timedelta(days=1)
    return data
