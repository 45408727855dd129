"""Recurring series -> concrete occurrences inside a window (RRULE, RDATE, EXDATE, overrides).

``recurrence_engine`` finds the instances: plain DAILY/WEEKLY rules by date arithmetic, the rest
with python-dateutil's ``rrule``, bounded so no rule can hang the app (see that module for why the
bound holds by construction). A week view calls ``occurrences_in_window`` on every navigation, so
parsed rules are memoized by their text and each instance is converted to UTC once. Times are
expanded on the wall clock of the event's own zone, so 09:00 Europe/Warsaw stays 09:00 across
DST; a wall time in a DST gap moves forward, an ambiguous one takes its first instant (fold=0).
All-day series expand to dates; floating series are read in the display zone.

Everything here is pure and safe on any thread. Bad rules never raise from ``expand``: the series
shows its explicit instances (DTSTART, RDATEs, overrides) and the Expansion carries a warning.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateutil import rrule as du

from carecal.domain.errors import CarecalError, RecurrenceError, ValidationError
from carecal.domain.models import Event, Occurrence, When
from carecal.domain.recurrence_engine import count_last, scan
from carecal.domain.rrule_parts import (
    SUB_DAILY,
    ParsedRule,
    check_satisfiable,
    parse_rule,
)
from carecal.domain.timeutil import (
    add_real,
    as_utc,
    day_start,
    get_zone,
    localize,
    to_local_naive,
)

__all__ = [
    "MAX_INSTANCES_PER_SERIES",
    "SERIES_BUDGET_SECONDS",
    "Expansion",
    "expand",
    "occurrence_span",
    "occurrences_in_window",
    "series_bounds",
    "validate_rrule",
]

MAX_INSTANCES_PER_SERIES: int = 5000
SERIES_BUDGET_SECONDS: float = 0.2

_ANY_ZONE = timedelta(hours=14)  # the widest UTC offset in use: bounds for dates and floating times
_MARGIN = timedelta(days=1)
_PERIOD_DAYS = {du.YEARLY: 366, du.MONTHLY: 31, du.WEEKLY: 7, du.DAILY: 1}
_LAST_NAIVE = datetime.max.replace(microsecond=0)
_RULE_CACHE_SIZE = 4096  # distinct rule texts kept parsed; calendars hold far fewer


@dataclass(frozen=True, slots=True)
class Expansion:
    occurrences: list[Occurrence]  # sorted by start
    truncated: bool  # cap or budget hit (or the rule was refused)
    warning: str | None  # user-facing sentence when truncated/refused


class _Series(NamedTuple):  # a tuple: built once per series per query, where dataclass init shows
    master: Event
    zone: tzinfo
    all_day: bool
    start: datetime  # naive wall-clock start in ``zone`` (midnight for all-day)
    duration: timedelta


def _event_zone(event: Event, display_tz: tzinfo) -> tzinfo:
    if event.all_day or event.floating or not isinstance(event.start, datetime):
        return display_tz
    if event.tzid:
        try:
            return get_zone(event.tzid)
        except ValidationError:
            pass
    return event.start.tzinfo or display_tz


def _naive(value: When, zone: tzinfo, floating: bool) -> datetime:
    """A start as naive wall-clock time in ``zone`` (dates at midnight)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    if value.tzinfo is None or floating:
        return value.replace(tzinfo=None, fold=0)
    return to_local_naive(value, zone)


def _in_gap(value: datetime) -> bool:
    """Whether an aware wall time falls in a DST gap (does not exist in its zone)."""
    if value.tzinfo is None:
        return False
    naive = value.replace(tzinfo=None, fold=0)
    return localize(naive, value.tzinfo).replace(tzinfo=None) != naive


def _series(master: Event, display_tz: tzinfo) -> _Series:
    zone = _event_zone(master, display_tz)
    all_day = master.all_day or not isinstance(master.start, datetime)
    start, end = master.start, master.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        duration = as_utc(end) - as_utc(start)  # elapsed time, even across a DST change
        if _in_gap(start) and start.tzinfo is end.tzinfo:
            # A DTSTART that does not exist (02:30 on a spring-forward day) is read as 03:30,
            # which can put it after its own DTEND; the writer meant the wall-clock span.
            duration = end.replace(tzinfo=None) - start.replace(tzinfo=None)
    elif not isinstance(start, datetime) and not isinstance(end, datetime):
        duration = timedelta(days=(end - start).days)
    else:
        duration = timedelta(0)
    return _Series(
        master=master,
        zone=zone,
        all_day=all_day,
        start=_naive(master.start, zone, master.floating),
        duration=max(duration, timedelta(0)),
    )


