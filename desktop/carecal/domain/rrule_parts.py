"""Parsing, checking and rewriting RRULE text (RFC 5545 section 3.3.10).

Carecal parses the rule itself instead of handing text to ``dateutil.rrule.rrulestr`` so that it
can (a) refuse rules that can never produce an occurrence *before* dateutil's iterator spins on them
for seconds, and (b) rewrite a rule (UNTIL, COUNT, BYDAY) while keeping the rest of the text as the
producer wrote it. All functions are pure and safe on any thread; they raise RecurrenceError.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from dateutil import rrule as du

from carecal.domain.errors import RecurrenceError

__all__ = [
    "FREQS",
    "SUB_DAILY",
    "WEEKDAYS",
    "ParsedRule",
    "check_satisfiable",
    "format_until",
    "parse_rule",
]

FREQS: dict[str, int] = {
    "YEARLY": du.YEARLY,
    "MONTHLY": du.MONTHLY,
    "WEEKLY": du.WEEKLY,
    "DAILY": du.DAILY,
    "HOURLY": du.HOURLY,
    "MINUTELY": du.MINUTELY,
    "SECONDLY": du.SECONDLY,
}
SUB_DAILY = frozenset({du.HOURLY, du.MINUTELY, du.SECONDLY})
WEEKDAYS: dict[str, int] = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_WEEKDAY_NAMES = {v: k for k, v in WEEKDAYS.items()}

# The longest period a rule may step by; beyond a century a "series" is not a calendar series
# any more, and keeping the step short keeps fast-forwarding and scanning cheap.
_MAX_INTERVAL = {
    du.YEARLY: 100,
    du.MONTHLY: 1200,
    du.WEEKLY: 5218,
    du.DAILY: 36525,
    du.HOURLY: 876600,
    du.MINUTELY: 52596000,
    du.SECONDLY: 3155760000,
}
_INT_RANGES: dict[str, tuple[int, int, bool]] = {
    # name: (min, max, whether negative values are allowed with the same magnitude)
    "BYSECOND": (0, 60, False),
    "BYMINUTE": (0, 59, False),
    "BYHOUR": (0, 23, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYMONTH": (1, 12, False),
    "BYSETPOS": (1, 366, True),
}
_KNOWN = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", *_INT_RANGES}


@dataclass(frozen=True, slots=True)
class ParsedRule:
    """One RRULE, parsed and range-checked. ``parts`` keeps the original text's order."""

    freq: int
    interval: int = 1
    count: int | None = None
    until: datetime | date | None = None  # aware UTC, naive (floating) or a date
    wkst: int = 0
    bysecond: tuple[int, ...] | None = None
    byminute: tuple[int, ...] | None = None
    byhour: tuple[int, ...] | None = None
    byday: tuple[tuple[int, int | None], ...] | None = None  # (weekday, nth or None)
    bymonthday: tuple[int, ...] | None = None
    byyearday: tuple[int, ...] | None = None
    byweekno: tuple[int, ...] | None = None
    bymonth: tuple[int, ...] | None = None
    bysetpos: tuple[int, ...] | None = None
    parts: tuple[tuple[str, str], ...] = ()

    @property
    def freq_name(self) -> str:
        return next(k for k, v in FREQS.items() if v == self.freq)

    @property
    def has_date_filter(self) -> bool:
        return bool(self.bymonth or self.bymonthday or self.byyearday or self.byweekno)

    def text(self) -> str:
        """The rule as RRULE value text (from ``parts``, so unknown X- parts survive)."""
        return ";".join(f"{k}={v}" for k, v in self.parts)

    def with_part(self, name: str, value: str | None) -> ParsedRule:
        """A copy with one part replaced (appended if new, removed if ``value`` is None)."""
        parts = [(k, v) for k, v in self.parts if k != name or value is not None]
        if value is not None:
            if any(k == name for k, _ in parts):
                parts = [(k, value if k == name else v) for k, v in parts]
            else:
                parts.append((name, value))
        return parse_rule(";".join(f"{k}={v}" for k, v in parts))


