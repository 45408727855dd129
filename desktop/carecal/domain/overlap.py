"""Busy time and double-booking detection across calendars.

A group session is ONE event with several participants, so it never double-books itself; only
two different busy, non-cancelled, timed occurrences that share time do. Pure; any thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, tzinfo

from carecal.domain.models import AppointmentStatus, Occurrence
from carecal.domain.timeutil import as_utc, day_start

__all__ = ["Interval", "busy_intervals", "find_double_bookings", "merge_intervals"]

Interval = tuple[datetime, datetime]  # aware, half-open


def _blocks(occ: Occurrence) -> bool:
    return occ.event.busy and occ.event.status is not AppointmentStatus.CANCELLED


def _timed_span(occ: Occurrence) -> Interval | None:
    """The instants a timed occurrence covers (None for all-day or empty ones)."""
    start, end = occ.start, occ.end
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return None
    start, end = as_utc(start), as_utc(end)
    return (start, end) if end > start else None


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined, in UTC. Safe on any thread."""
    out: list[Interval] = []
    # In UTC: Python compares datetimes sharing a tzinfo by wall clock, wrong in a DST fold.
    for start, end in sorted((as_utc(s), as_utc(e)) for s, e in intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def busy_intervals(
    occurrences: Iterable[Occurrence], *, tz: tzinfo | None = None
) -> list[Interval]:
    """The time the given occurrences block, merged, sorted and in UTC.

    Busy (opaque), non-cancelled timed occurrences block their own span. An all-day occurrence
    blocks only when it is marked busy: then it takes the whole local days in ``tz`` (no zone
    given: all-day entries are skipped). Safe on any thread; raises nothing.
    """
    spans: list[Interval] = []
    for occ in occurrences:
        if not _blocks(occ):
            continue
        span = _timed_span(occ)
        if span is not None:
            spans.append(span)
        elif tz is not None and not isinstance(occ.start, datetime):
            end_day = occ.end if not isinstance(occ.end, datetime) else occ.end.date()
            days = max((end_day - occ.start).days, 1)
            spans.append(
                (day_start(occ.start, tz), day_start(occ.start + timedelta(days=days), tz))
            )
    return merge_intervals(spans)


def find_double_bookings(occurrences: Sequence[Occurrence]) -> set[tuple[str, str]]:
    """Keys of busy, non-cancelled, timed occurrences that overlap another such occurrence.

    Works across all calendars given; an end touching the next start is not an overlap, and the
    same occurrence listed twice is not a clash with itself. O(n log n + overlaps). Safe on any
    thread; raises nothing.
    """
    items: list[tuple[datetime, datetime, tuple[str, str]]] = []
    for occ in occurrences:
        span = _timed_span(occ) if _blocks(occ) else None
        if span is not None:
            items.append((span[0], span[1], occ.key))
    items.sort(key=lambda t: t[0])
    clashes: set[tuple[str, str]] = set()
    active: list[tuple[datetime, tuple[str, str]]] = []
    for start, end, key in items:
        active = [(e, k) for e, k in active if e > start]
        for _, other in active:
            if other != key:
                clashes.add(other)
                clashes.add(key)
        active.append((end, key))
    return clashes
