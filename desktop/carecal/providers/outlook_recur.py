"""Graph's patternedRecurrence <-> an RRULE (RFC 5545), per the reference's "Graph recurrence
<-> RRULE" table.

Reading never fails on a pattern Graph sends (an unknown one gives None: the series is read as
its first occurrence and a warning is logged by the caller). Writing refuses, with a
``PermanentItemError`` that says what Graph cannot hold, every rule outside Graph's six
patterns: HOURLY and finer, BYHOUR/BYMINUTE/BYSECOND, BYWEEKNO, BYYEARDAY, several BYMONTH or
BYMONTHDAY values, negative BYMONTHDAY, BYSETPOS other than 1-4 or -1, COUNT above 999, RDATE.

Pure functions, any thread.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from carecal.domain.errors import PermanentItemError
from carecal.domain.models import When

DAY_NAMES = {
    "SU": "sunday", "MO": "monday", "TU": "tuesday", "WE": "wednesday", "TH": "thursday",
    "FR": "friday", "SA": "saturday",
}  # fmt: skip
DAY_CODES = {v: k for k, v in DAY_NAMES.items()}
_WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # date.weekday() order
INDEX_NAMES = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
INDEX_VALUES = {v: k for k, v in INDEX_NAMES.items()}
_REFUSED_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND", "BYWEEKNO", "BYYEARDAY")
MAX_COUNT = 999


class Unexpressible(PermanentItemError):
    """A recurrence Graph cannot hold; the message says what and why."""


def _parts(rule: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in rule.removeprefix("RRULE:").split(";"):
        name, _, value = part.partition("=")
        if name.strip():
            out[name.strip().upper()] = value.strip().upper()
    return out


def _refuse(why: str) -> Unexpressible:
    return Unexpressible(f"Outlook cannot hold this repeat rule: {why}")


def _local_date(value: When, zone: tzinfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


def _until_date(text: str, zone: tzinfo) -> date:
    """UNTIL's last local day (a DATE, or a DATE-TIME in UTC or floating)."""
    try:
        if len(text) == 8:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        moment = datetime.strptime(text.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        raise _refuse(f"UNTIL={text[:20]} is not a date") from None
    if text.endswith("Z"):
        return moment.replace(tzinfo=UTC).astimezone(zone).date()
    return moment.date()


def to_pattern(rule: str, start: When, zone: tzinfo, zone_name: str) -> dict[str, Any]:
    """The patternedRecurrence for ``rule`` on a series starting at ``start`` (local date in
    ``zone``; ``zone_name`` is Graph's name for it). Raises Unexpressible."""
    parts = _parts(rule)
    freq = parts.pop("FREQ", "")
    for name in _REFUSED_PARTS:
        if name in parts:
            raise _refuse(f"{name} (times within a day, week numbers, days of the year)")
    if freq not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        raise _refuse(f"FREQ={freq or '?'} (only daily, weekly, monthly and yearly repeats)")
    interval_text = parts.pop("INTERVAL", "1")
    if not interval_text.isdigit() or not 1 <= int(interval_text) <= 99:
        raise _refuse(f"INTERVAL={interval_text}")
    first = _local_date(start, zone)
    pattern: dict[str, Any] = {"type": "", "interval": int(interval_text)}
    days, index = _days(parts.pop("BYDAY", ""), parts.pop("BYSETPOS", ""))
    month_days = [d for d in parts.pop("BYMONTHDAY", "").split(",") if d]
    months = [m for m in parts.pop("BYMONTH", "").split(",") if m]
    wkst = parts.pop("WKST", "MO")
    count, until = parts.pop("COUNT", None), parts.pop("UNTIL", None)
    if parts:
        raise _refuse(", ".join(sorted(parts)))
    if len(month_days) > 1 or any(not d.isdigit() for d in month_days):
        raise _refuse("several or negative days of the month")
    if len(months) > 1 or any(not m.isdigit() for m in months):
        raise _refuse("several months")
    if freq == "DAILY":
        if days or month_days or months:
            raise _refuse("a daily repeat limited to some days")
        pattern["type"] = "daily"
    elif freq == "WEEKLY":
        if index is not None or month_days or months:
            raise _refuse("a weekly repeat with month parts")
        if wkst not in DAY_NAMES:
            raise _refuse(f"WKST={wkst}")
        pattern.update(
            type="weekly",
            daysOfWeek=[DAY_NAMES[d] for d in days] or [DAY_NAMES[_WEEKDAY_CODES[first.weekday()]]],
            firstDayOfWeek=DAY_NAMES[wkst],
        )
    else:
        yearly = freq == "YEARLY"
        if yearly:
            pattern["month"] = int(months[0]) if months else first.month
        elif months:
            raise _refuse("a monthly repeat limited to some months")
        if days:
            if month_days:
                raise _refuse("both weekdays and days of the month")
            if index is None:
                raise _refuse("every such weekday of the month (Outlook needs which one)")
            pattern.update(
                type="relativeYearly" if yearly else "relativeMonthly",
                daysOfWeek=[DAY_NAMES[d] for d in days],
                index=INDEX_NAMES[index],
            )
        else:
            if index is not None:
                raise _refuse("BYSETPOS without weekdays")
            day = int(month_days[0]) if month_days else first.day
            if not 1 <= day <= 31:
                raise _refuse(f"BYMONTHDAY={day}")
            pattern.update(type="absoluteYearly" if yearly else "absoluteMonthly", dayOfMonth=day)
    rng: dict[str, Any] = {
        "type": "noEnd",
        "startDate": first.isoformat(),
        "recurrenceTimeZone": zone_name,
    }
    if count is not None:
        if not count.isdigit() or not 1 <= int(count) <= MAX_COUNT:
            raise _refuse(f"COUNT={count} (Outlook counts at most {MAX_COUNT})")
        rng.update(type="numbered", numberOfOccurrences=int(count))
    elif until is not None:
        rng.update(type="endDate", endDate=_until_date(until, zone).isoformat())
    return {"pattern": pattern, "range": rng}


def _days(byday: str, bysetpos: str) -> tuple[list[str], int | None]:
    """(weekday codes, index) from BYDAY (plain or one "2MO"/"-1FR") and BYSETPOS."""
    days: list[str] = []
    index: int | None = None
    for token in [t for t in byday.split(",") if t]:
        code, prefix = token[-2:], token[:-2]
        if code not in DAY_NAMES:
            raise _refuse(f"BYDAY={byday}")
        if prefix:
            try:
                number = int(prefix)
            except ValueError:
                raise _refuse(f"BYDAY={byday}") from None
            if number not in INDEX_NAMES or (index is not None and index != number):
                raise _refuse(f"BYDAY={byday}")
            index = number
        days.append(code)
    if bysetpos:
        try:
            number = int(bysetpos)
        except ValueError:
            raise _refuse(f"BYSETPOS={bysetpos}") from None
        if number not in INDEX_NAMES or (index is not None and index != number):
            raise _refuse(f"BYSETPOS={bysetpos} (Outlook knows first to fourth and last)")
        index = number
    return days, index


def to_rrule(recurrence: Any, start: When, zone: tzinfo) -> str | None:
    """The RRULE text (without "RRULE:") of a patternedRecurrence on a series starting at
    ``start``; None for something that is not a pattern Graph documents."""
    if not isinstance(recurrence, dict):
        return None
    pattern, rng = recurrence.get("pattern"), recurrence.get("range")
    if not isinstance(pattern, dict) or not isinstance(rng, dict):
        return None
    kind = pattern.get("type")
    interval = pattern.get("interval") if isinstance(pattern.get("interval"), int) else 1
    days = [DAY_CODES[d] for d in pattern.get("daysOfWeek") or [] if d in DAY_CODES]
    index = INDEX_VALUES.get(str(pattern.get("index") or "first"), 1)
    freq = {"daily": "DAILY", "weekly": "WEEKLY", "absoluteMonthly": "MONTHLY",
            "relativeMonthly": "MONTHLY", "absoluteYearly": "YEARLY",
            "relativeYearly": "YEARLY"}.get(str(kind))  # fmt: skip
    if freq is None:
        return None
    out = [f"FREQ={freq}"]
    if interval and interval > 1:
        out.append(f"INTERVAL={interval}")
    count = rng.get("numberOfOccurrences")
    if rng.get("type") == "numbered" and isinstance(count, int) and count > 0:
        out.append(f"COUNT={count}")
    elif rng.get("type") == "endDate":
        try:
            last = date.fromisoformat(str(rng.get("endDate")))
        except ValueError:
            last = None
        if last is not None:
            if isinstance(start, datetime):
                end_of_day = datetime.combine(last, time(23, 59, 59), tzinfo=zone)
                out.append("UNTIL=" + end_of_day.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
            else:
                out.append("UNTIL=" + last.strftime("%Y%m%d"))
    if kind == "weekly":
        if days:
            out.append("BYDAY=" + ",".join(days))
        wkst = DAY_CODES.get(str(pattern.get("firstDayOfWeek") or "sunday"), "SU")
        if wkst != "MO":
            out.append(f"WKST={wkst}")
    elif kind in ("absoluteMonthly", "absoluteYearly"):
        if kind == "absoluteYearly":
            out.append(f"BYMONTH={pattern.get('month')}")
        out.append(f"BYMONTHDAY={pattern.get('dayOfMonth')}")
    elif kind in ("relativeMonthly", "relativeYearly"):
        if kind == "relativeYearly":
            out.append(f"BYMONTH={pattern.get('month')}")
        out.append("BYDAY=" + ",".join(days or ["MO"]))
        out.append(f"BYSETPOS={index}")
    return ";".join(out)


def same_pattern(rule: str, recurrence: Any, start: When, zone: tzinfo, zone_name: str) -> bool:
    """Whether ``rule`` writes the pattern and range Graph holds in ``recurrence`` (Graph's
    defaults and ordering aside): then Carecal's own spelling of the rule is kept on reading."""
    if not isinstance(recurrence, dict):
        return False
    try:
        mine = to_pattern(rule, start, zone, zone_name)
    except PermanentItemError:
        return False
    return _normal(mine) == _normal(recurrence)


def _normal(recurrence: dict[str, Any]) -> tuple[Any, ...]:
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    kind = pattern.get("type")
    uses_days = kind in ("weekly", "relativeMonthly", "relativeYearly")
    return (
        kind,
        pattern.get("interval"),
        tuple(sorted(pattern.get("daysOfWeek") or [])) if uses_days else (),
        pattern.get("dayOfMonth") if kind in ("absoluteMonthly", "absoluteYearly") else None,
        pattern.get("month") if kind in ("absoluteYearly", "relativeYearly") else None,
        pattern.get("index", "first") if kind in ("relativeMonthly", "relativeYearly") else None,
        (pattern.get("firstDayOfWeek") or "sunday") if kind == "weekly" else None,
        rng.get("type"),
        rng.get("numberOfOccurrences") if rng.get("type") == "numbered" else None,
        rng.get("endDate") if rng.get("type") == "endDate" else None,
    )


def window_days(start: datetime, days: float) -> datetime:
    """``start`` moved by ``days`` (a helper for window bounds)."""
    return start + timedelta(days=days)
