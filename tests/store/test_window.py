"""Window queries: the right rows, through indexes only."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.errors import ValidationError
from carecal.domain.models import Calendar, new_id
from carecal.domain.recurrence import occurrences_in_window
from carecal.store.bounds import fallback_bounds, series_bounds_seconds
from carecal.store.repo import Repository
from carecal.store.rows import overrides_sql, window_sql
from tests.store.conftest import WARSAW, make_event

WEEK = (datetime(2024, 5, 6, tzinfo=WARSAW), datetime(2024, 5, 13, tzinfo=WARSAW))


def _ids(repo: Repository, start: datetime = WEEK[0], end: datetime = WEEK[1]) -> set[str]:
    return {e.id for e in repo.events_in_window(start, end)}


def test_singles_overlapping_the_window(repo: Repository, cal: Calendar) -> None:
    inside = make_event(cal.id, datetime(2024, 5, 8, 10, tzinfo=WARSAW))
    before = make_event(cal.id, datetime(2024, 5, 5, 10, tzinfo=WARSAW))
    ends_at_start = make_event(cal.id, datetime(2024, 5, 5, 23, 0, tzinfo=WARSAW), minutes=60)
    crossing = make_event(cal.id, datetime(2024, 5, 5, 23, 30, tzinfo=WARSAW), minutes=60)
    long_leave = make_event(cal.id, datetime(2024, 4, 1, 8, tzinfo=WARSAW), minutes=60 * 24 * 50)
    after = make_event(cal.id, datetime(2024, 5, 13, 0, 0, tzinfo=WARSAW))
    zero = make_event(cal.id, datetime(2024, 5, 6, 0, 0, tzinfo=WARSAW), minutes=0)
    for e in (inside, before, ends_at_start, crossing, long_leave, after, zero):
        repo.add_event(e, actor="user")
    assert _ids(repo) == {inside.id, crossing.id, long_leave.id, zero.id}


def test_all_day_and_floating_are_found_from_any_zone(repo: Repository, cal: Calendar) -> None:
    day = make_event(cal.id, datetime(2024, 5, 6, tzinfo=WARSAW)).with_changes(
        all_day=True, start=date(2024, 5, 6), end=date(2024, 5, 7), tzid=None
    )
    floating = make_event(cal.id, datetime(2024, 5, 6, 23, 30, tzinfo=WARSAW), floating=True)
    repo.add_event(day, actor="user")
    repo.add_event(floating, actor="user")
    kiritimati = ZoneInfo("Pacific/Kiritimati")  # UTC+14
    assert _ids(
        repo, datetime(2024, 5, 6, tzinfo=kiritimati), datetime(2024, 5, 7, tzinfo=kiritimati)
    ) == {day.id, floating.id}
    honolulu = ZoneInfo("Pacific/Honolulu")
    assert day.id in _ids(
        repo, datetime(2024, 5, 6, tzinfo=honolulu), datetime(2024, 5, 7, tzinfo=honolulu)
    )


def test_series_by_stored_bounds_with_all_overrides(repo: Repository, cal: Calendar) -> None:
    endless = make_event(cal.id, datetime(2023, 1, 2, 9, tzinfo=WARSAW), rrule="FREQ=WEEKLY")
    finished = make_event(
        cal.id, datetime(2023, 1, 2, 9, tzinfo=WARSAW), rrule="FREQ=WEEKLY;COUNT=3"
    )
    future = make_event(cal.id, datetime(2024, 6, 3, 9, tzinfo=WARSAW), rrule="FREQ=DAILY")
    # An instance of the finished series moved far into the queried week.
    moved = finished.with_changes(
        id=new_id(),
        rrule=None,
        master_id=finished.id,
        recurrence_id=datetime(2023, 1, 9, 9, tzinfo=WARSAW),
        start=datetime(2024, 5, 7, 9, tzinfo=WARSAW),
        end=datetime(2024, 5, 7, 10, tzinfo=WARSAW),
    )
    far = endless.with_changes(
        id=new_id(),
        rrule=None,
        master_id=endless.id,
        recurrence_id=datetime(2023, 1, 9, 9, tzinfo=WARSAW),
    )
    for e in (endless, finished, future, moved, far):
        repo.add_event(e, actor="user")
    got = repo.events_in_window(*WEEK)
    assert {e.id for e in got} == {endless.id, finished.id, moved.id, far.id}

    occurrences, warnings = occurrences_in_window(got, *WEEK, display_tz=WARSAW)
    assert warnings == []
    starts = sorted(o.start for o in occurrences)
    assert starts == [
        datetime(2024, 5, 6, 9, tzinfo=WARSAW),
        datetime(2024, 5, 7, 9, tzinfo=WARSAW),
    ]


def test_calendar_filter(repo: Repository, cal: Calendar) -> None:
    other, _ = repo.add_calendar("Home", "#00ff00", actor="user")
    a = make_event(cal.id, datetime(2024, 5, 7, 9, tzinfo=WARSAW))
    b = make_event(other.id, datetime(2024, 5, 7, 9, tzinfo=WARSAW), rrule="FREQ=DAILY")
    repo.add_event(a, actor="user")
    repo.add_event(b, actor="user")
    assert {e.id for e in repo.events_in_window(*WEEK, [other.id])} == {b.id}
    assert {e.id for e in repo.events_in_window(*WEEK, [cal.id])} == {a.id}
    assert repo.events_in_window(*WEEK, []) == []


def test_naive_window_is_refused(repo: Repository) -> None:
    with pytest.raises(ValidationError):
        repo.events_in_window(datetime(2024, 5, 6), datetime(2024, 5, 7))


@pytest.mark.parametrize("calendar_ids", [None, ["a", "b"]])
def test_window_queries_use_indexes_not_scans(
    repo: Repository, cal: Calendar, calendar_ids: list[str] | None
) -> None:
    for i in range(50):
        repo.add_event(make_event(cal.id, WEEK[0] + timedelta(hours=i * 7)), actor="user")
    repo._db.execute("ANALYZE")
    singles, masters, params = window_sql(calendar_ids)
    for sql, args in ((singles, (0, 1, 0, 0, *params)), (masters, (1, 0, 0, *params))):
        plan = " | ".join(
            str(r[-1]) for r in repo._db.execute(f"EXPLAIN QUERY PLAN {sql}", args).fetchall()
        )
        assert re.search(r"SEARCH events USING (COVERING )?INDEX events_(span|series)", plan), plan
        assert "SCAN events" not in plan, plan
    for columns in ("rowid", "id, summary"):
        sql = overrides_sql(2, columns=columns)
        plan = repo._db.execute(f"EXPLAIN QUERY PLAN {sql}", ("a", "b")).fetchall()
        assert re.search(r"SEARCH events USING (COVERING )?INDEX events_master", str(plan))


def test_fallback_bounds_are_never_narrower_than_the_domain(cal: Calendar) -> None:
    start = datetime(2024, 5, 6, 9, tzinfo=WARSAW)
    for rule in ("FREQ=DAILY", "FREQ=DAILY;COUNT=5", "FREQ=WEEKLY;UNTIL=20240601T000000Z"):
        master = make_event(cal.id, start, rrule=rule)
        exact_first, exact_last = series_bounds_seconds(master)
        first, last = fallback_bounds(master)
        assert first <= exact_first
        assert last is None or (exact_last is not None and last >= exact_last)
    assert series_bounds_seconds(make_event(cal.id, start, rrule="FREQ=DAILY;COUNT=2"))[1] == (
        int(datetime(2024, 5, 7, 7, 50, tzinfo=UTC).timestamp())
    )
