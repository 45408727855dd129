"""Schema version 8: Docplanner actions out and double bookings.

- ``docplanner_actions``: actions taken in Carecal on Docplanner bookings (book, move,
  cancel, confirm, presence), queued durably so they work offline and go out at the next
  sync, in ``seq`` order. ``state`` is pending, done or parked (refused: ``error`` says why);
  ``attempted`` marks a call whose answer was lost, so the next try first checks by listing.
- ``docplanner_conflicts``: current Docplanner bookings that overlap busy time in another
  calendar (double bookings), with the next free starts proposed (JSON list of ISO times).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 8
NAME = "docplanner_actions"

_STATEMENTS = (
    """CREATE TABLE docplanner_actions (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    booking_id TEXT,
    address_id TEXT NOT NULL,
    payload    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempted  INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    result_id  TEXT,
    created_at TEXT NOT NULL,
    done_at    TEXT
)""",
    "CREATE INDEX docplanner_actions_state ON docplanner_actions(account_id, state, seq)",
    """CREATE TABLE docplanner_conflicts (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    booking_id TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    start_utc  TEXT NOT NULL,
    end_utc    TEXT NOT NULL,
    proposals  TEXT NOT NULL DEFAULT '[]',
    flagged_at TEXT NOT NULL,
    PRIMARY KEY (account_id, booking_id)
)""",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Create the tables. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
