"""Schema version 6: follow-up intervals of service types, and the booking-request inbox.

- ``service_types.followup_weeks``: weeks after a completed visit when the patient is due for a
  follow-up (NULL: the service has no follow-up interval; such visits never reach the recall
  list, and the follow-up offer uses the default from the settings).
- ``booking_requests``: requests imported from JSON/CSV files (``carecal requests import`` or the
  watched folder). ``id`` is stable per source row (the row's own id, else a hash of its
  content), so importing a file again adds nothing. ``state`` is open, booked or declined;
  booked and declined rows stay as the history. ``windows`` holds the preferred date/time
  windows as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 6
NAME = "followups_requests"

_STATEMENTS = (
    "ALTER TABLE service_types ADD COLUMN followup_weeks INTEGER",
    """CREATE TABLE booking_requests (
    id          TEXT PRIMARY KEY,
    external_id TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    phone       TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    service     TEXT NOT NULL DEFAULT '',
    windows     TEXT NOT NULL DEFAULT '[]',
    note        TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL DEFAULT '',
    origin      TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'open',
    event_id    TEXT,
    patient_id  TEXT,
    received_at TEXT NOT NULL,
    decided_at  TEXT
)""",
    "CREATE INDEX booking_requests_state ON booking_requests(state, received_at)",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Add the column and create the table. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
