"""The reminder tables: desktop notices already shown, and the patient e-mail reminder queue.

``NoticesShown`` remembers which desktop notifications were shown (by key), so a restart never
shows one again. ``EmailQueue`` is the durable queue of patient e-mail reminders with its log.

At most once: a reminder is claimed (``pending`` -> ``sending``, committed) before its SMTP
transaction and marked ``sent`` after the server accepted it. A row still ``sending`` when the
sender starts again was cut off mid-transaction: the server may have taken the message, so it
becomes ``unknown`` and is never sent again by itself (``requeue`` is the user's explicit
choice). A row whose sender is another live process (the app and ``carecal reminders send`` at
once) stays ``sending`` until it is older than ``STALE_SENDING``.

Threads: the caller's thread (one connection per thread); every call does disk I/O and raises
StoreError on database failure. Times are aware UTC datetimes, stored as ISO text.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from carecal.store.db import Database

STALE_SENDING = timedelta(minutes=10)
"""A claim older than this cannot belong to a live sender (SMTP timeouts are far shorter)."""


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class NoticesShown:
    """Keys of desktop notifications already shown."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def keys(self, since: datetime) -> set[str]:
        """Keys shown at or after ``since``."""
        rows = self._db.execute(
            "SELECT key FROM notices_shown WHERE shown_at >= ?", (_iso(since),)
        ).fetchall()
        return {r[0] for r in rows}

    def add(self, keys: Iterable[str], now: datetime) -> None:
        """Remember ``keys`` as shown at ``now`` (already known keys keep their time)."""
        rows = [(k, _iso(now)) for k in keys]
        with self._db.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO notices_shown (key, shown_at) VALUES (?, ?)", rows
            )

    def prune(self, before: datetime) -> None:
        """Forget keys shown before ``before`` (they can no longer come due)."""
        with self._db.transaction():
            self._db.execute("DELETE FROM notices_shown WHERE shown_at < ?", (_iso(before),))


class ReminderState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # the server refused it for good (bad address ...)
    CANCELLED = "cancelled"  # the appointment was cancelled, moved away, or the patient opted out
    EXPIRED = "expired"  # the visit started before the reminder could go out
    UNKNOWN = "unknown"  # cut off mid-transaction: maybe sent; never resent by itself


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """A reminder the planner wants queued (idempotent by ``id``)."""

    id: str
    event_id: str
    recurrence_id: str
    patient_id: str
    starts_at: datetime
    due_at: datetime
    message_id: str


@dataclass(frozen=True, slots=True)
class QueuedReminder:
    id: str
    event_id: str
    recurrence_id: str
    patient_id: str
    starts_at: datetime
    due_at: datetime
    state: ReminderState
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    message_id: str
    sending_since: datetime | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class LogLine:
    at: datetime
    reminder_id: str
    outcome: str
    detail: str
    patient_id: str | None
    starts_at: datetime | None


_COLS = (
    "id, event_id, recurrence_id, patient_id, starts_at, due_at, state, attempts, "
    "next_attempt_at, last_error, message_id, sending_since, sent_at"
)


def _row(r: Sequence[Any]) -> QueuedReminder:
    return QueuedReminder(
        id=r[0],
        event_id=r[1],
        recurrence_id=r[2],
        patient_id=r[3],
        starts_at=datetime.fromisoformat(r[4]),
        due_at=datetime.fromisoformat(r[5]),
        state=ReminderState(r[6]),
        attempts=int(r[7]),
        next_attempt_at=_dt(r[8]),
        last_error=r[9],
        message_id=r[10],
        sending_since=_dt(r[11]),
        sent_at=_dt(r[12]),
    )


