"""Peewee models of the current schema (version ``migrations.LATEST_VERSION``).

The migrations, not these models, create the schema; a test checks the two agree. The models
are for ad-hoc reads (sync state, conflicts, reports) bound per database with
``database.bind_ctx(ALL_TABLES)``; the Repository's hot paths use plain SQL.
"""

from __future__ import annotations

from typing import Any

import peewee as pw


class _Base(pw.Model):
    class Meta:
        database: Any = None
        legacy_table_names = False


class Meta(_Base):
    key = pw.TextField(primary_key=True)
    value = pw.TextField()


class Accounts(_Base):
    id = pw.TextField(primary_key=True)
    kind = pw.TextField()
    name = pw.TextField()
    settings = pw.TextField(default="{}")
    created_at = pw.TextField()


class Calendars(_Base):
    id = pw.TextField(primary_key=True)
    account_id = pw.TextField()
    name = pw.TextField()
    color = pw.TextField()
    visible = pw.IntegerField(default=1)
    read_only = pw.IntegerField(default=0)
    is_default = pw.IntegerField(default=0)
    publish_availability = pw.IntegerField(default=0)
    remote_id = pw.TextField(null=True)
    sync_state = pw.TextField(null=True)
    position = pw.IntegerField(default=0)
    created_at = pw.TextField()


class Patients(_Base):
    id = pw.TextField(primary_key=True)
    first_name = pw.TextField()
    last_name = pw.TextField(default="")
    phone = pw.TextField(default="")
    email = pw.TextField(default="")
    birth_date = pw.TextField(null=True)
    notes = pw.TextField(default="")
    created_at = pw.TextField()
    updated_at = pw.TextField()


class ServiceTypes(_Base):
    id = pw.TextField(primary_key=True)
    name = pw.TextField()
    duration_minutes = pw.IntegerField()
    price = pw.TextField(null=True)
    color = pw.TextField()
    online = pw.IntegerField(default=0)
    buffer_minutes = pw.IntegerField(default=0)
    capacity = pw.IntegerField(default=1)


class Events(_Base):
    id = pw.TextField(primary_key=True)
    calendar_id = pw.TextField()
    uid = pw.TextField()
    recurrence_id = pw.TextField(default="")
    recurrence_id_text = pw.TextField(null=True)
    master_id = pw.TextField(null=True)
    kind = pw.IntegerField()
    start_text = pw.TextField()
    end_text = pw.TextField()
    tzid = pw.TextField(null=True)
    start_utc = pw.IntegerField()
    end_utc = pw.IntegerField()
    first_start_utc = pw.IntegerField(null=True)
    last_end_utc = pw.IntegerField(null=True)
    all_day = pw.IntegerField(default=0)
    floating = pw.IntegerField(default=0)
    summary = pw.TextField(default="")
    description = pw.TextField(default="")
    location = pw.TextField(default="")
    status = pw.TextField()
    busy = pw.IntegerField(default=1)
    rrule = pw.TextField(null=True)
    rdates = pw.TextField(default="[]")
    exdates = pw.TextField(default="[]")
    patient_id = pw.TextField(null=True)
    service_id = pw.TextField(null=True)
    mode = pw.TextField()
    video_url = pw.TextField(default="")
    price = pw.TextField(null=True)
    capacity = pw.IntegerField(null=True)
    reminder_minutes = pw.IntegerField(null=True)
    sequence = pw.IntegerField(default=0)
    # "raw" would hide Model.raw(); the column keeps its name.
    raw_text = pw.TextField(null=True, column_name="raw")
    n_participants = pw.IntegerField(default=0)
    remote_id = pw.TextField(null=True)
    remote_version = pw.TextField(null=True)
    base = pw.TextField(null=True)
    pending = pw.IntegerField(default=0)
    created_at = pw.TextField()
    updated_at = pw.TextField()


class EventParticipants(_Base):
    event_id = pw.TextField()
    position = pw.IntegerField()
    patient_id = pw.TextField()
    attendance = pw.TextField()

    class Meta:
        primary_key = pw.CompositeKey("event_id", "position")


class WorkingHours(_Base):
    id = pw.TextField(primary_key=True)
    weekday = pw.IntegerField()
    start = pw.TextField()
    end = pw.TextField()
    valid_from = pw.TextField(null=True)
    valid_to = pw.TextField(null=True)
    calendar_id = pw.TextField(null=True)


class Breaks(_Base):
    id = pw.TextField(primary_key=True)
    start = pw.TextField()
    end = pw.TextField()
    weekday = pw.IntegerField(null=True)
    on_date = pw.TextField(null=True)
    label = pw.TextField(default="")
    calendar_id = pw.TextField(null=True)


class Settings(_Base):
    key = pw.TextField(primary_key=True)
    value = pw.TextField()


class Outbox(_Base):
    seq = pw.AutoField()
    op_id = pw.TextField(unique=True)
    event_id = pw.TextField()
    calendar_id = pw.TextField()
    kind = pw.TextField()
    payload = pw.TextField()
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.TextField(null=True)
    last_error = pw.TextField(null=True)
    state = pw.TextField()
    created_at = pw.TextField()
    done_at = pw.TextField(null=True)


class Tombstones(_Base):
    seq = pw.AutoField()
    event_id = pw.TextField()
    calendar_id = pw.TextField()
    uid = pw.TextField()
    recurrence_id = pw.TextField(default="")
    remote_id = pw.TextField(null=True)
    remote_version = pw.TextField(null=True)
    deleted_at = pw.TextField()


class Conflicts(_Base):
    id = pw.AutoField()
    event_id = pw.TextField()
    calendar_id = pw.TextField()
    base = pw.TextField(null=True)
    local = pw.TextField(null=True)
    remote = pw.TextField(null=True)
    fields = pw.TextField(default="[]")
    detected_at = pw.TextField()
    resolution = pw.TextField(null=True)
    resolved_at = pw.TextField(null=True)


class AuditLog(_Base):
    id = pw.AutoField()
    at = pw.TextField()
    actor = pw.TextField()
    action = pw.TextField()
    entity_kind = pw.TextField()
    entity_id = pw.TextField()
    before = pw.TextField(null=True)
    after = pw.TextField(null=True)
    prev_hash = pw.TextField()
    hash = pw.TextField()


class SearchDocs(_Base):
    doc = pw.AutoField()
    event_id = pw.TextField(unique=True)


ALL_TABLES: tuple[type[_Base], ...] = (
    Meta,
    Accounts,
    Calendars,
    Patients,
    ServiceTypes,
    Events,
    EventParticipants,
    WorkingHours,
    Breaks,
    Settings,
    Outbox,
    Tombstones,
    Conflicts,
    AuditLog,
    SearchDocs,
)
