"""EventService through the real store: validation, scopes, raw patching, undo."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.errors import ReadOnlyCalendar, RecurrenceError, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    EditScope,
    Event,
    Occurrence,
    Participant,
    new_id,
)
from carecal.services.events import EventService
from carecal.services.ics_io import import_file
from carecal.services.session import Session

WARSAW = ZoneInfo("Europe/Warsaw")
MONDAY = date(2025, 3, 10)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WARSAW)


def _event(session: Session, **fields: object) -> Event:
    event_id = new_id()
    base = Event(
        id=event_id,
        calendar_id=session.repo.ensure_local_calendar().id,
        uid=f"{event_id}@tests",
        title="Therapy",
        start=_at(MONDAY, 9),
        end=_at(MONDAY, 9, 50),
        tzid="Europe/Warsaw",
    )
    return base.with_changes(**fields)


def _weeks(session: Session, weeks: int = 4) -> list[Occurrence]:
    start = _at(MONDAY, 0)
    return session.events.occurrences(start, start + timedelta(weeks=weeks))


def _series(session: Session) -> Event:
    master = _event(session, title="Weekly", rrule="FREQ=WEEKLY;COUNT=4")
    session.events.create(master)
    return master


def test_session_first_run_uses_system_zone_and_has_my_practice(session: Session) -> None:
    assert session.repo.settings().display_tz == "Europe/Warsaw"
    assert [c.name for c in session.repo.list_calendars()] == ["My practice"]
    assert session.repo.list_services() == []
    assert (session.data_dir / "carecal.db").is_file()


def test_create_sets_raw_and_validates(session: Session) -> None:
    event = _event(session)
    session.events.create(event)
    stored = session.repo.get_event(event.id)
    assert stored.raw is not None and "SUMMARY:Therapy" in stored.raw
    bad = [
        (_event(session, end=_at(MONDAY, 8)), ValidationError, "after the start"),
        (_event(session, tzid="Mars/Olympus"), ValidationError, "unknown time zone"),
        (_event(session, rrule="FREQ=NEVER"), RecurrenceError, ".+"),
        (
            _event(
                session, capacity=2, participants=tuple(Participant(new_id()) for _ in range(3))
            ),
            ValidationError,
            "capacity",
        ),
    ]
    for candidate, error, words in bad:
        with pytest.raises(error, match=words):
            session.events.create(candidate)


def test_read_only_calendar_is_refused(session: Session) -> None:
    calendar, _ = session.repo.add_calendar("Holidays feed", "#888888", actor="user")
    session.repo.update_calendar(replace(calendar, read_only=True), actor="user")
    with pytest.raises(ReadOnlyCalendar):
        session.events.create(_event(session, calendar_id=calendar.id))


def test_move_this_creates_override_and_leaves_the_rest(session: Session) -> None:
    master = _series(session)
    second = _weeks(session)[1]
    session.events.move(second, second.start + timedelta(hours=2), second.end + timedelta(hours=2))
    occs = _weeks(session)
    assert [o.start for o in occs] == [
        _at(MONDAY, 9),
        _at(MONDAY + timedelta(weeks=1), 11),
        _at(MONDAY + timedelta(weeks=2), 9),
        _at(MONDAY + timedelta(weeks=3), 9),
    ]
    stored_master, overrides = session.repo.get_series(master.id)
    assert stored_master.start == master.start
    assert len(overrides) == 1 and overrides[0].raw and "RECURRENCE-ID" in overrides[0].raw


def test_edit_following_splits_the_series(session: Session) -> None:
    _series(session)
    third = _weeks(session)[2]
    session.events.edit(third, {"title": "Later"}, EditScope.THIS_AND_FOLLOWING)
    titles = [o.event.title for o in _weeks(session)]
    assert titles == ["Weekly", "Weekly", "Later", "Later"]


def test_edit_all_changes_every_occurrence(session: Session) -> None:
    _series(session)
    session.events.edit(_weeks(session)[3], {"title": "Renamed"}, EditScope.ALL)
    assert {o.event.title for o in _weeks(session)} == {"Renamed"}


def test_set_status_on_one_occurrence_makes_an_override(session: Session) -> None:
    _series(session)
    session.events.set_status(_weeks(session)[0], AppointmentStatus.COMPLETED)
    statuses = [o.event.status for o in _weeks(session)]
    assert statuses[0] is AppointmentStatus.COMPLETED
    assert set(statuses[1:]) == {AppointmentStatus.SCHEDULED}
    assert _weeks(session)[0].event.is_override


def test_delete_this_occurrence_and_undo(session: Session) -> None:
    master = _series(session)
    second = _weeks(session)[1]
    _changes, undo = session.events.delete(second, EditScope.THIS)
    assert len(_weeks(session)) == 3
    assert session.repo.get_event(master.id).exdates
    assert undo.revert and undo.revert[0].id == master.id
    session.events.undo(undo)
    assert len(_weeks(session)) == 4
    assert not session.repo.get_event(master.id).exdates


def test_delete_whole_series_and_undo_brings_overrides_back(session: Session) -> None:
    master = _series(session)
    session.events.set_status(_weeks(session)[1], AppointmentStatus.CONFIRMED)
    _changes, undo = session.events.delete(_weeks(session)[0], EditScope.ALL)
    assert _weeks(session) == []
    session.events.undo(undo)
    occs = _weeks(session)
    assert len(occs) == 4 and occs[1].event.status is AppointmentStatus.CONFIRMED
    assert session.repo.get_event(master.id).title == "Weekly"


def test_delete_single_and_undo_keeps_its_id(session: Session) -> None:
    event = _event(session)
    session.events.create(event)
    occ = _weeks(session)[0]
    _changes, undo = session.events.delete(occ, EditScope.THIS)
    assert _weeks(session) == []
    session.events.undo(undo)
    assert [o.event.id for o in _weeks(session)] == [event.id]


def test_raw_keeps_unknown_properties_after_an_edit(session: Session, tmp_path: Path) -> None:
    ics = tmp_path / "one.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\nBEGIN:VEVENT\r\n"
        "UID:keep-1@tests\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART;TZID=Europe/Warsaw:20250310T090000\r\n"
        "DTEND;TZID=Europe/Warsaw:20250310T100000\r\nSUMMARY:Imported\r\n"
        "X-CUSTOM-FLAG:blue\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\n"
        "TRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    calendar_id = session.repo.ensure_local_calendar().id
    report = import_file(session.repo, ics, calendar_id, actor="import")
    assert (report.added, report.warnings) == (1, [])
    occ = _weeks(session, 1)[0]
    session.events.move(occ, _at(MONDAY, 12), _at(MONDAY, 13))
    session.events.edit(_weeks(session, 1)[0], {"title": "Edited"}, EditScope.THIS)
    stored = session.repo.find_by_uid(calendar_id, "keep-1@tests")[0]
    assert stored.title == "Edited" and stored.start == _at(MONDAY, 12)
    assert stored.raw is not None
    assert "X-CUSTOM-FLAG:blue" in stored.raw
    assert "BEGIN:VALARM" in stored.raw
    assert "SUMMARY:Edited" in stored.raw
    assert "SUMMARY:Imported" not in stored.raw


def test_double_bookings_across_calendars(session: Session) -> None:
    other, _ = session.repo.add_calendar("Personal", "#f97316", actor="user")
    first = _event(session)
    second = _event(session, calendar_id=other.id, start=_at(MONDAY, 9, 30), end=_at(MONDAY, 10))
    touching = _event(session, start=_at(MONDAY, 10), end=_at(MONDAY, 11))
    for e in (first, second, touching):
        session.events.create(e)
    doubles = session.events.double_bookings(_weeks(session, 1))
    assert {key[0] for key in doubles} == {first.id, second.id}


def test_service_without_actor_change_keeps_actor(session: Session) -> None:
    service = EventService(session.repo, actor="kiosk")
    event = _event(session)
    service.create(event)
    assert session.repo.audit.entries(limit=1)[0].actor == "kiosk"


def test_move_with_undo_puts_the_single_back(session: Session) -> None:
    event = _event(session)
    session.events.create(event)
    _changes, undo = session.events.move_with_undo(
        _weeks(session, 1)[0], _at(MONDAY, 15), _at(MONDAY, 15, 50)
    )
    assert session.repo.get_event(event.id).start == _at(MONDAY, 15)
    session.events.undo(undo)
    assert session.repo.get_event(event.id).start == _at(MONDAY, 9)
