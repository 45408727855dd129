"""Follow-ups: the offer after a completed visit, and the recall list of patients due one.

- ``FollowupService.offer``: after a visit is marked completed, "book a follow-up in N weeks"
  with the next free slots of the same service around that date. N is the service's own
  follow-up interval (``ServiceType.followup_weeks``), else ``Settings.followup_default_weeks``.
- ``FollowupService.recalls``: patients whose latest completed visit was of a service WITH a
  follow-up interval and who have nothing booked after it (a later visit that is not cancelled
  or a no-show counts as booked), sorted by the date the follow-up is due.
- ``FollowupService.book``: one slot becomes a new appointment for the same patient and service,
  created through ``EventService`` (so it lands in the outbox and the audit log and syncs). The
  slot is checked again first: a time taken meanwhile is refused, never double-booked.

Group visits (more than one patient) get no offer and no recall: each participant's follow-up
is their own decision. Nothing here logs patient data.

Threads: a ``FollowupService`` is used from one thread at a time (the GUI's database lane, or the
command line's main thread); every method does disk I/O and raises StoreError on database
failure besides the errors it names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from carecal.domain.availability import Interval
from carecal.domain.changes import Changes
from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    Calendar,
    Event,
    Occurrence,
    Patient,
    ServiceType,
    Settings,
    new_id,
)
from carecal.domain.timeutil import utc_instant
from carecal.services.events import EventService, validate_event
from carecal.services.slots import free_slots_for

DEFAULT_WEEKS = 4
DAYS_BEFORE_TARGET = 3
"""Slots "around" a follow-up date start this many days before it (never before today)."""
SEARCH_DAYS = 42
"""How far past the first day the slot search looks before it gives up."""
LOOK_AHEAD = timedelta(days=400)
"""A later appointment this far ahead still counts as booked."""
LOOK_BACK_EXTRA = timedelta(days=180)
"""Completed visits are looked for as far back as the longest interval plus this."""

_NOT_BOOKED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


def utcnow() -> datetime:
    return datetime.now(UTC)


def followup_weeks(service: ServiceType | None, settings: Settings) -> int:
    """The weeks offered after a visit of ``service``: its own interval, else the default
    setting, else four. Any thread."""
    if service is not None and service.followup_weeks and service.followup_weeks > 0:
        return service.followup_weeks
    return settings.followup_default_weeks if settings.followup_default_weeks > 0 else DEFAULT_WEEKS


@dataclass(frozen=True, slots=True)
class FollowupOffer:
    """What the "book follow-up" panel shows for one completed visit."""

    source: Event  # the completed visit (the override for a series instance)
    patient: Patient
    service: ServiceType
    weeks: int
    target: date  # the visit's day plus ``weeks``
    slots: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class Recall:
    """One patient due for a follow-up."""

    patient: Patient
    service: ServiceType
    last_visit: datetime  # the completed visit's start, in the display zone
    due: date
    source: Event

    def overdue_days(self, today: date) -> int:
        """Days past the due date (negative: due in that many days)."""
        return (today - self.due).days


class FollowupService:
    """Offers, recall list and booking of follow-ups; see the module docstring."""

    def __init__(self, events: EventService, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.events = events
        self.repo = events.repo
        self.clock = clock

    # --- reading -------------------------------------------------------------------------------

    def zone(self) -> ZoneInfo:
        return self.events.display_zone()

    def today(self) -> date:
        return self.clock().astimezone(self.zone()).date()

    def service_of(self, event: Event) -> ServiceType:
        """The visit's service, or a stand-in with the visit's own length when it names none
        (or a removed one)."""
        if event.service_id:
            try:
                return self.repo.get_service(event.service_id)
            except NotFound:
                pass
        minutes = max(int(event.duration.total_seconds() // 60), 5)
        return ServiceType(id="", name=event.title or "Follow-up", duration_minutes=minutes)

    def next_slots(
        self, service: ServiceType, first_day: date, count: int, *, days: int = SEARCH_DAYS
    ) -> list[Interval]:
        """The first ``count`` free slots of ``service`` from ``first_day`` (never before now),
        looking at most ``days`` days ahead. Raises ValidationError for a service without a
        duration."""
        now = self.clock()
        day = max(first_day, self.today())
        slots: list[Interval] = []
        for offset in range(days + 1):
            slots.extend(free_slots_for(self.repo, day + timedelta(days=offset), service, now=now))
            if len(slots) >= count:
                break
        return slots[:count]

    def slots_around(self, service: ServiceType, target: date, count: int = 6) -> list[Interval]:
        """Free slots of ``service`` starting a few days before ``target`` (never before
        today), chronological."""
        return self.next_slots(service, target - timedelta(days=DAYS_BEFORE_TARGET), count)

    def offer(
        self, occ: Occurrence, weeks: int | None = None, count: int = 6
    ) -> FollowupOffer | None:
        """The follow-up offer for a completed visit, or None when there is nothing to offer
        (no patient, a group visit, the patient removed, a visit without times). Raises
        ValidationError for a non-positive ``weeks``."""
        if weeks is not None and weeks <= 0:
            raise ValidationError("A follow-up needs at least one week.")
        event = occ.event
        pids = event.patient_ids()
        if len(pids) != 1 or event.all_day or not isinstance(occ.start, datetime):
            return None
        try:
            patient = self.repo.get_patient(pids[0])
        except NotFound:
            return None
        service = self.service_of(event)
        n = weeks or followup_weeks(service if service.id else None, self.repo.settings())
        target = utc_instant(occ.start).astimezone(self.zone()).date() + timedelta(weeks=n)
        slots = self.slots_around(service, target, count)
        return FollowupOffer(event, patient, service, n, target, tuple(slots))

    def recalls(self, *, within_days: int | None = None) -> list[Recall]:
        """Patients due for a follow-up (see the module docstring), by due date; with
        ``within_days``, only those due by today plus that many days."""
        services = {s.id: s for s in self.repo.list_services() if s.followup_weeks}
        if not services:
            return []
        now = self.clock()
        longest = max(s.followup_weeks or 0 for s in services.values())
        start = now - timedelta(weeks=longest) - LOOK_BACK_EXTRA
        occs = self.events.occurrences(start, now + LOOK_AHEAD)
        latest: dict[str, Occurrence] = {}
        visits: dict[str, list[datetime]] = {}
        for occ in occs:
            pids = occ.event.patient_ids()
            if len(pids) != 1 or occ.event.status in _NOT_BOOKED:
                continue
            pid, when = pids[0], utc_instant(occ.start)
            visits.setdefault(pid, []).append(when)
            if occ.event.status is AppointmentStatus.COMPLETED and occ.event.service_id in services:
                seen = latest.get(pid)
                if seen is None or utc_instant(seen.start) < when:
                    latest[pid] = occ
        zone, today = self.zone(), self.today()
        out: list[Recall] = []
        for pid, occ in latest.items():
            when = utc_instant(occ.start)
            if any(v > when for v in visits[pid]):
                continue  # something is booked (or happened) after it
            service = services[occ.event.service_id or ""]
            due = when.astimezone(zone).date() + timedelta(weeks=service.followup_weeks or 0)
            if within_days is not None and due > today + timedelta(days=within_days):
                continue
            try:
                patient = self.repo.get_patient(pid)
            except NotFound:
                continue
            out.append(Recall(patient, service, when.astimezone(zone), due, occ.event))
        out.sort(key=lambda r: (r.due, r.patient.full_name.casefold(), r.patient.id))
        return out

    def recall_slots(self, recall: Recall, count: int = 5) -> list[Interval]:
        """Free slots for a recall: around the due date, or from today when it is overdue."""
        return self.slots_around(recall.service, recall.due, count)

    # --- booking -------------------------------------------------------------------------------

    def book(
        self, source: Event, patient_id: str, service: ServiceType, start: datetime
    ) -> tuple[Event, Changes]:
        """Book a follow-up of ``source`` for the patient at ``start`` (a free slot of
        ``service``). Raises ValidationError when the slot is no longer free or the time is
        bad, ReadOnlyCalendar, NotFound."""
        zone = self.zone()
        start = start.astimezone(zone)
        free = {s for s, _ in free_slots_for(self.repo, start.date(), service, now=self.clock())}
        if start not in free:
            raise ValidationError("That time is no longer free. Please choose another one.")
        end = (start.astimezone(UTC) + timedelta(minutes=service.duration_minutes)).astimezone(zone)
        event = Event(
            id=new_id(),
            calendar_id=self._calendar(source.calendar_id).id,
            uid="",
            title=service.name if service.id else source.title,
            start=start,
            end=end,
            tzid=zone.key,
            status=AppointmentStatus.SCHEDULED,
            patient_id=patient_id,
            service_id=service.id or None,
            mode=source.mode,
            video_url=source.video_url,
            price=service.price if service.id else source.price,
            location=source.location,
            reminder_minutes=source.reminder_minutes,
        )
        validate_event(event)
        return event, self.events.create(event)

    def book_offer(self, offer: FollowupOffer, start: datetime) -> tuple[Event, Changes]:
        """Book one of an offer's slots. Raises as ``book``."""
        return self.book(offer.source, offer.patient.id, offer.service, start)

    def book_recall(self, recall: Recall, start: datetime) -> tuple[Event, Changes]:
        """Book one slot for a recall. Raises as ``book``."""
        return self.book(recall.source, recall.patient.id, recall.service, start)

    def _calendar(self, preferred: str) -> Calendar:
        """The source visit's calendar when writable, else the default one."""
        for cal in self.repo.list_calendars():
            if cal.id == preferred and not cal.read_only:
                return cal
        return self.repo.default_calendar()
