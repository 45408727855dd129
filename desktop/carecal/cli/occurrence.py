"""Finding one occurrence of a series from what a user types: ``--occurrence 2025-03-17`` or
``--occurrence 2025-03-17T16:00``. The caller's thread; disk I/O."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecal.cli import UsageError
from carecal.cli.timeparse import localize
from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Event, Occurrence
from carecal.services.session import Session


def series_master(session: Session, event: Event) -> Event:
    """The master of the series ``event`` belongs to. Raises UsageError for a single event."""
    if event.is_override and event.master_id:
        return session.repo.get_event(event.master_id)
    if event.is_recurring:
        return event
    raise UsageError(f"event {event.id} is not a recurring series; leave out --occurrence")


def find_occurrence(session: Session, event: Event, when: datetime | date) -> Occurrence:
    """The occurrence of ``event``'s series that starts at ``when`` (or was meant to start then,
    for a moved one), or the only one on that date.

    A date is a day in the display zone; a date-time without offset is a wall time in the
    event's own zone. Raises NotFound (none there), ValidationError (several that day).
    """
    master = series_master(session, event)
    display = session.events.display_zone()
    own = ZoneInfo(master.tzid) if master.tzid else display
    if isinstance(when, datetime):
        instant = localize(when, own)
        day = instant.astimezone(display).date()
    else:
        instant, day = None, when
    start = datetime.combine(day - timedelta(days=1), time(0), tzinfo=display)
    end = datetime.combine(day + timedelta(days=2), time(0), tzinfo=display)
    occs = [
        o
        for o in session.events.occurrences(start, end, [master.calendar_id])
        if o.event.id == master.id or o.event.master_id == master.id
    ]
    if instant is not None:
        for occ in occs:
            if _same(occ.start, instant) or _same(occ.recurrence_id, instant):
                return occ
        raise NotFound(
            f"the series {master.id} has no occurrence at {instant.isoformat(timespec='minutes')}"
        )
    on_day = [o for o in occs if _local_date(o.start, display) == day]
    if not on_day:
        raise NotFound(f"the series {master.id} has no occurrence on {day}")
    if len(on_day) > 1:
        times = ", ".join(f"{_local(o.start, display):%H:%M}" for o in on_day)
        raise ValidationError(
            f"the series has {len(on_day)} occurrences on {day} ({times}); give the time too, "
            f"e.g. --occurrence {day}T{_local(on_day[0].start, display):%H:%M}"
        )
    return on_day[0]


def _same(value: datetime | date | None, instant: datetime) -> bool:
    return isinstance(value, datetime) and value == instant


def _local(value: datetime | date, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(zone)
    return datetime.combine(value, time(0), tzinfo=zone)


def _local_date(value: datetime | date, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value
