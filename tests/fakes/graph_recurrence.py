"""Graph's patternedRecurrence for the emulator: validation, the normalized form Graph returns,
and a bounded expansion into original start moments (python-dateutil's rrule underneath).

A series expands in wall-clock time in its recurrence time zone, so the local time of day
survives DST changes. Monthly and yearly patterns on a day some months lack (29-31) fall on the
month's last day, as Outlook schedules them. Pure functions, any thread; errors are GraphError.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, YEARLY, rrule

from tests.fakes.graph_errors import body_read, invalid
from tests.fakes.graph_zones import zone

PATTERN_TYPES = (
    "daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly",
)  # fmt: skip
RANGE_TYPES = ("endDate", "noEnd", "numbered")
DAYS = {"sunday": SU, "monday": MO, "tuesday": TU, "wednesday": WE, "thursday": TH,
        "friday": FR, "saturday": SA}  # fmt: skip
INDEXES = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
NO_DATE = "0001-01-01"  # what Graph puts in range.endDate when the range has no end date
MAX_WALK = 20_000  # occurrences one query may walk through: the expansion's bound

# Pattern properties each type uses; the others must be absent or keep their default value.
_USES = {
    "daily": set(),
    "weekly": {"daysOfWeek", "firstDayOfWeek"},
    "absoluteMonthly": {"dayOfMonth"},
    "relativeMonthly": {"daysOfWeek", "index"},
    "absoluteYearly": {"dayOfMonth", "month"},
    "relativeYearly": {"daysOfWeek", "month", "index"},
}
_PATTERN_DEFAULTS: dict[str, Any] = {
    "month": 0, "dayOfMonth": 0, "daysOfWeek": [], "firstDayOfWeek": "sunday", "index": "first",
}  # fmt: skip
_PATTERN_KEYS = {"type", "interval", *_PATTERN_DEFAULTS}
_RANGE_KEYS = {"type", "startDate", "endDate", "recurrenceTimeZone", "numberOfOccurrences"}


def _int_in(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise invalid(f"recurrence {name} must be a whole number from {low} to {high}.")
    return value


def _date(value: Any, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise invalid(f"recurrence range {name} must be a date (YYYY-MM-DD).") from None


def _object(value: Any, name: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise body_read(f"Cannot read {name}: expected an object.")
    for key in value:
        if key not in keys and not key.startswith("@odata."):
            raise body_read(
                f"The property '{key}' does not exist on type 'microsoft.graph.{name}'."
            )
    return value


def normalize(value: Any, start_date: date, start_zone: str) -> dict[str, Any]:
    """The patternedRecurrence Graph stores and returns for a client's `value`, every pattern
    and range property present; 400 for anything Graph refuses. `start_date` is the series
    start's local date, which range.startDate must equal."""
    outer = _object(value, "patternedRecurrence", {"pattern", "range"})
    pattern = _object(outer.get("pattern"), "recurrencePattern", _PATTERN_KEYS)
    rng = _object(outer.get("range"), "recurrenceRange", _RANGE_KEYS)
    kind = pattern.get("type")
    if kind not in PATTERN_TYPES:
        raise invalid(f"recurrence pattern type {kind!r} is not one Graph knows.")
    out_pattern: dict[str, Any] = {"type": kind, "interval": _int_in(
        pattern.get("interval"), "interval", 1, 999)}  # fmt: skip
    for key, default in _PATTERN_DEFAULTS.items():
        given = pattern.get(key, default)
        if key not in _USES[kind] and given != default and key != "firstDayOfWeek":
            raise invalid(f"recurrence pattern property {key!r} is not supported for {kind}.")
        out_pattern[key] = copy.deepcopy(given)
    uses = _USES[kind]
    if "daysOfWeek" in uses:
        days = out_pattern["daysOfWeek"]
        if not isinstance(days, list) or not days or any(d not in DAYS for d in days):
            raise invalid(f"recurrence pattern {kind} needs daysOfWeek (sunday..saturday).")
    if out_pattern["firstDayOfWeek"] not in DAYS:
        raise invalid("recurrence pattern firstDayOfWeek must be a day name.")
    if out_pattern["index"] not in INDEXES:
        raise invalid("recurrence pattern index must be first, second, third, fourth or last.")
    if "dayOfMonth" in uses:
        _int_in(out_pattern["dayOfMonth"], "dayOfMonth", 1, 31)
    if "month" in uses:
        _int_in(out_pattern["month"], "month", 1, 12)

    range_kind = rng.get("type")
    if range_kind not in RANGE_TYPES:
        raise invalid(f"recurrence range type {range_kind!r} is not endDate, noEnd or numbered.")
    first = _date(rng.get("startDate"), "startDate")
    if first != start_date:
        raise invalid("recurrence range startDate must be the date of the series' start.")
    out_range: dict[str, Any] = {
        "type": range_kind,
        "startDate": first.isoformat(),
        "endDate": NO_DATE,
        "recurrenceTimeZone": rng.get("recurrenceTimeZone") or start_zone,
        "numberOfOccurrences": 0,
    }
    zone(out_range["recurrenceTimeZone"])  # 400 for an unknown zone
    if range_kind == "endDate":
        last = _date(rng.get("endDate"), "endDate")
        if last < first:
            raise invalid("recurrence range endDate is before its startDate.")
        out_range["endDate"] = last.isoformat()
    elif rng.get("endDate") not in (None, NO_DATE):
        raise invalid(f"recurrence range endDate is not supported for {range_kind}.")
    if range_kind == "numbered":
        out_range["numberOfOccurrences"] = _int_in(
            rng.get("numberOfOccurrences"), "numberOfOccurrences", 1, 999
        )
    elif rng.get("numberOfOccurrences") not in (None, 0):
        raise invalid(f"recurrence range numberOfOccurrences is not supported for {range_kind}.")
    return {"pattern": out_pattern, "range": out_range}


