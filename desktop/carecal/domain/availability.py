"""Working hours minus breaks minus busy time -> bookable slots for a service.

Local times (09:00-17:00) are turned into instants for the given day in the practice's zone, so a
DST day keeps its local hours: on the spring-forward day in Europe/Warsaw 09:00-17:00 is still
09:00-17:00 local, just with a different UTC offset. Slot arithmetic is done on instants.
Everything here is pure and safe on any thread; functions raise ValidationError for bad input.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecal.domain.errors import ValidationError
from carecal.domain.models import Break, ServiceType, WorkingHours
from carecal.domain.overlap import Interval, busy_intervals, find_double_bookings, merge_intervals
from carecal.domain.timeutil import as_utc, day_start, localize

__all__ = [
    "Interval",
    "busy_intervals",
    "find_double_bookings",
    "free_slots",
    "subtract_intervals",
    "working_intervals",
]


def _local_span(day: date, start: time, end: time, tz: ZoneInfo) -> Interval | None:
    """A local time range on ``day`` as instants; an end of 00:00 means midnight after the day."""
    first = as_utc(localize(datetime.combine(day, start), tz))
    if end == time(0, 0):
        last = as_utc(day_start(day + timedelta(days=1), tz))
    else:
        last = as_utc(localize(datetime.combine(day, end), tz))
    if last <= first:
        return None
    return first, last


def _applies(hours: WorkingHours, day: date) -> bool:
    if hours.weekday != day.weekday():
        return False
    if hours.valid_from is not None and day < hours.valid_from:
        return False
    return not (hours.valid_to is not None and day > hours.valid_to)


def subtract_intervals(base: Sequence[Interval], cut: Sequence[Interval]) -> list[Interval]:
    """``base`` minus every interval in ``cut`` (both half-open); sorted, in UTC. Any thread."""
    out: list[Interval] = []
    cuts = merge_intervals(cut)
    for start, end in merge_intervals(base):
        cursor = start
        for c_start, c_end in cuts:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor:
                out.append((cursor, c_start))
            cursor = max(cursor, c_end)
            if cursor >= end:
                break
        if cursor < end:
            out.append((cursor, end))
    return out


def working_intervals(
    day: date, hours: Sequence[WorkingHours], breaks: Sequence[Break], tz: ZoneInfo
) -> list[Interval]:
    """The working time of ``day`` in ``tz``: its weekday's hours valid that day, minus the
    weekly breaks of that weekday and the breaks set for that date. Sorted, aware, half-open.

    Safe on any thread; raises nothing (an interval that ends before it starts is ignored).
    """
    spans = [
        span
        for h in hours
        if _applies(h, day) and (span := _local_span(day, h.start, h.end, tz)) is not None
    ]
    pauses = [
        span
        for b in breaks
        if (b.on_date == day or (b.on_date is None and b.weekday == day.weekday()))
        and (span := _local_span(day, b.start, b.end, tz)) is not None
    ]
    return [(s.astimezone(tz), e.astimezone(tz)) for s, e in subtract_intervals(spans, pauses)]


def free_slots(
    day: date,
    service: ServiceType,
    hours: Sequence[WorkingHours],
    breaks: Sequence[Break],
    busy: Sequence[Interval],
    tz: ZoneInfo,
    *,
    slot_minutes: int = 15,
    now: datetime | None = None,
) -> list[Interval]:
    """Bookable (start, start + duration) slots for ``service`` on ``day``.

    A slot fits when [start, end + buffer) lies inside one working interval and overlaps no busy
    interval (touching is fine). Starts step by ``slot_minutes`` from each working interval's
    start; slots starting before ``now`` are dropped. Safe on any thread; raises ValidationError
    for a non-positive duration or slot size.
    """
    if service.duration_minutes <= 0:
        raise ValidationError(f"The service {service.name!r} has no duration.")
    if slot_minutes <= 0:
        raise ValidationError("The slot size must be at least one minute.")
    duration = timedelta(minutes=service.duration_minutes)
    needed = duration + timedelta(minutes=max(service.buffer_minutes, 0))
    step = timedelta(minutes=slot_minutes)
    blocked = merge_intervals(busy)
    slots: list[Interval] = []
    # Arithmetic in UTC (elapsed time); results are shown in the practice's zone.
    for work_start, work_end in merge_intervals(working_intervals(day, hours, breaks, tz)):
        start = work_start
        while start + needed <= work_end:
            stop = start + needed
            clash = next((b for b in blocked if b[0] < stop and b[1] > start), None)
            if clash is None:
                if now is None or start >= now:
                    slots.append((start.astimezone(tz), (start + duration).astimezone(tz)))
                start += step
            else:
                # Jump past the busy interval, keeping the alignment to the interval start.
                start += step * max(-(-(clash[1] - start) // step), 1)
    return slots
