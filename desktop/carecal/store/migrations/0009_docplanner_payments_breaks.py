"""Schema version 9: the payment window and breaks as a publishing mode.

- ``docplanner_bookings.booked_at``: when the patient booked, so a visit-payment booking can
  show the time left of its 90-minute payment window.
- ``docplanner_addresses.publish_mode``: ``slots`` (Carecal publishes free slots, the default)
  or ``breaks`` (the address keeps its working hours in Docplanner and Carecal blocks busy time
  with calendar breaks).
- ``docplanner_own_breaks``: the breaks Carecal created for ``breaks`` mode, so it changes or
  removes only its own and never a break the practice set in Docplanner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 9
NAME = "docplanner_payments_breaks"

_STATEMENTS = (
    "ALTER TABLE docplanner_bookings ADD COLUMN booked_at TEXT",
    "ALTER TABLE docplanner_addresses ADD COLUMN publish_mode TEXT NOT NULL DEFAULT 'slots'",
    """CREATE TABLE docplanner_own_breaks (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address_id TEXT NOT NULL,
    break_id   TEXT NOT NULL,
    since_utc  TEXT NOT NULL,
    till_utc   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, break_id)
)""",
    "CREATE INDEX docplanner_own_breaks_address ON docplanner_own_breaks(account_id, address_id)",
    """CREATE TABLE docplanner_recent_puts (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address_id TEXT NOT NULL,
    digest     TEXT NOT NULL,
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, address_id, digest)
)""",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Add the columns and the table. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
