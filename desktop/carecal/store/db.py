"""Opening the local SQLite database: pragmas, migrations, error translation.

Threads: peewee keeps one SQLite connection per thread, opened on first use with the pragmas
below. A ``Database`` may be shared between threads, but each ``Repository`` on top of it is used
from one thread at a time. Writes take the lock at BEGIN (``BEGIN IMMEDIATE``) so two writers
(the app and the command line) queue on ``busy_timeout`` instead of failing mid-transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import peewee

from carecal.domain.errors import StoreError
from carecal.store import migrations

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# FULL: a committed outbox op survives power loss, not only a process crash.
SYNCHRONOUS = "FULL"

PRAGMAS: tuple[tuple[str, object], ...] = (
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("busy_timeout", BUSY_TIMEOUT_MS),
    ("synchronous", SYNCHRONOUS),
    ("cache_size", -16000),
    ("temp_store", "memory"),
)


def connect(path: Path) -> peewee.SqliteDatabase:
    """A configured peewee database for ``path`` (parent folders created), without migrating.

    Caller's thread; does disk I/O. Raises StoreError when the file cannot be opened.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        pw = peewee.SqliteDatabase(
            str(path),
            pragmas=list(PRAGMAS),
            timeout=BUSY_TIMEOUT_MS / 1000,
            lock_type="IMMEDIATE",
        )
        pw.connect(reuse_if_open=True)
    except (OSError, peewee.PeeweeException, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the database {path.name}: {exc}") from exc
    return pw


class Database:
    """An open, migrated Carecal database.

    ``pw`` is the underlying peewee database (one connection per thread). Only ``carecal.store``
    uses it.
    """

    def __init__(self, pw: peewee.SqliteDatabase, path: Path) -> None:
        self.pw = pw
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (creating if needed) the database at ``path`` and migrate it to the latest schema.

        Caller's thread; does disk I/O. Raises StoreError when the file cannot be opened, is not
        a database, or was made by a newer Carecal (then it is left untouched).
        """
        pw = connect(path)
        try:
            version = migrations.migrate(pw)
        except StoreError:
            pw.close()
            raise
        except (peewee.PeeweeException, sqlite3.Error) as exc:
            pw.close()
            raise StoreError(f"{path.name} is not a Carecal database or is damaged: {exc}") from exc
        log.debug("opened database at schema version %d", version)
        return cls(pw, path)

    @property
    def schema_version(self) -> int:
        """The schema version on disk. Caller's thread; raises StoreError."""
        with translate_errors():
            return migrations.current_version(self.pw)

    def close(self) -> None:
        """Close this thread's connection. Caller's thread."""
        with translate_errors():
            if not self.pw.is_closed():
                self.pw.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE), nested calls join it as savepoints.

        ``durable=False`` (honoured by an outermost transaction only) commits without waiting
        for the disk (``synchronous = NORMAL`` in WAL mode): the commit is still atomic and
        survives a crash of the process, but a power cut may undo it, never half of it. Only for
        writes that can be made again and that nothing durable depends on, such as the batches
        of a pull before the one that stores its sync token: the next durable commit syncs the
        whole write-ahead log, and with it every relaxed commit before it.

        Caller's thread. Any exception inside rolls everything back; peewee/SQLite errors leave
        as StoreError.
        """
        relaxed = not durable and not self.pw.in_transaction()
        if relaxed:
            self.execute("PRAGMA synchronous = NORMAL")
        try:
            with translate_errors(), self.pw.atomic():
                yield
        finally:
            if relaxed:
                self.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        """Run one statement and return its cursor. Caller's thread; raises StoreError."""
        with translate_errors():
            return self.pw.execute_sql(sql, params)  # type: ignore[no-untyped-call]

    def conn(self) -> sqlite3.Connection:
        """This thread's sqlite3 connection (for ``executemany`` on hot paths). Caller's thread."""
        with translate_errors():
            connection: sqlite3.Connection = self.pw.connection()  # type: ignore[no-untyped-call]
        return connection

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many parameter rows. Caller's thread; raises StoreError."""
        if rows:
            with translate_errors():
                self.conn().executemany(sql, rows)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn peewee and sqlite3 errors into StoreError with a readable one-line message."""
    try:
        yield
    except (peewee.PeeweeException, sqlite3.Error) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "locked" in message or "busy" in message:
            raise StoreError(
                "the database is busy (another Carecal window or command is writing); try again"
            ) from exc
        raise StoreError(f"database error: {message}") from exc
