"""The date-arithmetic path for plain DAILY/WEEKLY rules, checked against plain dateutil.

Windows are placed around the DST changes of Europe/Warsaw and America/New_York, start times
include the hour that is skipped or repeated, and EXDATEs remove real and unreal instances.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecal.domain.recurrence import expand, occurrences_in_window
from carecal.domain.recurrence_engine import _plan, scan
from carecal.domain.rrule_parts import parse_rule
from tests.domain.builders import NEW_YORK, WARSAW, series, utc

_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_DST_DAYS = {
    "Europe/Warsaw": [date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1)],
}


@dataclass(frozen=True)
class _Case:
    tz: ZoneInfo
    all_day: bool
    text: str
    freq: int
    kwargs: dict[str, Any]  # dateutil.rrule keywords equal to ``text``
    start: datetime  # naive DTSTART (midnight for all-day)
    until_utc: datetime | None  # a ...Z UNTIL, which dateutil cannot be given for wall times
    window: tuple[datetime, datetime]
    exdate_picks: list[int]
    stray_exdate: bool


def _instant(naive: datetime, tz: ZoneInfo) -> datetime:
    """RFC 5545 reading of a wall time: a gap moves forward, an ambiguous time takes fold=0."""
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


@st.composite
def _cases(draw: st.DrawFn) -> _Case:
    tz = draw(st.sampled_from([WARSAW, NEW_YORK]))
    all_day = draw(st.integers(0, 4)) == 0
    freq = draw(st.sampled_from(["WEEKLY", "WEEKLY", "WEEKLY", "DAILY"]))
    interval = draw(st.integers(1, 4))
    hour = draw(st.sampled_from([0, 1, 2, 2, 3, 9, 17, 23]))
    minute = draw(st.sampled_from([0, 30, 45]))
    first_day = date(2024, 9, 1) + timedelta(days=draw(st.integers(0, 500)))
    start = datetime.combine(first_day, time(0, 0) if all_day else time(hour, minute))
    parts = [f"FREQ={freq}"]
    kwargs: dict[str, Any] = {"interval": interval}
    if interval > 1 or draw(st.booleans()):
        parts.append(f"INTERVAL={interval}")
    if draw(st.booleans()):
        wkst = draw(st.integers(0, 6))
        parts.append(f"WKST={_DAYS[wkst]}")
        kwargs["wkst"] = wkst
    weekly_days = freq == "WEEKLY" or interval == 1  # DAILY;BYDAY is plain only at INTERVAL=1
    if weekly_days and draw(st.booleans()):
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)))
        parts.append("BYDAY=" + ",".join(_DAYS[d] for d in days))
        kwargs["byweekday"] = days
    ending = draw(st.sampled_from(["count", "until_utc", "until_floating", "until_date", "none"]))
    until_utc: datetime | None = None
    if ending == "count":
        count = draw(st.integers(1, 120))
        parts.append(f"COUNT={count}")
        kwargs["count"] = count
    elif ending != "none":
        until = start + timedelta(days=draw(st.integers(0, 500)), hours=draw(st.integers(0, 23)))
        if ending == "until_date" or all_day:
            parts.append(f"UNTIL={until:%Y%m%d}")
            kwargs["until"] = datetime.combine(until.date(), time(23, 59, 59))
        elif ending == "until_floating":
            parts.append(f"UNTIL={until:%Y%m%dT%H%M%S}")
            kwargs["until"] = until
        else:
            until_utc = until.replace(tzinfo=UTC)
            parts.append(f"UNTIL={until_utc:%Y%m%dT%H%M%SZ}")
    dst_day = draw(st.sampled_from(_DST_DAYS[tz.key]))
    lo_day = dst_day - timedelta(days=draw(st.integers(0, 8)))
    lo = datetime.combine(lo_day, time(draw(st.integers(0, 23))), tzinfo=UTC)
    hi = lo + timedelta(days=draw(st.sampled_from([1, 7, 7, 7, 14, 60])))
    return _Case(
        tz=tz,
        all_day=all_day,
        text=";".join(parts),
        freq=du.WEEKLY if freq == "WEEKLY" else du.DAILY,
        kwargs=kwargs,
        start=start,
        until_utc=until_utc,
        window=(lo, hi),
        exdate_picks=draw(st.lists(st.integers(0, 400), max_size=4)),
        stray_exdate=draw(st.booleans()),
    )


def _oracle(case: _Case) -> list[datetime]:
    """dateutil's instances (naive wall times), cut at a UTC UNTIL by instant."""
    tz, start, until_utc = case.tz, case.start, case.until_utc
    oracle: list[datetime] = []
    for item in du.rrule(case.freq, dtstart=start, cache=False, **case.kwargs):
        if item > start + timedelta(days=1200):  # generated windows end well before this
            break
        if until_utc is not None and _instant(item, tz) > until_utc:
            break
        oracle.append(item)
    return oracle


