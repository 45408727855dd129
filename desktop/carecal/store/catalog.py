"""Patients, service types, working hours, breaks and settings: the Repository's catalog part.

Each mutation writes its rows and one audit entry in one transaction.

Threads: the owning Repository's thread (one at a time); every call does disk I/O and raises
StoreError on database failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from carecal.domain.changes import Changes
from carecal.domain.errors import NotFound, StoreError, ValidationError
from carecal.domain.models import Break, Patient, ServiceType, Settings, WorkingHours
from carecal.store.audit import AuditLog
from carecal.store.db import Database
from carecal.store.localzone import system_zone_name

_PATIENT_COLS = "id, first_name, last_name, phone, email, birth_date, notes, email_reminders"
_SERVICE_COLS = (
    "id, name, duration_minutes, price, color, online, buffer_minutes, capacity, followup_weeks"
)
_HOURS_COLS = 'id, weekday, start, "end", valid_from, valid_to, calendar_id'
_BREAK_COLS = 'id, start, "end", weekday, on_date, label, calendar_id'
_SETTINGS_KEY = "settings"


def _patient(row: tuple[Any, ...]) -> Patient:
    pid, first, last, phone, email, birth, notes, reminders = row
    born = None if birth is None else date.fromisoformat(birth)
    return Patient(pid, first, last, phone, email, born, notes, bool(reminders))


def _service(row: tuple[Any, ...]) -> ServiceType:
    sid, name, minutes, price, color, online, buffer, capacity, followup = row
    try:
        amount = None if price is None else Decimal(price)
    except InvalidOperation as exc:
        raise StoreError(f"service {name!r} has an unreadable price") from exc
    return ServiceType(sid, name, minutes, amount, color, bool(online), buffer, capacity, followup)


def _opt_date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _jsonable(obj: object) -> dict[str, Any]:
    """A dataclass as JSON-ready dict (dates, times and decimals as text)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, date | time):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[f.name] = value
    return out


