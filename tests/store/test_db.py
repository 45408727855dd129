"""Database transactions: a relaxed (not durable) commit is still atomic, it changes the
synchronous setting only for itself, and only an outermost transaction can relax it."""

from __future__ import annotations

import pytest

from carecal.domain.errors import StoreError
from carecal.store.db import Database

NORMAL, FULL = 1, 2  # PRAGMA synchronous values


def _mode(db: Database) -> int:
    return int(db.execute("PRAGMA synchronous").fetchone()[0])


def _commits(db: Database) -> list[int]:
    """Starts recording the synchronous setting in force at each COMMIT."""
    seen: list[int] = []
    conn = db.conn()

    def trace(sql: str) -> None:
        if sql.strip().upper() == "COMMIT":
            seen.append(conn.execute("PRAGMA synchronous").fetchone()[0])

    conn.set_trace_callback(trace)
    return seen


def test_a_relaxed_transaction_commits_at_normal_and_restores_full(db: Database) -> None:
    db.execute("CREATE TABLE t (x INTEGER)")
    assert _mode(db) == FULL
    commits = _commits(db)
    with db.transaction(durable=False):
        db.execute("INSERT INTO t VALUES (1)")
    with db.transaction():
        db.execute("INSERT INTO t VALUES (2)")
    db.conn().set_trace_callback(None)
    assert commits == [NORMAL, FULL]
    assert _mode(db) == FULL
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 2


def test_a_relaxed_transaction_inside_a_durable_one_stays_durable(db: Database) -> None:
    db.execute("CREATE TABLE t (x INTEGER)")
    commits = _commits(db)
    with db.transaction(), db.transaction(durable=False):
        db.execute("INSERT INTO t VALUES (1)")
    db.conn().set_trace_callback(None)
    assert commits == [FULL]


def test_a_failed_relaxed_transaction_rolls_back_and_restores_full(db: Database) -> None:
    db.execute("CREATE TABLE t (x INTEGER NOT NULL)")
    with pytest.raises(StoreError), db.transaction(durable=False):
        db.execute("INSERT INTO t VALUES (1)")
        db.execute("INSERT INTO t VALUES (NULL)")
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 0
    assert _mode(db) == FULL
