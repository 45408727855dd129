"""Small time helpers shared by the domain modules: zones, wall-clock vs. instant arithmetic.

Python adds a ``timedelta`` to an aware datetime on the *wall clock* and keeps the tzinfo, which
is wrong across a DST change for "two real hours later". These helpers make the choice explicit.
All functions are pure and safe on any thread.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carecal.domain.errors import ValidationError
from carecal.domain.models import When

__all__ = [
    "add_real",
    "as_utc",
    "day_start",
    "get_zone",
    "instant_key",
    "localize",
    "same_instance",
    "to_local_naive",
    "utc_instant",
]


def get_zone(tzid: str) -> ZoneInfo:
    """The IANA zone named ``tzid``. Raises ValidationError for an unknown or malformed name."""
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError(f"Unknown time zone: {tzid!r}.") from exc


def localize(naive: datetime, zone: tzinfo) -> datetime:
    """Attach ``zone`` to a wall-clock time, RFC 5545 style.

    A time in a DST gap (02:30 on a spring-forward day) is read with the offset before the gap and
    therefore comes out shifted forward (03:30); an ambiguous time (fall-back) takes the first of
    its two instants (fold=0). The result is normalized so its wall time exists.
    """
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone)


def to_local_naive(instant: datetime, zone: tzinfo) -> datetime:
    """The wall-clock time of an aware ``instant`` in ``zone``, without tzinfo."""
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def as_utc(value: datetime) -> datetime:
    """An aware datetime converted to UTC (naive input is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def add_real(value: datetime, delta: timedelta) -> datetime:
    """``value + delta`` in elapsed time (not wall-clock), expressed in ``value``'s own zone."""
    zone = value.tzinfo
    moved = value.astimezone(UTC) + delta
    return moved.astimezone(zone) if zone is not None else moved.replace(tzinfo=None)


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first instant of a local calendar day (midnight, or later if midnight is skipped)."""
    return localize(datetime.combine(day, time(0, 0)), zone)


def utc_instant(value: When) -> datetime:
    """A datetime as it is; a date (an all-day start or end) as its midnight in UTC."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def same_instance(a: When, b: When) -> bool:
    """Whether two recurrence ids name the same instance: by instant, or by date for dates.

    A date compared with a datetime matches on the datetime's own calendar date (lenient: some
    producers write a DATE EXDATE for a timed series).
    """
    a_dt = isinstance(a, datetime)
    b_dt = isinstance(b, datetime)
    if isinstance(a, datetime) and isinstance(b, datetime):
        # Python's == is False across zones for an ambiguous wall time (PEP 495); compare in UTC.
        return as_utc(a) == as_utc(b)
    if not a_dt and not b_dt:
        return a == b
    a_day = a.date() if isinstance(a, datetime) else a
    b_day = b.date() if isinstance(b, datetime) else b
    return a_day == b_day


def instant_key(value: When, zone: tzinfo) -> tuple[int, str]:
    """A hashable key for matching instances: UTC text for instants, ISO date for dates.

    Naive datetimes are read as wall-clock times in ``zone``.
    """
    if isinstance(value, datetime):
        aware = localize(value, zone) if value.tzinfo is None else value
        return (1, aware.astimezone(UTC).strftime("%Y%m%dT%H%M%S"))
    return (0, value.isoformat())