class CatalogMixin:
    """Needs ``_db``, ``audit`` and ``_now()`` from the Repository."""

    _db: Database
    audit: AuditLog
    _settings_cache: Settings | None

    def _now(self) -> str:
        raise NotImplementedError

    # --- patients --------------------------------------------------------------------------

    def list_patients(self, query: str = "") -> list[Patient]:
        """Patients whose name, phone or e-mail contains ``query`` (all when empty), by name."""
        sql = f"SELECT {_PATIENT_COLS} FROM patients"
        params: tuple[Any, ...] = ()
        words = query.split()
        if words:
            clause = (
                "(first_name || ' ' || last_name || ' ' || phone || ' ' || email) LIKE ? "
                "ESCAPE '\\'"
            )
            sql += " WHERE " + " AND ".join(clause for _ in words)
            params = tuple(
                "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for w in words
            )
        sql += " ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id"
        return [_patient(r) for r in self._db.execute(sql, params).fetchall()]

    def get_patient(self, patient_id: str) -> Patient:
        """Raises NotFound."""
        row = self._db.execute(
            f"SELECT {_PATIENT_COLS} FROM patients WHERE id = ?", (patient_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no patient with id {patient_id}")
        return _patient(row)

    def find_patient(self, name: str) -> Patient:
        """Exact full name, case-insensitive. Raises NotFound, or ValidationError when several
        patients share the name."""
        rows = self._db.execute(
            f"SELECT {_PATIENT_COLS} FROM patients WHERE "
            "TRIM(first_name || ' ' || last_name) = TRIM(?) COLLATE NOCASE",
            (" ".join(name.split()),),
        ).fetchall()
        if not rows:
            raise NotFound(f"no patient named {name!r}")
        if len(rows) > 1:
            raise ValidationError(f"{len(rows)} patients are named {name!r}; use the patient id")
        return _patient(rows[0])

    def add_patient(self, p: Patient, *, actor: str) -> Changes:
        """Insert a patient. Raises ValidationError for an empty first name or a used id."""
        if not p.first_name.strip():
            raise ValidationError("a patient needs a first name")
        now = self._now()
        with self._db.transaction():
            if self._db.execute("SELECT 1 FROM patients WHERE id = ?", (p.id,)).fetchone():
                raise ValidationError(f"a patient with id {p.id} already exists")
            self._db.execute(
                f"INSERT INTO patients ({_PATIENT_COLS}, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    p.id,
                    p.first_name,
                    p.last_name,
                    p.phone,
                    p.email,
                    _iso(p.birth_date),
                    p.notes,
                    int(p.email_reminders),
                    now,
                    now,
                ),
            )
            self.audit.append(actor, "create", "patient", p.id, None, _jsonable(p))
        return Changes(patients=True)

    def update_patient(self, p: Patient, *, actor: str) -> Changes:
        """Replace a patient's fields. Raises NotFound, ValidationError."""
        if not p.first_name.strip():
            raise ValidationError("a patient needs a first name")
        with self._db.transaction():
            before = self.get_patient(p.id)
            self._db.execute(
                "UPDATE patients SET first_name = ?, last_name = ?, phone = ?, email = ?, "
                "birth_date = ?, notes = ?, email_reminders = ?, updated_at = ? WHERE id = ?",
                (
                    p.first_name,
                    p.last_name,
                    p.phone,
                    p.email,
                    _iso(p.birth_date),
                    p.notes,
                    int(p.email_reminders),
                    self._now(),
                    p.id,
                ),
            )
            self.audit.append(actor, "update", "patient", p.id, _jsonable(before), _jsonable(p))
        return Changes(patients=True)

    # --- service types ---------------------------------------------------------------------

    def list_services(self) -> list[ServiceType]:
        rows = self._db.execute(
            f"SELECT {_SERVICE_COLS} FROM service_types ORDER BY name COLLATE NOCASE, id"
        ).fetchall()
        return [_service(r) for r in rows]

    def get_service(self, service_id: str) -> ServiceType:
        """Raises NotFound."""
        row = self._db.execute(
            f"SELECT {_SERVICE_COLS} FROM service_types WHERE id = ?", (service_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no service type with id {service_id}")
        return _service(row)

    def find_service(self, name: str) -> ServiceType:
        """By name, case-insensitive. Raises NotFound."""
        row = self._db.execute(
            f"SELECT {_SERVICE_COLS} FROM service_types WHERE name = ? COLLATE NOCASE "
            "ORDER BY id LIMIT 1",
            (name.strip(),),
        ).fetchone()
        if row is None:
            raise NotFound(f"no service type named {name!r}")
        return _service(row)

    def save_service(self, s: ServiceType, *, actor: str) -> Changes:
        """Insert or update a service type. Raises ValidationError for an empty name or a
        duration that is not positive."""
        if not s.name.strip() or s.duration_minutes <= 0:
            raise ValidationError("a service type needs a name and a positive duration")
        with self._db.transaction():
            row = self._db.execute(
                f"SELECT {_SERVICE_COLS} FROM service_types WHERE id = ?", (s.id,)
            ).fetchone()
            self._db.execute(
                f"INSERT INTO service_types ({_SERVICE_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "duration_minutes = excluded.duration_minutes, price = excluded.price, "
                "color = excluded.color, online = excluded.online, "
                "buffer_minutes = excluded.buffer_minutes, capacity = excluded.capacity, "
                "followup_weeks = excluded.followup_weeks",
                (
                    s.id,
                    s.name,
                    s.duration_minutes,
                    None if s.price is None else str(s.price),
                    s.color,
                    int(s.online),
                    s.buffer_minutes,
                    s.capacity,
                    s.followup_weeks,
                ),
            )
            before = None if row is None else _jsonable(_service(row))
            action = "create" if row is None else "update"
            self.audit.append(actor, action, "service", s.id, before, _jsonable(s))
        return Changes(services=True)

    def delete_service(self, service_id: str, *, actor: str) -> Changes:
        """Raises NotFound. Events naming the service keep its id (shown as unknown)."""
        with self._db.transaction():
            before = self.get_service(service_id)
            self._db.execute("DELETE FROM service_types WHERE id = ?", (service_id,))
            self.audit.append(actor, "delete", "service", service_id, _jsonable(before), None)
        return Changes(services=True)

    # --- working hours and breaks ----------------------------------------------------------

    def working_hours(self) -> list[WorkingHours]:
        rows = self._db.execute(
            f"SELECT {_HOURS_COLS} FROM working_hours ORDER BY weekday, start, id"
        ).fetchall()
        return [
            WorkingHours(
                i,
                wd,
                time.fromisoformat(s),
                time.fromisoformat(e),
                _opt_date(vf),
                _opt_date(vt),
                cal,
            )
            for i, wd, s, e, vf, vt, cal in rows
        ]

    def set_working_hours(self, hours: Sequence[WorkingHours], *, actor: str) -> Changes:
        """Replace all working hours. Raises ValidationError for an interval ending before it
        starts or a weekday outside 0-6."""
        for h in hours:
            if not 0 <= h.weekday <= 6 or h.end <= h.start:
                raise ValidationError("working hours need a weekday 0-6 and an end after the start")
        with self._db.transaction():
            before = [_jsonable(h) for h in self.working_hours()]
            self._db.execute("DELETE FROM working_hours")
            self._db.executemany(
                f"INSERT INTO working_hours ({_HOURS_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        h.id,
                        h.weekday,
                        h.start.isoformat(),
                        h.end.isoformat(),
                        _iso(h.valid_from),
                        _iso(h.valid_to),
                        h.calendar_id,
                    )
                    for h in hours
                ],
            )
            after = [_jsonable(h) for h in hours]
            self.audit.append(actor, "update", "schedule", "working_hours", before, after)
        return Changes(schedule=True)

    def breaks(self) -> list[Break]:
        rows = self._db.execute(f"SELECT {_BREAK_COLS} FROM breaks ORDER BY start, id").fetchall()
        return [
            Break(i, time.fromisoformat(s), time.fromisoformat(e), wd, _opt_date(d), label, cal)
            for i, s, e, wd, d, label, cal in rows
        ]

    def set_breaks(self, breaks: Sequence[Break], *, actor: str) -> Changes:
        """Replace all breaks. Raises ValidationError for a break ending before it starts."""
        for b in breaks:
            if b.end <= b.start:
                raise ValidationError("a break needs an end after its start")
        with self._db.transaction():
            before = [_jsonable(b) for b in self.breaks()]
            self._db.execute("DELETE FROM breaks")
            self._db.executemany(
                f"INSERT INTO breaks ({_BREAK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        b.id,
                        b.start.isoformat(),
                        b.end.isoformat(),
                        b.weekday,
                        _iso(b.on_date),
                        b.label,
                        b.calendar_id,
                    )
                    for b in breaks
                ],
            )
            after = [_jsonable(b) for b in breaks]
            self.audit.append(actor, "update", "schedule", "breaks", before, after)
        return Changes(schedule=True)

    # --- settings --------------------------------------------------------------------------

    def has_settings(self) -> bool:
        """True once settings were saved in this database."""
        row = self._db.execute("SELECT 1 FROM settings WHERE key = ?", (_SETTINGS_KEY,))
        return row.fetchone() is not None

    def settings(self) -> Settings:
        """Saved settings; fields never saved (or unreadable) take their defaults, and the
        display zone defaults to the system's zone."""
        if self._settings_cache is not None:
            return self._settings_cache
        row = self._db.execute(
            "SELECT value FROM settings WHERE key = ?", (_SETTINGS_KEY,)
        ).fetchone()
        defaults = Settings(display_tz=system_zone_name())
        values: dict[str, Any] = {}
        if row is not None:
            try:
                saved = json.loads(row[0])
            except ValueError:
                saved = {}
            known = {f.name: type(getattr(defaults, f.name)) for f in dataclasses.fields(Settings)}
            if isinstance(saved, dict):
                values = {k: v for k, v in saved.items() if k in known and type(v) is known[k]}
        self._settings_cache = dataclasses.replace(defaults, **values)
        return self._settings_cache

    def save_settings(self, s: Settings, *, actor: str) -> Changes:
        """Store the settings as JSON (one row)."""
        with self._db.transaction():
            before = self.settings() if self.has_settings() else None
            self._db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (_SETTINGS_KEY, json.dumps(dataclasses.asdict(s), sort_keys=True)),
            )
            self.audit.append(
                actor,
                "update",
                "settings",
                _SETTINGS_KEY,
                None if before is None else _audited_settings(before),
                _audited_settings(s),
            )
        self._settings_cache = s
        return Changes(settings=True)


# Secrets that settings hold (even hashed: a 4-digit PIN's hash falls to an offline guess in
# minutes) never enter the audit log, which is exported; only the fact that they changed does.
_SECRET_SETTINGS = ("kiosk_pin_hash",)


def _audited_settings(s: Settings) -> dict[str, object]:
    doc = dataclasses.asdict(s)
    for key in _SECRET_SETTINGS:
        if doc.get(key):
            # A digest of the salted hash shows that it changed without revealing the salt.
            digest = hashlib.sha256(str(doc[key]).encode("utf-8")).hexdigest()[:8]
            doc[key] = f"(set, not recorded; {digest})"
    return doc
