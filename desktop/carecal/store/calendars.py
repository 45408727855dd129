"""Accounts and calendars: the Repository's part that manages them.

Threads: the owning Repository's thread (one at a time); every call does disk I/O and raises
StoreError on database failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from carecal.domain.changes import Changes
from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Account, Calendar, ProviderKind, new_id
from carecal.store.audit import AuditLog
from carecal.store.db import Database

if TYPE_CHECKING:
    from carecal.store.rows import EventRows

LOCAL_ACCOUNT_ID = "local"
LOCAL_ACCOUNT_NAME = "On this computer"
DEFAULT_CALENDAR_NAME = "My practice"

_COLS = (
    "id, account_id, name, color, visible, read_only, is_default, publish_availability, remote_id"
)


def _calendar(row: tuple[Any, ...]) -> Calendar:
    cid, account, name, color, visible, ro, default, publish, remote = row
    return Calendar(
        cid, account, name, color, bool(visible), bool(ro), bool(default), bool(publish), remote
    )


def _doc(cal: Calendar) -> dict[str, Any]:
    return {
        "id": cal.id,
        "account_id": cal.account_id,
        "name": cal.name,
        "color": cal.color,
        "visible": cal.visible,
        "read_only": cal.read_only,
        "is_default": cal.is_default,
        "publish_availability": cal.publish_availability,
        "remote_id": cal.remote_id,
    }


# What removing an account deletes on this computer; the sync tables follow by cascade.
_PURGE = (
    "DELETE FROM conflicts WHERE calendar_id IN ({ids})",
    "DELETE FROM outbox WHERE calendar_id IN ({ids})",
    "DELETE FROM tombstones WHERE calendar_id IN ({ids})",
    "DELETE FROM events WHERE calendar_id IN ({ids})",
    "DELETE FROM calendars WHERE id IN ({ids})",
)


@dataclass(frozen=True, slots=True)
class AccountRemoval:
    """What ``remove_account`` deleted on this computer."""

    calendars: int
    events: int
    unsent_ops: int


class CalendarsMixin:
    """Needs ``_db``, ``audit``, ``_now()``, ``_local_cache`` and ``_rows`` from the Repository."""

    _db: Database
    audit: AuditLog
    _local_cache: dict[str, tuple[bool, bool]]
    _rows: EventRows

    def _now(self) -> str:
        raise NotImplementedError

    def _calendar_flags(self, calendar_id: str) -> tuple[bool, bool]:
        """(belongs to the local account, read-only). Raises NotFound."""
        if calendar_id not in self._local_cache:
            row = self._db.execute(
                "SELECT a.kind, c.read_only FROM calendars c JOIN accounts a "
                "ON a.id = c.account_id WHERE c.id = ?",
                (calendar_id,),
            ).fetchone()
            if row is None:
                raise NotFound(f"no calendar with id {calendar_id}")
            self._local_cache[calendar_id] = (row[0] == ProviderKind.LOCAL.value, bool(row[1]))
        return self._local_cache[calendar_id]

    def add_account(self, account: Account, *, actor: str) -> Changes:
        """Insert an account (its secret lives in the OS keyring, never here). Raises
        ValidationError when the id is taken."""
        with self._db.transaction():
            if self._db.execute("SELECT 1 FROM accounts WHERE id = ?", (account.id,)).fetchone():
                raise ValidationError(f"an account with id {account.id} already exists")
            self._db.execute(
                "INSERT INTO accounts (id, kind, name, settings, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    account.id,
                    account.kind.value,
                    account.name,
                    json.dumps(account.settings, sort_keys=True),
                    self._now(),
                ),
            )
            self.audit.append(
                actor,
                "create",
                "account",
                account.id,
                None,
                {"kind": account.kind.value, "name": account.name},
            )
        return Changes(calendars=True)

    def ensure_local_calendar(self) -> Calendar:
        """The built-in local account's default calendar, created ("My practice") on first use."""
        with self._db.transaction():
            if not self._db.execute(
                "SELECT 1 FROM accounts WHERE id = ?", (LOCAL_ACCOUNT_ID,)
            ).fetchone():
                self._db.execute(
                    "INSERT INTO accounts (id, kind, name, settings, created_at) "
                    "VALUES (?, ?, ?, '{}', ?)",
                    (LOCAL_ACCOUNT_ID, ProviderKind.LOCAL.value, LOCAL_ACCOUNT_NAME, self._now()),
                )
                self.audit.append(
                    "system",
                    "create",
                    "account",
                    LOCAL_ACCOUNT_ID,
                    None,
                    {"kind": "local", "name": LOCAL_ACCOUNT_NAME},
                )
            row = self._db.execute(
                f"SELECT {_COLS} FROM calendars WHERE account_id = ? "
                "ORDER BY is_default DESC, position, created_at LIMIT 1",
                (LOCAL_ACCOUNT_ID,),
            ).fetchone()
            if row is not None:
                return _calendar(row)
            cal = Calendar(new_id(), LOCAL_ACCOUNT_ID, DEFAULT_CALENDAR_NAME, is_default=True)
            self._insert_calendar(cal, "system")
        return cal

    def _insert_calendar(self, cal: Calendar, actor: str) -> None:
        position = self._db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM calendars")
        self._db.execute(
            f"INSERT INTO calendars ({_COLS}, position, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cal.id,
                cal.account_id,
                cal.name,
                cal.color,
                int(cal.visible),
                int(cal.read_only),
                int(cal.is_default),
                int(cal.publish_availability),
                cal.remote_id,
                position.fetchone()[0],
                self._now(),
            ),
        )
        self.audit.append(actor, "create", "calendar", cal.id, None, _doc(cal))

    def list_calendars(self) -> list[Calendar]:
        rows = self._db.execute(f"SELECT {_COLS} FROM calendars ORDER BY position, name").fetchall()
        return [_calendar(r) for r in rows]

    def default_calendar(self) -> Calendar:
        """Where a new appointment goes: the default calendar when it is writable, else the
        local account's (created on first use)."""
        for cal in self.list_calendars():
            if cal.is_default and not cal.read_only:
                return cal
        return self.ensure_local_calendar()

    def get_calendar(self, calendar_id: str) -> Calendar:
        """Raises NotFound."""
        row = self._db.execute(
            f"SELECT {_COLS} FROM calendars WHERE id = ?", (calendar_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no calendar with id {calendar_id}")
        return _calendar(row)

    def find_calendar(self, name: str) -> Calendar:
        """By name, case-insensitive. Raises NotFound."""
        row = self._db.execute(
            f"SELECT {_COLS} FROM calendars WHERE name = ? COLLATE NOCASE "
            "ORDER BY position LIMIT 1",
            (name.strip(),),
        ).fetchone()
        if row is None:
            raise NotFound(f"no calendar named {name!r}")
        return _calendar(row)

    def add_calendar(
        self, name: str, color: str, *, actor: str, account_id: str = LOCAL_ACCOUNT_ID
    ) -> tuple[Calendar, Changes]:
        """A new calendar (in the local account unless ``account_id`` is given). Raises
        ValidationError for an empty name, NotFound for an unknown account."""
        if not name.strip():
            raise ValidationError("a calendar needs a name")
        if account_id == LOCAL_ACCOUNT_ID:
            self.ensure_local_calendar()
        with self._db.transaction():
            if not self._db.execute(
                "SELECT 1 FROM accounts WHERE id = ?", (account_id,)
            ).fetchone():
                raise NotFound(f"no account with id {account_id}")
            cal = Calendar(new_id(), account_id, name.strip(), color)
            self._insert_calendar(cal, actor)
        return cal, Changes(calendars=True)

    def update_calendar(self, cal: Calendar, *, actor: str) -> Changes:
        """Save a calendar's name, colour and flags (its account cannot change). Making it the
        default clears the flag on the others. Raises NotFound, ValidationError."""
        if not cal.name.strip():
            raise ValidationError("a calendar needs a name")
        with self._db.transaction():
            before = self.get_calendar(cal.id)
            if cal.is_default:
                self._db.execute("UPDATE calendars SET is_default = 0 WHERE id != ?", (cal.id,))
            self._db.execute(
                "UPDATE calendars SET name = ?, color = ?, visible = ?, read_only = ?, "
                "is_default = ?, publish_availability = ?, remote_id = ? WHERE id = ?",
                (
                    cal.name.strip(),
                    cal.color,
                    int(cal.visible),
                    int(cal.read_only),
                    int(cal.is_default),
                    int(cal.publish_availability),
                    cal.remote_id,
                    cal.id,
                ),
            )
            self.audit.append(actor, "update", "calendar", cal.id, _doc(before), _doc(cal))
        self._local_cache.pop(cal.id, None)
        return Changes(calendars=True)

    def remove_account(self, account_id: str, *, actor: str) -> AccountRemoval:
        """Delete a remote account from this computer: its mirrored calendars with their events,
        queued ops, tombstones and conflicts, then the account, in one audited transaction.
        Nothing remote is touched (there is no outbox op). Raises NotFound, ValidationError for
        the built-in local account."""
        if account_id == LOCAL_ACCOUNT_ID:
            raise ValidationError("the calendars on this computer cannot be removed as an account")
        with self._db.transaction():
            row = self._db.execute(
                "SELECT kind, name FROM accounts WHERE id = ?", (account_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no account {account_id!r}")
            cal_ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM calendars WHERE account_id = ?", (account_id,)
                ).fetchall()
            ]
            marks = ", ".join("?" for _ in cal_ids)
            events = unsent = 0
            if cal_ids:
                events = int(
                    self._db.execute(
                        f"SELECT COUNT(*) FROM events WHERE calendar_id IN ({marks})", cal_ids
                    ).fetchone()[0]
                )
                unsent = int(
                    self._db.execute(
                        f"SELECT COUNT(*) FROM outbox WHERE calendar_id IN ({marks}) "
                        "AND state != 'done'",
                        cal_ids,
                    ).fetchone()[0]
                )
                for statement in _PURGE:
                    self._db.execute(statement.format(ids=marks), cal_ids)
            self._db.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
            removal = AccountRemoval(len(cal_ids), events, unsent)
            self.audit.append(
                actor,
                "delete",
                "account",
                account_id,
                {"kind": row[0], "name": row[1]},
                {"calendars": removal.calendars, "events": events, "discarded_ops": unsent},
            )
        # Window queries select ids through the indexes, so removed rows cannot come back from
        # the decode cache; dropping it just frees their memory.
        self._rows.forget()
        for cid in cal_ids:
            self._local_cache.pop(cid, None)
        return removal
