"""Unsent changes: list them, retry a refused one, or discard an appointment's local changes.

The engine (sync/) offers no "discard"; ``discard_change`` builds it from the store's sync
operations: the item goes back to its agreed version (or, never sent, is removed here) and its
ops are closed, all in one audited transaction. The next sync then brings anything newer from the
server.

Threads: the one owning the Repository (the desktop's database lane); every function does disk
I/O and raises StoreError on database failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from carecal.domain.changes import Changes
from carecal.store.repo import Repository
from carecal.store.syncstate import SyncStore

ALL_OPS = 2**62  # every op of the item (the store's mark_done upper bound)


@dataclass(frozen=True, slots=True)
class PendingRow:
    """One unsent op as the Pending changes panel shows it."""

    seq: int
    calendar_id: str
    calendar: str
    uid: str
    kind: str
    title: str
    state: str  # "waiting", "refused" (parked), "conflict"
    attempts: int
    error: str
    next_attempt_at: str | None


def load_pending(repo: Repository) -> list[PendingRow]:
    """Unsent ops of remote calendars, oldest first. The Repository's thread; disk I/O; raises
    StoreError."""
    store = SyncStore(repo)
    calendars = {c.id: c for c in repo.list_calendars()}
    conflicted = {(c.calendar_id, c.uid) for c in store.open_conflicts()}
    rows: list[PendingRow] = []
    titles: dict[str, str] = {}
    for op in store.pending_ops():
        cal = calendars.get(op.calendar_id)
        if cal is None:
            continue
        uid = str(op.payload.get("uid", ""))
        title = str(op.payload.get("title", "")) or titles.get(uid, "")
        if not title and uid:
            found = repo.find_by_uid(op.calendar_id, uid)
            title = found[0].title if found else "(deleted appointment)"
        titles[uid] = title
        if (op.calendar_id, uid) in conflicted:
            state = "conflict"
        else:
            state = "refused" if op.state.value == "failed" else "waiting"
        rows.append(
            PendingRow(
                op.seq,
                op.calendar_id,
                cal.name,
                uid,
                op.kind.value,
                title,
                state,
                op.attempts,
                op.last_error or "",
                op.next_attempt_at,
            )
        )
    return rows


def retry_change(repo: Repository, seq: int) -> None:
    """Put a refused op back in the queue, due now. The Repository's thread; StoreError."""
    SyncStore(repo).retry_op(seq)


def discard_change(repo: Repository, calendar_id: str, uid: str, *, actor: str) -> Changes:
    """Give up every unsent change of the appointment ``uid``: it goes back to the version last
    agreed with the server (or, when it never reached the server, is removed here). One audited
    transaction. The Repository's thread; raises StoreError."""
    store = SyncStore(repo)
    with store.transaction():
        agreed = store.item(calendar_id, uid)
        before = store.local_events(calendar_id, uid)
        if agreed is None:
            store.remove_item(calendar_id, uid, actor=actor, upto_seq=ALL_OPS)
            after: list[str] = []
        else:
            restored = store.replace_item(
                calendar_id,
                uid,
                list(agreed.base.values()),
                actor=actor,
                agreed=(agreed.remote_id, agreed.remote_version, None),
                upto_seq=ALL_OPS,
            )
            after = [e.id for e in restored]
    return Changes(events=frozenset([e.id for e in before] + after))
