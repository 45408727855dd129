"""event_to_vevent and write_ics: patches keep unmodeled data; own fields round-trip."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Participant,
    VisitMode,
    new_id,
)
from carecal.ical.reader import read_ics
from carecal.ical.writer import event_to_vevent, write_ics

DATA = Path(__file__).resolve().parents[1] / "data" / "ics"
WARSAW = ZoneInfo("Europe/Warsaw")


def _rich() -> Event:
    data = (DATA / "x_props_valarm_attendee.ics").read_bytes()
    return read_ics(data, source="rich.ics", calendar_id="c").events[0]


def _unfold(text: str) -> str:
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def _without(event: Event) -> Event:
    return replace(event, id="", raw=None)


def test_unchanged_event_keeps_every_source_line() -> None:
    event = _rich()
    assert event.raw is not None
    out = event_to_vevent(event)
    source_lines = event.raw.split("\r\n")
    assert [line for line in out.split("\r\n") if line in source_lines] == source_lines
    assert out.count("\r\n") == event.raw.count("\r\n") + 1  # plus X-CARECAL-ID only
    assert f"X-CARECAL-ID:{event.id}" in out


def test_changed_title_and_time_rewrite_only_those_properties() -> None:
    event = _rich()
    moved = event.with_changes(
        title="Follow-up, room 2",
        start=datetime(2024, 3, 19, 9, 0, tzinfo=WARSAW),
        end=datetime(2024, 3, 19, 9, 50, tzinfo=WARSAW),
    )
    out = event_to_vevent(moved)
    flat = _unfold(out)
    assert "SUMMARY:Follow-up\\, room 2" in flat
    assert "DTSTART;TZID=Europe/Warsaw:20240319T090000" in flat
    assert "DTEND;TZID=Europe/Warsaw:20240319T095000" in flat
    assert "Initial assessment" not in flat
    for kept in (
        'ATTENDEE;CN="Ann Example";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=\r\n TRUE;'
        "X-NUM-GUESTS=0:mailto:ann@example.org",
        'ORGANIZER;CN="Front Desk":mailto:desk@clinic.example',
        "X-MOZ-GENERATION:3",
        "X-UNUSUAL-THING;X-PARAM=keep:me as I am",
        "CATEGORIES:Assessment,First visit",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\nTRIGGER:-PT30M\r\n"
        "X-WR-ALARMUID:alarm-1\r\nEND:VALARM",
        "DTSTAMP:20240101T000000Z",
    ):
        assert kept in out
    again = read_ics(write_ics([moved]), source="x", calendar_id="c").events[0]
    assert again.title == "Follow-up, room 2"
    assert again.start == moved.start and again.reminder_minutes == 30


def test_changed_reminder_patches_only_the_trigger() -> None:
    out = event_to_vevent(_rich().with_changes(reminder_minutes=10))
    assert "TRIGGER:-PT10M\r\nX-WR-ALARMUID:alarm-1" in out
    assert out.count("BEGIN:VALARM") == 1
    removed = event_to_vevent(_rich().with_changes(reminder_minutes=None))
    assert "BEGIN:VALARM" not in removed and "X-MOZ-GENERATION:3" in removed


def test_duration_is_replaced_by_dtend_when_times_change() -> None:
    data = (DATA / "folded_lines.ics").read_bytes()
    event = read_ics(data, source="f.ics", calendar_id="c").events[0]
    later = event.with_changes(
        start=event.start + timedelta(hours=1), end=event.end + timedelta(hours=2)
    )
    out = event_to_vevent(later)
    assert "DURATION" not in out and "DTEND:20240322T104500Z" in out
    assert "A title long enough that a careful producer folds it over more than\r\n  one" in out


def _own_event(**changes: object) -> Event:
    base = Event(
        id=new_id(),
        calendar_id="c",
        uid="own-fields@carecal.test",
        title="Group therapy",
        start=datetime(2024, 3, 18, 17, 0, tzinfo=WARSAW),
        end=datetime(2024, 3, 18, 18, 30, tzinfo=WARSAW),
        tzid="Europe/Warsaw",
        description="Bring: mat; water, towel\nSecond line",
        location="Room 3",
        status=AppointmentStatus.NO_SHOW,
        busy=True,
        rrule="FREQ=WEEKLY;COUNT=10",
        exdates=(datetime(2024, 3, 25, 17, 0, tzinfo=WARSAW),),
        rdates=(datetime(2024, 4, 30, 17, 0, tzinfo=WARSAW),),
        patient_id="patient-1",
        participants=(
            Participant("patient-1", Attendance.ATTENDED),
            Participant("patient-2", Attendance.NO_SHOW),
        ),
        capacity=8,
        service_id="service-group",
        mode=VisitMode.VIDEO,
        video_url="https://meet.example/room?id=1;x=2",
        price=Decimal("120.50"),
        reminder_minutes=15,
        sequence=4,
    )
    return base.with_changes(**changes)


def test_own_fields_round_trip_through_a_file() -> None:
    event = _own_event()
    (back,) = read_ics(write_ics([event]), source="own.ics", calendar_id="c").events
    assert _without(back) == _without(event)
    assert back.raw is not None and "X-CARECAL-PARTICIPANT:patient-2\\;no_show" in _unfold(back.raw)


def test_all_day_floating_and_utc_events_round_trip() -> None:
    events = [
        _own_event(
            uid="a",
            start=date(2024, 5, 1),
            end=date(2024, 5, 3),
            all_day=True,
            tzid=None,
            rrule=None,
            exdates=(date(2024, 5, 2),),
            rdates=(),
        ),
        _own_event(
            uid="f",
            floating=True,
            tzid=None,
            rrule=None,
            exdates=(),
            rdates=(),
            start=datetime(2024, 5, 1, 9, tzinfo=UTC),
            end=datetime(2024, 5, 1, 10, tzinfo=UTC),
        ),
        _own_event(
            uid="u",
            tzid="UTC",
            rrule=None,
            exdates=(),
            rdates=(),
            start=datetime(2024, 5, 1, 9, tzinfo=UTC),
            end=datetime(2024, 5, 1, 10, tzinfo=UTC),
        ),
    ]
    back = read_ics(write_ics(events), source="mix.ics", calendar_id="c").events
    assert [_without(e) for e in back] == [_without(e) for e in events]


def test_overrides_follow_their_master_and_zones_are_described() -> None:
    master = _own_event()
    override = _own_event(
        id=new_id(),
        rrule=None,
        exdates=(),
        rdates=(),
        recurrence_id=datetime(2024, 4, 1, 17, 0, tzinfo=WARSAW),
        start=datetime(2024, 4, 1, 18, 0, tzinfo=WARSAW),
        end=datetime(2024, 4, 1, 19, 0, tzinfo=WARSAW),
    )
    other = _own_event(
        uid="other",
        rrule=None,
        exdates=(),
        rdates=(),
        start=datetime(2024, 4, 2, 9, tzinfo=ZoneInfo("America/New_York")),
        end=datetime(2024, 4, 2, 10, tzinfo=ZoneInfo("America/New_York")),
        tzid="America/New_York",
    )
    text = write_ics([override, other, master]).decode()
    assert text.index("UID:own-fields") < text.index("RECURRENCE-ID") < text.index("UID:other")
    assert text.count("BEGIN:VTIMEZONE") == 2
    assert "TZID:Europe/Warsaw" in text and "TZID:America/New_York" in text
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Carecal//Carecal//EN")
    back = read_ics(text.encode(), source="x", calendar_id="c").events
    assert [e.uid for e in back] == ["own-fields@carecal.test", "own-fields@carecal.test", "other"]


_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=40, deadline=None)
@given(
    title=_text, description=st.text(max_size=60).filter(lambda s: "\r" not in s), location=_text
)
def test_any_text_round_trips(title: str, description: str, location: str) -> None:
    event = _own_event(title=title, description=description, location=location)
    (back,) = read_ics(write_ics([event]), source="t.ics", calendar_id="c").events
    # TEXT cannot hold control characters but tab and newline; the writer drops only those.
    expected = _CONTROL.sub("", description)
    assert (back.title, back.description, back.location) == (title, expected, location)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def test_control_characters_are_dropped_not_the_whole_text() -> None:
    event = _own_event(title="Session\x07", description="line one\x00\nline\ttwo")
    text = event_to_vevent(event)
    assert "\x00" not in text and "\x07" not in text
    (back,) = read_ics(write_ics([event]), source="t.ics", calendar_id="c").events
    assert (back.title, back.description) == ("Session", "line one\nline\ttwo")


def test_floating_event_loaded_in_display_zone_is_not_rewritten() -> None:
    data = (DATA / "floating_time.ics").read_bytes()
    event = read_ics(data, source="f.ics", calendar_id="c").events[0]
    assert event.raw is not None
    shown = event.with_changes(
        start=event.start.replace(tzinfo=WARSAW), end=event.end.replace(tzinfo=WARSAW)
    )
    out = event_to_vevent(shown)
    assert out.startswith(event.raw.removesuffix("END:VEVENT\r\n"))
    assert "DTSTART:20240315T090000\r\n" in out
