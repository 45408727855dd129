"""Working hours, breaks, buffers and busy time -> free slots; double-booking detection."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from carecal.domain.availability import free_slots, working_intervals
from carecal.domain.models import (
    AppointmentStatus,
    Break,
    Occurrence,
    Participant,
    ServiceType,
    WorkingHours,
)
from carecal.domain.overlap import busy_intervals, find_double_bookings
from tests.domain.builders import WARSAW, local, series, utc

MONDAY = date(2026, 6, 1)
HOURS = [
    WorkingHours("h1", 0, time(9), time(13)),
    WorkingHours("h2", 0, time(14), time(17), valid_to=date(2026, 6, 30)),
    WorkingHours("h3", 0, time(14), time(18), valid_from=date(2026, 7, 1)),
    WorkingHours("h4", 6, time(0, 0), time(6, 0)),  # Sundays, night shift to test DST
]
LUNCH = Break("b1", time(11), time(11, 30), weekday=0)
SESSION = ServiceType("s1", "Session", duration_minutes=50, buffer_minutes=10)


def starts(slots: list[tuple[datetime, datetime]]) -> list[str]:
    return [s.astimezone(WARSAW).strftime("%H:%M") for s, _ in slots]


def test_working_intervals_respect_valid_dates_and_breaks() -> None:
    june = working_intervals(MONDAY, HOURS, [LUNCH], WARSAW)
    assert june == [
        (local(2026, 6, 1, 9), local(2026, 6, 1, 11)),
        (local(2026, 6, 1, 11, 30), local(2026, 6, 1, 13)),
        (local(2026, 6, 1, 14), local(2026, 6, 1, 17)),
    ]
    july = working_intervals(date(2026, 7, 6), HOURS, [LUNCH], WARSAW)
    assert july[-1] == (local(2026, 7, 6, 14), local(2026, 7, 6, 18))
    one_day = Break("b2", time(15), time(18), on_date=date(2026, 7, 6))
    assert working_intervals(date(2026, 7, 6), HOURS, [LUNCH, one_day], WARSAW)[-1] == (
        local(2026, 7, 6, 14),
        local(2026, 7, 6, 15),
    )
    assert working_intervals(date(2026, 6, 2), HOURS, [LUNCH], WARSAW) == []


def test_free_slots_use_duration_buffer_alignment_and_busy_time() -> None:
    busy = [(local(2026, 6, 1, 9, 30), local(2026, 6, 1, 10, 20))]
    slots = free_slots(MONDAY, SESSION, HOURS, [LUNCH], busy, WARSAW, slot_minutes=15)
    # 09:00 clashes with the 09:30 visit; the aligned 10:30 would run into lunch (11:00).
    assert starts(slots) == [
        "11:30",
        "11:45",
        "12:00",
        "14:00",
        "14:15",
        "14:30",
        "14:45",
        "15:00",
        "15:15",
        "15:30",
        "15:45",
        "16:00",
    ]
    assert all(e - s == timedelta(minutes=50) for s, e in slots)
    touching = [(local(2026, 6, 1, 14), local(2026, 6, 1, 15))]
    after = free_slots(MONDAY, SESSION, HOURS, [], touching, WARSAW, slot_minutes=30)
    assert "15:00" in starts(after) and "14:30" not in starts(after)


def test_slots_before_now_are_dropped() -> None:
    slots = free_slots(MONDAY, SESSION, HOURS, [LUNCH], [], WARSAW, now=local(2026, 6, 1, 15, 5))
    assert starts(slots) == ["15:15", "15:30", "15:45", "16:00"]


def test_free_slots_on_the_spring_dst_day_keep_local_times() -> None:
    sunday = date(2026, 3, 29)  # 02:00 -> 03:00 in Europe/Warsaw
    hour = ServiceType("s2", "Hour", duration_minutes=60)
    slots = free_slots(sunday, hour, HOURS, [], [], WARSAW, slot_minutes=60)
    # 00:00-06:00 local is only five real hours on this day
    assert starts(slots) == ["00:00", "01:00", "03:00", "04:00", "05:00"]
    # elapsed time in UTC: Python subtracts datetimes sharing a tzinfo on the wall clock
    assert all(e.astimezone(UTC) - s.astimezone(UTC) == timedelta(hours=1) for s, e in slots)
    work = working_intervals(sunday, HOURS, [], WARSAW)
    assert work[0][1].astimezone(UTC) - work[0][0].astimezone(UTC) == timedelta(hours=5)
    day_hours = [WorkingHours("x", 6, time(9), time(12))]
    nine = free_slots(sunday, hour, day_hours, [], [], WARSAW, slot_minutes=60)
    assert nine[0][0] == utc(2026, 3, 29, 7)  # 09:00 CEST


def test_busy_intervals_skip_free_cancelled_and_all_day_unless_asked() -> None:
    visit = series(None, local(2026, 6, 1, 9), minutes=50, id="a")
    free = series(None, local(2026, 6, 1, 10), id="b", busy=False)
    cancelled = series(None, local(2026, 6, 1, 11), id="c", status=AppointmentStatus.CANCELLED)
    holiday = series(None, date(2026, 6, 2), id="d", tz=None)
    occ = [Occurrence(e, e.start, e.end) for e in (visit, free, cancelled, holiday)]
    assert busy_intervals(occ) == [(local(2026, 6, 1, 9), local(2026, 6, 1, 9, 50))]
    assert busy_intervals(occ, tz=WARSAW)[-1] == (local(2026, 6, 2, 0), local(2026, 6, 3, 0))


def test_double_bookings_across_calendars_but_not_group_sessions() -> None:
    a = series(None, local(2026, 6, 1, 9), id="a", calendar_id="work")
    b = series(None, local(2026, 6, 1, 9, 30), id="b", calendar_id="private")
    touching = series(None, local(2026, 6, 1, 10, 30), id="c")  # starts when b ends
    group = series(
        None,
        local(2026, 6, 1, 12),
        id="g",
        capacity=6,
        participants=(Participant("p1"), Participant("p2"), Participant("p3")),
    )
    cancelled = series(None, local(2026, 6, 1, 12), id="x", status=AppointmentStatus.CANCELLED)
    free = series(None, local(2026, 6, 1, 12, 15), id="f", busy=False)
    all_day = series(None, date(2026, 6, 1), id="d", tz=None)
    occ = [Occurrence(e, e.start, e.end) for e in (a, b, touching, group, cancelled, free, all_day)]
    occ.append(Occurrence(group, group.start, group.end))  # the same session listed twice
    assert find_double_bookings(occ) == {("a", ""), ("b", "")}


def test_free_slots_on_the_autumn_dst_day_count_the_repeated_hour() -> None:
    sunday = date(2026, 10, 25)  # 03:00 -> 02:00 in Europe/Warsaw: 00:00-06:00 is seven hours
    hour = ServiceType("s2", "Hour", duration_minutes=60)
    slots = free_slots(sunday, hour, HOURS, [], [], WARSAW, slot_minutes=60)
    assert starts(slots) == ["00:00", "01:00", "02:00", "02:00", "03:00", "04:00", "05:00"]
    assert [s.utcoffset() for s, _ in slots][2:4] == [timedelta(hours=2), timedelta(hours=1)]
    busy = [(utc(2026, 10, 25, 1), utc(2026, 10, 25, 2))]  # the second 02:00-03:00 (winter)
    taken = free_slots(sunday, hour, HOURS, [], busy, WARSAW, slot_minutes=60)
    assert starts(taken) == ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"]