def occurrence_span(start: When, end: When, display_tz: tzinfo) -> tuple[datetime, datetime]:
    """The aware instants an occurrence covers; dates and floating times are read in display_tz.

    Safe on any thread; raises nothing.
    """

    def instant(value: When) -> datetime:
        if not isinstance(value, datetime):
            return day_start(value, display_tz)
        if value.tzinfo is None:
            return localize(value, display_tz)
        return value

    return instant(start), instant(end)


def _overlaps(span: tuple[datetime, datetime], lo: datetime, hi: datetime) -> bool:
    # In UTC: Python compares datetimes sharing a tzinfo by wall clock, wrong in a DST fold.
    start, end = as_utc(span[0]), as_utc(span[1])
    lo, hi = as_utc(lo), as_utc(hi)
    if end <= start:  # zero-length events show where they start
        return lo <= start < hi
    return start < hi and end > lo


def _occurrence(series: _Series, naive_start: datetime) -> Occurrence:
    if series.all_day:
        day = naive_start.date()
        return Occurrence(series.master, day, day + series.duration, day)
    start = localize(naive_start, series.zone)
    return Occurrence(series.master, start, add_real(start, series.duration), start)


def _rid_for(series: _Series, rid: When) -> When:
    """An override's recurrence id as the instance id expand() gives (same zone, same type)."""
    if series.all_day:
        return rid.date() if isinstance(rid, datetime) else rid
    if isinstance(rid, datetime):
        if rid.tzinfo is None or series.master.floating:
            return localize(rid.replace(tzinfo=None), series.zone)
        return rid.astimezone(series.zone)
    return localize(datetime.combine(rid, datetime.min.time()), series.zone)


@lru_cache(maxsize=_RULE_CACHE_SIZE)
def _checked_rule(text: str) -> ParsedRule | str:
    """The parsed, satisfiable rule for ``text``, or why it is refused (memoized by text)."""
    try:
        rule = parse_rule(text)
        check_satisfiable(rule)
    except RecurrenceError as err:
        return str(err)
    return rule


def _rule_or_warning(master: Event) -> tuple[ParsedRule | None, str | None, bool]:
    """(usable rule, warning, whether refusing it hides occurrences)."""
    if not master.rrule:
        return None, None, False
    title = master.title or "Untitled"
    rule = _checked_rule(master.rrule)
    if isinstance(rule, str):
        return None, f"“{title}”: the repeat rule was ignored ({rule})", False
    if rule.freq in SUB_DAILY:
        return (
            None,
            (
                f"“{title}” repeats more often than daily (FREQ={rule.freq_name}); "
                "only its explicit dates are shown."
            ),
            True,
        )
    return rule, None, False


def expand(
    master: Event,
    window_start: datetime,
    window_end: datetime,
    overrides: Sequence[Event] = (),
    *,
    display_tz: ZoneInfo,
) -> Expansion:
    """Occurrences of ``master`` overlapping ``[window_start, window_end)``, sorted by start.

    EXDATE removes (matched by instant; a DATE EXDATE removes that local day), RDATE adds,
    overrides replace their instance (matched by RECURRENCE-ID instant, and shown where they
    moved to, even from outside the window); cancelled overrides are returned too.
    Safe on any thread; raises nothing: refused rules and hit limits come back as a warning.
    """
    window = _Window(window_start, window_end, as_utc(window_start), as_utc(window_end))
    keyed, truncated, warning = _expand_keyed(master, window, overrides, display_tz)
    return Expansion([occ for _, occ in keyed], truncated, warning)


@dataclass(frozen=True, slots=True)
class _Window:
    """The asked window, with its wall-clock bounds per zone computed once for all series."""

    start: datetime
    end: datetime
    start_utc: datetime
    end_utc: datetime
    local: dict[tzinfo, tuple[datetime, datetime]] = field(default_factory=dict)

    def local_range(self, zone: tzinfo, duration: timedelta) -> tuple[datetime, datetime]:
        """Wall-clock [lo, hi] in ``zone`` holding every start that can overlap the window."""
        bounds = self.local.get(zone)
        if bounds is None:
            bounds = (_clamped_naive(self.start, zone), _clamped_naive(self.end, zone))
            self.local[zone] = bounds
        return _shifted(bounds[0], -(duration + _MARGIN)), _shifted(bounds[1], _MARGIN)


