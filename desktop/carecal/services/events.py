"""The edit path for events that the UI and the command line share.

``EventService`` validates every event before it reaches the store, keeps each event's ``raw``
iCalendar text in step with its fields (so what Carecal does not model survives an edit), turns
edits of one occurrence of a series into the domain's edit plans, and hands back ``Undo`` records
for deletes (and, through the ``*_with_undo`` variants, for any edit).

Every method runs on the caller's thread and does disk I/O through the repository; the GUI calls
them from its database lane, never from the GUI thread.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from carecal.domain.changes import Changes
from carecal.domain.errors import CarecalError, NotFound, ReadOnlyCalendar, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    Calendar,
    EditScope,
    Event,
    Occurrence,
    When,
)
from carecal.domain.overlap import find_double_bookings
from carecal.domain.recurrence import occurrences_in_window, validate_rrule
from carecal.services.zones import is_known_zone, zone_or_utc
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.domain.editing import EditPlan

# Fields whose change makes other calendars treat the event as a new revision (RFC 5545 SEQUENCE).
_SEQUENCE_FIELDS = ("start", "end", "all_day", "tzid", "rrule", "rdates", "exdates", "status")


@dataclass(frozen=True, slots=True)
class Undo:
    """What is needed to take one action back.

    ``restore``: events the action deleted (brought back as they were). ``revert``: the previous
    versions of events the action changed (e.g. a series master before an EXDATE was added).
    ``remove``: ids of events the action created.
    """

    label: str
    restore: tuple[Event, ...] = ()
    revert: tuple[Event, ...] = ()
    remove: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.restore or self.revert or self.remove)


def validate_event(event: Event) -> None:
    """Refuse an event the store must not hold. Any thread.

    Raises ValidationError (RecurrenceError for a bad RRULE) with a one-line message.
    """
    start, end = event.start, event.end
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise ValidationError("start and end must both be dates or both be date-times")
    if event.all_day and isinstance(start, datetime):
        raise ValidationError("an all-day event needs dates, not times")
    if isinstance(start, datetime) and isinstance(end, datetime):
        if start.tzinfo is None or end.tzinfo is None:
            raise ValidationError("start and end need a time zone")
        if end <= start:
            raise ValidationError(
                f"the end ({end.isoformat(timespec='minutes')}) must be after the start "
                f"({start.isoformat(timespec='minutes')})"
            )
    elif end <= start:
        raise ValidationError(
            f"the end ({end.isoformat()}) must be after the start ({start.isoformat()})"
        )
    if event.tzid and not is_known_zone(event.tzid):
        raise ValidationError(f"unknown time zone: {event.tzid}")
    if event.rrule:
        validate_rrule(event.rrule, start)
    if event.capacity is not None:
        if event.capacity < 1:
            raise ValidationError("the capacity must be at least 1")
        count = len(event.patient_ids())
        if count > event.capacity:
            raise ValidationError(f"{count} participants do not fit a capacity of {event.capacity}")
    if event.price is not None and event.price < 0:
        raise ValidationError("the price cannot be negative")
    if event.reminder_minutes is not None and event.reminder_minutes < 0:
        raise ValidationError("the reminder cannot be after the start")


def with_raw(event: Event) -> Event:
    """The event with ``raw`` rewritten from its fields (patched onto the old raw, if any).

    Any thread. Imports the iCalendar writer lazily: listing commands never pay for it.
    Raises ValidationError when the event cannot be written as iCalendar.
    """
    from carecal.ical.writer import event_to_vevent

    try:
        raw = event_to_vevent(event)
    except CarecalError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError(f"cannot write this event as iCalendar: {exc}") from exc
    return event.with_changes(raw=raw)


def _bumped(previous: Event | None, event: Event) -> Event:
    if previous is None or event.sequence > previous.sequence:
        return event
    if any(getattr(previous, f) != getattr(event, f) for f in _SEQUENCE_FIELDS):
        return event.with_changes(sequence=previous.sequence + 1)
    return event


def _in_zone(value: When, tzid: str | None) -> When:
    """A new start/end kept in the event's own zone, so the stored TZID stays meaningful."""
    if isinstance(value, datetime) and tzid and value.tzinfo is not None and is_known_zone(tzid):
        return value.astimezone(ZoneInfo(tzid))
    return value


