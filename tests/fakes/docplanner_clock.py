"""The Docplanner emulator's clock and the date handling every part of it shares.

All of the emulator's time rules (token expiry, the 12-week slot horizon, the 72-hour
notification expiry, the 90-minute payment window, rate-limit windows, the 3-minute duplicate
PUT window, push retries) read one `Clock`. Tests move it with `advance`/`set`; a real-time
clock is `Clock(real=True)`.

Docplanner answers dates as ISO-8601 with an offset, converted to the country's zone (so a
client must compare instants, not strings): `render` does that for the domain's zone.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # a Monday, 08:00 in Warsaw


class Clock:
    """A controllable UTC clock (or the wall clock with `real=True`); thread-safe."""

    def __init__(self, start: datetime = DEFAULT_START, *, real: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start needs a time zone")
        self._now = start.astimezone(UTC)
        self._real = real
        self._guard = threading.Lock()

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        if self._real:
            return datetime.now(UTC)
        with self._guard:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move a manual clock forward by `delta` (seconds or a timedelta); returns the new
        instant."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("the clock does not go backwards")
        with self._guard:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        """Jump a manual clock to `when` (forwards only)."""
        with self._guard:
            target = when.astimezone(UTC)
            if target < self._now:
                raise ValueError("the clock does not go backwards")
            self._now = target


def parse_instant(text: str, zone: ZoneInfo) -> tuple[datetime, bool]:
    """(aware instant, had an offset) from an ISO-8601 date-time; a date-time without an
    offset is read in `zone` (the country's zone). Raises ValueError when unparseable."""
    if not isinstance(text, str) or "T" not in text:
        raise ValueError(f"not an ISO-8601 date-time: {text!r}")
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=zone), False
    return value, True


def render(when: datetime, zone: ZoneInfo) -> str:
    """An instant as Docplanner sends it: seconds precision with the zone's offset."""
    return when.astimezone(zone).replace(microsecond=0).isoformat()


def local_day(when: datetime, zone: ZoneInfo) -> str:
    """The YYYY-MM-DD date of `when` in `zone`."""
    return when.astimezone(zone).date().isoformat()


def day_bounds(day: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The [start, next start) instants of a local YYYY-MM-DD day (DST-safe)."""
    first = datetime.fromisoformat(day).replace(tzinfo=zone)
    nxt = (first + timedelta(days=1)).replace(tzinfo=zone)
    nxt = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return first, nxt
