"""The bounded RRULE scanner under ``domain.recurrence`` (dateutil does the calendar arithmetic).

dateutil's ``rrule`` iterator looks for the next match period after period and only stops at year
9999, so a rule that (almost) never matches cannot be interrupted between yields. The scanner makes
the cost bounded *by construction*:

1. Sub-daily rules are not expanded here (the caller refuses them); statically impossible rules
   are refused by ``rrule_parts.check_satisfiable``.
2. Rules without COUNT start at most one period before the asked range (fast-forward by whole
   intervals, which keeps the phase). COUNT rules whose periods all hold the same number of
   occurrences are fast-forwarded too, with COUNT reduced by what was skipped.
3. The Gregorian calendar repeats exactly every 400 years (146097 days = 20871 weeks). The scan is
   shifted by a multiple of 400 years so that the end of the asked range lands within 400 years of
   9999, where dateutil's own end-of-calendar check stops it; results are shifted back.
4. DAILY or WEEKLY rules with INTERVAL=1 and date filters are scanned as the equivalent YEARLY rule,
   which dateutil checks about twenty times faster per day.

So dateutil never scans more than ``_HEAD_YEARS`` + 400 years, whatever the rule. Between yields a
deadline and an instance cap apply.

The rules almost every practice uses (DAILY, or WEEKLY with an optional BYDAY set; INTERVAL, COUNT,
UNTIL; no other BY* part) skip dateutil: their instances are whole periods apart with fixed day
offsets, so the first period touching the asked range and each instance's COUNT index follow by
arithmetic (see ``_Plain``). That path does work proportional to what it returns, never more than
the instance cap. Derived plans are memoized per (rule, DTSTART); both are immutable. All functions
are pure and safe on any thread (``functools.lru_cache`` is thread-safe).
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from dateutil import rrule as du

from carecal.domain.rrule_parts import ParsedRule
from carecal.domain.timeutil import localize

__all__ = ["ScanResult", "count_last", "effective_rule", "scan"]

_HEAD_YEARS = 200  # longest stretch scanned from the scan start; more is reported as truncated
_MAX_NAIVE = datetime(9999, 12, 31, 23, 59, 59)
_PLAN_CACHE_SIZE = 8192  # distinct (rule, DTSTART) pairs kept: a large practice has a few thousand


@dataclass(frozen=True, slots=True)
class ScanResult:
    instances: list[datetime]  # naive wall-clock starts, sorted
    truncated: bool
    reason: str | None  # "cap", "budget" or "horizon"
    last_index: int | None = None  # for count_last: how many instances the rule has in total


def effective_rule(rule: ParsedRule, dtstart: datetime) -> ParsedRule:
    """The rule with dateutil's implicit defaults (taken from DTSTART) made explicit.

    Once every default is explicit, DTSTART can be moved by whole periods without changing which
    days and times the rule selects.
    """
    return _effective(
        rule,
        dtstart.month,
        dtstart.day,
        dtstart.weekday(),
        dtstart.hour,
        dtstart.minute,
        dtstart.second,
    )


# Keyed by the only parts of DTSTART the result depends on, so series that share a rule and a
# weekday/time (most of a practice's weekly appointments) share one entry: a command-line run
# starts with empty caches, and building the rule once per series was most of its expansion.
@lru_cache(maxsize=_PLAN_CACHE_SIZE)
def _effective(
    rule: ParsedRule, month: int, day: int, weekday: int, hour: int, minute: int, second: int
) -> ParsedRule:
    changes: dict[str, object] = {}
    byday = rule.byday
    if not (rule.byweekno or rule.byyearday or rule.bymonthday or rule.byday):
        if rule.freq == du.YEARLY:
            changes["bymonth"] = rule.bymonth or (month,)
            changes["bymonthday"] = (day,)
        elif rule.freq == du.MONTHLY:
            changes["bymonthday"] = (day,)
        elif rule.freq == du.WEEKLY:
            byday = ((weekday, None),)
            changes["byday"] = byday
    if rule.freq in (du.DAILY, du.WEEKLY) and byday:
        # dateutil ignores an ordinal in BYDAY below MONTHLY; say so explicitly.
        changes["byday"] = tuple(dict.fromkeys((d, None) for d, _ in byday))
    changes["byhour"] = rule.byhour or (hour,)
    changes["byminute"] = rule.byminute or (minute,)
    changes["bysecond"] = rule.bysecond or (second,)
    return replace(rule, **changes)  # type: ignore[arg-type]


def _cheapen(eff: ParsedRule) -> ParsedRule:
    """DAILY/WEEKLY with INTERVAL=1 and date filters select the same days as YEARLY does."""
    simple = eff.interval == 1 and not eff.bysetpos and eff.has_date_filter
    if eff.freq in (du.DAILY, du.WEEKLY) and simple:
        eff = replace(eff, freq=du.YEARLY)
        if not (eff.bymonthday or eff.byyearday or eff.byweekno or eff.byday):
            eff = replace(eff, bymonthday=tuple(range(1, 32)))
    return eff


def _build(eff: ParsedRule, dtstart: datetime, count: int | None) -> du.rrule:
    byweekday = [du.weekday(d, n) for d, n in eff.byday] if eff.byday else None
    return du.rrule(
        eff.freq,
        dtstart=dtstart,
        interval=eff.interval,
        wkst=eff.wkst,
        count=count,
        bysetpos=eff.bysetpos,
        bymonth=eff.bymonth,
        bymonthday=eff.bymonthday,
        byyearday=eff.byyearday,
        byweekno=eff.byweekno,
        byweekday=byweekday,
        byhour=eff.byhour,
        byminute=eff.byminute,
        bysecond=eff.bysecond,
        cache=False,
    )


# --- periods -----------------------------------------------------------------------------------


def _period_start(freq: int, day: date, wkst: int) -> date:
    if freq == du.YEARLY:
        return date(day.year, 1, 1)
    if freq == du.MONTHLY:
        return date(day.year, day.month, 1)
    if freq == du.WEEKLY:
        return day - timedelta(days=(day.weekday() - wkst) % 7)
    return day


def _add_periods(freq: int, start: date, n: int) -> date:
    if freq == du.YEARLY:
        return date(start.year + n, 1, 1)
    if freq == du.MONTHLY:
        months = start.year * 12 + start.month - 1 + n
        return date(months // 12, months % 12 + 1, 1)
    if freq == du.WEEKLY:
        return start + timedelta(weeks=n)
    return start + timedelta(days=n)


def _periods_between(freq: int, first: date, target: date) -> int:
    if freq == du.YEARLY:
        return target.year - first.year
    if freq == du.MONTHLY:
        return (target.year - first.year) * 12 + target.month - first.month
    if freq == du.WEEKLY:
        return (target - first).days // 7
    return (target - first).days


def _fast_forward(eff: ParsedRule, dtstart: datetime, target: datetime) -> tuple[datetime, int]:
    """A later DTSTART, whole intervals ahead, whose period still starts at or before ``target``.

    Returns (new start, number of whole intervals skipped).
    """
    first = _period_start(eff.freq, dtstart.date(), eff.wkst)
    if target <= dtstart:
        return dtstart, 0
    steps = _periods_between(eff.freq, first, target.date()) // eff.interval
    if steps < 1:
        return dtstart, 0
    try:
        moved = _add_periods(eff.freq, first, steps * eff.interval)
    except (ValueError, OverflowError):
        return dtstart, 0
    return datetime.combine(moved, datetime.min.time()), steps


def _per_period(eff: ParsedRule) -> int | None:
    """How many occurrences every period holds, when that number is the same for all periods."""
    if eff.bysetpos or eff.byyearday or eff.byweekno:
        return None
    times = len(eff.byhour or ()) * len(eff.byminute or ()) * len(eff.bysecond or ())
    if eff.freq == du.DAILY and not (eff.byday or eff.bymonth or eff.bymonthday):
        return times
    if eff.freq == du.WEEKLY and not (eff.bymonth or eff.bymonthday) and eff.byday:
        return len(eff.byday) * times
    simple_days = eff.bymonthday is not None and all(1 <= d <= 28 for d in eff.bymonthday)
    if eff.freq == du.MONTHLY and simple_days and not (eff.byday or eff.bymonth):
        return len(eff.bymonthday or ()) * times
    if eff.freq == du.YEARLY and simple_days and not eff.byday:
        return len(eff.bymonth or range(12)) * len(eff.bymonthday or ()) * times
    return None


def _count_in_first_period(eff: ParsedRule, dtstart: datetime) -> int:
    first = _period_start(eff.freq, dtstart.date(), eff.wkst)
    next_period = datetime.combine(_add_periods(eff.freq, first, eff.interval), datetime.min.time())
    n = 0
    # Every period of a constant-count rule holds matches, so this stops within two periods.
    for item in _build(eff, dtstart, None):
        if item >= next_period:
            break
        n += 1
    return n


def _count_fast_forward(
    plan: _Plan, dtstart: datetime, target: datetime
) -> tuple[datetime, int] | None:
    """(new start, remaining COUNT) for a COUNT rule fast-forwarded to ``target``, or None."""
    eff, per, first = plan.eff, plan.per_period, plan.first_count
    if per is None or per == 0 or first is None or eff.count is None:
        return None
    moved, steps = _fast_forward(eff, dtstart, target)
    if steps == 0:
        return dtstart, eff.count
    skipped = first + (steps - 1) * per
    return moved, eff.count - skipped


# --- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Plain:
    """A DAILY/WEEKLY rule without time or date filters, as date arithmetic.

    Period ``k`` starts ``k * period_days`` days after ``first_period`` (the period holding
    DTSTART; for WEEKLY the week starting on WKST) and holds one instance per entry of
    ``offsets`` (days into the period, ascending), all at DTSTART's time of day. The first
    ``skipped`` offsets of period 0 fall before DTSTART and are not instances, so the instance at
    (k, j) has COUNT index ``k * len(offsets) + j - skipped``: exactly dateutil's numbering.
    """

    start: datetime  # DTSTART without microseconds, as dateutil truncates it
    first_period: date
    period_days: int
    offsets: tuple[int, ...]
    skipped: int
    first_at: datetime  # the first period's day at DTSTART's time of day
    step: timedelta  # one period
    shifts: tuple[timedelta, ...]  # ``offsets`` as timedeltas


@dataclass(frozen=True, slots=True)
class _Plan:
    eff: ParsedRule  # effective rule, cheapened: what dateutil is given
    plain: _Plain | None  # set when the rule needs no dateutil at all
    per_period: int | None  # see _per_period
    first_count: int | None  # instances in DTSTART's period, for COUNT rules with per_period


def _plain(rule: ParsedRule, dtstart: datetime) -> _Plain | None:
    filters = (
        rule.bysecond,
        rule.byminute,
        rule.byhour,
        rule.bymonthday,
        rule.byyearday,
        rule.byweekno,
        rule.bymonth,
        rule.bysetpos,
    )
    if any(filters) or rule.freq not in (du.DAILY, du.WEEKLY):
        return None
    start = dtstart.replace(microsecond=0)
    weekdays = {d for d, _ in rule.byday or ()}  # dateutil ignores BYDAY ordinals below MONTHLY
    if rule.freq == du.DAILY and not weekdays:
        return _plain_of(start, start.date(), rule.interval, (0,), 0)
    if rule.freq == du.DAILY and rule.interval != 1:
        return None  # the weekday pattern drifts against the period; dateutil handles it
    # DAILY;BYDAY with INTERVAL=1 selects the same days as WEEKLY;BYDAY.
    weeks = rule.interval if rule.freq == du.WEEKLY else 1
    weekdays = weekdays or {start.weekday()}
    lead = (start.weekday() - rule.wkst) % 7
    try:
        first_period = start.date() - timedelta(days=lead)
    except OverflowError:
        return None
    offsets = tuple(sorted((d - rule.wkst) % 7 for d in weekdays))
    skipped = sum(1 for off in offsets if off < lead)
    return _plain_of(start, first_period, 7 * weeks, offsets, skipped)


def _plain_of(
    start: datetime, first_period: date, period_days: int, offsets: tuple[int, ...], skipped: int
) -> _Plain:
    first_at = datetime.combine(first_period, start.time())
    shifts = tuple(timedelta(days=off) for off in offsets)
    step = timedelta(days=period_days)
    return _Plain(start, first_period, period_days, offsets, skipped, first_at, step, shifts)


@lru_cache(maxsize=_PLAN_CACHE_SIZE)
def _plan(rule: ParsedRule, dtstart: datetime) -> _Plan:
    """Everything about ``rule`` that does not depend on the asked range (memoized).

    May raise ValueError/OverflowError from dateutil at the calendar's edge (not cached).
    """
    eff = _cheapen(effective_rule(rule, dtstart))
    plain = _plain(rule, dtstart)
    per = _per_period(eff)
    first = None
    if plain is None and per and rule.count is not None:
        first = _count_in_first_period(eff, dtstart)
    return _Plan(eff, plain, per, first)


# --- scanning ------------------------------------------------------------------------------------


def _until_passed(rule: ParsedRule, item: datetime, zone: tzinfo, all_day: bool) -> bool:
    until = rule.until
    if until is None:
        return False
    if isinstance(until, datetime):
        if all_day:
            return item.date() > until.date()
        if until.tzinfo is None:
            return item > until
        return localize(item, zone) > until.astimezone(UTC)
    return item.date() > until


def _shifted(
    eff: ParsedRule, start: datetime, count: int | None, anchor_year: int
) -> tuple[Iterator[datetime], int]:
    """The dateutil iterator for ``start`` moved by 400-year blocks so ``anchor_year`` is late."""
    blocks = max(0, (9999 - anchor_year) // 400)
    years = 400 * blocks
    return iter(_build(eff, start.replace(year=start.year + years), count)), years


def scan(
    rule: ParsedRule,
    dtstart: datetime,
    lo: datetime,
    hi: datetime,
    *,
    zone: tzinfo,
    all_day: bool,
    cap: int,
    deadline: float,
) -> ScanResult:
    """Rule instances (naive wall-clock starts) in ``[lo, hi]``, bounded in time and number.

    ``rule`` must have passed ``check_satisfiable`` and must not be sub-daily. May raise
    ValueError/OverflowError from dateutil for dates at the calendar's edge, which the caller
    turns into a warning.
    """
    plan = _plan(rule, dtstart)
    if plan.plain is not None:
        return _scan_plain(plan.plain, rule, lo, hi, zone, all_day, cap)
    eff = plan.eff
    start, count = dtstart, rule.count
    if count is None:
        start, _ = _fast_forward(eff, dtstart, lo)
    else:
        forwarded = _count_fast_forward(plan, dtstart, lo)
        if forwarded is not None:
            start, count = forwarded
            if count <= 0:
                return ScanResult([], False, None)
    return _run(eff, rule, start, count, lo, hi, zone, all_day, cap, deadline)


def _scan_plain(
    plain: _Plain,
    rule: ParsedRule,
    lo: datetime,
    hi: datetime,
    zone: tzinfo,
    all_day: bool,
    cap: int,
) -> ScanResult:
    """``scan`` for a plain rule: starts at the first period that can reach ``lo``.

    Every loop turn either returns or moves to the next instance index, and at most one period's
    turns precede ``lo``, so the work is bounded by ``cap`` plus one period.
    """
    hi = min(hi, _MAX_NAIVE)
    count, check_until = rule.count, rule.until is not None
    shifts = plain.shifts
    reach = (lo.date() - plain.first_period).days - plain.offsets[-1]
    k = max(0, reach // plain.period_days)
    index = k * len(shifts) - plain.skipped
    found: list[datetime] = []
    try:
        base = plain.first_at + k * plain.step
        while True:
            for shift in shifts:
                if index >= 0:
                    if count is not None and index >= count:
                        return ScanResult(found, False, None)
                    item = base + shift
                    if item > hi or (check_until and _until_passed(rule, item, zone, all_day)):
                        return ScanResult(found, False, None)
                    if item >= lo:
                        found.append(item)
                        if len(found) >= cap:
                            return ScanResult(found, True, "cap")
                index += 1
            base += plain.step
    except OverflowError:  # past 9999-12-31: the calendar itself ends the series
        return ScanResult(found, False, None)


def _run(
    eff: ParsedRule,
    rule: ParsedRule,
    start: datetime,
    count: int | None,
    lo: datetime,
    hi: datetime,
    zone: tzinfo,
    all_day: bool,
    cap: int,
    deadline: float,
) -> ScanResult:
    hi = min(hi, _MAX_NAIVE)
    anchor = min(hi.year, start.year + _HEAD_YEARS)
    items, years = _shifted(eff, start, count, anchor)
    horizon_complete = hi.year <= 9999 - years
    found: list[datetime] = []
    yielded = 0
    for shifted_item in items:
        item = shifted_item.replace(year=shifted_item.year - years)
        yielded += 1
        if item > hi or _until_passed(rule, item, zone, all_day):
            return ScanResult(found, False, None)
        if item >= lo:
            found.append(item)
            if len(found) >= cap:
                return ScanResult(found, True, "cap")
        if _time.perf_counter() > deadline:
            return ScanResult(found, True, "budget")
    if count is not None and yielded >= count:
        return ScanResult(found, False, None)
    return ScanResult(found, not horizon_complete, None if horizon_complete else "horizon")


def count_last(
    rule: ParsedRule,
    dtstart: datetime,
    *,
    zone: tzinfo,
    all_day: bool,
    cap: int,
    deadline: float,
) -> datetime | None:
    """The last instance start of a COUNT rule, or None when it cannot be found cheaply."""
    count = rule.count
    if count is None:
        return None
    eff = _cheapen(effective_rule(rule, dtstart))
    per = _per_period(eff)
    start = dtstart
    if per:
        first = _count_in_first_period(eff, dtstart)
        if count > first:
            steps = 1 + (count - first - 1) // per
            try:
                moved = _add_periods(
                    eff.freq,
                    _period_start(eff.freq, dtstart.date(), eff.wkst),
                    steps * eff.interval,
                )
            except (ValueError, OverflowError):
                return None
            start = datetime.combine(moved, datetime.min.time())
            count -= first + (steps - 1) * per
    result = _run(eff, rule, start, count, start, _MAX_NAIVE, zone, all_day, cap, deadline)
    if result.truncated or not result.instances:
        return None
    return result.instances[-1]
