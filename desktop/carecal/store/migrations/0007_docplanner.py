"""Schema version 7: the Docplanner integration's own tables.

- ``docplanner_addresses``: each Docplanner address an account sees that the user mapped to a
  Carecal calendar (an in-person address and an online-only one are separate rows), with its
  flags (online only, visit payments, commercial type, assigned to the API client).
- ``docplanner_services``: the address services of mapped addresses and the Carecal service
  type each one stands for; ``deleted`` keeps a removed service's mapping so an identical one
  added again (new id) takes it over.
- ``docplanner_inbox``: every pulled notification, stored before it is acted on (pulling is
  the acknowledgement), applied in ``seq`` order; ``state`` pending, applied or failed.
- ``docplanner_bookings``: each booking id ever seen and the one Carecal appointment it belongs
  to (a moved booking gets a new id; all ids of one chain point at one event; ``current`` marks
  the newest), with the fields Carecal's event has no place for (payment, presence, booked_by).
- ``docplanner_breaks``: calendar breaks set in Docplanner (no slots are published over them).
- ``docplanner_published``: per address and local day, the digest and text of the slots last
  published, so only changed days are sent again.
- ``docplanner_state``: per account, the last successful pull and reconciliation, and whether
  a reconciliation by listing is owed (after a lost pull answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 7
NAME = "docplanner"

_STATEMENTS = (
    """CREATE TABLE docplanner_addresses (
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address_id      TEXT NOT NULL,
    facility_id     TEXT NOT NULL,
    doctor_id       TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    online_only     INTEGER NOT NULL DEFAULT 0,
    visit_payment   INTEGER NOT NULL DEFAULT 0,
    commercial_type TEXT,
    calendar_id     TEXT REFERENCES calendars(id) ON DELETE SET NULL,
    assigned        INTEGER NOT NULL DEFAULT 1,
    mapped_at       TEXT NOT NULL,
    PRIMARY KEY (account_id, address_id)
)""",
    """CREATE TABLE docplanner_services (
    account_id         TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address_id         TEXT NOT NULL,
    address_service_id TEXT NOT NULL,
    service_id         TEXT,
    name               TEXT NOT NULL DEFAULT '',
    duration           INTEGER,
    price              INTEGER,
    service_type_id    TEXT REFERENCES service_types(id) ON DELETE SET NULL,
    deleted            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, address_id, address_service_id)
)""",
    """CREATE TABLE docplanner_inbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending',
    error       TEXT,
    applied_at  TEXT
)""",
    "CREATE INDEX docplanner_inbox_state ON docplanner_inbox(account_id, state, seq)",
    """CREATE TABLE docplanner_bookings (
    account_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    booking_id     TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    address_id     TEXT NOT NULL,
    origin_id      TEXT,
    current        INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL,
    start_utc      TEXT NOT NULL,
    end_utc        TEXT NOT NULL,
    booked_by      TEXT NOT NULL DEFAULT '',
    visit_payment  INTEGER NOT NULL DEFAULT 0,
    payment_status TEXT,
    presence       TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (account_id, booking_id)
)""",
    "CREATE INDEX docplanner_bookings_event ON docplanner_bookings(event_id)",
    "CREATE INDEX docplanner_bookings_origin ON docplanner_bookings(account_id, origin_id)",
    """CREATE TABLE docplanner_breaks (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    break_id   TEXT NOT NULL,
    address_id TEXT NOT NULL,
    since_utc  TEXT NOT NULL,
    till_utc   TEXT NOT NULL,
    PRIMARY KEY (account_id, break_id)
)""",
    """CREATE TABLE docplanner_published (
    account_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    digest       TEXT NOT NULL,
    slots        TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (account_id, address_id, day)
)""",
    """CREATE TABLE docplanner_state (
    account_id        TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    last_pull_at      TEXT,
    last_reconcile_at TEXT,
    needs_reconcile   INTEGER NOT NULL DEFAULT 1
)""",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Create the tables. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
