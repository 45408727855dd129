"""Small builders for domain tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from carecal.domain.models import Event, When

WARSAW = ZoneInfo("Europe/Warsaw")
NEW_YORK = ZoneInfo("America/New_York")


def series(
    rule: str | None,
    start: When,
    *,
    minutes: int = 60,
    tz: ZoneInfo | None = WARSAW,
    **fields: object,
) -> Event:
    """A series master (or single event when ``rule`` is None) starting at ``start``."""
    if isinstance(start, datetime):
        end: When = start + timedelta(minutes=minutes)
        tzid = getattr(start.tzinfo, "key", None) if tz is not None else None
        all_day = False
    else:
        end = start + timedelta(days=1)
        tzid = None
        all_day = True
    defaults: dict[str, object] = {
        "id": "master",
        "calendar_id": "cal",
        "uid": "series@example.org",
        "title": "Therapy",
        "start": start,
        "end": end,
        "all_day": all_day,
        "tzid": tzid,
        "rrule": rule,
    }
    defaults.update(fields)
    return Event(**defaults)  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(*args: int, tz: ZoneInfo = WARSAW) -> datetime:
    return datetime(*args, tzinfo=tz)  # type: ignore[misc]


__all__ = ["NEW_YORK", "WARSAW", "date", "local", "series", "utc"]