_Keyed = list[tuple[datetime, Occurrence]]  # (UTC start: the sort key, occurrence)


def _expand_keyed(
    master: Event, window: _Window, overrides: Sequence[Event], display_tz: tzinfo
) -> tuple[_Keyed, bool, str | None]:
    """``expand``, each occurrence with its UTC start: callers sort without recomputing it."""
    deadline = _time.perf_counter() + SERIES_BUDGET_SECONDS
    series = _series(master, display_tz)
    rule, warning, truncated = _rule_or_warning(master)
    lo, hi = window.local_range(series.zone, series.duration)
    # Starts outside [lo, hi] cannot reach the window (the margin exceeds any offset change);
    # dropping them here saves their conversions.
    starts: dict[datetime, None] = {}
    if lo <= series.start <= hi:
        starts[series.start] = None
    for rdate in master.rdates:
        explicit = _naive(rdate, series.zone, master.floating)
        if lo <= explicit <= hi:
            starts[explicit] = None
    if rule is not None:
        try:
            result = scan(
                rule,
                series.start,
                lo,
                hi,
                zone=series.zone,
                all_day=series.all_day,
                cap=MAX_INSTANCES_PER_SERIES,
                deadline=deadline,
            )
        except (ValueError, OverflowError) as err:
            return _explicit_only(series, window, overrides, display_tz, err)
        for item in result.instances:
            starts[item] = None
        if result.truncated:
            truncated = True
            warning = _limit_warning(master, result.reason)
    return _assemble(series, starts, overrides, window, display_tz), truncated, warning


def _clamped_naive(instant: datetime, zone: tzinfo) -> datetime:
    """``instant`` as wall time in ``zone``, kept inside years 1..9999."""
    try:
        return to_local_naive(instant, zone)
    except OverflowError:
        return datetime.min if instant.year < 5000 else _LAST_NAIVE


def _shifted(naive: datetime, shift: timedelta) -> datetime:
    try:
        return naive + shift
    except OverflowError:
        return datetime.min if naive.year < 5000 else _LAST_NAIVE


def _limit_warning(master: Event, reason: str | None) -> str:
    title = master.title or "Untitled"
    if reason == "cap":
        return f"“{title}”: only the first {MAX_INSTANCES_PER_SERIES} occurrences are shown."
    if reason == "budget":
        return f"“{title}”: the repeat rule took too long to expand; some occurrences are missing."
    return f"“{title}”: occurrences too far from the series start are not shown."


def _explicit_only(
    series: _Series,
    window: _Window,
    overrides: Sequence[Event],
    display_tz: tzinfo,
    err: Exception,
) -> tuple[_Keyed, bool, str | None]:
    starts: dict[datetime, None] = {series.start: None}
    for rdate in series.master.rdates:
        starts[_naive(rdate, series.zone, series.master.floating)] = None
    occ = _assemble(series, starts, overrides, window, display_tz)
    title = series.master.title or "Untitled"
    detail = str(err) or type(err).__name__
    return occ, True, f"“{title}”: the repeat rule could not be expanded ({detail})."


def _match_key(value: When, zone: tzinfo) -> tuple[int, date]:
    """What instance ``value`` names: its UTC instant to the second, or its date.

    Equal keys are what ``timeutil.instant_key`` calls equal, without formatting text.
    """
    if isinstance(value, datetime):
        aware = localize(value, zone) if value.tzinfo is None else value
        return (1, _whole_seconds(aware.astimezone(UTC)))
    return (0, value)


def _whole_seconds(value: datetime) -> datetime:
    # replace() is slow for what it does; nearly every value already has no microseconds
    return value.replace(microsecond=0) if value.microsecond else value


def _sort_key(start: When, display_tz: tzinfo) -> datetime:
    if isinstance(start, datetime):
        return as_utc(start if start.tzinfo is not None else localize(start, display_tz))
    return as_utc(day_start(start, display_tz))


def _in_window(start_utc: datetime, end_utc: datetime, window: _Window) -> bool:
    if end_utc <= start_utc:  # zero-length events show where they start
        return window.start_utc <= start_utc < window.end_utc
    return start_utc < window.end_utc and end_utc > window.start_utc