class EmailQueue:
    """The durable e-mail reminder queue and its log (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reads -------------------------------------------------------------------------------

    def get(self, reminder_id: str) -> QueuedReminder | None:
        row = self._db.execute(
            f"SELECT {_COLS} FROM email_reminders WHERE id = ?", (reminder_id,)
        ).fetchone()
        return None if row is None else _row(row)

    def all(self, state: ReminderState | None = None) -> list[QueuedReminder]:
        """Every row (in ``state`` if given), by due time."""
        where, params = ("WHERE state = ?", (state.value,)) if state else ("", ())
        rows = self._db.execute(
            f"SELECT {_COLS} FROM email_reminders {where} ORDER BY due_at, id", params
        ).fetchall()
        return [_row(r) for r in rows]

    def due(self, now: datetime) -> list[QueuedReminder]:
        """Pending rows whose time has come and whose retry wait (if any) is over."""
        rows = self._db.execute(
            f"SELECT {_COLS} FROM email_reminders WHERE state = 'pending' AND due_at <= ? "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY due_at, id",
            (_iso(now), _iso(now)),
        ).fetchall()
        return [_row(r) for r in rows]

    def log(self, limit: int = 200) -> list[LogLine]:
        """The newest ``limit`` log lines, newest first."""
        rows = self._db.execute(
            "SELECT l.at, l.reminder_id, l.outcome, l.detail, r.patient_id, r.starts_at "
            "FROM email_reminder_log l LEFT JOIN email_reminders r ON r.id = l.reminder_id "
            "ORDER BY l.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            LogLine(datetime.fromisoformat(a), rid, o, d, pid, _dt(s))
            for a, rid, o, d, pid, s in rows
        ]

    # --- planning ----------------------------------------------------------------------------

    def plan(
        self,
        planned: Sequence[PlannedReminder],
        window: tuple[datetime, datetime],
        now: datetime,
    ) -> tuple[int, int, int]:
        """Queue ``planned`` and cancel pending rows of visits in ``window`` that are no longer
        planned (cancelled, moved away, opted out). One transaction. Returns (added,
        rescheduled, cancelled). Rows already sent, sending, unknown, failed or expired are
        never touched: nothing is sent twice."""
        added = rescheduled = cancelled = 0
        stamp = _iso(now)
        with self._db.transaction():
            for p in planned:
                current = self.get(p.id)
                if current is None:
                    self._db.execute(
                        f"INSERT INTO email_reminders ({_COLS}, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, NULL, NULL, ?, NULL, NULL, ?, ?)",
                        (
                            p.id,
                            p.event_id,
                            p.recurrence_id,
                            p.patient_id,
                            _iso(p.starts_at),
                            _iso(p.due_at),
                            p.message_id,
                            stamp,
                            stamp,
                        ),
                    )
                    self._note(p.id, now, "queued", "")
                    added += 1
                    continue
                moved = current.starts_at != p.starts_at or current.due_at != p.due_at
                revived = current.state is ReminderState.CANCELLED
                if current.state is ReminderState.PENDING and not moved:
                    continue
                if current.state not in (ReminderState.PENDING, ReminderState.CANCELLED):
                    continue
                self._db.execute(
                    "UPDATE email_reminders SET state = 'pending', starts_at = ?, due_at = ?, "
                    "next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                    (_iso(p.starts_at), _iso(p.due_at), stamp, p.id),
                )
                self._note(p.id, now, "rescheduled" if moved or not revived else "queued", "")
                rescheduled += 1
            keep = {p.id for p in planned}
            rows = self._db.execute(
                "SELECT id FROM email_reminders WHERE state = 'pending' "
                "AND starts_at >= ? AND starts_at < ?",
                (_iso(window[0]), _iso(window[1])),
            ).fetchall()
            for (rid,) in rows:
                if rid not in keep:
                    self._set(rid, ReminderState.CANCELLED, now, None)
                    self._note(rid, now, "cancelled", "the visit was cancelled or moved away")
                    cancelled += 1
        return added, rescheduled, cancelled

    def cancel(self, reminder_id: str, now: datetime, why: str) -> None:
        """Cancel one pending row (opt-out, no address any more)."""
        with self._db.transaction():
            self._set(reminder_id, ReminderState.CANCELLED, now, None)
            self._note(reminder_id, now, "cancelled", why)

    # --- sending -----------------------------------------------------------------------------

    def recover(self, now: datetime) -> list[str]:
        """Turn claims older than ``STALE_SENDING`` into ``unknown`` (see the module docstring);
        their ids."""
        limit = _iso(now - STALE_SENDING)
        with self._db.transaction():
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM email_reminders WHERE state = 'sending' AND sending_since < ?",
                    (limit,),
                ).fetchall()
            ]
            for rid in ids:
                self._set(rid, ReminderState.UNKNOWN, now, "interrupted while sending")
                self._note(
                    rid,
                    now,
                    "unknown",
                    "interrupted while sending; the server may have it, so it is not resent",
                )
        return ids

    def claim(self, reminder_id: str, now: datetime) -> bool:
        """Mark a pending row ``sending`` (committed before any byte goes out). False when
        another sender claimed it first or it is no longer pending."""
        with self._db.transaction():
            cur = self._db.execute(
                "UPDATE email_reminders SET state = 'sending', sending_since = ?, "
                "attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'pending'",
                (_iso(now), _iso(now), reminder_id),
            )
            return bool(cur.rowcount == 1)

    def mark_sent(self, reminder_id: str, now: datetime) -> None:
        with self._db.transaction():
            self._db.execute(
                "UPDATE email_reminders SET state = 'sent', sent_at = ?, last_error = NULL, "
                "sending_since = NULL, updated_at = ? WHERE id = ?",
                (_iso(now), _iso(now), reminder_id),
            )
            self._note(reminder_id, now, "sent", "")

    def mark_retry(self, reminder_id: str, now: datetime, retry_at: datetime, error: str) -> None:
        """Back to ``pending`` after a failure that surely sent nothing; tried again at
        ``retry_at``."""
        with self._db.transaction():
            self._db.execute(
                "UPDATE email_reminders SET state = 'pending', next_attempt_at = ?, "
                "last_error = ?, sending_since = NULL, updated_at = ? WHERE id = ?",
                (_iso(retry_at), error, _iso(now), reminder_id),
            )
            self._note(reminder_id, now, "retry", error)

    def mark(self, reminder_id: str, state: ReminderState, now: datetime, error: str) -> None:
        """Put a row in a final ``state`` (failed, expired, unknown, cancelled) with a reason."""
        with self._db.transaction():
            self._set(reminder_id, state, now, error or None)
            self._note(reminder_id, now, state.value, error)

    def note_attempt_failed(self, reminder_ids: Sequence[str], now: datetime, error: str) -> None:
        """Record a pass that could not reach the server; the rows stay pending untouched."""
        with self._db.transaction():
            for rid in reminder_ids:
                row = self._db.execute(
                    "SELECT last_error FROM email_reminders WHERE id = ?", (rid,)
                ).fetchone()
                if row is None or row[0] == error:
                    continue  # one log line per distinct error, not one per pass
                self._db.execute(
                    "UPDATE email_reminders SET last_error = ?, updated_at = ? WHERE id = ?",
                    (error, _iso(now), rid),
                )
                self._note(rid, now, "not sent", error)

    def requeue(self, reminder_id: str, now: datetime) -> bool:
        """The user's choice to send a ``failed`` or ``unknown`` reminder again. False when the
        row is in another state."""
        with self._db.transaction():
            cur = self._db.execute(
                "UPDATE email_reminders SET state = 'pending', next_attempt_at = NULL, "
                "updated_at = ? WHERE id = ? AND state IN ('failed', 'unknown')",
                (_iso(now), reminder_id),
            )
            if cur.rowcount != 1:
                return False
            self._note(reminder_id, now, "queued", "queued again by the user")
        return True

    # --- helpers -----------------------------------------------------------------------------

    def _set(self, rid: str, state: ReminderState, now: datetime, error: str | None) -> None:
        self._db.execute(
            "UPDATE email_reminders SET state = ?, last_error = COALESCE(?, last_error), "
            "sending_since = NULL, updated_at = ? WHERE id = ?",
            (state.value, error, _iso(now), rid),
        )

    def _note(self, rid: str, now: datetime, outcome: str, detail: str) -> None:
        self._db.execute(
            "INSERT INTO email_reminder_log (reminder_id, at, outcome, detail) VALUES (?, ?, ?, ?)",
            (rid, _iso(now), outcome, detail),
        )
