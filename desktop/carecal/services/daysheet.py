"""The front desk's day sheet: one day's visits as a printable list, named as the kiosk names.

``build_day_sheet`` collects the rows (time, patient(s) as the "kiosk names" setting allows,
service, how the visit takes place, status); ``ui.daysheet`` lays them out for the printer, a
PDF or a PNG. Entries without a patient (private time) appear only as "Blocked", without their
title; cancelled visits and all-day entries are left out. No notes, phone numbers, e-mail
addresses or prices ever reach the sheet.

Threads: the caller's thread (the GUI's database lane, or the command line); disk I/O; raises
StoreError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from carecal.domain.models import AppointmentStatus, Event, VisitMode
from carecal.domain.timeutil import utc_instant
from carecal.services.events import EventService, day_bounds
from carecal.services.kiosk import kiosk_name, service_name
from carecal.services.kiosk_rules import NameStyle, is_kiosk_visit, states_of
from carecal.store.repo import Repository


@dataclass(frozen=True, slots=True)
class SheetRow:
    start: str  # "09:00"
    end: str
    who: tuple[str, ...]  # one name per patient (several in a group session); () when blocked
    service: str
    where: str  # "Room / address", "Video", "Phone"
    status: str
    blocked: bool = False
    video: bool = False


@dataclass(frozen=True, slots=True)
class DaySheet:
    day: date
    heading: str  # "Wednesday, 14 May 2025"
    practice: str
    rows: tuple[SheetRow, ...]
    names: NameStyle
    printed: str  # "printed 14 May 2025, 07:45"

    @property
    def visit_count(self) -> int:
        return sum(1 for r in self.rows if not r.blocked)


def build_day_sheet(repo: Repository, day: date, now: datetime) -> DaySheet:
    """The sheet of ``day`` (in the display zone). See the module docstring."""
    events = EventService(repo, actor="daysheet")
    zone = events.display_zone()
    settings = repo.settings()
    style = NameStyle.of(settings.kiosk_names)
    start, end = day_bounds(day, zone)
    rows: list[SheetRow] = []
    for occ in events.occurrences(start, end):
        event = occ.event
        if event.all_day or not isinstance(occ.start, datetime):
            continue
        if event.status is AppointmentStatus.CANCELLED:
            continue
        begins = utc_instant(occ.start).astimezone(zone)
        if begins.date() != day:
            continue
        ends = utc_instant(occ.end).astimezone(zone)
        times = (f"{begins:%H:%M}", f"{ends:%H:%M}")
        if not is_kiosk_visit(event):
            if event.busy:
                rows.append(SheetRow(*times, (), "Blocked", "", "", blocked=True))
            continue
        states = states_of(event)
        who = tuple(
            kiosk_name(repo, pid, style)
            + ("" if state.value == "expected" else f" ({state.label})")
            for pid, state in states.items()
        )
        rows.append(
            SheetRow(
                *times,
                who,
                service_name(repo, event),
                _where(event),
                event.status.label,
                video=event.mode is VisitMode.VIDEO,
            )
        )
    local_now = now.astimezone(zone)
    return DaySheet(
        day=day,
        heading=f"{day:%A}, {day.day} {day:%B %Y}",
        practice=settings.practitioner_name,
        rows=tuple(rows),
        names=style,
        printed=f"printed {local_now.day} {local_now:%B %Y, %H:%M}",
    )


def _where(event: Event) -> str:
    if event.mode is VisitMode.VIDEO:
        return "Video"
    if event.mode is VisitMode.PHONE:
        return "Phone"
    return event.location