def parse_rule(text: str) -> ParsedRule:
    """Parse RRULE value text (an optional ``RRULE:`` prefix is accepted).

    Raises RecurrenceError naming the offending part.
    """
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body:
        raise RecurrenceError("The repeat rule is empty.")
    parts: list[tuple[str, str]] = []
    values: dict[str, str] = {}
    for chunk in body.split(";"):
        if not chunk:
            continue
        name, sep, value = chunk.partition("=")
        name = name.strip().upper()
        value = value.strip()
        if not sep or not value:
            raise RecurrenceError(f"The repeat rule part {chunk!r} has no value.")
        if name in values:
            raise RecurrenceError(f"The repeat rule repeats {name}.")
        if name not in _KNOWN and not name.startswith("X-"):
            raise RecurrenceError(f"The repeat rule part {name} is not supported.")
        parts.append((name, value))
        values[name] = value
    if "FREQ" not in values:
        raise RecurrenceError("The repeat rule has no FREQ.")
    freq = FREQS.get(values["FREQ"].upper())
    if freq is None:
        raise RecurrenceError(f"Unknown repeat frequency {values['FREQ']!r}.")
    rule = ParsedRule(freq=freq, parts=tuple(parts))
    if "INTERVAL" in values:
        interval = _int(values["INTERVAL"], "INTERVAL")
        if interval < 1:
            raise RecurrenceError("INTERVAL must be 1 or more.")
        if interval > _MAX_INTERVAL[freq]:
            raise RecurrenceError(f"INTERVAL={interval} is too large for FREQ={values['FREQ']}.")
        rule = replace(rule, interval=interval)
    if "COUNT" in values:
        count = _int(values["COUNT"], "COUNT")
        if count < 1:
            raise RecurrenceError("COUNT must be 1 or more.")
        rule = replace(rule, count=count)
    if "UNTIL" in values:
        rule = replace(rule, until=parse_until(values["UNTIL"]))
    if "WKST" in values:
        rule = replace(rule, wkst=_weekday(values["WKST"]))
    ints: dict[str, tuple[int, ...]] = {}
    for name, (low, high, signed) in _INT_RANGES.items():
        if name in values:
            ints[name] = _int_list(values[name], name, low, high, signed)
    if "BYDAY" in values:
        rule = replace(rule, byday=_byday(values["BYDAY"]))
    return replace(
        rule,
        bysecond=ints.get("BYSECOND"),
        byminute=ints.get("BYMINUTE"),
        byhour=ints.get("BYHOUR"),
        bymonthday=ints.get("BYMONTHDAY"),
        byyearday=ints.get("BYYEARDAY"),
        byweekno=ints.get("BYWEEKNO"),
        bymonth=ints.get("BYMONTH"),
        bysetpos=ints.get("BYSETPOS"),
    )


