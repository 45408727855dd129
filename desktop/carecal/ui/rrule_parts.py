"""The simple recurrence rules the editor offers, to and from RRULE text (pure, any thread)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
FREQS = ("DAILY", "WEEKLY", "MONTHLY")


@dataclass(frozen=True, slots=True)
class RuleParts:
    """``freq`` None means "does not repeat". ``until`` is the last day (inclusive, local)."""

    freq: str | None = None
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    until: date | None = None
    count: int | None = None


def to_rrule(parts: RuleParts, *, all_day: bool, tz: ZoneInfo) -> str | None:
    """RRULE text for ``parts`` (None for "does not repeat"). UNTIL is the end of the last day,
    in UTC for timed events as RFC 5545 requires. Any thread; raises nothing."""
    if parts.freq is None:
        return None
    items = [f"FREQ={parts.freq}"]
    if parts.interval > 1:
        items.append(f"INTERVAL={parts.interval}")
    if parts.freq == "WEEKLY" and parts.weekdays:
        items.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in sorted(set(parts.weekdays))))
    if parts.until is not None:
        if all_day:
            items.append(f"UNTIL={parts.until:%Y%m%d}")
        else:
            last = datetime.combine(parts.until, time(23, 59, 59), tz).astimezone(UTC)
            items.append(f"UNTIL={last:%Y%m%dT%H%M%SZ}")
    elif parts.count is not None:
        items.append(f"COUNT={parts.count}")
    return ";".join(items)


def from_rrule(text: str | None, *, tz: ZoneInfo) -> RuleParts | None:
    """Parse what ``to_rrule`` writes; None when the rule uses anything the editor cannot show
    (the editor then keeps the rule untouched). Any thread; raises nothing."""
    if not text:
        return RuleParts()
    fields: dict[str, str] = {}
    for item in text.strip().removeprefix("RRULE:").split(";"):
        if "=" not in item:
            return None
        key, _, value = item.partition("=")
        fields[key.upper()] = value.upper()
    freq = fields.pop("FREQ", "")
    if freq not in FREQS:
        return None
    try:
        interval = int(fields.pop("INTERVAL", "1"))
        count = int(fields.pop("COUNT")) if "COUNT" in fields else None
        until = _parse_until(fields.pop("UNTIL"), tz) if "UNTIL" in fields else None
    except ValueError:
        return None
    weekdays: tuple[int, ...] = ()
    if "BYDAY" in fields:
        if freq != "WEEKLY":
            return None
        codes = fields.pop("BYDAY").split(",")
        if any(c not in WEEKDAY_CODES for c in codes):
            return None
        weekdays = tuple(WEEKDAY_CODES.index(c) for c in codes)
    fields.pop("WKST", None)
    if fields:
        return None
    return RuleParts(freq, max(1, interval), weekdays, until, count)


def _parse_until(value: str, tz: ZoneInfo) -> date:
    if "T" in value:
        stamp = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
        if value.endswith("Z"):
            return stamp.replace(tzinfo=UTC).astimezone(tz).date()
        return stamp.date()
    return datetime.strptime(value, "%Y%m%d").date()


def describe(parts: RuleParts) -> str:
    """A short human sentence: "Every 2 weeks on Mon, Thu, 10 times"."""
    if parts.freq is None:
        return "Does not repeat"
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month"}[parts.freq]
    text = f"Every {unit}" if parts.interval == 1 else f"Every {parts.interval} {unit}s"
    if parts.weekdays:
        names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        text += " on " + ", ".join(names[d] for d in sorted(parts.weekdays))
    if parts.until is not None:
        text += f", until {parts.until:%-d %b %Y}"
    elif parts.count is not None:
        text += f", {parts.count} times"
    return text