def _month_days(day: int) -> tuple[int, ...]:
    """BYMONTHDAY values that, with BYSETPOS=-1, give `day` or the month's last day."""
    return tuple(range(min(day, 28), day + 1))


@dataclass(frozen=True)
class Series:
    """The original start moments of one series (aware, in the recurrence zone)."""

    rule: rrule
    tz: ZoneInfo

    @classmethod
    def of(cls, recurrence: dict[str, Any], start: datetime) -> Series:
        """The series for a normalized recurrence whose first instance starts at `start`
        (aware); the pattern's time of day is `start`'s in the recurrence zone."""
        tz = zone(recurrence["range"]["recurrenceTimeZone"])
        local = start.astimezone(tz).replace(tzinfo=None)
        pattern, rng = recurrence["pattern"], recurrence["range"]
        kind = pattern["type"]
        args: dict[str, Any] = {"interval": pattern["interval"], "dtstart": local, "cache": True}
        if rng["type"] == "numbered":
            args["count"] = rng["numberOfOccurrences"]
        elif rng["type"] == "endDate":
            args["until"] = datetime.combine(date.fromisoformat(rng["endDate"]), time(23, 59, 59))
        days = [DAYS[d] for d in pattern["daysOfWeek"]]
        index = INDEXES[pattern["index"]]
        if kind == "daily":
            rule = rrule(DAILY, **args)
        elif kind == "weekly":
            rule = rrule(WEEKLY, byweekday=days, wkst=DAYS[pattern["firstDayOfWeek"]], **args)
        elif kind == "absoluteMonthly":
            rule = rrule(
                MONTHLY, bymonthday=_month_days(pattern["dayOfMonth"]), bysetpos=-1, **args
            )
        elif kind == "relativeMonthly":
            rule = rrule(MONTHLY, byweekday=days, bysetpos=index, **args)
        elif kind == "absoluteYearly":
            rule = rrule(
                YEARLY,
                bymonth=pattern["month"],
                bymonthday=_month_days(pattern["dayOfMonth"]),
                bysetpos=-1,
                **args,
            )
        else:
            rule = rrule(YEARLY, bymonth=pattern["month"], byweekday=days, bysetpos=index, **args)
        return cls(rule, tz)

    def _walk(self) -> Any:
        for count, naive in enumerate(self.rule):
            if count >= MAX_WALK:
                return
            yield naive.replace(tzinfo=self.tz)

    def first(self) -> datetime | None:
        """The first original start, or None when the pattern never matches."""
        return next(iter(self._walk()), None)

    def starts(self, until: datetime) -> list[datetime]:
        """Original starts before `until` (at most MAX_WALK of them)."""
        out = []
        for moment in self._walk():
            if moment >= until:
                break
            out.append(moment)
        return out

    def contains(self, original: datetime) -> bool:
        """Whether `original` (aware) is one of the series' original starts."""
        return any(m == original for m in self.starts(original + timedelta(seconds=1)))

    def neighbours(self, original: datetime) -> tuple[list[datetime], list[datetime]]:
        """(earlier original starts, latest first; later ones, earliest first), a few each."""
        before: list[datetime] = []
        after: list[datetime] = []
        for moment in self._walk():
            if moment < original:
                before.insert(0, moment)
            elif moment > original:
                after.append(moment)
                if len(after) >= 50:
                    break
        return before, after


def utc_stamp(moment: datetime) -> str:
    """Graph's Edm.DateTimeOffset form for `originalStart`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
