"""The sync engine's view of the store: agreed versions (``sync_items``), tokens, unsent ops
grouped by item, applying remote items, conflicts and account flags.

Every "apply" writes the rows, the sync state and the audit entry in ONE transaction and never
adds an outbox op (a change that came from the remote has nowhere to go).

Threads: a SyncStore shares its Repository's thread (the sync worker's); every method does disk
I/O and raises StoreError on database failure, besides the errors it names.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecal.domain.errors import NotFound, StoreError
from carecal.domain.models import Account, Calendar, Event, ProviderKind
from carecal.store.codec import doc_to_event, event_doc, recurrence_key
from carecal.store.outbox import OpState, OutboxOp, _op

if TYPE_CHECKING:
    from carecal.store.repo import Repository

_OP_COLS = (
    "seq, op_id, event_id, calendar_id, kind, payload, attempts, next_attempt_at, last_error, "
    "state, created_at"
)
_UID = "json_extract(payload, '$.uid')"


def item_key(event: Event) -> str:
    """An event's key within its item: its recurrence id ('' for a master or single)."""
    return recurrence_key(event.recurrence_id, floating=event.floating)


def keyed(events: Sequence[Event]) -> dict[str, Event]:
    return {item_key(e): e for e in events}


def with_local_ids(
    calendar_id: str, uid: str, incoming: Mapping[str, Event], before: Mapping[str, Event]
) -> list[Event]:
    """An item's incoming events as the store will hold them: the local ids of the events they
    replace kept (matched by recurrence id, so views and undo keep pointing at them), the item's
    calendar and UID, and overrides pointing at the master. Any thread; raises nothing."""
    master_key = next((k for k, e in incoming.items() if e.recurrence_id is None), None)
    master_id = None
    if master_key is not None:
        old = before.get(master_key)
        master_id = old.id if old is not None else incoming[master_key].id
    stored: list[Event] = []
    for key, event in incoming.items():
        old = before.get(key)
        wanted = (
            old.id if old is not None else event.id,
            calendar_id,
            uid,
            master_id if event.recurrence_id is not None else None,
        )
        if wanted != (event.id, event.calendar_id, event.uid, event.master_id):
            event = event.with_changes(
                id=wanted[0], calendar_id=wanted[1], uid=wanted[2], master_id=wanted[3]
            )
        stored.append(event)
    return stored


@dataclass(frozen=True, slots=True)
class SyncItem:
    """What the local mirror and the remote last agreed on for one item."""

    calendar_id: str
    uid: str
    remote_id: str
    remote_version: str | None
    base: dict[str, Event]
    synced_at: str


@dataclass(frozen=True, slots=True)
class CalendarSyncState:
    calendar_id: str
    token: str | None
    last_sync_at: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ConflictRecord:
    """One conflict of a whole item. ``local``/``remote`` are None when that side deleted it.
    ``kind``: "edit", "local_deleted" or "remote_deleted"."""

    id: int
    calendar_id: str
    uid: str
    kind: str
    event_id: str
    base: dict[str, Event] | None
    local: dict[str, Event] | None
    remote: dict[str, Event] | None
    remote_id: str | None
    remote_version: str | None
    remote_raw: str | None
    fields: list[str]
    detected_at: str
    resolution: str | None
    resolved_at: str | None