def _check(case: _Case) -> None:
    tz, start, text, all_day = case.tz, case.start, case.text, case.all_day
    lo, hi = case.window
    assert _plan(parse_rule(text), start).plain is not None, "the fast path must be taken"
    oracle = _oracle(case)
    instances = [start, *(n for n in oracle if n != start)]  # DTSTART is always an occurrence
    picks = [instances[i % len(instances)] for i in case.exdate_picks]
    stray = [start + timedelta(days=3, minutes=7)] if case.stray_exdate else []
    duration = timedelta(days=1) if all_day else timedelta(minutes=50)
    if all_day:
        exdates: tuple[object, ...] = tuple(n.date() for n in picks + stray)
        master = series(text, start.date(), tz=None, exdates=exdates)
    else:
        # EXDATEs given in UTC and in the zone alike: they match by instant
        exdates = tuple(
            _instant(n, tz) if i % 2 else _instant(n, tz).astimezone(tz)
            for i, n in enumerate(picks + stray)
        )
        master = series(text, start.replace(tzinfo=tz), minutes=50, exdates=exdates)
    removed = set(picks)

    def span(naive: datetime) -> tuple[datetime, datetime]:
        if all_day:
            first = _instant(naive, WARSAW)  # all-day series are read in the display zone
            return first, _instant(naive + duration, WARSAW)
        first = _instant(naive, tz)
        return first, first + duration

    want = sorted(span(n) for n in set(instances) - removed if span(n)[0] < hi and span(n)[1] > lo)
    exp = expand(master, lo, hi, display_tz=WARSAW)
    assert not exp.truncated and exp.warning is None
    got: list[tuple[datetime, datetime]] = []
    for occ in exp.occurrences:
        if all_day:
            assert type(occ.start) is date and occ.recurrence_id == occ.start
            naive = datetime.combine(occ.start, time(0, 0))
            assert occ.end == occ.start + duration
            got.append(span(naive))
        else:
            assert isinstance(occ.start, datetime) and isinstance(occ.end, datetime)
            assert occ.start.tzinfo is tz and occ.recurrence_id == occ.start
            assert occ.end.astimezone(UTC) - occ.start.astimezone(UTC) == duration
            got.append((occ.start.astimezone(UTC), occ.end.astimezone(UTC)))
    assert got == want, text
    listed, _ = occurrences_in_window([master], lo, hi, display_tz=WARSAW)
    assert [o.start for o in listed] == [o.start for o in exp.occurrences]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases())
def test_plain_rules_match_dateutil_across_dst(case: _Case) -> None:
    _check(case)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases(), hours=st.integers(-30, 30), minutes=st.sampled_from([0, 29, 30, 31]))
def test_scan_returns_exactly_the_instances_in_its_range(
    case: _Case, hours: int, minutes: int
) -> None:
    # Without expand's margins, so a period skipped or added at either end shows.
    tz, start, (lo, hi) = case.tz, case.start, case.window
    lo_naive = lo.replace(tzinfo=None) + timedelta(hours=hours, minutes=minutes)
    hi_naive = hi.replace(tzinfo=None) + timedelta(minutes=minutes)
    result = scan(
        parse_rule(case.text),
        start,
        lo_naive,
        hi_naive,
        zone=tz,
        all_day=case.all_day,
        cap=5000,
        deadline=float("inf"),
    )
    assert not result.truncated
    assert result.instances == [n for n in _oracle(case) if lo_naive <= n <= hi_naive]


def test_count_ending_inside_a_week_view_across_the_spring_change() -> None:
    # 3 per week from Mon 2 March 2026: the 7th instance is Mon 16 March; 29 March is the change
    master = series(
        "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=7", datetime(2026, 3, 2, 2, 30, tzinfo=WARSAW)
    )
    exp = expand(master, utc(2026, 3, 13), utc(2026, 3, 20), display_tz=WARSAW)
    assert [o.start for o in exp.occurrences] == [
        datetime(2026, 3, 13, 2, 30, tzinfo=WARSAW),
        datetime(2026, 3, 16, 2, 30, tzinfo=WARSAW),
    ]


def test_every_second_week_in_the_gap_moves_forward_and_keeps_its_phase() -> None:
    master = series("FREQ=WEEKLY;INTERVAL=2", datetime(2026, 3, 1, 2, 30, tzinfo=WARSAW))
    exp = expand(master, utc(2026, 3, 20), utc(2026, 4, 20), display_tz=WARSAW)
    assert [o.start.astimezone(UTC) for o in exp.occurrences] == [  # type: ignore[union-attr]
        utc(2026, 3, 29, 1, 30),  # 02:30 does not exist that night: 03:30 summer time
        utc(2026, 4, 12, 0, 30),
    ]


def test_cap_applies_to_the_fast_path() -> None:
    master = series("FREQ=DAILY", datetime(2000, 1, 1, 9, tzinfo=NEW_YORK))
    exp = expand(master, utc(2000, 1, 1), utc(2100, 1, 1), display_tz=WARSAW)
    assert exp.truncated and len(exp.occurrences) == 5000
    assert exp.occurrences[-1].start == datetime(2013, 9, 8, 9, tzinfo=NEW_YORK)
