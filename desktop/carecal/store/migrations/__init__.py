"""Numbered schema migrations and their runner.

Each ``NNNN_name.py`` module defines ``VERSION``, ``NAME`` and ``apply(execute)``. The runner
applies the missing ones in order, each in its own transaction together with its row in
``schema_version``, so a crash mid-upgrade leaves the database at the previous version.
"""

from __future__ import annotations

import importlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import peewee

from carecal.domain.errors import StoreError

_MODULES = (
    "0001_initial",
    "0002_search_index",
    "0003_sync",
    "0004_sync_sending",
    "0005_reminders",
    "0006_followups_requests",
    "0007_docplanner",
    "0008_docplanner_actions",
    "0009_docplanner_payments_breaks",
)


class Executor(Protocol):
    """The part of a peewee database the runner needs."""

    def execute_sql(self, sql: str, params: Any = ...) -> Any: ...

    def atomic(self, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Callable[[str], Any]], None]


def _load() -> tuple[Migration, ...]:
    found = []
    for module_name in _MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        found.append(Migration(module.VERSION, module.NAME, module.apply))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1..n: {versions}")
    return tuple(found)


MIGRATIONS: tuple[Migration, ...] = _load()
LATEST_VERSION: int = MIGRATIONS[-1].version


def current_version(db: Executor) -> int:
    """The schema version of an open database (0 for an empty one). Caller's thread; disk I/O."""
    has_table = db.execute_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not has_table:
        return 0
    row = db.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: Executor, *, target: int | None = None) -> int:
    """Bring the schema up to ``target`` (default: the latest) and return the version reached.

    Runs on the caller's thread; does disk I/O. Raises StoreError when the database was made by
    a newer Carecal (it is left untouched, never downgraded) or when a migration fails (that
    migration is rolled back).
    """
    goal = LATEST_VERSION if target is None else target
    if not 0 <= goal <= LATEST_VERSION:
        raise StoreError(f"unknown schema version {goal}")
    version = current_version(db)
    if version > LATEST_VERSION:
        raise StoreError(
            f"this database was made by a newer Carecal (schema version {version}; this version "
            f"knows up to {LATEST_VERSION}); update Carecal to open it"
        )
    if version == 0:
        db.execute_sql(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    for migration in MIGRATIONS:
        if version < migration.version <= goal:
            try:
                with db.atomic():
                    migration.apply(db.execute_sql)
                    db.execute_sql(
                        "INSERT INTO schema_version(version, name, applied_at) VALUES (?, ?, ?)",
                        (migration.version, migration.name, datetime.now(UTC).isoformat()),
                    )
            except (sqlite3.Error, peewee.PeeweeException) as exc:
                raise StoreError(
                    f"upgrading the database to schema version {migration.version} "
                    f"({migration.name}) failed: {exc}"
                ) from exc
            version = migration.version
    return version
