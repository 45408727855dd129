"""Schema version 1: every table of the local mirror.

Written as plain SQL on purpose: a migration must keep meaning the same schema forever, whatever
the code that reads the tables turns into later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERSION = 1
NAME = "initial schema"

_SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);

CREATE TABLE calendars (
    id                   TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    name                 TEXT NOT NULL,
    color                TEXT NOT NULL,
    visible              INTEGER NOT NULL DEFAULT 1,
    read_only            INTEGER NOT NULL DEFAULT 0,
    is_default           INTEGER NOT NULL DEFAULT 0,
    publish_availability INTEGER NOT NULL DEFAULT 0,
    remote_id            TEXT,
    sync_state           TEXT,
    position             INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);
CREATE INDEX calendars_account ON calendars(account_id);

CREATE TABLE patients (
    id         TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name  TEXT NOT NULL DEFAULT '',
    phone      TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    birth_date TEXT,
    notes      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX patients_name ON patients(last_name COLLATE NOCASE, first_name COLLATE NOCASE);

CREATE TABLE service_types (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    price            TEXT,
    color            TEXT NOT NULL,
    online           INTEGER NOT NULL DEFAULT 0,
    buffer_minutes   INTEGER NOT NULL DEFAULT 0,
    capacity         INTEGER NOT NULL DEFAULT 1
);

-- kind: 0 single (also an override whose master is unknown), 1 series master, 2 override.
-- start_utc/end_utc: integer UTC seconds (all-day and floating widened by 14 h each side).
-- first_start_utc/last_end_utc: a master's series bounds (NULL last = never ends), widened to
-- cover its overrides so a moved occurrence is still found.
CREATE TABLE events (
    id                 TEXT PRIMARY KEY,
    calendar_id        TEXT NOT NULL REFERENCES calendars(id),
    uid                TEXT NOT NULL,
    recurrence_id      TEXT NOT NULL DEFAULT '',
    recurrence_id_text TEXT,
    master_id          TEXT REFERENCES events(id),
    kind               INTEGER NOT NULL,
    start_text         TEXT NOT NULL,
    end_text           TEXT NOT NULL,
    tzid               TEXT,
    start_utc          INTEGER NOT NULL,
    end_utc            INTEGER NOT NULL,
    first_start_utc    INTEGER,
    last_end_utc       INTEGER,
    all_day            INTEGER NOT NULL DEFAULT 0,
    floating           INTEGER NOT NULL DEFAULT 0,
    summary            TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    location           TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL,
    busy               INTEGER NOT NULL DEFAULT 1,
    rrule              TEXT,
    rdates             TEXT NOT NULL DEFAULT '[]',
    exdates            TEXT NOT NULL DEFAULT '[]',
    patient_id         TEXT,
    service_id         TEXT,
    mode               TEXT NOT NULL,
    video_url          TEXT NOT NULL DEFAULT '',
    price              TEXT,
    capacity           INTEGER,
    reminder_minutes   INTEGER,
    sequence           INTEGER NOT NULL DEFAULT 0,
    raw                TEXT,
    n_participants     INTEGER NOT NULL DEFAULT 0,
    remote_id          TEXT,
    remote_version     TEXT,
    base               TEXT,
    pending            INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (calendar_id, uid, recurrence_id)
);
-- Partial indexes: most rows are singles without a remote id, and an import pays for every
-- index a row lands in.
CREATE INDEX events_span ON events(kind, start_utc, end_utc);
CREATE INDEX events_series ON events(kind, first_start_utc, last_end_utc) WHERE kind = 1;
CREATE INDEX events_master ON events(master_id) WHERE master_id IS NOT NULL;
CREATE INDEX events_patient ON events(patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX events_remote ON events(calendar_id, remote_id) WHERE remote_id IS NOT NULL;

-- Patient and service ids on events are soft references: an imported file may name patients
-- this database has never seen, and that must not make the import fail.
CREATE TABLE event_participants (
    event_id   TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    patient_id TEXT NOT NULL,
    attendance TEXT NOT NULL,
    PRIMARY KEY (event_id, position)
);
CREATE INDEX event_participants_patient ON event_participants(patient_id);

CREATE TABLE working_hours (
    id          TEXT PRIMARY KEY,
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start       TEXT NOT NULL,
    "end"       TEXT NOT NULL,
    valid_from  TEXT,
    valid_to    TEXT,
    calendar_id TEXT REFERENCES calendars(id) ON DELETE CASCADE
);

CREATE TABLE breaks (
    id          TEXT PRIMARY KEY,
    start       TEXT NOT NULL,
    "end"       TEXT NOT NULL,
    weekday     INTEGER CHECK (weekday IS NULL OR weekday BETWEEN 0 AND 6),
    on_date     TEXT,
    label       TEXT NOT NULL DEFAULT '',
    calendar_id TEXT REFERENCES calendars(id) ON DELETE CASCADE
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The durable offline queue. op_id is the idempotency key sent to the remote.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id           TEXT NOT NULL UNIQUE,
    event_id        TEXT NOT NULL,
    calendar_id     TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    state           TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX outbox_state ON outbox(state, seq);
CREATE INDEX outbox_event ON outbox(event_id);

CREATE TABLE tombstones (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       TEXT NOT NULL,
    calendar_id    TEXT NOT NULL,
    uid            TEXT NOT NULL,
    recurrence_id  TEXT NOT NULL DEFAULT '',
    remote_id      TEXT,
    remote_version TEXT,
    deleted_at     TEXT NOT NULL
);
CREATE INDEX tombstones_event ON tombstones(event_id);
CREATE INDEX tombstones_calendar ON tombstones(calendar_id, uid);

CREATE TABLE conflicts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL,
    calendar_id TEXT NOT NULL,
    base        TEXT,
    local       TEXT,
    remote      TEXT,
    fields      TEXT NOT NULL DEFAULT '[]',
    detected_at TEXT NOT NULL,
    resolution  TEXT,
    resolved_at TEXT
);
CREATE INDEX conflicts_open ON conflicts(resolved_at, event_id);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_log(entity_kind, entity_id);

-- Append-only: the application never changes or removes an entry. (Someone with raw access can
-- drop these triggers; the hash chain is what detects that.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def statements(sql: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies (``BEGIN ... END;``) whole."""
    out: list[str] = []
    current: list[str] = []
    in_trigger = False
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        if stripped.upper().startswith("CREATE TRIGGER"):
            in_trigger = True
        ends = stripped.endswith("END;") if in_trigger else stripped.endswith(";")
        if ends:
            out.append("\n".join(current))
            current = []
            in_trigger = False
    return out


def apply(execute: Callable[[str], Any]) -> None:
    """Create the version-1 schema. Runs inside the runner's transaction."""
    for statement in statements(_SCHEMA):
        execute(statement)
