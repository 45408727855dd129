"""Window queries return lean Events (no ``raw``), decoded fast and cached safely.

Every code path that writes an event back loads its ``raw`` again, so what Carecal does not model
(X- properties, alarms) survives edits of events obtained from a window query.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.errors import StoreError
from carecal.domain.models import EditScope, Event, Settings
from carecal.services.events import EventService
from carecal.services.ics_io import export_file, import_file
from carecal.store.codec import EVENT_FIELDS, event_values, row_to_event
from carecal.store.db import Database
from carecal.store.decode import LEAN_FIELDS, RowDecoder
from carecal.store.repo import Repository
from tests.store.conftest import Clock, make_event
from tests.store.test_codec import CASES, _base, _same

WARSAW = ZoneInfo("Europe/Warsaw")
WEEK = (datetime(2025, 3, 10, tzinfo=WARSAW), datetime(2025, 3, 17, tzinfo=WARSAW))


@pytest.mark.parametrize("name", list(CASES))
def test_fast_decoder_agrees_with_the_reference(name: str) -> None:
    event = _base("cal", **CASES[name])
    row = event_values(event)
    reference = row_to_event(dict(zip(EVENT_FIELDS, row, strict=True)), event.participants, WARSAW)
    decoder = RowDecoder(EVENT_FIELDS, WARSAW)
    _same(decoder.decode(row, event.participants), reference)
    _same(decoder.decode(row, event.participants), event)  # memoised times, same answer
    lean = RowDecoder(LEAN_FIELDS, WARSAW)
    by_name = dict(zip(EVENT_FIELDS, row, strict=True))
    lean_row = tuple(by_name[c] for c in LEAN_FIELDS)
    _same(lean.decode(lean_row, event.participants), event.with_changes(raw=None))


def test_decoder_needs_every_event_field_and_reports_bad_rows() -> None:
    with pytest.raises(ValueError, match="summary"):
        RowDecoder([c for c in EVENT_FIELDS if c != "summary"], WARSAW)
    row = list(event_values(_base("cal")))
    row[EVENT_FIELDS.index("status")] = "no such status"
    with pytest.raises(StoreError, match="cannot be read"):
        RowDecoder(EVENT_FIELDS, WARSAW).decode(row)


@pytest.mark.parametrize("name", list(CASES))
def test_window_events_are_whole_but_for_raw(repo: Repository, name: str) -> None:
    cal = repo.ensure_local_calendar()
    fields = {"raw": "BEGIN:VEVENT\r\nX-KEEP:1\r\nEND:VEVENT\r\n", **CASES[name]}
    event = _base(cal.id, **fields)
    repo.add_event(event, actor="user")
    start = datetime(2023, 12, 1, tzinfo=WARSAW)
    found = [
        e for e in repo.events_in_window(start, start + timedelta(days=400)) if e.id == event.id
    ]
    assert len(found) == 1
    _same(found[0], event.with_changes(raw=None))
    whole = repo.events_in_window(start, start + timedelta(days=400), with_raw=True)
    _same(next(e for e in whole if e.id == event.id), event)
    assert repo.get_event(event.id).raw == event.raw


def _titles(repo: Repository) -> list[str]:
    return sorted(e.title for e in repo.events_in_window(*WEEK))


def test_cache_follows_own_writes_and_rollbacks(repo: Repository) -> None:
    cal = repo.ensure_local_calendar()
    event = make_event(cal.id, WEEK[0] + timedelta(hours=9))
    repo.add_event(event, actor="user")
    assert _titles(repo) == ["Session"]
    assert repo.events_in_window(*WEEK)[0] is repo.events_in_window(*WEEK)[0]  # cached
    repo.update_event(event.with_changes(title="Renamed"), actor="user")
    assert _titles(repo) == ["Renamed"]
    with pytest.raises(RuntimeError), repo._db.transaction():
        repo.update_event(event.with_changes(title="Never"), actor="user")
        assert _titles(repo) == ["Never"]  # read inside the transaction: not cached
        raise RuntimeError("roll back")
    assert _titles(repo) == ["Renamed"]
    repo.delete_event(event.id, actor="user")
    assert _titles(repo) == []


def test_cache_sees_writes_of_another_connection(repo: Repository, db: Database) -> None:
    cal = repo.ensure_local_calendar()
    event = make_event(cal.id, WEEK[0] + timedelta(hours=9))
    repo.add_event(event, actor="user")
    assert _titles(repo) == ["Session"]
    other_db = Database.open(db.path)
    try:
        other = Repository(other_db, clock=Clock())
        other.update_event(event.with_changes(title="From elsewhere"), actor="user")
    finally:
        other_db.close()
    assert _titles(repo) == ["From elsewhere"]


def test_cache_follows_the_display_zone_of_floating_events(repo: Repository) -> None:
    cal = repo.ensure_local_calendar()
    start = WEEK[0] + timedelta(days=2, hours=9)
    event = make_event(cal.id, start, floating=True, tzid=None)
    repo.add_event(event, actor="user")
    assert repo.events_in_window(*WEEK)[0].start.tzinfo is WARSAW
    repo.save_settings(Settings(display_tz="America/New_York"), actor="user")
    moved = repo.events_in_window(*WEEK)[0].start
    assert moved.tzinfo is ZoneInfo("America/New_York") and moved.hour == 9


_ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:single@tests\r\nDTSTAMP:20250101T000000Z\r\n"
    "DTSTART;TZID=Europe/Warsaw:20250311T090000\r\nDTEND;TZID=Europe/Warsaw:20250311T100000\r\n"
    "SUMMARY:Single\r\nX-CUSTOM-FLAG:single\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:series@tests\r\nDTSTAMP:20250101T000000Z\r\n"
    "DTSTART;TZID=Europe/Warsaw:20250303T120000\r\nDTEND;TZID=Europe/Warsaw:20250303T130000\r\n"
    "RRULE:FREQ=WEEKLY\r\nSUMMARY:Series\r\nX-CUSTOM-FLAG:series\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize("scope", [EditScope.THIS, EditScope.ALL])
def test_edits_of_window_events_keep_unmodelled_properties(
    repo: Repository, tmp_path: Path, scope: EditScope
) -> None:
    cal = repo.ensure_local_calendar()
    ics = tmp_path / "in.ics"
    ics.write_text(_ICS, encoding="utf-8", newline="")
    assert import_file(repo, ics, cal.id, actor="import").added == 2
    service = EventService(repo, actor="user")
    occs = service.occurrences(*WEEK)
    assert {o.event.title for o in occs} == {"Single", "Series"}
    assert all(o.event.raw is None for o in occs)  # lean: the window never carried raw

    single = next(o for o in occs if o.event.title == "Single")
    service.edit(single, {"title": "Single edited"}, scope)
    series = next(o for o in occs if o.event.title == "Series")
    service.edit(series, {"title": "Series edited"}, scope)
    # ``update`` of a lean event straight from the window also patches the stored raw.
    again = next(o for o in service.occurrences(*WEEK) if o.event.title == "Single edited")
    service.update(again.event.with_changes(location="Room 2"))

    stored = {e.uid: e for e in repo.events_in_window(*WEEK, with_raw=True)}
    # The master (first) keeps its source text whatever the scope; THIS adds an override.
    rows = repo.find_by_uid(cal.id, "series@tests")
    assert len(rows) == (2 if scope is EditScope.THIS else 1)
    master_raw = rows[0].raw or ""
    assert "X-CUSTOM-FLAG:series" in master_raw and "BEGIN:VALARM" in master_raw
    if scope is EditScope.ALL:
        assert "SUMMARY:Series edited" in master_raw
    else:
        assert rows[1].title == "Series edited" and rows[1].raw
    single_raw = stored["single@tests"].raw or ""
    assert "X-CUSTOM-FLAG:single" in single_raw and "SUMMARY:Single edited" in single_raw
    assert "LOCATION:Room 2" in single_raw

    out = tmp_path / "out.ics"
    export_file(repo, out, start=WEEK[0], end=WEEK[1])
    text = out.read_text(encoding="utf-8")
    assert "X-CUSTOM-FLAG:single" in text and "X-CUSTOM-FLAG:series" in text
    assert "BEGIN:VALARM" in text


def test_window_event_values_are_shared_not_copied(repo: Repository) -> None:
    cal = repo.ensure_local_calendar()
    start = WEEK[0] + timedelta(hours=9)
    for _ in range(3):
        repo.add_event(make_event(cal.id, start), actor="user")
    events: list[Event] = repo.events_in_window(*WEEK)
    assert len(events) == 3
    # Times are immutable, so equal texts decode to one shared value.
    assert events[0].start is events[1].start is events[2].start


def test_decoded_events_behave_as_constructed_ones() -> None:
    event = _base("cal", **CASES["group with participants"])
    decoded = RowDecoder(EVENT_FIELDS, WARSAW).decode(event_values(event), event.participants)
    assert type(decoded) is Event and decoded == event and hash(decoded) == hash(event)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.title = "changed"  # type: ignore[misc]
    assert decoded.with_changes(title="x").title == "x" and decoded.is_group
