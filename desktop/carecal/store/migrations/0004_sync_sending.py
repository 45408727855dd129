"""Schema version 4: what a push was sending when its answer never came.

``sync_sending`` keeps, per (calendar, UID), every distinct version of the item that a create or
update sent since the last agreed state was saved (JSON of event documents keyed by recurrence
id), each written in its own transaction before the request. A sync killed (or cut off) after
the server stored the write but before the local commit leaves the item's agreed state one
version behind; when the server later shows one of these versions, the engine knows it is this
computer's own write and takes it as the agreed base instead of calling it a conflict.
Rows go away when the item's agreed state is saved or forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 4
NAME = "sync sending"

_STATEMENTS = (
    """CREATE TABLE sync_sending (
    calendar_id TEXT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    uid         TEXT NOT NULL,
    docs        TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (calendar_id, uid, docs)
)""",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Create the table. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
