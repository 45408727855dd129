"""Migration 0003 and the sync-state store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from carecal.domain.models import Account, ProviderKind
from carecal.store import migrations
from carecal.store.db import Database, connect
from carecal.store.repo import Repository
from carecal.store.syncstate import SyncStore
from tests.store.conftest import Clock, make_event
from tests.store.test_migrations import _fill_version_1


def test_upgrade_from_version_2_keeps_events(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    _fill_version_1(path)
    pw = connect(path)
    assert migrations.migrate(pw, target=2) == 2
    pw.close()
    db = Database.open(path)
    try:
        assert db.schema_version == migrations.LATEST_VERSION >= 3
        repo = Repository(db)
        assert repo.get_event("e1").title == "Physiotherapy"
        store = SyncStore(repo)
        assert store.calendar_state("cal1").token is None
        assert store.item("cal1", "u1@x") is None
    finally:
        db.close()
    raw = sqlite3.connect(path)
    names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    raw.close()
    assert {"sync_items", "sync_calendars", "sync_conflicts"} <= names


def test_items_ops_token_and_conflicts(db: Database) -> None:
    repo = Repository(db, clock=Clock())
    repo.add_account(Account("a1", ProviderKind.CALDAV, "Clinic"), actor="user")
    cal, _ = repo.add_calendar("Remote", "#111111", actor="user", account_id="a1")
    from datetime import UTC, datetime

    event = make_event(cal.id, datetime(2026, 1, 5, 9, tzinfo=UTC))
    repo.add_event(event, actor="user")
    store = SyncStore(repo)
    ops = store.item_ops(cal.id)
    assert list(ops) == [event.uid]
    store.set_synced(cal.id, event.uid, "r1", '"1"', [event], ops[event.uid][-1].seq)
    assert store.item_ops(cal.id) == {}
    item = store.item(cal.id, event.uid)
    assert item is not None and item.remote_version == '"1"'
    assert item.base[""].title == event.title
    store.save_token(cal.id, "t9")
    assert store.calendar_state(cal.id).token == "t9"
    cid = store.record_conflict(
        cal.id,
        event.uid,
        kind="edit",
        event_id=event.id,
        base=item.base,
        local=item.base,
        remote=item.base,
        remote_ref=("r1", '"2"'),
        remote_raw="X",
        fields=["title"],
        actor="sync:Clinic",
    )
    assert [c.id for c in store.open_conflicts(cal.id)] == [cid]
    store.close_conflict(cid, "theirs", actor="user")
    assert store.open_conflicts() == []
    assert store.update_account_settings("a1", {"needs_sign_in": True}, actor="sync").settings
    repo.audit.verify()
