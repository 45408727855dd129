"""The append-only, hash-chained audit log.

Each entry's hash is SHA-256 over a canonical JSON of its stored columns (id, time, actor,
action, entity, before/after text) and the previous entry's hash, so changing, removing or
reordering any entry breaks the chain from that entry on. Before/after hold the practitioner's
own data (patients included): this log is theirs. It is never written to ``logging``.

Threads: used from the thread of the Repository that owns it (one at a time).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carecal.domain.errors import AuditChainBroken
from carecal.store.db import Database

GENESIS_HASH = "0" * 64

_COLUMNS = "id, at, actor, action, entity_kind, entity_id, before, after, prev_hash, hash"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str  # UTC, ISO 8601
    actor: str
    action: str  # create / update / delete / status / import / restore / settings ...
    entity_kind: str  # event / calendar / patient / service / schedule / settings
    entity_id: str
    before: Any  # decoded JSON, None when there was nothing before
    after: Any
    prev_hash: str
    hash: str


_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_json(value: Any) -> str:
    """The one serialization hashed and stored: sorted keys, no spaces, UTF-8 text."""
    return _canonical(value)


def entry_hash(
    entry_id: int,
    at: str,
    actor: str,
    action: str,
    entity_kind: str,
    entity_id: str,
    before: str | None,
    after: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of an entry's canonical form chained to ``prev_hash``. Any thread."""
    body = canonical_json(
        {
            "id": entry_id,
            "at": at,
            "actor": actor,
            "action": action,
            "entity_kind": entity_kind,
            "entity_id": entity_id,
            "before": before,
            "after": after,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class AuditLog:
    """Read, append and verify the audit log of one database."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def append(
        self,
        actor: str,
        action: str,
        entity_kind: str,
        entity_id: str,
        before: Any = None,
        after: Any = None,
    ) -> int:
        """Add one entry and return its id. Must be called inside the mutation's transaction
        (the chain head read here must not move before the insert). Raises StoreError."""
        last = self._db.execute(
            "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
        entry_id = 1 if last is None else int(last[0]) + 1
        prev = GENESIS_HASH if last is None else str(last[1])
        at = self._clock().isoformat()
        before_text = None if before is None else canonical_json(before)
        after_text = None if after is None else canonical_json(after)
        digest = entry_hash(
            entry_id, at, actor, action, entity_kind, entity_id, before_text, after_text, prev
        )
        self._db.execute(
            f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry_id,
                at,
                actor,
                action,
                entity_kind,
                entity_id,
                before_text,
                after_text,
                prev,
                digest,
            ),
        )
        return entry_id

    def entries(
        self, limit: int | None = None, *, entity_id: str | None = None
    ) -> list[AuditEntry]:
        """Entries oldest first (the newest ``limit`` ones when given). Caller's thread; disk
        I/O; raises StoreError."""
        where = "" if entity_id is None else "WHERE entity_id = ?"
        params: tuple[Any, ...] = () if entity_id is None else (entity_id,)
        if limit is None:
            sql = f"SELECT {_COLUMNS} FROM audit_log {where} ORDER BY id"
        else:
            sql = (
                f"SELECT * FROM (SELECT {_COLUMNS} FROM audit_log {where} "
                f"ORDER BY id DESC LIMIT ?) ORDER BY id"
            )
            params = (*params, limit)
        return [_entry(row) for row in self._db.execute(sql, params).fetchall()]

    def verify(self) -> int:
        """Check the whole chain; return the number of entries checked.

        Caller's thread; reads the whole log. Raises AuditChainBroken naming the first entry whose
        hash or link does not verify.
        """
        prev = GENESIS_HASH
        count = 0
        for row in self._iter_rows():
            entry_id, at, actor, action, kind, ent, before, after, prev_hash, digest = row
            if prev_hash != prev:
                raise AuditChainBroken(
                    int(entry_id), "does not follow the entry before it (entry removed or moved)"
                )
            expected = entry_hash(
                int(entry_id), at, actor, action, kind, ent, before, after, prev_hash
            )
            if digest != expected:
                raise AuditChainBroken(
                    int(entry_id), "its content was changed after it was written"
                )
            prev = digest
            count += 1
        return count

    def _iter_rows(self) -> Iterator[tuple[Any, ...]]:
        cursor = self._db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY id")
        while rows := cursor.fetchmany(1000):
            yield from rows


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    entry_id, at, actor, action, kind, ent, before, after, prev_hash, digest = row
    return AuditEntry(
        id=int(entry_id),
        at=at,
        actor=actor,
        action=action,
        entity_kind=kind,
        entity_id=ent,
        before=None if before is None else json.loads(before),
        after=None if after is None else json.loads(after),
        prev_hash=prev_hash,
        hash=digest,
    )
