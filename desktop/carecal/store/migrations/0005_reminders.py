"""Schema version 5: reminders for the practitioner and e-mail reminders for patients.

- ``patients.email_reminders``: 1 (the default) when the patient gets e-mail reminders, 0 when
  they opted out.
- ``notices_shown``: the desktop notifications already shown (by key), so none is shown twice,
  also after a restart. Old rows are pruned.
- ``email_reminders``: the durable queue of patient e-mail reminders, one row per (appointment
  occurrence, patient). ``state`` moves pending -> sending -> sent, or to failed / cancelled /
  expired / unknown (see ``store.email_queue`` for the at-most-once rules).
- ``email_reminder_log``: one line per attempt's outcome (sent, failed, retry, unknown ...),
  shown in the reminders log window and by ``carecal reminders log``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 5
NAME = "reminders"

_STATEMENTS = (
    "ALTER TABLE patients ADD COLUMN email_reminders INTEGER NOT NULL DEFAULT 1",
    """CREATE TABLE notices_shown (
    key      TEXT PRIMARY KEY,
    shown_at TEXT NOT NULL
)""",
    """CREATE TABLE email_reminders (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL,
    recurrence_id   TEXT NOT NULL DEFAULT '',
    patient_id      TEXT NOT NULL,
    starts_at       TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    message_id      TEXT NOT NULL,
    sending_since   TEXT,
    sent_at         TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (event_id, recurrence_id, patient_id)
)""",
    "CREATE INDEX email_reminders_state ON email_reminders(state, due_at)",
    """CREATE TABLE email_reminder_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    reminder_id TEXT NOT NULL,
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
)""",
    "CREATE INDEX email_reminder_log_at ON email_reminder_log(at)",
)


def apply(execute: Callable[[str], Any]) -> None:
    """Add the column and create the tables. Runs inside the runner's transaction."""
    for statement in _STATEMENTS:
        execute(statement)