class EventService:
    """Validated, raw-preserving, undoable edits of events. See the module docstring."""

    def __init__(self, repo: Repository, *, actor: str) -> None:
        self.repo = repo
        self.actor = actor
        self.last_warnings: list[str] = []

    # --- reading ---------------------------------------------------------------------------

    def display_zone(self) -> ZoneInfo:
        """The user's display zone (UTC when the setting names no known zone)."""
        return zone_or_utc(self.repo.settings().display_tz)

    def occurrences(
        self,
        start: datetime,
        end: datetime,
        calendar_ids: Collection[str] | None = None,
    ) -> list[Occurrence]:
        """Every occurrence overlapping [start, end), sorted by start.

        Expansion warnings (truncated series) are kept in ``last_warnings``. Raises StoreError.
        """
        occs, warnings = self.occurrences_with_warnings(start, end, calendar_ids)
        self.last_warnings = warnings
        return occs

    def occurrences_with_warnings(
        self,
        start: datetime,
        end: datetime,
        calendar_ids: Collection[str] | None = None,
    ) -> tuple[list[Occurrence], list[str]]:
        """Like ``occurrences`` but returns the expansion warnings too. Raises StoreError."""
        events = self.repo.events_in_window(start, end, calendar_ids)
        return occurrences_in_window(events, start, end, display_tz=self.display_zone())

    def double_bookings(self, occurrences: Sequence[Occurrence]) -> set[tuple[str, str]]:
        """Keys of busy timed occurrences that overlap another one, across calendars."""
        return find_double_bookings(occurrences)

    def search(self, text: str) -> list[Event]:
        """Events whose title, notes, location or patient names match ``text``."""
        return self.repo.search_events(text)

    # --- whole events ------------------------------------------------------------------------

    def create(self, event: Event) -> Changes:
        """Store a new event. Raises ValidationError, ReadOnlyCalendar, NotFound, StoreError."""
        return self.create_with_undo(event)[0]

    def create_with_undo(self, event: Event) -> tuple[Changes, Undo]:
        """``create`` plus the record that removes the event again."""
        if not event.uid:
            event = event.with_changes(uid=f"{event.id}@carecal")
        validate_event(event)
        self._writable(event.calendar_id)
        event = with_raw(event)
        changes = self.repo.add_event(event, actor=self.actor)
        return changes, Undo(f"Create {event.title}", remove=(event.id,))

    def update(self, event: Event) -> Changes:
        """Replace a stored event (a single, an override, or a whole series' master).

        Raises ValidationError, ReadOnlyCalendar, NotFound, StoreError.
        """
        return self.update_with_undo(event)[0]

    def update_with_undo(self, event: Event) -> tuple[Changes, Undo]:
        """``update`` plus the record that puts the previous version back."""
        previous = self.repo.get_event(event.id)
        self._writable(previous.calendar_id)
        if event.calendar_id != previous.calendar_id:
            self._writable(event.calendar_id)
        validate_event(event)
        if event.raw is None:
            # Window queries return events without raw: patch onto the stored source text.
            event = event.with_changes(raw=previous.raw)
        event = with_raw(_bumped(previous, event))
        changes = self.repo.update_event(event, actor=self.actor)
        return changes, Undo(f"Edit {previous.title}", revert=(previous,))

    # --- occurrences -------------------------------------------------------------------------

    def edit(self, occ: Occurrence, changed: Mapping[str, object], scope: EditScope) -> Changes:
        """Change fields of one occurrence, it and the following ones, or the whole series.

        For a non-recurring event the scope does not matter. Raises ValidationError,
        ReadOnlyCalendar, NotFound, StoreError.
        """
        return self.edit_with_undo(occ, changed, scope)[0]

    def edit_with_undo(
        self, occ: Occurrence, changed: Mapping[str, object], scope: EditScope
    ) -> tuple[Changes, Undo]:
        """``edit`` plus the record that takes it back."""
        series = self._series_of(occ)
        if series is None:
            current = self.repo.get_event(occ.event.id)
            return self.update_with_undo(current.with_changes(**dict(changed)))
        master, overrides = series
        # Imported on use: listing commands never need the editing planner.
        from carecal.domain.editing import plan_occurrence_edit

        plan = plan_occurrence_edit(master, overrides, self._instance_id(occ), changed, scope)
        return self._apply(plan, [master, *overrides], f"Edit {master.title}")

    def move(
        self,
        occ: Occurrence,
        new_start: When,
        new_end: When,
        scope: EditScope = EditScope.THIS,
    ) -> Changes:
        """Give an occurrence a new start and end; THIS on a series creates an override.

        Raises ValidationError, ReadOnlyCalendar, NotFound, StoreError.
        """
        return self.move_with_undo(occ, new_start, new_end, scope)[0]

    def move_with_undo(
        self,
        occ: Occurrence,
        new_start: When,
        new_end: When,
        scope: EditScope = EditScope.THIS,
    ) -> tuple[Changes, Undo]:
        """``move`` plus the record that takes it back."""
        tzid = occ.event.tzid
        changed = {"start": _in_zone(new_start, tzid), "end": _in_zone(new_end, tzid)}
        return self.edit_with_undo(occ, changed, scope)

    def set_status(self, occ: Occurrence, status: AppointmentStatus) -> Changes:
        """Set the status of this one occurrence (an override for a series instance).

        Raises ValidationError, ReadOnlyCalendar, NotFound, StoreError.
        """
        return self.set_status_with_undo(occ, status)[0]

    def set_status_with_undo(
        self, occ: Occurrence, status: AppointmentStatus
    ) -> tuple[Changes, Undo]:
        """``set_status`` plus the record that takes it back."""
        return self.edit_with_undo(occ, {"status": status}, EditScope.THIS)

    def delete(self, occ: Occurrence, scope: EditScope) -> tuple[Changes, Undo]:
        """Delete an event, or one/following/all occurrences of a series, with its Undo record.

        Raises ReadOnlyCalendar, NotFound, StoreError.
        """
        series = self._series_of(occ)
        if series is None:
            current = self.repo.get_event(occ.event.id)
            self._writable(current.calendar_id)
            changes = self.repo.delete_event(current.id, actor=self.actor)
            return changes, Undo(f"Delete {current.title}", restore=(current,))
        master, overrides = series
        if scope is EditScope.ALL:
            self._writable(master.calendar_id)
            changes = self.repo.delete_event(master.id, actor=self.actor)
            return changes, Undo(f"Delete {master.title}", restore=(master, *overrides))
        from carecal.domain.editing import plan_occurrence_delete

        plan = plan_occurrence_delete(master, overrides, self._instance_id(occ), scope)
        return self._apply(plan, [master, *overrides], f"Delete {master.title}")

    def undo(self, undo: Undo) -> Changes:
        """Take an action back: bring deleted events back, put previous versions back, remove
        created events. Raises StoreError."""
        changes = Changes()
        if undo.restore or undo.revert:
            # One transaction: the store re-inserts deleted events and replaces present ones.
            back = (*undo.restore, *undo.revert)
            changes |= self.repo.restore_events(back, actor=self.actor)
        if undo.remove:
            from carecal.domain.editing import EditPlan

            plan = EditPlan(upserts=(), deletes=undo.remove)
            changes |= self.repo.apply_plan(plan, actor=self.actor)
        return changes

    # --- helpers -----------------------------------------------------------------------------

    def _writable(self, calendar_id: str) -> Calendar:
        calendar = self.repo.get_calendar(calendar_id)
        if calendar.read_only:
            raise ReadOnlyCalendar(f"the calendar {calendar.name!r} is read-only")
        return calendar

    def _series_of(self, occ: Occurrence) -> tuple[Event, list[Event]] | None:
        """The series (master, overrides) an occurrence belongs to, or None for a single event."""
        event = occ.event
        if event.is_override:
            master_id = event.master_id
            if master_id is None:
                masters = [
                    e
                    for e in self.repo.find_by_uid(event.calendar_id, event.uid)
                    if e.recurrence_id is None
                ]
                if not masters:
                    return None
                master_id = masters[0].id
        elif event.is_recurring:
            master_id = event.id
        else:
            return None
        try:
            master, overrides = self.repo.get_series(master_id)
        except NotFound:
            return None
        return master, list(overrides)

    @staticmethod
    def _instance_id(occ: Occurrence) -> When:
        if occ.recurrence_id is not None:
            return occ.recurrence_id
        if occ.event.recurrence_id is not None:
            return occ.event.recurrence_id
        return occ.start

    def _apply(self, plan: EditPlan, known: Sequence[Event], label: str) -> tuple[Changes, Undo]:
        """Validate, patch raw and store one edit plan in one transaction."""
        by_id = {e.id: e for e in known}
        upserts: list[Event] = []
        revert: list[Event] = []
        created: list[str] = []
        for event in plan.upserts:
            validate_event(event)
            self._writable(event.calendar_id)
            previous = by_id.get(event.id)
            if previous is None:
                created.append(event.id)
            else:
                revert.append(previous)
            upserts.append(with_raw(_bumped(previous, event)))
        deleted: list[Event] = []
        for event_id in plan.deletes:
            gone = by_id.get(event_id)
            if gone is None:
                try:
                    gone = self.repo.get_event(event_id)
                except NotFound:
                    continue
            self._writable(gone.calendar_id)
            deleted.append(gone)
        from carecal.domain.editing import EditPlan

        changes = self.repo.apply_plan(
            EditPlan(upserts=tuple(upserts), deletes=tuple(plan.deletes)), actor=self.actor
        )
        undo = Undo(label, restore=tuple(deleted), revert=tuple(revert), remove=tuple(created))
        return changes, undo


def occurrence_of(event: Event) -> Occurrence:
    """An Occurrence standing for a whole stored event (for callers that hold only an id)."""
    return Occurrence(
        event=event, start=event.start, end=event.end, recurrence_id=event.recurrence_id
    )


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[00:00, next 00:00) of a local day as aware datetimes (DST-correct). Any thread."""
    from datetime import time, timedelta

    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end
