"""Idempotent bulk import of parsed events into one calendar (the body of
``Repository.import_events``; runs inside its transaction).

Threads: the owning Repository's thread; does disk I/O; raises StoreError, ValidationError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carecal.domain.errors import ValidationError
from carecal.domain.models import Event, new_id
from carecal.store.audit import AuditLog
from carecal.store.codec import KIND_MASTER, event_doc, recurrence_key
from carecal.store.outbox import NewOp, OpKind, Outbox
from carecal.store.rows import EventRows, chunks, marks


def _same(a: Event, b: Event) -> bool:
    """Equal apart from the local ids the import assigns."""
    return a.with_changes(id="", master_id=None) == b.with_changes(id="", master_id=None)


def _existing(
    rows: EventRows, calendar_id: str, uids: Sequence[str]
) -> dict[tuple[str, str], tuple[str, int, str | None]]:
    db = rows._db
    found: dict[tuple[str, str], tuple[str, int, str | None]] = {}
    for part in chunks(uids):
        cursor = db.execute(
            "SELECT uid, recurrence_id, id, kind, raw FROM events "
            f"WHERE calendar_id = ? AND uid IN ({marks(len(part))})",
            (calendar_id, *part),
        )
        for uid, rid, eid, kind, raw in cursor.fetchall():
            found[(uid, rid)] = (eid, int(kind), raw)
    return found


def run_import(
    rows: EventRows,
    outbox: Outbox,
    audit: AuditLog,
    events: Sequence[Event],
    calendar_id: str,
    local: bool,
    actor: str,
    now: str,
) -> tuple[int, int, int]:
    """Returns (added, updated, unchanged)."""
    incoming: dict[tuple[str, str], Event] = {}
    for event in events:
        if (
            isinstance(event.start, type(event.end)) is False
            and isinstance(event.end, type(event.start)) is False
        ):
            raise ValidationError(f"{event.title!r}: start and end are of different kinds")
        if event.calendar_id != calendar_id:
            event = event.with_changes(calendar_id=calendar_id)
        # A file repeating one (uid, recurrence id) keeps its last copy, as calendars do.
        incoming[(event.uid, recurrence_key(event.recurrence_id, floating=event.floating))] = event
    existing = _existing(rows, calendar_id, list({uid for uid, _ in incoming}))

    # Local ids: a known event keeps its id; a new one keeps the reader's id unless taken.
    taken = rows.existing_ids([e.id for k, e in incoming.items() if k not in existing])
    used: set[str] = set()
    placed: dict[tuple[str, str], Event] = {}
    for key, event in incoming.items():
        if key in existing:
            event_id = existing[key][0]
        else:
            event_id = event.id
            if event_id in taken or event_id in used or not event_id:
                event_id = new_id()
        used.add(event_id)
        placed[key] = event if event_id == event.id else event.with_changes(id=event_id)

    masters: dict[str, str] = {
        uid: eid
        for (uid, rid), (eid, kind, _) in existing.items()
        if not rid and kind == KIND_MASTER
    }
    for (uid, rid), event in placed.items():
        if not rid:
            if event.is_recurring:
                masters[uid] = event.id
            else:
                masters.pop(uid, None)
    for key, event in placed.items():
        if key[1]:
            master_id = masters.get(key[0])
            if event.master_id != master_id:
                placed[key] = event.with_changes(master_id=master_id)

    new: list[Event] = []
    changed: list[Event] = []
    unchanged = 0
    maybe: dict[str, Event] = {}
    for key, event in placed.items():
        if key not in existing:
            new.append(event)
        elif event.raw is not None and event.raw == existing[key][2]:
            unchanged += 1
        else:
            maybe[event.id] = event
    befores: dict[str, Any] = {}
    for old in rows.by_ids(list(maybe)):
        event = maybe[old.id]
        if _same(old, event):
            unchanged += 1
        else:
            changed.append(event)
            befores[old.id] = event_doc(old)

    rows.insert(new, now, pending=not local)
    if changed:
        rows.update(changed, now, pending=not local)
    batch_uids = {uid for uid, _ in placed}
    batch_masters = {uid: mid for uid, mid in masters.items() if uid in batch_uids}
    rows.link_orphans(calendar_id, batch_masters)
    rows.refresh_bounds(set(batch_masters.values()))

    def op(e: Event, kind: OpKind) -> NewOp:
        payload = {"uid": e.uid} if local else event_doc(e)
        return NewOp(e.id, calendar_id, kind, payload, local)

    outbox.add([op(e, OpKind.CREATE) for e in new] + [op(e, OpKind.UPDATE) for e in changed], now)
    audit.append(
        actor,
        "import",
        "calendar",
        calendar_id,
        befores or None,
        {
            "added": [e.id for e in new],
            "updated": [e.id for e in changed],
            "unchanged": unchanged,
        },
    )
    return len(new), len(changed), unchanged
