"""The Docplanner action queue and double-booking flags (schema version 8).

Threads: the caller's thread (one connection per thread); every call does disk I/O and raises
StoreError on database failure. Payloads may name a patient id (never patient data itself).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carecal.store.repo import Repository


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class QueuedAction:
    """One queued action (``kind`` book|move|cancel|confirm|presence)."""

    seq: int
    account_id: str
    kind: str
    booking_id: str | None
    address_id: str
    payload: dict[str, Any]
    state: str
    attempted: bool
    error: str | None
    result_id: str | None
    created_at: datetime | None = None
    done_at: datetime | None = None  # when it was done, parked or discarded


@dataclass(frozen=True, slots=True)
class Conflict:
    """A current booking overlapping busy time elsewhere, with proposed free starts."""

    account_id: str
    booking_id: str
    event_id: str
    start: datetime
    end: datetime
    proposals: list[datetime]


_ACT = (
    "seq, account_id, kind, booking_id, address_id, payload, state, attempted, error, result_id, "
    "created_at, done_at"
)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _action(r: Sequence[Any]) -> QueuedAction:
    return QueuedAction(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        json.loads(r[5]),
        r[6],
        bool(r[7]),
        r[8],
        r[9],
        _when(r[10]),
        _when(r[11]),
    )


class ActionStore:
    """Queries and changes of ``docplanner_actions`` and ``docplanner_conflicts``."""

    def __init__(self, repo: Repository) -> None:
        self.db = repo._db

    def enqueue(
        self,
        account_id: str,
        kind: str,
        booking_id: str | None,
        address_id: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> int:
        """Queue one action; its seq."""
        cursor = self.db.execute(
            "INSERT INTO docplanner_actions (account_id, kind, booking_id, address_id, payload, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (account_id, kind, booking_id, address_id, json.dumps(payload), _iso(now)),
        )
        return int(cursor.lastrowid)

    def pending(self, account_id: str) -> list[QueuedAction]:
        """Actions still to go out, oldest first."""
        rows = self.db.execute(
            f"SELECT {_ACT} FROM docplanner_actions WHERE account_id = ? AND state = 'pending' "
            "ORDER BY seq",
            (account_id,),
        ).fetchall()
        return [_action(r) for r in rows]

    def actions(self, account_id: str, limit: int = 100) -> list[QueuedAction]:
        """The newest ``limit`` actions, oldest first."""
        rows = self.db.execute(
            f"SELECT {_ACT} FROM docplanner_actions WHERE account_id = ? ORDER BY seq DESC LIMIT ?",
            (account_id, limit),
        ).fetchall()
        return [_action(r) for r in reversed(rows)]

    def get(self, seq: int) -> QueuedAction | None:
        row = self.db.execute(
            f"SELECT {_ACT} FROM docplanner_actions WHERE seq = ?", (seq,)
        ).fetchone()
        return None if row is None else _action(row)

    def mark_attempted(self, seq: int) -> None:
        """The call went out and its answer was lost: check before trying again."""
        self.db.execute("UPDATE docplanner_actions SET attempted = 1 WHERE seq = ?", (seq,))

    def finish(
        self,
        seq: int,
        state: str,
        now: datetime,
        *,
        error: str | None = None,
        result_id: str | None = None,
    ) -> None:
        """Mark an action done or parked."""
        self.db.execute(
            "UPDATE docplanner_actions SET state = ?, error = ?, result_id = ?, done_at = ? "
            "WHERE seq = ?",
            (state, error, result_id, _iso(now), seq),
        )

    def in_states(self, states: Sequence[str], limit: int = 500) -> list[QueuedAction]:
        """The newest ``limit`` actions of every account in one of ``states``, oldest first."""
        marks = ", ".join("?" for _ in states)
        rows = self.db.execute(
            f"SELECT {_ACT} FROM docplanner_actions WHERE state IN ({marks}) "
            "ORDER BY seq DESC LIMIT ?",
            (*states, limit),
        ).fetchall()
        return [_action(r) for r in reversed(rows)]

    def everything(self, limit: int = 500) -> list[QueuedAction]:
        """The newest ``limit`` actions of every account, whatever their state, oldest first."""
        rows = self.db.execute(
            f"SELECT {_ACT} FROM docplanner_actions ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_action(r) for r in reversed(rows)]

    def requeue(self, seq: int) -> bool:
        """A parked action back to pending (its ``attempted`` mark kept: a call whose answer
        was lost is still checked by listing first); whether it was parked."""
        cursor = self.db.execute(
            "UPDATE docplanner_actions SET state = 'pending', error = NULL, done_at = NULL "
            "WHERE seq = ? AND state = 'parked'",
            (seq,),
        )
        return bool(cursor.rowcount == 1)

    def discard(self, seq: int, now: datetime) -> bool:
        """A parked action set aside for good (kept, with its error, for the record); whether
        it was parked."""
        cursor = self.db.execute(
            "UPDATE docplanner_actions SET state = 'discarded', done_at = ? "
            "WHERE seq = ? AND state = 'parked'",
            (_iso(now), seq),
        )
        return bool(cursor.rowcount == 1)

    # --- conflicts ----------------------------------------------------------------------------

    def conflicts(self, account_id: str | None = None) -> list[Conflict]:
        """The flagged double bookings of an account (of every account with None), by start."""
        where = "" if account_id is None else "WHERE account_id = ? "
        rows = self.db.execute(
            "SELECT account_id, booking_id, event_id, start_utc, end_utc, proposals "
            f"FROM docplanner_conflicts {where}ORDER BY start_utc",
            () if account_id is None else (account_id,),
        ).fetchall()
        return [
            Conflict(
                r[0],
                r[1],
                r[2],
                datetime.fromisoformat(r[3]),
                datetime.fromisoformat(r[4]),
                [datetime.fromisoformat(x) for x in json.loads(r[5])],
            )
            for r in rows
        ]

    def replace_conflicts(self, account_id: str, found: Sequence[Conflict], now: datetime) -> None:
        """The account's flagged double bookings are exactly ``found``."""
        with self.db.transaction():
            self.db.execute("DELETE FROM docplanner_conflicts WHERE account_id = ?", (account_id,))
            for c in found:
                self.db.execute(
                    "INSERT INTO docplanner_conflicts VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        account_id,
                        c.booking_id,
                        c.event_id,
                        _iso(c.start),
                        _iso(c.end),
                        json.dumps([_iso(p) for p in c.proposals]),
                        _iso(now),
                    ),
                )