def _assemble(
    series: _Series,
    starts: dict[datetime, None],
    overrides: Sequence[Event],
    window: _Window,
    display_tz: tzinfo,
) -> _Keyed:
    """Occurrences from wall-clock ``starts`` minus EXDATEs, with overrides in place, sorted.

    Each start's UTC instant is computed once and serves as window test, match key and sort key;
    EXDATEs are only converted when something in the window could match them.
    """
    master, duration = series.master, series.duration
    by_rid: dict[tuple[int, date], Event] = {}
    for ov in overrides:
        if ov.recurrence_id is not None:
            by_rid[_match_key(_rid_for(series, ov.recurrence_id), series.zone)] = ov
    found = _in_window_starts(series, starts, window, display_tz)
    excluded: set[tuple[int, date]] = set()
    if master.exdates and (found or by_rid):
        excluded = _excluded(series)
    out: _Keyed = []
    if found:
        skip = excluded.union(by_rid) if by_rid else excluded
        excluded_days = _excluded_days(series)
        for naive_start, start_utc, end_utc in found:
            if excluded_days and naive_start.date() in excluded_days:
                continue
            if series.all_day:
                day = naive_start.date()
                if (0, day) not in skip:
                    out.append((start_utc, Occurrence(master, day, day + duration, day)))
            elif not skip or (1, _whole_seconds(start_utc)) not in skip:
                start = start_utc.astimezone(series.zone)
                end = end_utc.astimezone(series.zone)
                out.append((start_utc, Occurrence(master, start, end, start)))
    for key, ov in by_rid.items():
        assert ov.recurrence_id is not None
        if key in excluded:
            continue
        first, last = occurrence_span(ov.start, ov.end, display_tz)
        start_utc = as_utc(first)
        if _in_window(start_utc, as_utc(last), window):
            rid = _rid_for(series, ov.recurrence_id)
            out.append((start_utc, Occurrence(ov, ov.start, ov.end, rid)))
    if len(out) > 1:
        out.sort(key=_first)
    return out


def _in_window_starts(
    series: _Series, starts: dict[datetime, None], window: _Window, display_tz: tzinfo
) -> list[tuple[datetime, datetime, datetime]]:
    """(wall-clock start, UTC start, UTC end) of the starts whose occurrence meets the window."""
    out: list[tuple[datetime, datetime, datetime]] = []
    duration = series.duration
    for naive_start in starts:
        if series.all_day:
            day = naive_start.date()
            start_utc = day_start(day, display_tz).astimezone(UTC)
            end_utc = day_start(day + duration, display_tz).astimezone(UTC)
        else:
            # localize() and add_real() sharing one conversion to UTC
            start_utc = naive_start.replace(tzinfo=series.zone, fold=0).astimezone(UTC)
            end_utc = start_utc + duration
        if _in_window(start_utc, end_utc, window):
            out.append((naive_start, start_utc, end_utc))
    return out


def _excluded(series: _Series) -> set[tuple[int, date]]:
    """Match keys of the EXDATEs (see ``_match_key``)."""
    keys: set[tuple[int, date]] = set()
    direct = not (series.all_day or series.master.floating)
    for ex in series.master.exdates:
        if direct and isinstance(ex, datetime) and ex.tzinfo is not None:
            keys.add((1, _whole_seconds(ex.astimezone(UTC))))  # _rid_for keeps the instant
        else:
            keys.add(_match_key(_rid_for(series, ex), series.zone))
    return keys


def _excluded_days(series: _Series) -> set[date]:
    """DATE EXDATEs of a timed series: each removes that whole local day."""
    if series.all_day:
        return set()
    return {ex for ex in series.master.exdates if not isinstance(ex, datetime)}


def _first(item: tuple[datetime, Occurrence]) -> datetime:
    return item[0]


def occurrences_in_window(
    events: Iterable[Event],
    window_start: datetime,
    window_end: datetime,
    *,
    display_tz: ZoneInfo,
) -> tuple[list[Occurrence], list[str]]:
    """All occurrences of singles, series and overrides in the window, sorted, plus warnings.

    Overrides join their master by ``master_id``, or by (calendar, uid) when that is None;
    overrides without a master are returned as single events. Safe on any thread; raises nothing.
    """
    window = _Window(window_start, window_end, as_utc(window_start), as_utc(window_end))
    events = list(events)
    masters = [e for e in events if e.is_recurring and not e.is_override]
    by_id = {m.id: m for m in masters}
    by_uid = {(m.calendar_id, m.uid): m for m in masters}
    grouped: dict[str, list[Event]] = {m.id: [] for m in masters}
    out: _Keyed = []
    warnings: list[str] = []
    for event in events:
        if event.is_override:
            master = by_id.get(event.master_id or "") or by_uid.get((event.calendar_id, event.uid))
            if master is not None:
                grouped[master.id].append(event)
                continue
            occ = Occurrence(event, event.start, event.end, event.recurrence_id)
        elif not event.is_recurring:
            occ = Occurrence(event, event.start, event.end)
        else:
            continue
        first, last = occurrence_span(event.start, event.end, display_tz)
        start_utc = as_utc(first)
        if _in_window(start_utc, as_utc(last), window):
            out.append((start_utc, occ))
    for master in masters:
        keyed, _truncated, warning = _expand_keyed(master, window, grouped[master.id], display_tz)
        out.extend(keyed)
        if warning:
            warnings.append(warning)
    out.sort(key=_first)
    return [occ for _, occ in out], warnings


