"""Storing many pulled items at once: the first sync of a big calendar, or a pull of many items
none of which has unsent local changes.

The careful path (``SyncStore.replace_item``) writes one item per savepoint with a full audit
entry each; at tens of thousands of items that costs seconds. Here a whole batch is written
with ``executemany``: the rows, the agreed state (``sync_items``) and ONE audit entry listing
the batch's items. The caller holds the transaction, so a batch is stored whole or not at all.

Threads: the owning Repository's thread; every call does disk I/O and raises StoreError on
database failure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecal.domain.models import Event
from carecal.store.codec import event_doc, event_values
from carecal.store.rows import chunks, marks
from carecal.store.syncstate import item_key, with_local_ids

if TYPE_CHECKING:
    from carecal.store.repo import Repository

_UPSERT_ITEM = (
    "INSERT INTO sync_items (calendar_id, uid, remote_id, remote_version, base, synced_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(calendar_id, uid) DO UPDATE SET "
    "remote_id = excluded.remote_id, remote_version = excluded.remote_version, "
    "base = excluded.base, synced_at = excluded.synced_at"
)


@dataclass(frozen=True, slots=True)
class PulledItem:
    """One remote item, already read into events, to be taken as is."""

    uid: str
    events: Sequence[Event]
    remote_id: str
    version: str | None


def _local_by_uid(
    repo: Repository, calendar_id: str, uids: Sequence[str]
) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = defaultdict(list)
    for part in chunks(list(uids)):
        where = f"calendar_id = ? AND uid IN ({marks(len(part))})"
        for event in repo._rows.load(where, (calendar_id, *part)):
            found[event.uid].append(event)
    return found


def store_pulled_batch(
    repo: Repository, calendar_id: str, items: Sequence[PulledItem], *, actor: str
) -> dict[str, list[Event]]:
    """Make each item hold exactly its pulled events and record them as agreed with the remote
    (no outbox op, no tombstones; tombstones of these items dropped). Call inside the caller's
    transaction: the batch is all-or-nothing with whatever else that transaction holds.

    Items must have distinct uids and no unsent local ops (the caller's plan guarantees it).
    One audit entry (actor ``actor``, action "sync", entity kind "items") lists the batch: per
    item its uid, remote id and event ids, and the replaced local documents when it had any.
    Returns uid -> stored events. Raises StoreError.
    """
    if not items:
        return {}
    db = repo._db
    rows = repo._rows
    now = repo._now()
    local = _local_by_uid(repo, calendar_id, [i.uid for i in items])
    inserts: list[Event] = []
    updates: list[Event] = []
    gone: list[Event] = []
    result: dict[str, list[Event]] = {}
    sync_rows: list[tuple[Any, ...]] = []
    listed: list[dict[str, Any]] = []
    values: dict[str, tuple[Any, ...]] = {}  # event id -> row values, encoded once
    for item in items:
        before = {item_key(e): e for e in local.get(item.uid, ())}
        stored = with_local_ids(
            calendar_id, item.uid, {item_key(e): e for e in item.events}, before
        )
        result[item.uid] = stored
        keyed = sorted(((item_key(e), e) for e in stored), key=lambda pair: pair[0])
        docs: dict[str, dict[str, Any]] = {}
        for key, event in keyed:
            (updates if key in before else inserts).append(event)
            row = values[event.id] = event_values(event)
            docs[key] = event_doc(event, row)
        gone.extend(e for k, e in before.items() if k not in docs)
        # The same text as the careful path's json.dumps(..., sort_keys=True): the item keys are
        # sorted above and event_doc builds its keys in sorted order (tested).
        base = json.dumps(docs)
        sync_rows.append((calendar_id, item.uid, item.remote_id, item.version, base, now))
        entry: dict[str, Any] = {
            "uid": item.uid,
            "remote_id": item.remote_id,
            "events": [e.id for e in stored],
        }
        if before:
            entry["before"] = {k: event_doc(e) for k, e in before.items()}
        listed.append(entry)
    with db.transaction():
        if gone:
            rows.delete(gone, now)
            rows.drop_tombstones([e.id for e in gone])
        if updates:
            rows.update(updates, now, False)
        if inserts:
            rows.insert(inserts, now, False, values)
        recurring = {e.id for e in updates + inserts if e.is_recurring}
        if recurring:
            rows.refresh_bounds(recurring)
        # A remote id reused under another UID (deleted and re-created elsewhere) replaces it.
        db.executemany(
            "DELETE FROM sync_items WHERE calendar_id = ? AND remote_id = ? AND uid != ?",
            [(calendar_id, i.remote_id, i.uid) for i in items],
        )
        db.executemany(_UPSERT_ITEM, sync_rows)
        db.executemany(
            "DELETE FROM tombstones WHERE calendar_id = ? AND uid = ?",
            [(calendar_id, i.uid) for i in items],
        )
        repo.audit.append(
            actor,
            "sync",
            "items",
            calendar_id,
            None,
            {"calendar_id": calendar_id, "items": listed},
        )
    return result
