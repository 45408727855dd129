"""Absurd rules ("bombs") must come back quickly, and expansion must agree with dateutil."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from dateutil import rrule as du
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecal.domain.recurrence import MAX_INSTANCES_PER_SERIES, expand, series_bounds
from tests.domain.builders import WARSAW, series, utc

WINDOW = (utc(2026, 3, 2), utc(2026, 3, 9))  # one week around the spring DST change
WALL_LIMIT = 1.0  # generous: the budget is 0.2 s; a shared machine may be slow


def _bombs() -> list[tuple[str, datetime | date, str]]:
    """(rule, DTSTART, expected kind) with kind in refused | truncated | fine | empty."""
    start_1970 = datetime(1970, 1, 1, 9, tzinfo=WARSAW)
    start_1900 = datetime(1900, 1, 1, 9, tzinfo=WARSAW)
    out: list[tuple[str, datetime | date, str]] = [
        ("FREQ=SECONDLY", start_1970, "refused"),
        ("FREQ=SECONDLY;INTERVAL=1", start_1900, "refused"),
        ("FREQ=MINUTELY", start_1970, "refused"),
        ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", start_1970, "empty"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", start_1970, "empty"),
        ("FREQ=DAILY;BYMONTH=4,6,9,11;BYMONTHDAY=31", start_1970, "empty"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-30", start_1970, "empty"),
        ("FREQ=YEARLY;BYYEARDAY=366;BYMONTH=1", start_1970, "empty"),
        ("FREQ=YEARLY;BYYEARDAY=1;BYMONTHDAY=2", start_1970, "empty"),
        ("FREQ=YEARLY;BYWEEKNO=1;BYMONTH=6", start_1970, "empty"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=50", start_1970, "empty"),
        ("FREQ=DAILY;BYSETPOS=2", start_1970, "empty"),
        ("FREQ=MONTHLY;BYDAY=6MO", start_1970, "empty"),
        # never match, but only a scan can tell: bounded by the 400-year horizon
        ("FREQ=MONTHLY;BYDAY=5MO;BYMONTHDAY=1", start_1970, "empty"),
        ("FREQ=DAILY;BYWEEKNO=1;BYYEARDAY=100", start_1970, "empty"),
        ("FREQ=DAILY;INTERVAL=2;BYWEEKNO=1;BYYEARDAY=100", start_1900, "empty"),
        ("FREQ=WEEKLY;INTERVAL=3;BYWEEKNO=1;BYYEARDAY=100", start_1900, "empty"),
        (
            "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
            datetime(2001, 1, 1, 9, tzinfo=WARSAW),
            "empty",
        ),
        ("FREQ=DAILY;INTERVAL=2;BYWEEKNO=1;BYYEARDAY=100;COUNT=5", start_1900, "empty"),
        # huge but legitimate
        ("FREQ=DAILY;UNTIL=50000101T000000Z", start_1970, "fine"),
        ("FREQ=DAILY;COUNT=1000000000", start_1900, "fine"),
        ("FREQ=DAILY;INTERVAL=1", start_1900, "fine"),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=1000000000", start_1900, "fine"),
        ("FREQ=DAILY;BYDAY=MO;COUNT=1000000000", start_1900, "fine"),
        ("FREQ=DAILY;COUNT=1000000000", date(1900, 1, 1), "fine"),
        ("FREQ=DAILY;BYMONTH=3;BYMONTHDAY=2,3", datetime(1, 1, 1, 9, tzinfo=WARSAW), "fine"),
    ]
    return out


@pytest.mark.parametrize(("rule", "start", "kind"), _bombs(), ids=lambda v: str(v)[:40])
def test_bomb_rules_return_quickly(rule: str, start: datetime | date, kind: str) -> None:
    master = series(rule, start)
    began = time.perf_counter()
    exp = expand(master, *WINDOW, display_tz=WARSAW)
    elapsed = time.perf_counter() - began
    bounds_began = time.perf_counter()
    series_bounds(master)
    bounds_elapsed = time.perf_counter() - bounds_began
    assert elapsed < WALL_LIMIT, f"{rule} took {elapsed:.2f} s"
    assert bounds_elapsed < WALL_LIMIT, f"bounds of {rule} took {bounds_elapsed:.2f} s"
    if kind == "refused":
        assert exp.truncated and exp.warning and "more often than daily" in exp.warning
        assert exp.occurrences == []
    elif kind == "empty":
        assert exp.occurrences == []
    else:
        assert not exp.truncated, exp.warning
        assert exp.occurrences


def test_instance_cap_truncates_with_a_warning() -> None:
    master = series("FREQ=DAILY", datetime(2000, 1, 1, 9, tzinfo=WARSAW))
    exp = expand(master, utc(2000, 1, 1), utc(2100, 1, 1), display_tz=WARSAW)
    assert exp.truncated
    assert len(exp.occurrences) == MAX_INSTANCES_PER_SERIES
    assert exp.warning and str(MAX_INSTANCES_PER_SERIES) in exp.warning


def test_window_far_from_the_start_of_a_count_rule_is_reported_not_scanned() -> None:
    master = series(
        "FREQ=DAILY;BYDAY=MO;BYMONTH=1;COUNT=100000", datetime(1, 1, 1, 9, tzinfo=WARSAW)
    )
    began = time.perf_counter()
    exp = expand(master, *WINDOW, display_tz=WARSAW)
    assert time.perf_counter() - began < WALL_LIMIT
    assert exp.truncated and exp.warning


def test_series_bounds_of_huge_rules_are_cheap() -> None:
    assert (
        series_bounds(
            series("FREQ=DAILY;COUNT=1000000000", datetime(1900, 1, 1, 9, tzinfo=WARSAW))
        )[1]
        is None
    )
    far = series("FREQ=DAILY;UNTIL=50000101T000000Z", datetime(1970, 1, 1, 9, tzinfo=WARSAW))
    assert series_bounds(far)[1] == datetime(4999, 12, 31, 9, tzinfo=UTC)
    weekdays = series(
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=4000", datetime(2026, 1, 5, 9, tzinfo=WARSAW)
    )
    oracle = list(
        du.rrule(du.WEEKLY, byweekday=range(5), count=4000, dtstart=datetime(2026, 1, 5, 9))
    )
    last = oracle[-1].replace(tzinfo=WARSAW) + timedelta(hours=1)
    assert series_bounds(weekdays)[1] == last.astimezone(UTC)


# --- dateutil as the oracle -----------------------------------------------------------------------

_FREQS = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY, "MONTHLY": du.MONTHLY}
_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@st.composite
def _rules(draw: st.DrawFn) -> tuple[str, dict[str, object], datetime]:
    freq = draw(st.sampled_from(sorted(_FREQS)))
    interval = draw(st.integers(1, 4))
    start = datetime(2024, 1, 1, 9, 0) + timedelta(
        days=draw(st.integers(0, 900)), minutes=15 * draw(st.integers(0, 40))
    )
    parts = [f"FREQ={freq}", f"INTERVAL={interval}"]
    kwargs: dict[str, object] = {"interval": interval}
    if freq == "WEEKLY" and draw(st.booleans()):
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=4)))
        parts.append("BYDAY=" + ",".join(_DAYS[d] for d in days))
        kwargs["byweekday"] = days
    if freq == "MONTHLY" and draw(st.booleans()):
        monthdays = sorted(draw(st.sets(st.integers(1, 28) | st.just(-1), min_size=1, max_size=3)))
        parts.append("BYMONTHDAY=" + ",".join(map(str, monthdays)))
        kwargs["bymonthday"] = monthdays
    if freq == "DAILY" and draw(st.booleans()):
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=5)))
        parts.append("BYDAY=" + ",".join(_DAYS[d] for d in days))
        kwargs["byweekday"] = days
    if draw(st.booleans()):
        count = draw(st.integers(1, 300))
        parts.append(f"COUNT={count}")
        kwargs["count"] = count
    else:
        until = start + timedelta(days=draw(st.integers(0, 1500)), hours=draw(st.integers(0, 23)))
        parts.append(f"UNTIL={until:%Y%m%dT%H%M%S}")  # floating UNTIL: same wall clock as oracle
        kwargs["until"] = until
    return ";".join(parts), kwargs, start


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=_rules(), data=st.data())
def test_expand_matches_dateutil(
    rule: tuple[str, dict[str, object], datetime], data: st.DataObject
) -> None:
    text, kwargs, start = rule
    freq = _FREQS[text.split(";")[0].split("=")[1]]
    oracle = [*du.rrule(freq, dtstart=start, cache=False, **kwargs)]  # type: ignore[arg-type]
    # Windows anywhere over the series and a little beyond: its end is where COUNT bugs show.
    span = (oracle[-1] - start).days if oracle else 0
    lo = start.replace(tzinfo=UTC) + timedelta(days=data.draw(st.integers(-10, span + 40)))
    hi = lo + timedelta(days=data.draw(st.integers(1, 120)))
    master = series(text, start.replace(tzinfo=WARSAW), minutes=50)

    def local_span(naive: datetime) -> tuple[datetime, datetime]:
        first = naive.replace(tzinfo=WARSAW).astimezone(UTC).astimezone(WARSAW)
        return first, first + timedelta(minutes=50)

    expected = {start, *oracle}  # RFC 5545: DTSTART is always the first occurrence
    want = sorted(
        local_span(n)[0].astimezone(UTC)
        for n in expected
        if local_span(n)[0] < hi and local_span(n)[1] > lo
    )
    got = [o.start.astimezone(UTC) for o in expand(master, lo, hi, display_tz=WARSAW).occurrences]  # type: ignore[union-attr]
    assert got == want


@pytest.mark.parametrize(
    ("rule", "last"),
    [
        ("FREQ=DAILY;COUNT=300", date(2024, 10, 26)),
        ("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=100", date(2024, 8, 19)),
        ("FREQ=MONTHLY;BYMONTHDAY=1,15;COUNT=30", date(2025, 3, 15)),
    ],
)
def test_fast_forwarded_count_series_end_on_the_right_day(rule: str, last: date) -> None:
    master = series(rule, datetime(2024, 1, 1, 9, tzinfo=WARSAW))
    lo = datetime.combine(last, datetime.min.time(), tzinfo=UTC) - timedelta(days=20)
    exp = expand(master, lo, lo + timedelta(days=60), display_tz=WARSAW)
    assert exp.occurrences[-1].start.date() == last  # type: ignore[union-attr]


def test_widest_possible_window_does_not_overflow_or_hang() -> None:
    lo = datetime.min.replace(tzinfo=UTC)
    hi = datetime.max.replace(tzinfo=UTC)
    for rule in ("FREQ=YEARLY", "FREQ=DAILY;BYWEEKNO=1;BYYEARDAY=100", "FREQ=WEEKLY;COUNT=3"):
        began = time.perf_counter()
        exp = expand(
            series(rule, datetime(2026, 1, 5, 9, tzinfo=WARSAW)), lo, hi, display_tz=WARSAW
        )
        assert time.perf_counter() - began < WALL_LIMIT
        assert exp.occurrences