class SyncStore:
    """See the module docstring."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._db = repo._db
        self._rows = repo._rows

    # --- documents ------------------------------------------------------------------------

    def _encode(self, events: Mapping[str, Event] | None) -> str | None:
        if events is None:
            return None
        return json.dumps({k: event_doc(e) for k, e in events.items()}, sort_keys=True)

    def _decode(self, text: str | None) -> dict[str, Event] | None:
        if text is None:
            return None
        tz = self._repo._floating_tz()
        return {k: doc_to_event(doc, tz) for k, doc in json.loads(text).items()}

    # --- accounts and calendars -------------------------------------------------------------

    def account(self, account_id: str) -> Account:
        """Raises NotFound."""
        row = self._db.execute(
            "SELECT id, kind, name, settings FROM accounts WHERE id = ?", (account_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no account with id {account_id}")
        return Account(row[0], ProviderKind(row[1]), row[2], json.loads(row[3] or "{}"))

    def accounts(self) -> list[Account]:
        rows = self._db.execute("SELECT id FROM accounts ORDER BY created_at, id").fetchall()
        return [self.account(r[0]) for r in rows]

    def calendars_of(self, account_id: str) -> list[Calendar]:
        return [c for c in self._repo.list_calendars() if c.account_id == account_id]

    def update_account_settings(
        self, account_id: str, changes: Mapping[str, object], *, actor: str
    ) -> Account:
        """Merge ``changes`` into the account's settings JSON (audited). Raises NotFound."""
        with self._db.transaction():
            before = self.account(account_id)
            settings = {**before.settings, **changes}
            self._db.execute(
                "UPDATE accounts SET settings = ? WHERE id = ?",
                (json.dumps(settings, sort_keys=True), account_id),
            )
            self._repo.audit.append(
                actor, "update", "account", account_id, before.settings, settings
            )
        return self.account(account_id)

    def calendar_state(self, calendar_id: str) -> CalendarSyncState:
        row = self._db.execute(
            "SELECT token, last_sync_at, last_error FROM sync_calendars WHERE calendar_id = ?",
            (calendar_id,),
        ).fetchone()
        if row is None:
            return CalendarSyncState(calendar_id, None, None, None)
        return CalendarSyncState(calendar_id, row[0], row[1], row[2])

    def _upsert_calendar(self, calendar_id: str, column: str, value: str | None) -> None:
        self._db.execute(
            f"INSERT INTO sync_calendars (calendar_id, {column}) VALUES (?, ?) "
            f"ON CONFLICT(calendar_id) DO UPDATE SET {column} = excluded.{column}",
            (calendar_id, value),
        )

    def save_token(self, calendar_id: str, token: str | None) -> None:
        """Store the calendar's sync token; call inside the transaction of the last batch."""
        with self._db.transaction():
            self._upsert_calendar(calendar_id, "token", token)

    def save_status(self, calendar_id: str, *, error: str | None) -> None:
        """Record the end of a sync run: the time when it succeeded, else the error."""
        with self._db.transaction():
            self._upsert_calendar(calendar_id, "last_error", error)
            if error is None:
                self._upsert_calendar(calendar_id, "last_sync_at", self._repo._now())

    # --- agreed state -------------------------------------------------------------------------

    def _item(self, row: tuple[Any, ...] | None) -> SyncItem | None:
        if row is None:
            return None
        base = self._decode(row[4]) or {}
        return SyncItem(row[0], row[1], row[2], row[3], base, row[5])

    _ITEM_COLS = "calendar_id, uid, remote_id, remote_version, base, synced_at"

    def item(self, calendar_id: str, uid: str) -> SyncItem | None:
        row = self._db.execute(
            f"SELECT {self._ITEM_COLS} FROM sync_items WHERE calendar_id = ? AND uid = ?",
            (calendar_id, uid),
        ).fetchone()
        return self._item(row)

    def versions(self, calendar_id: str) -> dict[str, tuple[str, str | None]]:
        """uid -> (remote id, remote version) of every agreed item (no bases decoded)."""
        rows = self._db.execute(
            "SELECT uid, remote_id, remote_version FROM sync_items WHERE calendar_id = ?",
            (calendar_id,),
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def local_events(self, calendar_id: str, uid: str) -> list[Event]:
        """The item's events as stored locally (master first)."""
        return self._repo.find_by_uid(calendar_id, uid)

    def local_counts(self, calendar_id: str) -> dict[str, int]:
        """uid -> number of stored events, for every item of the calendar."""
        rows = self._db.execute(
            "SELECT uid, COUNT(*) FROM events WHERE calendar_id = ? GROUP BY uid", (calendar_id,)
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def record_sending(self, calendar_id: str, uid: str, events: Sequence[Event]) -> None:
        """Durably note the item's events as a create/update is about to send them, in their
        own transaction (committed before the request goes out). Kept until the agreed state
        is saved; a version already noted is not added twice."""
        with self._db.transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO sync_sending (calendar_id, uid, docs, sent_at) "
                "VALUES (?, ?, ?, ?)",
                (calendar_id, uid, self._encode(keyed(events)) or "{}", self._repo._now()),
            )

    def sent_versions(self, calendar_id: str, uid: str) -> list[dict[str, Event]]:
        """Every version of the item sent since its agreed state was last saved, oldest first
        (the server may hold any of them: answers can be lost)."""
        rows = self._db.execute(
            "SELECT docs FROM sync_sending WHERE calendar_id = ? AND uid = ? "
            "ORDER BY sent_at, rowid",
            (calendar_id, uid),
        ).fetchall()
        return [self._decode(r[0]) or {} for r in rows]

    def queued_versions(
        self, calendar_id: str, uid: str, base: Mapping[str, Event]
    ) -> list[dict[str, Event]]:
        """The item as it stood after each of its unsent ops, replayed onto ``base``, oldest
        first. A push sends the item as it stands, so any of these may be on the server when
        an earlier push's answer (and whatever it noted) was lost. Ops whose payload carries
        no event document are skipped."""
        rows = self._db.execute(
            f"SELECT kind, payload FROM outbox WHERE calendar_id = ? AND {_UID} = ? "
            "AND state != 'done' ORDER BY seq",
            (calendar_id, uid),
        ).fetchall()
        tz = self._repo._floating_tz()
        current = dict(base)
        found: list[dict[str, Event]] = []
        for kind, payload in rows:
            doc = json.loads(payload)
            if kind == "delete":
                current.pop(str(doc.get("recurrence_id") or ""), None)
            elif "participants" in doc:
                try:
                    event = doc_to_event(doc, tz)
                except StoreError:
                    continue  # an unreadable old payload only loses a hint
                current[item_key(event)] = event
            else:
                continue
            found.append(dict(current))
        return found

    def _clear_sending(self, calendar_id: str, uid: str) -> None:
        self._db.execute(
            "DELETE FROM sync_sending WHERE calendar_id = ? AND uid = ?", (calendar_id, uid)
        )

    def _set_item(
        self, calendar_id: str, uid: str, remote_id: str, version: str | None, base: str
    ) -> None:
        # The remote version is known again: what was sent before it no longer matters.
        self._clear_sending(calendar_id, uid)
        # A remote id reused under another UID (deleted and re-created elsewhere) replaces it.
        self._db.execute(
            "DELETE FROM sync_items WHERE calendar_id = ? AND remote_id = ? AND uid != ?",
            (calendar_id, remote_id, uid),
        )
        self._db.execute(
            f"INSERT INTO sync_items ({self._ITEM_COLS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(calendar_id, uid) DO UPDATE SET remote_id = excluded.remote_id, "
            "remote_version = excluded.remote_version, base = excluded.base, "
            "synced_at = excluded.synced_at",
            (calendar_id, uid, remote_id, version, base, self._repo._now()),
        )

    def set_synced(
        self,
        calendar_id: str,
        uid: str,
        remote_id: str,
        version: str | None,
        base: Sequence[Event],
        upto_seq: int | None,
    ) -> None:
        """After a successful push: the agreed state, ops up to ``upto_seq`` done, tombstones
        of the item dropped (the server has confirmed them). One transaction."""
        with self._db.transaction():
            self._set_item(calendar_id, uid, remote_id, version, self._encode(keyed(base)) or "{}")
            self._drop_tombstones(calendar_id, uid)
            if upto_seq is not None:
                self.mark_done(calendar_id, uid, upto_seq)

    def forget_item(self, calendar_id: str, uid: str, upto_seq: int | None = None) -> None:
        """The item is gone on both sides: drop its agreed state, tombstones and (up to
        ``upto_seq``) its ops. One transaction."""
        with self._db.transaction():
            self._db.execute(
                "DELETE FROM sync_items WHERE calendar_id = ? AND uid = ?", (calendar_id, uid)
            )
            self._clear_sending(calendar_id, uid)
            self._drop_tombstones(calendar_id, uid)
            if upto_seq is not None:
                self.mark_done(calendar_id, uid, upto_seq)

    def rebase(
        self,
        calendar_id: str,
        uid: str,
        remote_id: str,
        version: str | None,
        base: Mapping[str, Event] | None,
    ) -> None:
        """Point the agreed state at a newer remote version (the next push uses it)."""
        with self._db.transaction():
            self._set_item(calendar_id, uid, remote_id, version, self._encode(base) or "{}")

    def _drop_tombstones(self, calendar_id: str, uid: str) -> None:
        self._db.execute(
            "DELETE FROM tombstones WHERE calendar_id = ? AND uid = ?", (calendar_id, uid)
        )

    def tombstones(self, calendar_id: str) -> list[tuple[str, str]]:
        """(event id, uid) of local deletions the server has not yet confirmed."""
        rows = self._db.execute(
            "SELECT event_id, uid FROM tombstones WHERE calendar_id = ? ORDER BY seq",
            (calendar_id,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    # --- applying remote items ----------------------------------------------------------------

    def replace_item(
        self,
        calendar_id: str,
        uid: str,
        events: Sequence[Event],
        *,
        actor: str,
        pending: bool = False,
        agreed: tuple[str, str | None, Mapping[str, Event] | None] | None = None,
        upto_seq: int | None = None,
    ) -> list[Event]:
        """Make the item hold exactly ``events`` (local ids kept, matched by recurrence id;
        rows not in ``events`` deleted without tombstones), audited as ``actor``, no outbox
        op. ``pending`` marks rows as carrying unsent local changes. ``agreed`` = (remote id,
        version, base) also records the agreed state (base None: ``events`` themselves); ops up
        to ``upto_seq`` are marked done. One transaction. Returns the stored events."""
        with self._db.transaction():
            now = self._repo._now()
            before = keyed(self.local_events(calendar_id, uid))
            incoming = keyed(events)
            stored = with_local_ids(calendar_id, uid, incoming, before)
            master_id = next((e.id for e in stored if e.recurrence_id is None), None)
            gone = [e for k, e in before.items() if k not in incoming]
            if gone:
                self._rows.delete(gone, now)
                self._rows.drop_tombstones([e.id for e in gone])
            updates = [e for e in stored if item_key(e) in before]
            inserts = [e for e in stored if item_key(e) not in before]
            if updates:
                self._rows.update(updates, now, pending)
            if inserts:
                self._rows.insert(inserts, now, pending)
            self._rows.refresh_bounds({e.id for e in stored if e.is_recurring})
            self._repo.audit.append(
                actor,
                "sync",
                "event",
                master_id or (stored[0].id if stored else uid),
                {k: event_doc(e) for k, e in before.items()} or None,
                {item_key(e): event_doc(e) for e in stored} or None,
            )
            if agreed is not None:
                remote_id, version, base = agreed
                self._set_item(
                    calendar_id,
                    uid,
                    remote_id,
                    version,
                    self._encode(base if base is not None else keyed(stored)) or "{}",
                )
                self._drop_tombstones(calendar_id, uid)
            if upto_seq is not None:
                self.mark_done(calendar_id, uid, upto_seq)
        return stored

    def remove_item(
        self, calendar_id: str, uid: str, *, actor: str, upto_seq: int | None = None
    ) -> int:
        """The remote deleted the item: delete its rows (no tombstones), its agreed state and
        (up to ``upto_seq``) its ops. One transaction. Returns the number of rows removed."""
        with self._db.transaction():
            events = self.local_events(calendar_id, uid)
            if events:
                self._rows.delete(events, self._repo._now())
                self._rows.drop_tombstones([e.id for e in events])
                for event in events:
                    self._repo.audit.append(
                        actor, "delete", "event", event.id, event_doc(event), None
                    )
            self.forget_item(calendar_id, uid, upto_seq)
        return len(events)

    # --- unsent ops -----------------------------------------------------------------------------

    def item_ops(self, calendar_id: str, *, parked: bool = True) -> dict[str, list[OutboxOp]]:
        """uid -> unsent ops (pending, and parked ones unless ``parked`` is False), oldest first."""
        states = [OpState.PENDING.value] + ([OpState.FAILED.value] if parked else [])
        rows = self._db.execute(
            f"SELECT {_OP_COLS}, {_UID} FROM outbox WHERE state != 'done' AND calendar_id = ? "
            f"AND {_UID} IS NOT NULL AND state IN ({', '.join('?' for _ in states)}) ORDER BY seq",
            (calendar_id, *states),
        ).fetchall()
        found: dict[str, list[OutboxOp]] = defaultdict(list)
        for row in rows:
            found[row[-1]].append(_op(row[:-1]))
        return dict(found)

    def pending_ops(self, calendar_id: str | None = None) -> list[OutboxOp]:
        """Every unsent op (pending or parked) of remote calendars, oldest first."""
        where = "state != 'done'" + ("" if calendar_id is None else " AND calendar_id = ?")
        params = () if calendar_id is None else (calendar_id,)
        rows = self._db.execute(
            f"SELECT {_OP_COLS} FROM outbox WHERE {where} ORDER BY seq", params
        ).fetchall()
        return [_op(r) for r in rows]

    def _ops_where(self) -> str:
        return f"calendar_id = ? AND {_UID} = ? AND state != 'done' AND seq <= ?"

    def mark_done(self, calendar_id: str, uid: str, upto_seq: int) -> None:
        with self._db.transaction():
            self._db.execute(
                f"UPDATE outbox SET state = 'done', done_at = ?, last_error = NULL "
                f"WHERE {self._ops_where()}",
                (self._repo._now(), calendar_id, uid, upto_seq),
            )

    def mark_retry(
        self, calendar_id: str, uid: str, upto_seq: int, error: str, next_attempt_at: str
    ) -> None:
        """A transient failure: the item's ops stay pending, tried again after the time."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                f"WHERE {self._ops_where()}",
                (error, next_attempt_at, calendar_id, uid, upto_seq),
            )

    def mark_parked(self, calendar_id: str, uid: str, upto_seq: int, error: str) -> None:
        """Refused for good: the item's ops are parked with a readable error."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, state = 'failed' "
                f"WHERE {self._ops_where()}",
                (error, calendar_id, uid, upto_seq),
            )

    def retry_op(self, seq: int) -> None:
        """Put a parked op back in the queue, due now."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = NULL WHERE seq = ? "
                "AND state = 'failed'",
                (seq,),
            )

    def ensure_pending(self, calendar_id: str, uid: str, event_id: str) -> None:
        """Make sure the item has a pending op (so the engine pushes its local state)."""
        with self._db.transaction():
            if self._db.execute(
                f"SELECT 1 FROM outbox WHERE calendar_id = ? AND {_UID} = ? AND state = 'pending'",
                (calendar_id, uid),
            ).fetchone():
                return
            from carecal.store.outbox import NewOp, OpKind

            self._repo.outbox.add(
                [NewOp(event_id, calendar_id, OpKind.UPDATE, {"uid": uid}, False)],
                self._repo._now(),
            )

    def requeue_calendar(self, calendar_id: str) -> int:
        """Queue a push of every item the calendar has agreed with its remote (one op per item
        without a pending op), so a change in how items are rendered (a provider's privacy
        level) reaches the remote without waiting for the next edit. One transaction; returns
        how many items were queued. The Repository's thread; raises StoreError."""
        from carecal.store.outbox import NewOp, OpKind

        with self._db.transaction():
            rows = self._db.execute(
                "SELECT s.uid, MIN(e.id) FROM sync_items s "
                "JOIN events e ON e.calendar_id = s.calendar_id AND e.uid = s.uid "
                "WHERE s.calendar_id = ? AND NOT EXISTS ("
                f"  SELECT 1 FROM outbox WHERE calendar_id = s.calendar_id AND {_UID} = s.uid"
                "   AND state = 'pending') "
                "GROUP BY s.uid",
                (calendar_id,),
            ).fetchall()
            ops = [
                NewOp(str(eid), calendar_id, OpKind.UPDATE, {"uid": uid}, False)
                for uid, eid in rows
            ]
            if ops:
                self._repo.outbox.add(ops, self._repo._now())
        return len(ops)

    # --- conflicts ------------------------------------------------------------------------------

    def record_conflict(
        self,
        calendar_id: str,
        uid: str,
        *,
        kind: str,
        event_id: str,
        base: Mapping[str, Event] | None,
        local: Mapping[str, Event] | None,
        remote: Mapping[str, Event] | None,
        remote_ref: tuple[str, str | None] | None,
        remote_raw: str | None,
        fields: Sequence[str],
        actor: str,
    ) -> int:
        """Record a conflict (an open one of the same item is replaced: one per item), audited.
        One transaction. Returns its id."""
        with self._db.transaction():
            for old in self.open_conflicts(calendar_id, uid=uid):
                self._close(old.id, "superseded")
            now = self._repo._now()
            cursor = self._db.execute(
                "INSERT INTO conflicts (event_id, calendar_id, base, local, remote, fields, "
                "detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    calendar_id,
                    self._encode(base),
                    self._encode(local),
                    self._encode(remote),
                    json.dumps(list(fields)),
                    now,
                ),
            )
            conflict_id = int(cursor.lastrowid)
            remote_id, version = remote_ref if remote_ref is not None else (None, None)
            self._db.execute(
                "INSERT INTO sync_conflicts (conflict_id, uid, kind, remote_id, remote_version, "
                "remote_raw) VALUES (?, ?, ?, ?, ?, ?)",
                (conflict_id, uid, kind, remote_id, version, remote_raw),
            )
            self._repo.audit.append(
                actor,
                "conflict",
                "event",
                event_id,
                None,
                {"conflict": conflict_id, "kind": kind, "fields": list(fields)},
            )
        return conflict_id

    _CONFLICT_SQL = (
        "SELECT c.id, c.calendar_id, s.uid, s.kind, c.event_id, c.base, c.local, c.remote, "
        "s.remote_id, s.remote_version, s.remote_raw, c.fields, c.detected_at, c.resolution, "
        "c.resolved_at FROM conflicts c JOIN sync_conflicts s ON s.conflict_id = c.id"
    )

    def _conflict(self, row: tuple[Any, ...]) -> ConflictRecord:
        return ConflictRecord(
            id=int(row[0]),
            calendar_id=row[1],
            uid=row[2],
            kind=row[3],
            event_id=row[4],
            base=self._decode(row[5]),
            local=self._decode(row[6]),
            remote=self._decode(row[7]),
            remote_id=row[8],
            remote_version=row[9],
            remote_raw=row[10],
            fields=json.loads(row[11]),
            detected_at=row[12],
            resolution=row[13],
            resolved_at=row[14],
        )

    def open_conflicts(
        self, calendar_id: str | None = None, *, uid: str | None = None
    ) -> list[ConflictRecord]:
        """Unresolved conflicts, oldest first."""
        where, params = ["c.resolved_at IS NULL"], []
        if calendar_id is not None:
            where.append("c.calendar_id = ?")
            params.append(calendar_id)
        if uid is not None:
            where.append("s.uid = ?")
            params.append(uid)
        rows = self._db.execute(
            f"{self._CONFLICT_SQL} WHERE {' AND '.join(where)} ORDER BY c.id", params
        ).fetchall()
        return [self._conflict(r) for r in rows]

    def conflict(self, conflict_id: int) -> ConflictRecord:
        """Raises NotFound."""
        row = self._db.execute(f"{self._CONFLICT_SQL} WHERE c.id = ?", (conflict_id,)).fetchone()
        if row is None:
            raise NotFound(f"no conflict with id {conflict_id}")
        return self._conflict(row)

    def conflicted_uids(self, calendar_id: str) -> set[str]:
        return {c.uid for c in self.open_conflicts(calendar_id)}

    def _close(self, conflict_id: int, resolution: str) -> None:
        self._db.execute(
            "UPDATE conflicts SET resolution = ?, resolved_at = ? WHERE id = ?",
            (resolution, self._repo._now(), conflict_id),
        )

    def close_conflict(self, conflict_id: int, resolution: str, *, actor: str) -> None:
        """Mark a conflict resolved (audited); call inside the resolution's transaction."""
        with self._db.transaction():
            record = self.conflict(conflict_id)
            self._close(conflict_id, resolution)
            self._repo.audit.append(
                actor,
                "resolve",
                "conflict",
                str(conflict_id),
                {"uid": record.uid, "kind": record.kind, "fields": record.fields},
                {"resolution": resolution},
            )

    def transaction(self, *, durable: bool = True) -> Any:
        """The store's write transaction (nested calls join it); ``durable`` as in
        ``Database.transaction``."""
        return self._db.transaction(durable=durable)


def local_modified(store: SyncStore, calendar_id: str, uid: str) -> str | None:
    """When the item last changed locally (its newest row, or its newest tombstone), ISO text."""
    row = store._db.execute(
        "SELECT MAX(t) FROM (SELECT MAX(updated_at) AS t FROM events WHERE calendar_id = ? "
        "AND uid = ? UNION ALL SELECT MAX(deleted_at) FROM tombstones WHERE calendar_id = ? "
        "AND uid = ?)",
        (calendar_id, uid, calendar_id, uid),
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])