def parse_until(value: str) -> datetime | date:
    """UNTIL as an aware UTC datetime (``...Z``), a naive datetime (floating) or a date."""
    v = value.strip().upper()
    try:
        if len(v) == 8:
            return datetime.strptime(v, "%Y%m%d").date()
        if v.endswith("Z"):
            return datetime.strptime(v[:-1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return datetime.strptime(v, "%Y%m%dT%H%M%S")
    except ValueError as exc:
        raise RecurrenceError(f"UNTIL={value} is not a valid date or time.") from exc


def format_until(value: datetime | date) -> str:
    """UNTIL text: ``YYYYMMDD`` for a date, ``...Z`` for an aware time, floating otherwise."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return value.strftime("%Y%m%dT%H%M%S")
    return value.strftime("%Y%m%d")


def format_byday(days: tuple[tuple[int, int | None], ...]) -> str:
    return ",".join(f"{'' if n is None else n}{_WEEKDAY_NAMES[d]}" for d, n in days)


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise RecurrenceError(f"{name}={value} is not a whole number.") from exc


def _int_list(value: str, name: str, low: int, high: int, signed: bool) -> tuple[int, ...]:
    out: list[int] = []
    for item in value.split(","):
        n = _int(item.strip(), name)
        ok = low <= abs(n) <= high and (n >= 0 or signed) and not (signed and n == 0)
        if not ok:
            raise RecurrenceError(f"{name}={value} is out of range.")
        out.append(n)
    return tuple(dict.fromkeys(out))


def _weekday(value: str) -> int:
    day = WEEKDAYS.get(value.strip().upper())
    if day is None:
        raise RecurrenceError(f"{value!r} is not a weekday (MO, TU, WE, TH, FR, SA, SU).")
    return day


def _byday(value: str) -> tuple[tuple[int, int | None], ...]:
    out: list[tuple[int, int | None]] = []
    for item in value.split(","):
        item = item.strip().upper()
        if len(item) < 2:
            raise RecurrenceError(f"BYDAY={value} is not valid.")
        day = _weekday(item[-2:])
        nth: int | None = None
        if item[:-2]:
            nth = _int(item[:-2], "BYDAY")
            if nth == 0 or abs(nth) > 53:
                raise RecurrenceError(f"BYDAY={value} is out of range.")
        out.append((day, nth))
    return tuple(dict.fromkeys(out))


# --- static satisfiability -------------------------------------------------------------------

_PERIOD_DAYS = {du.YEARLY: 366, du.MONTHLY: 31, du.WEEKLY: 7}


def _month_days(month: int) -> int:
    return 29 if month == 2 else calendar.monthrange(2023, month)[1]


def _yearday_dates(yd: int) -> list[date]:
    """The dates a BYYEARDAY value can fall on, in a common and in a leap year."""
    out: list[date] = []
    for year in (2023, 2024):
        length = 366 if calendar.isleap(year) else 365
        if abs(yd) > length:
            continue
        index = yd - 1 if yd > 0 else length + yd
        out.append(date(year, 1, 1) + timedelta(days=index))
    return out


def check_satisfiable(rule: ParsedRule) -> None:
    """Refuse rules that can never produce an occurrence, without iterating them.

    dateutil's iterator scans period after period until year 9999 looking for a match and cannot
    be interrupted; these checks catch the combinations that never match (31 February, yearday
    366 in January, BYSETPOS past the largest possible set, a week number outside the months).
    Raises RecurrenceError with the reason.
    """
    months = set(rule.bymonth or range(1, 13))
    in_month_context = rule.freq == du.MONTHLY or (rule.freq == du.YEARLY and bool(rule.bymonth))
    if rule.byday and rule.freq in (du.MONTHLY, du.YEARLY):
        limit = 5 if in_month_context else 53
        nths = [n for _, n in rule.byday]
        if all(n is not None and abs(n) > limit for n in nths):
            raise RecurrenceError(f"BYDAY={format_byday(rule.byday)} never occurs.")
    if rule.bymonthday:
        possible = any(abs(md) <= _month_days(m) for m in months for md in rule.bymonthday)
        if not possible:
            raise RecurrenceError("BYMONTHDAY never falls in the chosen months.")
    if rule.byyearday:
        candidates = [d for yd in rule.byyearday for d in _yearday_dates(yd)]
        candidates = [d for d in candidates if d.month in months]
        if rule.bymonthday:
            candidates = [d for d in candidates if _matches_monthday(d, rule.bymonthday)]
        if not candidates:
            raise RecurrenceError("BYYEARDAY never falls on the chosen months or days.")
    if rule.byweekno and rule.bymonth:
        week_months: set[int] = set()
        for wn in rule.byweekno:
            week_months |= _weekno_months(wn)
        if not week_months & months:
            raise RecurrenceError("BYWEEKNO never falls in the chosen months.")
    if rule.bysetpos:
        largest = _largest_set(rule)
        if all(abs(p) > largest for p in rule.bysetpos):
            raise RecurrenceError(
                f"BYSETPOS never selects anything (at most {largest} per period)."
            )


def _matches_monthday(d: date, monthdays: tuple[int, ...]) -> bool:
    length = calendar.monthrange(d.year, d.month)[1]
    return d.day in monthdays or (d.day - length - 1) in monthdays


def _weekno_months(weekno: int) -> set[int]:
    """Months a week number can touch (generous: a few days of slack either side)."""
    if weekno > 0:
        first = date(2023, 12, 26) + timedelta(weeks=weekno - 1)
        span = (first, first + timedelta(days=17))
    else:
        last = date(2024, 1, 6) - timedelta(weeks=-weekno - 1)
        span = (last - timedelta(days=17), last)
    out: set[int] = set()
    day = span[0]
    while day <= span[1]:
        out.add(day.month)
        day += timedelta(days=1)
    return out


def _largest_set(rule: ParsedRule) -> int:
    """An upper bound on how many occurrences one period of the rule can hold before BYSETPOS."""
    times = 1
    for values in (rule.byhour, rule.byminute, rule.bysecond):
        times *= len(values) if values else 1
    if rule.freq in (du.DAILY, *SUB_DAILY):
        days = 1
    else:
        days = _PERIOD_DAYS[rule.freq]
        weekdays = [d for d, n in rule.byday or () if n is None]
        if rule.byday and len(weekdays) == len(rule.byday):
            per_week = {du.YEARLY: 53, du.MONTHLY: 5, du.WEEKLY: 1}[rule.freq]
            days = min(days, per_week * len(set(weekdays)))
        if rule.bymonthday:
            n_months = len(rule.bymonth or range(1, 13)) if rule.freq == du.YEARLY else 1
            days = min(days, len(rule.bymonthday) * n_months)
        if rule.byyearday:
            days = min(days, len(rule.byyearday))
    return days * times