def validate_rrule(rule: str, start: When) -> None:
    """Check a rule a user typed or picked before it is saved.

    Raises RecurrenceError when it cannot be parsed, repeats more often than daily, can never
    occur, or ends before ``start``. Safe on any thread.
    """
    parsed = parse_rule(rule)
    if parsed.freq in SUB_DAILY:
        raise RecurrenceError("Appointments can repeat at most daily.")
    check_satisfiable(parsed)
    until = parsed.until
    if until is None:
        return
    if isinstance(start, datetime) and isinstance(until, datetime):
        if until.tzinfo is not None and start.tzinfo is not None:
            ends_before = until < start
        else:
            ends_before = until.replace(tzinfo=None) < start.replace(tzinfo=None)
    else:
        start_day = start.date() if isinstance(start, datetime) else start
        until_day = until.date() if isinstance(until, datetime) else until
        ends_before = until_day < start_day
    if ends_before:
        raise RecurrenceError("The repeat rule ends (UNTIL) before the first appointment.")


def series_bounds(master: Event) -> tuple[datetime, datetime | None]:
    """(first start, last end) as aware UTC datetimes; None as last end means unbounded.

    Dates and floating times are widened by 14 hours either side so any display zone is covered.
    The last end of an UNTIL rule is the last instance found near UNTIL, or UNTIL plus the
    duration when none is found cheaply (an upper bound); a COUNT rule too long to count within
    the budget is reported as unbounded. Safe on any thread; raises nothing.
    """
    deadline = _time.perf_counter() + SERIES_BUDGET_SECONDS
    series = _series(master, UTC)
    wide = series.all_day or series.master.floating
    explicit = [series.start, *(_naive(r, series.zone, master.floating) for r in master.rdates)]

    def first_utc(naive: datetime) -> datetime:
        if wide:
            return naive.replace(tzinfo=UTC) - _ANY_ZONE
        return localize(naive, series.zone).astimezone(UTC)

    def end_utc(naive: datetime) -> datetime:
        if wide:
            return (naive + series.duration).replace(tzinfo=UTC) + _ANY_ZONE
        return add_real(localize(naive, series.zone), series.duration).astimezone(UTC)

    first = min(first_utc(n) for n in explicit)
    rule, _warning, _hidden = _rule_or_warning(master)
    last_explicit = max(end_utc(n) for n in explicit)
    if rule is None:
        return first, last_explicit
    try:
        last_rule = _rule_last(rule, series, deadline)
    except (ValueError, OverflowError, CarecalError):
        return first, None
    if last_rule is None:
        return first, None
    return first, max(last_explicit, end_utc(last_rule))


def _rule_last(rule: ParsedRule, series: _Series, deadline: float) -> datetime | None:
    if rule.count is not None:
        return count_last(
            rule,
            series.start,
            zone=series.zone,
            all_day=series.all_day,
            cap=MAX_INSTANCES_PER_SERIES,
            deadline=deadline,
        )
    until = rule.until
    if until is None:
        return None
    if isinstance(until, datetime):
        until_naive = to_local_naive(until, series.zone) if until.tzinfo is not None else until
    else:
        until_naive = datetime.combine(until, datetime.max.time().replace(microsecond=0))
    if until_naive < series.start:
        return series.start
    period_days = _PERIOD_DAYS.get(rule.freq, 1)
    lookback = timedelta(days=min(2 * rule.interval * period_days + 400, 73000))
    result = scan(
        rule,
        series.start,
        max(series.start, until_naive - lookback),
        until_naive + _MARGIN,
        zone=series.zone,
        all_day=series.all_day,
        cap=MAX_INSTANCES_PER_SERIES,
        deadline=deadline,
    )
    if result.instances and not result.truncated:
        return result.instances[-1]
    return until_naive  # an upper bound: no instance starts after UNTIL
