"""read_ics on small hand-written files, one per edge case (tests/data/ics)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.errors import IcsError
from carecal.domain.models import AppointmentStatus
from carecal.ical.reader import ParsedCalendar, read_ics

DATA = Path(__file__).resolve().parents[1] / "data" / "ics"
WARSAW = ZoneInfo("Europe/Warsaw")


def read(name: str) -> ParsedCalendar:
    return read_ics((DATA / name).read_bytes(), source=name, calendar_id="cal-1")


def test_floating_time_is_marked_and_keeps_its_clock() -> None:
    (event,) = read("floating_time.ics").events
    assert event.floating and event.tzid is None
    # The UTC tzinfo is a placeholder: only the wall-clock fields count for floating events.
    assert event.start == datetime(2024, 3, 15, 9, 0, tzinfo=UTC)
    assert event.end - event.start == timedelta(minutes=50)


def test_all_day_without_end_lasts_one_day_and_duration_sets_end() -> None:
    parsed = read("all_day.ics")
    by_uid = {e.uid: e for e in parsed.events}
    one = by_uid["allday-no-end@carecal.test"]
    assert (one.start, one.end, one.all_day) == (date(2024, 3, 20), date(2024, 3, 21), True)
    assert one.busy is False
    three = by_uid["allday-duration@carecal.test"]
    assert (three.start, three.end) == (date(2024, 4, 1), date(2024, 4, 4))
    assert parsed.warnings == []


def test_zoned_time_in_dst_gap_keeps_zone_and_wall_clock() -> None:
    (event,) = read("dst_gap.ics").events
    assert event.tzid == "Europe/Warsaw"
    assert event.start.tzinfo == WARSAW
    assert (event.start.hour, event.start.minute) == (2, 30)


def test_override_without_master_is_kept_unlinked() -> None:
    (event,) = read("recurrence_id_without_master.ics").events
    assert event.recurrence_id == datetime(2024, 3, 12, 10, 0, tzinfo=WARSAW)
    assert event.master_id is None
    assert event.sequence == 2


def test_until_of_wrong_kind_is_repaired_and_garbage_until_drops_the_rule() -> None:
    parsed = read("invalid_until.ics")
    by_uid = {e.uid: e for e in parsed.events}
    repaired = by_uid["until-date@carecal.test"].rrule
    assert repaired is not None and "UNTIL=20240401T" in repaired and repaired.endswith("Z")
    assert by_uid["until-garbage@carecal.test"].rrule is None
    assert any("UNTIL" in w for w in parsed.warnings)
    assert all(w.startswith("invalid_until.ics: ") for w in parsed.warnings)


def test_text_fields_status_transp_and_raw() -> None:
    (event,) = read("x_props_valarm_attendee.ics").events
    assert event.title == "Initial assessment"
    assert event.status is AppointmentStatus.SCHEDULED
    assert event.busy
    assert event.reminder_minutes == 30
    assert event.raw is not None and "X-UNUSUAL-THING;X-PARAM=keep:me as I am" in event.raw
    assert "RSVP=\r\n TRUE" in event.raw  # the original fold is kept


def test_crlf_and_lf_files_read_the_same() -> None:
    crlf = read("line_endings_crlf.ics").events[0]
    lf = read("line_endings_lf.ics").events[0]
    assert crlf.title == lf.title == "Same event, two line endings"
    assert crlf.start == lf.start == datetime(2024, 3, 21, 8, 0, tzinfo=UTC)
    assert crlf.raw == lf.raw


def test_folded_lines_are_unfolded_and_duration_gives_end() -> None:
    (event,) = read("folded_lines.ics").events
    assert event.title.endswith("more than one physical line")
    assert event.description == "First line\nSecond line with a tab foldcontinued here"
    assert event.end - event.start == timedelta(minutes=45)


def test_non_utf8_file_reads_with_a_warning() -> None:
    parsed = read("latin1.ics")
    assert parsed.events[0].title == "Séance de kiné à Zürich"
    assert any("not UTF-8" in w for w in parsed.warnings)


def test_windows_zone_name_maps_to_iana() -> None:
    (event,) = read("windows_tzid.ics").events
    assert event.tzid == "Europe/Berlin"
    assert event.start == datetime(2024, 6, 10, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_custom_vtimezone_maps_by_offsets_and_unknown_zone_falls_back_with_warning() -> None:
    parsed = read("custom_vtimezone.ics")
    by_uid = {e.uid: e for e in parsed.events}
    custom = by_uid["custom-tz@carecal.test"]
    assert custom.start.utcoffset() == timedelta(hours=-4)
    assert custom.start.astimezone(UTC) == datetime(2024, 7, 15, 13, 0, tzinfo=UTC)
    assert custom.tzid is not None and custom.tzid.startswith("America/")
    unknown = by_uid["unknown-tz@carecal.test"]
    assert unknown.start == datetime(2024, 7, 16, 9, 0, tzinfo=UTC)
    assert any("Nowhere Standard Time" in w for w in parsed.warnings)


def test_absurd_rules_are_kept_and_read_fast() -> None:
    started = time.perf_counter()
    parsed = read("absurd_rrule.ics")
    assert time.perf_counter() - started < 0.5
    rules = sorted(e.rrule or "" for e in parsed.events)
    assert rules == ["FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY"]


def test_missing_uid_gets_a_stable_one_and_a_warning() -> None:
    first = read("no_uid.ics")
    second = read("no_uid.ics")
    assert first.events[0].uid == second.events[0].uid
    assert first.events[0].uid.startswith("carecal-")
    assert first.events[0].raw == second.events[0].raw
    assert first.events[0].id != second.events[0].id
    assert any("no UID" in w for w in first.warnings)


def test_broken_event_is_skipped_others_kept() -> None:
    parsed = read("broken_vevent_among_good.ics")
    assert [e.uid for e in parsed.events] == ["good-1@carecal.test", "good-2@carecal.test"]
    assert any("VEVENT #2 (UID bad@carecal.test) skipped" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"hello world\n", "not an iCalendar file"),
        (b"\x00\xff\xfe garbage", "not an iCalendar file"),
        (b"BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n", "none of its 1 events"),
        (b"BEGIN:A\n" * 40, "nested"),
    ],
)
def test_unreadable_files_raise_icserror_naming_the_file(data: bytes, problem: str) -> None:
    with pytest.raises(IcsError) as info:
        read_ics(data, source="bad.ics", calendar_id="c")
    assert str(info.value).startswith("bad.ics: ")
    assert problem in str(info.value)


def test_duplicate_uid_keeps_highest_sequence() -> None:
    text = (
        "BEGIN:VCALENDAR\r\n"
        + "".join(
            f"BEGIN:VEVENT\r\nUID:dup\r\nSEQUENCE:{seq}\r\nDTSTART:2024010{seq}T100000Z\r\n"
            "END:VEVENT\r\n"
            for seq in (1, 3, 2)
        )
        + "END:VCALENDAR\r\n"
    )
    parsed = read_ics(text.encode(), source="dup.ics", calendar_id="c")
    assert [e.sequence for e in parsed.events] == [3]
    assert any("more than once" in w for w in parsed.warnings)
