"""Schema versions: fresh databases, upgrades from version 1, refusing newer databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from carecal.domain.errors import StoreError
from carecal.store import migrations
from carecal.store.db import Database, connect
from carecal.store.repo import Repository


def test_fresh_database_reaches_latest_version_with_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "carecal.sqlite3"
    db = Database.open(path)
    try:
        assert path.exists()
        assert db.schema_version == migrations.LATEST_VERSION >= 2
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    finally:
        db.close()


def test_opening_twice_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    Database.open(path).close()
    db = Database.open(path)
    rows = db.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    db.close()
    assert [r[0] for r in rows] == list(range(1, migrations.LATEST_VERSION + 1))


def _fill_version_1(path: Path) -> None:
    pw = connect(path)
    assert migrations.migrate(pw, target=1) == 1
    run = pw.execute_sql
    run("INSERT INTO accounts VALUES ('local', 'local', 'On this computer', '{}', '2024-01-01')")
    run(
        "INSERT INTO calendars (id, account_id, name, color, created_at) "
        "VALUES ('cal1', 'local', 'My practice', '#123456', '2024-01-01')"
    )
    run(
        "INSERT INTO patients (id, first_name, last_name, created_at, updated_at) "
        "VALUES ('p1', 'Zofia', 'Wiśniewska', '2024-01-01', '2024-01-01')"
    )
    run(
        "INSERT INTO events (id, calendar_id, uid, kind, start_text, end_text, tzid, start_utc, "
        "end_utc, summary, description, location, status, mode, patient_id, created_at, "
        "updated_at) VALUES ('e1', 'cal1', 'u1@x', 0, "
        "'2024-05-06T09:00:00+02:00[Europe/Warsaw]', '2024-05-06T09:50:00+02:00[Europe/Warsaw]', "
        "'Europe/Warsaw', 1714978800, 1714981800, 'Physiotherapy', 'knee exercises', "
        "'Room 2', 'scheduled', 'in_person', 'p1', '2024-01-01', '2024-01-01')"
    )
    run(
        "INSERT INTO settings VALUES ('settings', "
        '\'{"display_tz": "America/New_York", "slot_minutes": 30}\')'
    )
    pw.close()


def test_upgrade_from_version_1_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _fill_version_1(path)
    check = sqlite3.connect(path)
    assert check.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
    check.close()

    db = Database.open(path)
    try:
        assert db.schema_version == migrations.LATEST_VERSION
        repo = Repository(db)
        event = repo.get_event("e1")
        assert event.title == "Physiotherapy"
        assert event.patient_id == "p1"
        assert event.start.isoformat() == "2024-05-06T09:00:00+02:00"
        assert repo.get_calendar("cal1").color == "#123456"
        assert repo.settings().slot_minutes == 30
        assert repo.settings().display_tz == "America/New_York"
        # Migration 2's index was filled from the old rows: patient name, notes and location.
        assert [e.id for e in repo.search_events("wisniewska")] == ["e1"]
        assert [e.id for e in repo.search_events("knee")] == ["e1"]
        assert [e.id for e in repo.search_events("room 2")] == ["e1"]
    finally:
        db.close()


def test_database_from_newer_carecal_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Database.open(path).close()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO schema_version VALUES (?, 'future', '2030-01-01')",
        (migrations.LATEST_VERSION + 1,),
    )
    raw.commit()
    tables_before = raw.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall()
    raw.close()

    with pytest.raises(StoreError, match="made by a newer Carecal"):
        Database.open(path)

    raw = sqlite3.connect(path)
    assert raw.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall() == tables_before
    raw.close()


def test_a_file_that_is_not_a_database_gives_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError):
        Database.open(path)
    assert path.read_bytes().startswith(b"this is not sqlite")


def test_failed_migration_rolls_back_to_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "half.sqlite3"
    pw = connect(path)
    migrations.migrate(pw, target=1)
    # A table in the way makes migration 2 fail midway.
    pw.execute_sql("CREATE TABLE search_docs (x INTEGER)")
    with pytest.raises(StoreError, match="schema version 2"):
        migrations.migrate(pw)
    assert migrations.current_version(pw) == 1
    pw.close()
