"""A series' first start and last end, stored on the master row for the window index.

``domain.recurrence.series_bounds`` is the authority. Should it be missing or fail on a rule,
a conservative local estimate is used instead: it may call a series longer than it is (the
expansion then finds nothing in those windows), never shorter, so no occurrence is ever lost.

Runs on any thread; never raises.
"""

from __future__ import annotations

import importlib
import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from carecal.domain.models import Event
from carecal.store.codec import ZONE_SLACK, utc_seconds

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNTIL = re.compile(r"(?:^|;)UNTIL=(\d{8})(?:T(\d{6})(Z?))?(?:;|$)", re.IGNORECASE)
_COUNT = re.compile(r"(?:^|;)COUNT=\d+(?:;|$)", re.IGNORECASE)

BoundsFn = Callable[[Event], tuple[datetime, datetime | None]]


def _domain_bounds() -> BoundsFn | None:
    try:
        recurrence = importlib.import_module("carecal.domain.recurrence")
    except ImportError:
        return None
    fn: BoundsFn | None = getattr(recurrence, "series_bounds", None)
    return fn


def _seconds(value: datetime, edge: str) -> int:
    s = (value - _EPOCH).total_seconds()
    return math.floor(s) if edge == "start" else math.ceil(s)


def fallback_bounds(master: Event) -> tuple[int, int | None]:
    """Conservative (first_start_utc, last_end_utc) in seconds; None = may never end."""
    fl = master.floating
    starts = [master.start, *master.rdates]
    first = min(utc_seconds(s, floating=fl, edge="start") for s in starts)
    duration = max(master.duration, timedelta(0))
    slack = int(ZONE_SLACK.total_seconds())
    if not master.rrule:
        last = max(utc_seconds(s, floating=fl, edge="start") for s in starts)
        return first, last + math.ceil(duration.total_seconds()) + 2 * slack
    if _COUNT.search(master.rrule):
        # The last instance of a COUNT rule needs an expansion: leave it open.
        return first, None
    match = _UNTIL.search(master.rrule)
    if match is None:
        return first, None
    try:
        day = date(int(match[1][:4]), int(match[1][4:6]), int(match[1][6:8]))
        hms = match[2] or "235959"
        until = datetime(day.year, day.month, day.day, int(hms[:2]), int(hms[2:4]), int(hms[4:]))
    except ValueError:
        return first, None
    # UNTIL may be floating or in the event's zone: widen by the zone slack to be safe.
    last_start = _seconds(until.replace(tzinfo=UTC), "end") + slack
    rdate_last = max(utc_seconds(s, floating=fl, edge="start") for s in starts)
    return first, max(last_start, rdate_last) + math.ceil(duration.total_seconds()) + slack


def series_bounds_seconds(master: Event) -> tuple[int, int | None]:
    """(first_start_utc, last_end_utc) in integer UTC seconds for a master row."""
    domain = _domain_bounds()
    if domain is not None:
        try:
            first, last = domain(master)
            first_s = _seconds(first, "start")
            last_s = None if last is None else _seconds(last, "end")
            if master.all_day or master.floating:
                # Keep the widening consistent with single rows whatever the domain did.
                slack = int(ZONE_SLACK.total_seconds())
                first_s -= slack
                last_s = None if last_s is None else last_s + slack
            return first_s, last_s
        except Exception:
            # A rule the domain cannot bound must not stop the save; the estimate is safe.
            log.warning("series bounds fell back to a conservative estimate", exc_info=True)
    return fallback_bounds(master)
