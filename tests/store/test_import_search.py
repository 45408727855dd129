"""Idempotent import (by calendar, uid, recurrence id) and full-text search."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from carecal.domain.errors import StoreError
from carecal.domain.models import Calendar, Event, Participant, Patient, new_id
from carecal.store.repo import Repository
from tests.store.conftest import WARSAW, make_event

MON = datetime(2024, 5, 6, 9, 0, tzinfo=WARSAW)


def _series(cal: Calendar) -> tuple[Event, Event]:
    master = make_event(cal.id, MON, rrule="FREQ=WEEKLY", raw="BEGIN:VEVENT\nA\nEND:VEVENT")
    override = master.with_changes(
        id=new_id(),
        rrule=None,
        recurrence_id=MON + timedelta(days=7),
        start=MON + timedelta(days=8),
        end=MON + timedelta(days=8, minutes=50),
        raw="BEGIN:VEVENT\nB\nEND:VEVENT",
    )
    return master, override


def _fresh_ids(events: list[Event]) -> list[Event]:
    """What a second read of the same file gives: same content, new local ids."""
    return [e.with_changes(id=new_id()) for e in events]


def test_import_twice_adds_nothing(repo: Repository, cal: Calendar) -> None:
    master, override = _series(cal)
    singles = [make_event(cal.id, MON + timedelta(hours=i), raw=f"RAW{i}") for i in range(1, 4)]
    # The override comes first: the master arriving later in the batch is still linked.
    batch = [override, *singles, master]
    first = repo.import_events(batch, cal.id, actor="import")
    assert (first.added, first.updated, first.unchanged) == (5, 0, 0)
    _stored_master, overrides = repo.get_series(master.id)
    assert [o.id for o in overrides] == [override.id]
    assert overrides[0].master_id == master.id

    again = repo.import_events(_fresh_ids(batch), cal.id, actor="import")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert repo._db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 5

    changed = [*_fresh_ids(batch)]
    changed[1] = changed[1].with_changes(title="Changed", raw="RAW1-changed")
    third = repo.import_events(changed, cal.id, actor="import")
    assert (third.added, third.updated, third.unchanged) == (0, 1, 4)
    assert repo.get_event(singles[0].id).title == "Changed"  # local id kept
    entry = repo.audit.entries(limit=1)[0]
    assert entry.action == "import"
    assert entry.after["updated"] == [singles[0].id]
    assert entry.before[singles[0].id]["summary"] == "Session"


def test_override_imported_before_its_master_in_another_file(
    repo: Repository, cal: Calendar
) -> None:
    master, override = _series(cal)
    repo.import_events([override], cal.id, actor="import")
    assert repo.get_event(override.id).master_id is None
    repo.import_events([master], cal.id, actor="import")
    assert repo.get_event(override.id).master_id == master.id
    window = repo.events_in_window(MON + timedelta(days=7), MON + timedelta(days=9))
    assert {e.id for e in window} == {master.id, override.id}


def test_import_is_atomic(repo: Repository, cal: Calendar) -> None:
    repo._db.execute(
        "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
    )
    events = [make_event(cal.id, MON + timedelta(hours=i)) for i in range(10)]
    with pytest.raises(StoreError):
        repo.import_events(events, cal.id, actor="import")
    assert repo._db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert repo._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0


def test_imported_event_with_id_already_used_gets_a_fresh_id(
    repo: Repository, cal: Calendar
) -> None:
    a = make_event(cal.id, MON)
    repo.add_event(a, actor="user")
    clash = make_event(cal.id, MON).with_changes(id=a.id)
    repo.import_events([clash], cal.id, actor="import")
    found = repo.find_by_uid(cal.id, clash.uid)
    assert len(found) == 1 and found[0].id != a.id


def test_search_titles_notes_locations_and_patient_names(repo: Repository, cal: Calendar) -> None:
    repo.add_patient(Patient("p1", "Zofia", "Wiśniewska"), actor="user")
    e1 = make_event(cal.id, MON, title="Physiotherapy", patient_id="p1")
    e2 = make_event(cal.id, MON, description="Bring the MRI scan", location="Room 4")
    e3 = make_event(cal.id, MON, title="Back school", capacity=4, participants=(Participant("p2"),))
    for e in (e1, e2, e3):
        repo.add_event(e, actor="user")
    assert [e.id for e in repo.search_events("physio")] == [e1.id]
    assert [e.id for e in repo.search_events("wisniew")] == [e1.id]
    assert [e.id for e in repo.search_events("mri")] == [e2.id]
    assert [e.id for e in repo.search_events("room 4")] == [e2.id]
    assert repo.search_events('"unbalanced AND (') == []
    assert repo.search_events("   ") == []
    # A participant added to the patients list after the event is found by name.
    repo.add_patient(Patient("p2", "Jan", "Kowalski"), actor="user")
    assert [e.id for e in repo.search_events("kowalski")] == [e3.id]
    # Renaming a patient re-indexes their events; deleting an event removes it.
    repo.update_patient(Patient("p1", "Zofia", "Nowak"), actor="user")
    assert [e.id for e in repo.search_events("nowak")] == [e1.id]
    assert repo.search_events("wisniewska") == []
    repo.delete_event(e1.id, actor="user")
    assert repo.search_events("physio") == []
