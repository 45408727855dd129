"""Parsing the dates, date-times, durations and zones users type on the command line."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from carecal.domain.errors import ValidationError
from carecal.services.zones import is_known_zone


def parse_date(text: str) -> date:
    """An ISO date (2025-03-14), or "today"/"tomorrow"/"yesterday". Any thread.

    Raises argparse.ArgumentTypeError (argparse turns it into a usage error, exit code 2).
    """
    word = text.strip().lower()
    today = date.today()
    relative = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if word in relative:
        return date.fromordinal(today.toordinal() + relative[word])
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


def parse_datetime_text(text: str) -> datetime | date:
    """An ISO 8601 date-time, with or without offset, or a bare date.

    Returns a naive or aware datetime, or a date when no time was given. Any thread.
    Raises argparse.ArgumentTypeError.
    """
    value = text.strip()
    if len(value) <= 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a date-time: {text!r} (expected e.g. 2025-03-14T09:30 or 2025-03-14T09:30+01:00)"
        ) from None


def parse_minutes(text: str) -> int:
    """A positive whole number of minutes. Raises argparse.ArgumentTypeError."""
    try:
        minutes = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if minutes <= 0 or minutes > 60 * 24 * 366:
        raise argparse.ArgumentTypeError(f"minutes out of range: {text!r}")
    return minutes


def parse_zone(text: str) -> str:
    """An IANA zone name (Europe/Warsaw). Raises argparse.ArgumentTypeError."""
    name = text.strip()
    if not is_known_zone(name):
        raise argparse.ArgumentTypeError(
            f"unknown time zone: {text!r} (expected e.g. Europe/Warsaw)"
        )
    return name


def localize(value: datetime, zone: ZoneInfo) -> datetime:
    """A typed date-time made aware: naive times are wall-clock times in ``zone``; times with an
    offset are converted to ``zone``. Any thread."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value.astimezone(zone)


def require_time(value: datetime | date, option: str) -> datetime:
    """The value as a datetime; a bare date is refused (ValidationError) for timed events."""
    if not isinstance(value, datetime):
        raise ValidationError(
            f"{option} needs a time (e.g. {value.isoformat()}T09:00) or use --all-day"
        )
    return value


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(word: str, text: str) -> int:
    key = word.strip().lower()[:3]
    if len(word.strip()) < 2 or key not in WEEKDAY_NAMES:
        raise argparse.ArgumentTypeError(
            f"not a weekday: {text!r} (expected e.g. mon, mon-fri or mon,wed,fri)"
        )
    return WEEKDAY_NAMES.index(key)


def parse_weekdays(text: str) -> tuple[int, ...]:
    """Weekdays as typed: "mon", "monday", "mon-fri", "mon,wed,fri", "all" -> 0 = Monday ...

    Any thread. Raises argparse.ArgumentTypeError.
    """
    if text.strip().lower() in ("all", "daily", "every"):
        return tuple(range(7))
    days: list[int] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        if dash:
            a, b = _weekday(first, text), _weekday(last, text)
            if b < a:
                raise argparse.ArgumentTypeError(f"weekday range runs backwards: {text!r}")
            days.extend(range(a, b + 1))
        else:
            days.append(_weekday(first, text))
    return tuple(sorted(set(days)))


def parse_clock(text: str) -> time:
    """A wall-clock time: "08:00", "8:30", "8" or "17". Any thread.

    Raises argparse.ArgumentTypeError.
    """
    value = text.strip()
    hours, colon, minutes = value.partition(":")
    try:
        if not hours.isdigit() or (colon and not (minutes.isdigit() and len(minutes) == 2)):
            raise ValueError(value)
        return time(int(hours), int(minutes) if colon else 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time of day: {text!r} (expected HH:MM)") from None
