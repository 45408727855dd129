"""The bulk path of a pull: items without local edits are stored a batch at a time, each batch
whole or not at all, with one audit entry per batch and the token saved with the last one."""

from __future__ import annotations

import pytest

from carecal.providers.memory import MemoryProvider
from carecal.store.audit import AuditEntry
from carecal.sync import engine
from tests.sync.helpers import Replica, vevent

PULL_BATCH = 200  # smaller than the engine's, so a few hundred items make several batches
N_ITEMS = 450  # two full batches and a part of a third


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "PULL_BATCH", PULL_BATCH)


def _fill(provider: MemoryProvider, n: int = N_ITEMS) -> list[str]:
    """Put n items on the server; returns their uids in the order a full listing gives them."""
    for i in range(n):
        uid = f"b{i}@x"
        provider.put_from_elsewhere("cal1", uid, vevent(uid, f"Visit {i}", hour=9 + i % 8))
    return [item.uid for _, item in sorted(provider.items("cal1").items())]


def _batch_entries(replica: Replica) -> list[AuditEntry]:
    return [e for e in replica.session.repo.audit.entries() if e.entity_kind == "items"]


def _consistent(replica: Replica) -> None:
    cal = replica.calendar.id
    versions = replica.store.versions(cal)
    assert set(replica.store.local_counts(cal)) == set(versions)
    dupes = replica.session.db.execute(
        "SELECT uid, COUNT(*) FROM events GROUP BY calendar_id, uid, recurrence_id "
        "HAVING COUNT(*) > 1"
    ).fetchall()
    assert dupes == []


def test_a_first_sync_writes_one_audit_entry_per_batch_naming_its_items(
    replica: Replica, provider: MemoryProvider
) -> None:
    order = _fill(provider)
    report = replica.sync(provider)
    assert report.ok, report.errors
    assert report.pulled == N_ITEMS
    entries = _batch_entries(replica)
    assert len(entries) == -(-N_ITEMS // PULL_BATCH)
    for number, entry in enumerate(entries):
        assert entry.actor == "sync:clinic" and entry.action == "sync"
        listed = entry.after["items"]
        assert [i["uid"] for i in listed] == order[number * PULL_BATCH : (number + 1) * PULL_BATCH]
        for i in listed:
            assert i["events"] == [e.id for e in replica.by_uid(i["uid"])]
            assert "before" not in i
    assert replica.store.calendar_state(replica.calendar.id).token is not None
    _consistent(replica)
    assert replica.session.repo.audit.verify() > 0


def test_remote_edits_of_unedited_items_keep_local_ids_and_audit_what_they_replaced(
    replica: Replica, provider: MemoryProvider
) -> None:
    _fill(provider, 30)
    assert replica.sync(provider).ok
    ids = {f"b{i}@x": replica.by_uid(f"b{i}@x")[0].id for i in range(3)}
    for i in range(3):
        uid = f"b{i}@x"
        provider.put_from_elsewhere("cal1", uid, vevent(uid, f"Moved {i}", hour=15))
    report = replica.sync(provider)
    assert report.ok and report.pulled == 3
    for i in range(3):
        (event,) = replica.by_uid(f"b{i}@x")
        assert event.id == ids[f"b{i}@x"] and event.title == f"Moved {i}"
    last = _batch_entries(replica)[-1]
    assert sorted(i["uid"] for i in last.after["items"]) == sorted(ids)
    assert all(i["before"][""]["summary"].startswith("Visit") for i in last.after["items"])
    _consistent(replica)


@pytest.mark.parametrize("failing", [300, 420])
def test_a_failure_inside_a_batch_stores_none_of_that_batch_and_not_the_token(
    replica: Replica, provider: MemoryProvider, failing: int
) -> None:
    order = _fill(provider)
    bad = order[failing]
    db = replica.session.db
    # A real database failure on one row of the batch (as a full disk would give).
    db.execute(
        "CREATE TRIGGER fail_one BEFORE INSERT ON events "
        f"WHEN NEW.uid = '{bad}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    report = replica.sync(provider)
    assert not report.ok and any("injected failure" in e for e in report.errors)
    stored_batches = failing // PULL_BATCH
    kept = order[: stored_batches * PULL_BATCH]
    assert replica.uids() == set(kept)
    assert report.pulled == len(kept)
    assert len(_batch_entries(replica)) == stored_batches
    assert replica.store.calendar_state(replica.calendar.id).token is None
    _consistent(replica)
    assert replica.session.repo.audit.verify() > 0

    db.execute("DROP TRIGGER fail_one")
    report = replica.sync(provider)
    assert report.ok, report.errors
    assert report.pulled == N_ITEMS - len(kept)
    assert replica.uids() == set(order)
    assert replica.store.calendar_state(replica.calendar.id).token is not None
    _consistent(replica)


def test_an_unreadable_item_is_reported_and_the_rest_of_its_batch_is_stored(
    replica: Replica, provider: MemoryProvider
) -> None:
    _fill(provider, 20)
    provider.put_from_elsewhere("cal1", "broken@x", "this is not a calendar")
    report = replica.sync(provider)
    assert report.pulled == 20
    assert len(report.errors) == 1 and "not received" in report.errors[0]
    assert "broken@x" not in replica.uids() and len(replica.uids()) == 20


def test_only_the_batch_that_saves_the_token_waits_for_the_disk(
    replica: Replica, provider: MemoryProvider
) -> None:
    _fill(provider)
    conn = replica.session.db.conn()
    modes: list[int] = []  # PRAGMA synchronous at each COMMIT: 1 NORMAL, 2 FULL

    def trace(sql: str) -> None:
        if sql.strip().upper() == "COMMIT":
            modes.append(conn.execute("PRAGMA synchronous").fetchone()[0])

    conn.set_trace_callback(trace)
    try:
        report = replica.sync(provider)
    finally:
        conn.set_trace_callback(None)
    assert report.ok and report.pulled == N_ITEMS
    batches = -(-N_ITEMS // PULL_BATCH)
    # The relaxed batches can be fetched again until the token is saved; the token's batch
    # syncs the log, and with it the batches before it.
    assert modes[: batches - 1] == [1] * (batches - 1)
    assert modes[batches - 1 :] and set(modes[batches - 1 :]) == {2}
    assert replica.store.calendar_state(replica.calendar.id).token is not None
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
