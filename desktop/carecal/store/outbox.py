"""The durable offline queue of changes to send to remote calendars.

Every event mutation adds one op per changed event inside the mutation's transaction. Ops of
calendars in the built-in local account have nowhere to go: they are written already ``done`` so
the queue keeps a complete record without ever being consumed. The sync engine consumes the
``pending`` ones of remote calendars.

Threads: used from the thread of the Repository that owns it (one at a time).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from carecal.domain.models import new_id
from carecal.store.db import Database


class OpKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class OpState(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # parked with a readable error; the user decides


@dataclass(frozen=True, slots=True)
class OutboxOp:
    seq: int
    op_id: str  # idempotency key sent to the remote
    event_id: str
    calendar_id: str
    kind: OpKind
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    state: OpState
    created_at: str


_COLUMNS = (
    "seq, op_id, event_id, calendar_id, kind, payload, attempts, next_attempt_at, last_error, "
    "state, created_at"
)


@dataclass(frozen=True, slots=True)
class NewOp:
    """An op to enqueue; ``local`` marks it done at once (calendar of the local account)."""

    event_id: str
    calendar_id: str
    kind: OpKind
    payload: dict[str, Any]
    local: bool


# One encoder for all calls: json.dumps with options builds a new encoder every time.
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


class Outbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, ops: Sequence[NewOp], now: str) -> None:
        """Enqueue ``ops``. Must run inside the mutation's transaction. Raises StoreError."""
        if not ops:
            return
        rows = [
            (
                new_id(),
                op.event_id,
                op.calendar_id,
                op.kind.value,
                _encode(op.payload),
                (OpState.DONE if op.local else OpState.PENDING).value,
                now,
                now if op.local else None,
            )
            for op in ops
        ]
        sql = (
            "INSERT INTO outbox (op_id, event_id, calendar_id, kind, payload, state, created_at, "
            "done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._db.executemany(sql, rows)

    def pending(self) -> list[OutboxOp]:
        """Ops not yet done, oldest first. Caller's thread; disk I/O; raises StoreError."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE state = ? ORDER BY seq", (OpState.PENDING.value,)
        ).fetchall()
        return [_op(row) for row in rows]

    def count(self, state: OpState | None = None) -> int:
        """Number of ops (in ``state`` if given). Caller's thread; raises StoreError."""
        if state is None:
            row = self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE state = ?", (state.value,)
            ).fetchone()
        return int(row[0])


def _op(row: tuple[Any, ...]) -> OutboxOp:
    seq, op_id, event_id, cal, kind, payload, attempts, next_at, error, state, created = row
    return OutboxOp(
        seq=int(seq),
        op_id=op_id,
        event_id=event_id,
        calendar_id=cal,
        kind=OpKind(kind),
        payload=json.loads(payload),
        attempts=int(attempts),
        next_attempt_at=next_at,
        last_error=error,
        state=OpState(state),
        created_at=created,
    )
