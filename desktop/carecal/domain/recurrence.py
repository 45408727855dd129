"""Recurring series -> concrete occurrences inside a window (RRULE, RDATE, EXDATE, overrides).

python-dateutil's ``rrule`` does the calendar arithmetic; ``recurrence_engine`` bounds it so no
rule can hang the app (see that module for why the bound holds by construction). Times are
expanded on the wall clock of the event's own zone, so 09:00 Europe/Warsaw stays 09:00 across
DST; a wall time in a DST gap moves forward, an ambiguous one takes its first instant (fold=0).
All-day series expand to dates; floating series are read in the display zone.

Everything here is pure and safe on any thread. Bad rules never raise from ``expand``: the series
shows its explicit instances (DTSTART, RDATEs, overrides) and the Expansion carries a warning.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
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
    instant_key,
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


@dataclass(frozen=True, slots=True)
class Expansion:
    occurrences: list[Occurrence]  # sorted by start
    truncated: bool  # cap or budget hit (or the rule was refused)
    warning: str | None  # user-facing sentence when truncated/refused


@dataclass(frozen=True, slots=True)
class _Series:
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


def _series(master: Event, display_tz: tzinfo) -> _Series:
    zone = _event_zone(master, display_tz)
    all_day = master.all_day or not isinstance(master.start, datetime)
    start, end = master.start, master.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        duration = as_utc(end) - as_utc(start)  # elapsed time, even across a DST change
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


def _rule_or_warning(master: Event) -> tuple[ParsedRule | None, str | None, bool]:
    """(usable rule, warning, whether refusing it hides occurrences)."""
    if not master.rrule:
        return None, None, False
    title = master.title or "Untitled"
    try:
        rule = parse_rule(master.rrule)
        check_satisfiable(rule)
    except RecurrenceError as err:
        return None, f"“{title}”: the repeat rule was ignored ({err})", False
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
    deadline = _time.perf_counter() + SERIES_BUDGET_SECONDS
    series = _series(master, display_tz)
    rule, warning, truncated = _rule_or_warning(master)
    starts: dict[datetime, None] = {series.start: None}
    for rdate in master.rdates:
        starts[_naive(rdate, series.zone, master.floating)] = None
    if rule is not None:
        lo = _clamped_naive(window_start, series.zone, -(series.duration + _MARGIN))
        hi = _clamped_naive(window_end, series.zone, _MARGIN)
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
            return _explicit_only(series, (window_start, window_end), overrides, display_tz, err)
        for item in result.instances:
            starts[item] = None
        if result.truncated:
            truncated = True
            warning = _limit_warning(master, result.reason)
    occurrences = _assemble(series, starts, overrides, window_start, window_end, display_tz)
    return Expansion(occurrences, truncated, warning)


def _clamped_naive(instant: datetime, zone: tzinfo, shift: timedelta) -> datetime:
    """``instant`` as wall time in ``zone`` moved by ``shift``, kept inside years 1..9999."""
    try:
        return to_local_naive(instant, zone) + shift
    except OverflowError:
        return datetime.min if instant.year < 5000 else datetime.max.replace(microsecond=0)


def _limit_warning(master: Event, reason: str | None) -> str:
    title = master.title or "Untitled"
    if reason == "cap":
        return f"“{title}”: only the first {MAX_INSTANCES_PER_SERIES} occurrences are shown."
    if reason == "budget":
        return f"“{title}”: the repeat rule took too long to expand; some occurrences are missing."
    return f"“{title}”: occurrences too far from the series start are not shown."


def _explicit_only(
    series: _Series,
    window: tuple[datetime, datetime],
    overrides: Sequence[Event],
    display_tz: tzinfo,
    err: Exception,
) -> Expansion:
    starts: dict[datetime, None] = {series.start: None}
    for rdate in series.master.rdates:
        starts[_naive(rdate, series.zone, series.master.floating)] = None
    occ = _assemble(series, starts, overrides, window[0], window[1], display_tz)
    title = series.master.title or "Untitled"
    detail = str(err) or type(err).__name__
    return Expansion(occ, True, f"“{title}”: the repeat rule could not be expanded ({detail}).")


def _assemble(
    series: _Series,
    starts: dict[datetime, None],
    overrides: Sequence[Event],
    window_start: datetime,
    window_end: datetime,
    display_tz: tzinfo,
) -> list[Occurrence]:
    zone = series.zone
    excluded = {instant_key(_rid_for(series, ex), zone) for ex in series.master.exdates}
    excluded_days = {
        ex for ex in series.master.exdates if not isinstance(ex, datetime) and not series.all_day
    }
    by_rid: dict[tuple[int, str], Event] = {}
    for ov in overrides:
        if ov.recurrence_id is not None:
            by_rid[instant_key(_rid_for(series, ov.recurrence_id), zone)] = ov
    out: list[Occurrence] = []
    for naive_start in starts:
        occ = _occurrence(series, naive_start)
        assert occ.recurrence_id is not None
        key = instant_key(occ.recurrence_id, zone)
        if key in excluded or key in by_rid or naive_start.date() in excluded_days:
            continue
        if _overlaps(occurrence_span(occ.start, occ.end, display_tz), window_start, window_end):
            out.append(occ)
    for key, ov in by_rid.items():
        assert ov.recurrence_id is not None
        if key in excluded:
            continue
        span = occurrence_span(ov.start, ov.end, display_tz)
        if _overlaps(span, window_start, window_end):
            out.append(Occurrence(ov, ov.start, ov.end, _rid_for(series, ov.recurrence_id)))
    out.sort(key=lambda o: as_utc(occurrence_span(o.start, o.end, display_tz)[0]))
    return out


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
    events = list(events)
    masters = [e for e in events if e.is_recurring and not e.is_override]
    by_id = {m.id: m for m in masters}
    by_uid = {(m.calendar_id, m.uid): m for m in masters}
    grouped: dict[str, list[Event]] = {m.id: [] for m in masters}
    out: list[Occurrence] = []
    warnings: list[str] = []
    for event in events:
        if event.is_override:
            master = by_id.get(event.master_id or "") or by_uid.get((event.calendar_id, event.uid))
            if master is not None:
                grouped[master.id].append(event)
                continue
            span = occurrence_span(event.start, event.end, display_tz)
            if _overlaps(span, window_start, window_end):
                out.append(Occurrence(event, event.start, event.end, event.recurrence_id))
        elif not event.is_recurring:
            span = occurrence_span(event.start, event.end, display_tz)
            if _overlaps(span, window_start, window_end):
                out.append(Occurrence(event, event.start, event.end))
    for master in masters:
        exp = expand(master, window_start, window_end, grouped[master.id], display_tz=display_tz)
        out.extend(exp.occurrences)
        if exp.warning:
            warnings.append(exp.warning)
    out.sort(key=lambda o: as_utc(occurrence_span(o.start, o.end, display_tz)[0]))
    return out, warnings


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
