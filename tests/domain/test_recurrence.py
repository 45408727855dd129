"""Recurrence expansion: DST, all-day, floating, EXDATE/RDATE, overrides, COUNT/UNTIL, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from carecal.domain.errors import RecurrenceError
from carecal.domain.models import AppointmentStatus, Event
from carecal.domain.recurrence import (
    expand,
    occurrences_in_window,
    series_bounds,
    validate_rrule,
)
from tests.domain.builders import NEW_YORK, WARSAW, local, series, utc


def starts(master: Event, lo: datetime, hi: datetime, overrides: tuple[Event, ...] = ()) -> list:
    exp = expand(master, lo, hi, overrides, display_tz=WARSAW)
    return [o.start for o in exp.occurrences]


# --- DST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        (WARSAW, date(2026, 3, 29), date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_weekly_nine_oclock_stays_at_nine_across_both_dst_changes(tz, spring, autumn) -> None:
    first = datetime(2026, 1, 4, 9, 0, tzinfo=tz)  # a Sunday, like both transition days
    master = series("FREQ=WEEKLY", first)
    exp = expand(master, utc(2026, 1, 1), utc(2027, 1, 1), display_tz=WARSAW)
    assert len(exp.occurrences) == 52
    assert not exp.truncated
    for occ in exp.occurrences:
        assert isinstance(occ.start, datetime)
        assert occ.start.astimezone(tz).time() == time(9, 0)
        assert occ.end - occ.start == timedelta(hours=1)
    by_day = {o.start.date(): o.start for o in exp.occurrences}  # type: ignore[union-attr]
    assert by_day[spring].utcoffset() != by_day[spring - timedelta(days=7)].utcoffset()
    assert by_day[autumn].utcoffset() != by_day[autumn - timedelta(days=7)].utcoffset()


def test_occurrence_in_the_spring_gap_moves_forward() -> None:
    master = series("FREQ=DAILY;COUNT=3", local(2026, 3, 28, 2, 30))
    result = starts(master, utc(2026, 3, 27), utc(2026, 4, 1))
    assert [s.astimezone(WARSAW).time() for s in result] == [time(2, 30), time(3, 30), time(2, 30)]
    assert result[1] == utc(2026, 3, 29, 1, 30)  # 02:30 read with the winter offset


def test_ambiguous_autumn_time_takes_the_first_instant() -> None:
    master = series("FREQ=DAILY;COUNT=3", local(2026, 10, 24, 2, 30))
    result = starts(master, utc(2026, 10, 23), utc(2026, 10, 28))
    # still summer time (+02:00), fold=0; compare in UTC: == across zones is False in a fold
    assert result[1].astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert result[1].utcoffset() == timedelta(hours=2)


def test_all_day_series_yields_dates_unaffected_by_dst() -> None:
    master = series("FREQ=WEEKLY;COUNT=4", date(2026, 3, 22), tz=None)
    exp = expand(master, utc(2026, 3, 1), utc(2026, 5, 1), display_tz=WARSAW)
    assert [o.start for o in exp.occurrences] == [
        date(2026, 3, 22),
        date(2026, 3, 29),
        date(2026, 4, 5),
        date(2026, 4, 12),
    ]
    assert all(o.end - o.start == timedelta(days=1) for o in exp.occurrences)  # type: ignore[operator]


def test_floating_series_is_read_in_the_display_zone() -> None:
    start = datetime(2026, 3, 27, 9, 0, tzinfo=NEW_YORK)  # loaded with whatever zone; floating
    master = series("FREQ=DAILY;COUNT=3", start, tz=None, floating=True)
    result = starts(master, utc(2026, 3, 26), utc(2026, 4, 1))
    assert [s.astimezone(WARSAW).time() for s in result] == [time(9, 0)] * 3
    assert result[2] == utc(2026, 3, 29, 7, 0)


# --- EXDATE, RDATE, overrides -------------------------------------------------------------------


def test_exdate_given_in_utc_removes_the_zoned_instance_by_instant() -> None:
    master = series("FREQ=DAILY;COUNT=5", local(2026, 6, 1, 9), exdates=(utc(2026, 6, 3, 7),))
    result = starts(master, utc(2026, 5, 1), utc(2026, 7, 1))
    assert [s.day for s in result] == [1, 2, 4, 5]


def test_date_exdate_on_a_date_series() -> None:
    master = series("FREQ=DAILY;COUNT=4", date(2026, 6, 1), tz=None, exdates=(date(2026, 6, 2),))
    exp = expand(master, utc(2026, 5, 1), utc(2026, 7, 1), display_tz=WARSAW)
    assert [o.start for o in exp.occurrences] == [
        date(2026, 6, 1),
        date(2026, 6, 3),
        date(2026, 6, 4),
    ]


def test_rdate_adds_an_instance() -> None:
    master = series("FREQ=WEEKLY;COUNT=2", local(2026, 6, 1, 9), rdates=(local(2026, 6, 3, 15),))
    result = starts(master, utc(2026, 5, 1), utc(2026, 7, 1))
    assert result == [local(2026, 6, 1, 9), local(2026, 6, 3, 15), local(2026, 6, 8, 9)]


def test_override_replaces_its_instance_and_may_move_into_or_out_of_the_window() -> None:
    master = series("FREQ=DAILY;COUNT=10", local(2026, 6, 1, 9))
    into = master.with_changes(
        id="o1",
        rrule=None,
        master_id="master",
        recurrence_id=utc(2026, 6, 9, 7),  # instance of 9 June, given in UTC
        start=local(2026, 6, 2, 12),
        end=local(2026, 6, 2, 13),
        title="Moved",
    )
    out_of = master.with_changes(
        id="o2",
        rrule=None,
        master_id="master",
        recurrence_id=local(2026, 6, 2, 9),
        start=local(2026, 6, 20, 9),
        end=local(2026, 6, 20, 10),
    )
    cancelled = master.with_changes(
        id="o3",
        rrule=None,
        master_id="master",
        recurrence_id=local(2026, 6, 3, 9),
        start=local(2026, 6, 3, 9),
        end=local(2026, 6, 3, 10),
        status=AppointmentStatus.CANCELLED,
    )
    exp = expand(
        master, utc(2026, 6, 2), utc(2026, 6, 4), (into, out_of, cancelled), display_tz=WARSAW
    )
    got = [(o.event.id, o.start) for o in exp.occurrences]
    assert got == [("o1", local(2026, 6, 2, 12)), ("o3", local(2026, 6, 3, 9))]
    assert exp.occurrences[0].recurrence_id == local(2026, 6, 9, 9)
    assert exp.occurrences[0].key == ("master", local(2026, 6, 9, 9).isoformat())


def test_until_in_utc_against_a_local_start() -> None:
    # 09:00 Warsaw is 07:00 UTC in summer: UNTIL 07:00Z on 3 June includes that day, 06:59Z not.
    inclusive = series("FREQ=DAILY;UNTIL=20260603T070000Z", local(2026, 6, 1, 9))
    exclusive = series("FREQ=DAILY;UNTIL=20260603T065900Z", local(2026, 6, 1, 9))
    assert len(starts(inclusive, utc(2026, 5, 1), utc(2026, 7, 1))) == 3
    assert len(starts(exclusive, utc(2026, 5, 1), utc(2026, 7, 1))) == 2


def test_count_counts_from_the_series_start_not_the_window() -> None:
    master = series("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5", local(2026, 6, 1, 9))
    result = starts(master, utc(2026, 6, 9), utc(2026, 7, 1))
    assert result == [local(2026, 6, 10, 9), local(2026, 6, 15, 9)]


def test_occurrences_in_window_groups_overrides_by_uid_and_keeps_orphans() -> None:
    master = series("FREQ=DAILY;COUNT=3", local(2026, 6, 1, 9))
    override = master.with_changes(
        id="o1",
        rrule=None,
        recurrence_id=local(2026, 6, 2, 9),
        start=local(2026, 6, 2, 9),
        end=local(2026, 6, 2, 10),
        title="Changed",
    )
    orphan = override.with_changes(
        id="o2",
        uid="other@x",
        start=local(2026, 6, 2, 10),
        end=local(2026, 6, 2, 11),
        title="Orphan",
    )
    single = series(None, local(2026, 6, 2, 8), id="single", uid="s@x", minutes=30)
    bad = series("FREQ=SECONDLY", local(2026, 6, 1, 8), id="bad", uid="b@x")
    occ, warnings = occurrences_in_window(
        [single, orphan, master, override, bad], utc(2026, 6, 1), utc(2026, 6, 4), display_tz=WARSAW
    )
    titles = [o.event.title for o in occ]
    assert titles == ["Therapy", "Therapy", "Therapy", "Changed", "Orphan", "Therapy"]
    assert [o.event.id for o in occ] == ["bad", "master", "single", "o1", "o2", "master"]
    assert occ[4].recurrence_id == local(2026, 6, 2, 9)
    assert len(warnings) == 1 and "more often than daily" in warnings[0]


# --- validation and bounds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",
        "FREQ=HOURLY;INTERVAL=2",
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=FORTNIGHTLY",
        "BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;UNTIL=2026-01-01",
        "FREQ=WEEKLY;UNTIL=20200101T000000Z",
        "FREQ=WEEKLY;RSCALE=HEBREW",
        "FREQ=YEARLY;INTERVAL=1000",
    ],
)
def test_validate_rrule_refuses_with_a_clear_message(rule: str) -> None:
    with pytest.raises(RecurrenceError) as err:
        validate_rrule(rule, local(2026, 6, 1, 9))
    assert str(err.value) and "\n" not in str(err.value)


def test_validate_rrule_accepts_ordinary_rules() -> None:
    validate_rrule("FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20261231T230000Z", local(2026, 6, 1, 9))
    validate_rrule("RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=12", local(2026, 6, 26, 9))
    validate_rrule("FREQ=YEARLY;UNTIL=20300101;X-NAME=1", date(2026, 6, 1))


def test_series_bounds() -> None:
    weekly = series("FREQ=WEEKLY;COUNT=3", local(2026, 6, 1, 9))
    assert series_bounds(weekly) == (utc(2026, 6, 1, 7), utc(2026, 6, 15, 8))
    assert series_bounds(series("FREQ=WEEKLY", local(2026, 6, 1, 9)))[1] is None
    until = series("FREQ=DAILY;UNTIL=20260610T235959Z", local(2026, 6, 1, 9))
    assert series_bounds(until)[1] == utc(2026, 6, 10, 8)
    all_day = series("FREQ=DAILY;COUNT=2", date(2026, 6, 1), tz=None)
    first, last = series_bounds(all_day)
    assert first == datetime(2026, 6, 1, tzinfo=UTC) - timedelta(hours=14)
    assert last == datetime(2026, 6, 3, tzinfo=UTC) + timedelta(hours=14)
    with_rdate = series("FREQ=DAILY;COUNT=2", local(2026, 6, 1, 9), rdates=(local(2026, 8, 1, 9),))
    assert series_bounds(with_rdate)[1] == utc(2026, 8, 1, 8)
    assert series_bounds(series(None, local(2026, 6, 1, 9))) == (
        utc(2026, 6, 1, 7),
        utc(2026, 6, 1, 8),
    )
