"""Schema version 3: what the sync engine remembers between runs.

- ``sync_items``: per (calendar, UID) the remote id and version last agreed and the *base* (the
  item's events as last agreed, JSON of event documents keyed by recurrence id).
- ``sync_calendars``: a calendar's sync token, last successful sync and last error.
- ``sync_conflicts``: what the 0001 ``conflicts`` table lacks for a whole item (UID, kind, the
  remote reference and raw text), one row per conflict.
Account flags (needs sign-in, conflict policy) live in ``accounts.settings`` JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 3
NAME = "sync state"

_STATEMENTS = (
    """CREATE TABLE sync_items (
    calendar_id    TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    remote_id      TEXT NOT NULL,
    remote_version TEXT,
    base           TEXT NOT NULL DEFAULT '{}',
    synced_at      TEXT NOT NULL,
    PRIMARY KEY (calendar_id, uid),
    UNIQUE (calendar_id, remote_id)
)""",
    """CREATE TABLE sync_calendars (
    calendar_id  TEXT PRIMARY KEY REFERENCES calendars(id) ON DELETE CASCADE,
    token        TEXT,
    last_sync_at TEXT,
    last_error   TEXT
)""",
    """CREATE TABLE sync_conflicts (
    conflict_id    INTEGER PRIMARY KEY REFERENCES conflicts(id) ON DELETE CASCADE,
    uid            TEXT NOT NULL,
    kind           TEXT NOT NULL,
    remote_id      TEXT,
    remote_version TEXT,
    remote_raw     TEXT
)""",
    "CREATE INDEX sync_conflicts_uid ON sync_conflicts(uid)",
    # The engine groups unsent ops by item: find them without scanning the whole queue.
    "CREATE INDEX outbox_item ON outbox(calendar_id, json_extract(payload, '$.uid')) "
    "WHERE state != 'done'",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Create the sync tables. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
