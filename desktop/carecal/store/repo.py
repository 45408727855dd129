"""The Repository: every query and mutation the services make on the local mirror.

Each mutation writes its row(s), one outbox op per changed event and its audit entry in ONE
transaction: after a crash either all of them are on disk or none is. Ops of calendars in the
built-in local account are written already done (there is nowhere to send them).

Threads: a Repository is used from one thread at a time (peewee keeps one SQLite connection per
thread; a Repository caches settings and the decoded Events of window queries, which
it drops on its own writes and when another connection writes). Every method does disk I/O on the
caller's thread and raises StoreError on database failure, besides the errors it names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carecal.domain.changes import Changes
from carecal.domain.errors import NotFound, ReadOnlyCalendar, ValidationError
from carecal.domain.models import Event
from carecal.store.audit import AuditLog
from carecal.store.calendars import CalendarsMixin
from carecal.store.catalog import CatalogMixin
from carecal.store.codec import event_doc, recurrence_key
from carecal.store.db import Database
from carecal.store.outbox import NewOp, OpKind, Outbox, OutboxOp
from carecal.store.rows import EventRows, marks
from carecal.store.search import fts_query


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int


class PlanLike(Protocol):
    """What ``apply_plan`` needs of ``domain.editing.EditPlan``."""

    @property
    def upserts(self) -> tuple[Event, ...]: ...

    @property
    def deletes(self) -> tuple[str, ...]: ...


def _validate(event: Event) -> None:
    if isinstance(event.start, datetime) != isinstance(event.end, datetime):
        raise ValidationError(f"{event.title!r}: start and end must both be dates or both times")
    if event.end < event.start:
        raise ValidationError(f"{event.title!r} ends before it starts")
    if event.capacity is not None and len(event.participants) > max(event.capacity, 1):
        raise ValidationError(
            f"{event.title!r} has {len(event.participants)} participants for "
            f"{event.capacity} places"
        )


class Repository(CatalogMixin, CalendarsMixin):
    """Queries and mutations of one Carecal database; see the module docstring for threads."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock
        self._settings_cache = None
        self._local_cache: dict[str, tuple[bool, bool]] = {}
        self.audit = AuditLog(db, clock)
        self.outbox = Outbox(db)
        self._rows = EventRows(db, self._floating_tz)

    def _now(self) -> str:
        return self._clock().isoformat()

    def _floating_tz(self) -> tzinfo:
        try:
            return ZoneInfo(self.settings().display_tz)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC

    # --- reads -----------------------------------------------------------------------------

    def get_event(self, event_id: str) -> Event:
        """Raises NotFound."""
        found = self._rows.by_ids([event_id])
        if not found:
            raise NotFound(f"no event with id {event_id}")
        return found[0]

    def get_series(self, master_id: str) -> tuple[Event, list[Event]]:
        """A master and its overrides (by recurrence id). Raises NotFound."""
        return self.get_event(master_id), self._rows.overrides_of([master_id])

    def find_by_uid(self, calendar_id: str, uid: str) -> list[Event]:
        """Every row with this UID in the calendar: the master (or single) first, then overrides."""
        return self._rows.load(
            "calendar_id = ? AND uid = ?", (calendar_id, uid), order="ORDER BY recurrence_id"
        )

    def events_in_window(
        self,
        start: datetime,
        end: datetime,
        calendar_ids: Collection[str] | None = None,
        *,
        with_raw: bool = False,
    ) -> list[Event]:
        """Singles that can overlap [start, end), masters whose stored series bounds overlap it,
        and all overrides of those masters. Index searches only; all-day and floating entries
        within 14 h of the edges may be included (the expansion cuts exactly). Raises
        ValidationError for naive or reversed windows.

        For display the Events are lean: ``raw`` is None (the source text is only needed to
        patch an edit, and edits load the event again with ``get_event``/``get_series``).
        ``with_raw=True`` (exports) loads every event whole."""
        events = self._rows.in_window(start, end, calendar_ids, cached=not with_raw)
        if not with_raw or not events:
            return events
        whole = {e.id: e for e in self._rows.by_ids([e.id for e in events])}
        return [whole[e.id] for e in events if e.id in whole]

    def events_for_patient(self, patient_id: str) -> list[Event]:
        """Events naming the patient (as main patient or participant), oldest first."""
        return self._rows.load(
            "patient_id = ? OR id IN (SELECT event_id FROM event_participants "
            "WHERE patient_id = ?)",
            (patient_id, patient_id),
            order="ORDER BY start_utc, id",
        )

    def search_events(self, text: str, limit: int = 50) -> list[Event]:
        """Events whose title, notes, location or patient names contain every word of ``text``
        (word prefixes match; accents ignored), best matches first."""
        query = fts_query(text)
        if not query:
            return []
        ids = [
            r[0]
            for r in self._db.execute(
                "SELECT sd.event_id FROM event_search JOIN search_docs sd "
                "ON sd.doc = event_search.rowid WHERE event_search MATCH ? "
                "ORDER BY rank LIMIT ?",
                (query, limit),
            ).fetchall()
        ]
        by_id = {e.id: e for e in self._rows.by_ids(ids)}
        return [by_id[i] for i in ids if i in by_id]

    def pending_ops(self) -> list[OutboxOp]:
        """Outbox ops not yet done, oldest first."""
        return self.outbox.pending()

    # --- event mutations -------------------------------------------------------------------

    def _writable(self, calendar_id: str, actor: str) -> bool:
        """Whether the calendar is local; raises NotFound / ReadOnlyCalendar."""
        local, read_only = self._calendar_flags(calendar_id)
        if read_only and not actor.startswith("sync:"):
            raise ReadOnlyCalendar("this calendar is read-only")
        return local

    def _op(self, event: Event, kind: OpKind, local: bool) -> NewOp:
        payload: dict[str, Any]
        if local or kind is OpKind.DELETE:
            payload = {"uid": event.uid, "recurrence_id": recurrence_key(event.recurrence_id)}
        else:
            payload = event_doc(event)
        return NewOp(event.id, event.calendar_id, kind, payload, local)

    def _check_master(self, event: Event) -> None:
        if event.master_id is not None and not self._rows.existing_ids([event.master_id]):
            raise NotFound(f"the series {event.master_id} of this occurrence does not exist")

    def _masters_to_refresh(self, events: Sequence[Event]) -> set[str]:
        ids = {e.id for e in events if e.is_recurring and not e.is_override}
        ids |= {e.master_id for e in events if e.master_id is not None}
        return ids

    def add_event(self, event: Event, *, actor: str) -> Changes:
        """Insert a new event. Raises ValidationError (bad times, over capacity, id or
        (calendar, uid, recurrence id) taken), NotFound (calendar or master), ReadOnlyCalendar."""
        _validate(event)
        with self._db.transaction():
            self._insert_new([event], actor, "create")
        return Changes.of_events(*{event.id, event.master_id or event.id})

    def _insert_new(self, events: Sequence[Event], actor: str, action: str) -> None:
        now = self._now()
        ops = []
        for event in sorted(events, key=lambda e: e.recurrence_id is not None):
            local = self._writable(event.calendar_id, actor)
            if self._rows.existing_ids([event.id]):
                raise ValidationError(f"an event with id {event.id} already exists")
            key = recurrence_key(event.recurrence_id, floating=event.floating)
            if (event.uid, key) in self._rows.existing_keys(event.calendar_id, [event.uid]):
                raise ValidationError(f"{event.title!r}: this UID is already in the calendar")
            self._check_master(event)
            self._rows.insert([event], now, pending=not local)
            ops.append(self._op(event, OpKind.CREATE, local))
            self.audit.append(actor, action, "event", event.id, None, event_doc(event))
        self._rows.refresh_bounds(self._masters_to_refresh(events))
        self.outbox.add(ops, now)

    def update_event(self, event: Event, *, actor: str) -> Changes:
        """Replace a stored event (matched by id). Moving it to another calendar is a delete
        there and a create here. Raises NotFound, ValidationError, ReadOnlyCalendar."""
        _validate(event)
        with self._db.transaction():
            before = self.get_event(event.id)
            self._replace(before, event, actor)
        return Changes.of_events(*{event.id, event.master_id or event.id})

    def _replace(self, before: Event, event: Event, actor: str) -> None:
        now = self._now()
        local = self._writable(event.calendar_id, actor)
        old_local = self._writable(before.calendar_id, actor)
        self._check_master(event)
        ops = []
        if before.calendar_id != event.calendar_id:
            ops.append(self._op(before, OpKind.DELETE, old_local))
            self._rows.delete([before], now)
            self._rows.insert([event], now, pending=not local)
            ops.append(self._op(event, OpKind.CREATE, local))
        else:
            self._rows.update([event], now, pending=not local)
            ops.append(self._op(event, OpKind.UPDATE, local))
        self._rows.refresh_bounds(self._masters_to_refresh([before, event]))
        self.outbox.add(ops, now)
        only_status = before.with_changes(status=event.status) == event
        action = "status" if only_status and before.status != event.status else "update"
        self.audit.append(actor, action, "event", event.id, event_doc(before), event_doc(event))

    def delete_event(self, event_id: str, *, actor: str) -> Changes:
        """Delete an event; a master takes its overrides with it. Each leaves a tombstone.
        Raises NotFound, ReadOnlyCalendar."""
        with self._db.transaction():
            event = self.get_event(event_id)
            targets = self._delete([event], actor)
        return Changes.of_events(*targets)

    def _delete(self, events: Sequence[Event], actor: str) -> set[str]:
        now = self._now()
        targets: dict[str, Event] = {e.id: e for e in events}
        masters = [e.id for e in events if not e.is_override]
        for override in self._rows.overrides_of(masters):
            targets.setdefault(override.id, override)
        ops = []
        for target in targets.values():
            local = self._writable(target.calendar_id, actor)
            ops.append(self._op(target, OpKind.DELETE, local))
            self.audit.append(actor, "delete", "event", target.id, event_doc(target), None)
        self._rows.delete(list(targets.values()), now)
        surviving = {e.master_id for e in targets.values() if e.master_id} - set(targets)
        self._rows.refresh_bounds(surviving)
        self.outbox.add(ops, now)
        return set(targets) | surviving

    def restore_events(self, events: Sequence[Event], *, actor: str) -> Changes:
        """Bring deleted events back as they were (undo of a delete); events still present are
        replaced. Their tombstones are dropped. Raises ValidationError, ReadOnlyCalendar."""
        for event in events:
            _validate(event)
        with self._db.transaction():
            present = {e.id: e for e in self._rows.by_ids([e.id for e in events])}
            for event in sorted(events, key=lambda e: e.recurrence_id is not None):
                if event.id in present:
                    self._replace(present[event.id], event, actor)
                else:
                    self._insert_new([event], actor, "restore")
            self._rows.drop_tombstones([e.id for e in events])
        return Changes.of_events(*(e.id for e in events))

    def apply_plan(self, plan: PlanLike, *, actor: str) -> Changes:
        """Apply an edit plan in one transaction: upserts (by id; series first), then deletes
        (ids already gone are skipped). Raises ValidationError, NotFound, ReadOnlyCalendar."""
        for event in plan.upserts:
            _validate(event)
        touched: set[str] = set()
        with self._db.transaction():
            present = {e.id: e for e in self._rows.by_ids([e.id for e in plan.upserts])}
            for event in sorted(plan.upserts, key=lambda e: e.recurrence_id is not None):
                if event.id in present:
                    self._replace(present[event.id], event, actor)
                else:
                    self._insert_new([event], actor, "create")
                touched |= {event.id, event.master_id or event.id}
            gone = self._rows.by_ids(list(plan.deletes))
            if gone:
                touched |= self._delete(gone, actor)
        return Changes.of_events(*touched)

    # --- import ----------------------------------------------------------------------------

    def import_events(
        self, events: Sequence[Event], calendar_id: str, *, actor: str
    ) -> ImportResult:
        """Import parsed events into a calendar in one transaction, idempotently by (uid,
        recurrence id): a known event is unchanged when its ``raw`` (or, without raw, its fields)
        is equal, else updated in place (its local id kept). Overrides are linked to their master
        by uid, whichever arrives first. Raises NotFound, ReadOnlyCalendar, ValidationError."""
        from carecal.store.importer import run_import

        local = self._writable(calendar_id, actor)
        with self._db.transaction():
            added, updated, unchanged = run_import(
                self._rows, self.outbox, self.audit, events, calendar_id, local, actor, self._now()
            )
        return ImportResult(added, updated, unchanged)

    def tombstone_count(self, calendar_id: str | None = None) -> int:
        """How many deletions await sync (all calendars, or one)."""
        where = "" if calendar_id is None else f"WHERE calendar_id IN ({marks(1)})"
        params = () if calendar_id is None else (calendar_id,)
        row = self._db.execute(f"SELECT COUNT(*) FROM tombstones {where}", params).fetchone()
        return int(row[0])
