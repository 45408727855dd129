"""Parsing the dates, date-times, durations and zones users type on the command line."""

from __future__ import annotations

import argparse
from datetime import date, datetime
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
