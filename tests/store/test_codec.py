"""Event <-> row conversion round-trips every field exactly, through a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Participant,
    VisitMode,
    new_id,
)
from carecal.store.codec import decode_when, encode_when, recurrence_key
from carecal.store.repo import Repository

WARSAW = ZoneInfo("Europe/Warsaw")
NY = ZoneInfo("America/New_York")


def _same(a: Event, b: Event) -> None:
    """Equal, and every time carries the same zone, offset and fold."""
    assert a == b
    for field in ("start", "end", "recurrence_id"):
        x, y = getattr(a, field), getattr(b, field)
        assert type(x) is type(y)
        if isinstance(x, datetime):
            assert (x.tzinfo, x.utcoffset(), x.fold, x.replace(tzinfo=None)) == (
                y.tzinfo,
                y.utcoffset(),
                y.fold,
                y.replace(tzinfo=None),
            )
    assert [type(v) for v in a.rdates + a.exdates] == [type(v) for v in b.rdates + b.exdates]


def _base(cal_id: str, **fields: object) -> Event:
    start = datetime(2024, 3, 31, 9, 0, tzinfo=WARSAW)
    event = Event(
        id=new_id(),
        calendar_id=cal_id,
        uid=f"{new_id()}@test",
        title="Session",
        start=start,
        end=start + timedelta(minutes=50),
        tzid="Europe/Warsaw",
    )
    return event.with_changes(**fields)


CASES: dict[str, dict[str, object]] = {
    "timed zoned, every practitioner field": dict(
        description="Notes\nwith lines",
        location="Room 1",
        status=AppointmentStatus.NO_SHOW,
        busy=False,
        patient_id="p1",
        service_id="s1",
        mode=VisitMode.VIDEO,
        video_url="https://meet.example/abc",
        price=Decimal("150.50"),
        reminder_minutes=30,
        sequence=3,
        raw="BEGIN:VEVENT\r\nX-FOO:bar\r\nEND:VEVENT\r\n",
    ),
    "utc": dict(
        start=datetime(2024, 1, 1, 23, 30, tzinfo=UTC),
        end=datetime(2024, 1, 2, 0, 30, tzinfo=UTC),
        tzid=None,
    ),
    "fixed offset": dict(
        start=datetime(2024, 1, 1, 10, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        end=datetime(2024, 1, 1, 11, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        tzid=None,
    ),
    "floating": dict(
        floating=True,
        tzid=None,
        start=datetime(2024, 7, 1, 8, 0, tzinfo=WARSAW),
        end=datetime(2024, 7, 1, 9, 0, tzinfo=WARSAW),
    ),
    "all-day across DST": dict(
        all_day=True, tzid=None, start=date(2024, 3, 30), end=date(2024, 4, 2)
    ),
    "second 02:30 of the autumn overlap": dict(
        start=datetime(2024, 10, 27, 2, 30, tzinfo=WARSAW, fold=1),
        end=datetime(2024, 10, 27, 3, 30, tzinfo=WARSAW),
    ),
    "series with rdates and exdates": dict(
        rrule="FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20240630T235959Z",
        rdates=(datetime(2024, 4, 6, 9, tzinfo=WARSAW), datetime(2024, 4, 7, 9, tzinfo=UTC)),
        exdates=(datetime(2024, 4, 3, 9, tzinfo=WARSAW),),
    ),
    "all-day series": dict(
        all_day=True,
        tzid=None,
        start=date(2024, 1, 1),
        end=date(2024, 1, 2),
        rrule="FREQ=YEARLY",
        exdates=(date(2025, 1, 1),),
    ),
    "group with participants": dict(
        capacity=6,
        participants=(
            Participant("p3", Attendance.ATTENDED),
            Participant("p1"),
            Participant("p2", Attendance.NO_SHOW),
        ),
        patient_id=None,
        price=Decimal("0"),
    ),
    "new york": dict(
        start=datetime(2024, 3, 10, 1, 30, tzinfo=NY),
        end=datetime(2024, 3, 10, 3, 30, tzinfo=NY),
        tzid="America/New_York",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_round_trip_table(repo: Repository, name: str) -> None:
    cal = repo.ensure_local_calendar()
    event = _base(cal.id, **CASES[name])
    repo.add_event(event, actor="user")
    _same(repo.get_event(event.id), event)


def test_override_round_trip(repo: Repository) -> None:
    cal = repo.ensure_local_calendar()
    master = _base(cal.id, rrule="FREQ=DAILY;COUNT=10")
    override = master.with_changes(
        id=new_id(),
        rrule=None,
        recurrence_id=datetime(2024, 4, 2, 9, tzinfo=WARSAW),
        master_id=master.id,
        start=datetime(2024, 4, 2, 11, tzinfo=WARSAW),
        end=datetime(2024, 4, 2, 12, tzinfo=WARSAW),
        title="Moved",
    )
    repo.add_event(master, actor="user")
    repo.add_event(override, actor="user")
    got_master, overrides = repo.get_series(master.id)
    _same(got_master, master)
    assert len(overrides) == 1
    _same(overrides[0], override)


def test_recurrence_key_is_the_instant_whatever_the_zone() -> None:
    a = datetime(2024, 5, 6, 9, tzinfo=WARSAW)
    b = datetime(2024, 5, 6, 7, tzinfo=UTC)
    assert recurrence_key(a) == recurrence_key(b)
    assert recurrence_key(date(2024, 5, 6)) == "2024-05-06"
    assert recurrence_key(None) == ""


ZONES = st.sampled_from([WARSAW, NY, ZoneInfo("Australia/Lord_Howe"), UTC, ZoneInfo("UTC")])


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES)
)
def test_encode_decode_datetime_exact(value: datetime) -> None:
    back = decode_when(encode_when(value), WARSAW)
    assert isinstance(back, datetime)
    assert back == value
    assert back.tzinfo is value.tzinfo or back.utcoffset() == value.utcoffset() == timedelta(0)
    assert back.utcoffset() == value.utcoffset()
    assert back.replace(tzinfo=None) == value.replace(tzinfo=None)


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
whens = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(WARSAW)
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=whens,
    minutes=st.integers(0, 60 * 24 * 3),
    title=texts,
    description=texts,
    status=st.sampled_from(AppointmentStatus),
    mode=st.sampled_from(VisitMode),
    price=st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    participants=st.lists(
        st.builds(Participant, st.text("abc", min_size=1, max_size=4), st.sampled_from(Attendance)),
        max_size=4,
    ),
    raw=st.none() | texts,
    floating=st.booleans(),
)
def test_round_trip_property(
    repo: Repository,
    start: datetime,
    minutes: int,
    title: str,
    description: str,
    status: AppointmentStatus,
    mode: VisitMode,
    price: Decimal | None,
    participants: list[Participant],
    raw: str | None,
    floating: bool,
) -> None:
    cal = repo.ensure_local_calendar()
    event = _base(
        cal.id,
        start=start,
        end=start + timedelta(minutes=minutes),
        title=title,
        description=description,
        status=status,
        mode=mode,
        price=price,
        participants=tuple(participants),
        capacity=len(participants) or None,
        raw=raw,
        floating=floating,
    )
    repo.add_event(event, actor="user")
    _same(repo.get_event(event.id), event)
