"""The front-desk kiosk's use cases: what it may show, check-in, no-show, self check-in, walk-ins.

``KioskService`` is what the kiosk window calls (and nothing else: it has no way to reach
settings, accounts, exports or the audit log). It shows only today and the next few days, names
patients only for today and only as much as the "kiosk names" setting allows, and makes every
change through ``EventService`` with its own actor, so arrivals, no-shows and walk-in bookings land
in the outbox and the audit log like any edit and sync later (as the appointment's status).

The pure rules (names, PIN hashing, check-in rules) are in ``services.kiosk_rules``; the names a
caller needs are re-exported here.

Threads: a ``KioskService`` is used from one thread at a time (the GUI's database lane); every
method does disk I/O on that thread and raises StoreError on database failure besides the errors
it names. It never logs patient data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from carecal.domain.availability import Interval
from carecal.domain.changes import Changes
from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    EditScope,
    Event,
    Occurrence,
    Patient,
    ServiceType,
    Settings,
    VisitMode,
    new_id,
)
from carecal.domain.timeutil import utc_instant
from carecal.services.events import EventService, day_bounds, validate_event
from carecal.services.kiosk_rules import (
    NO_PIN_MESSAGE,
    AttemptLimiter,
    KioskNotReady,
    KioskRefused,
    NameStyle,
    VisitState,
    arrival_refusal,
    fold_letters,
    hash_pin,
    initials_of,
    is_kiosk_visit,
    no_show_refusal,
    patient_label,
    states_of,
    validate_pin,
    verify_pin,
    with_attendance,
)
from carecal.services.slots import free_slots_for
from carecal.services.zones import zone_or_utc
from carecal.store.repo import Repository

__all__ = [
    "DAYS_AHEAD",
    "NO_PIN_MESSAGE",
    "Attendee",
    "KioskNotReady",
    "KioskRefused",
    "KioskService",
    "NameStyle",
    "SelfMatch",
    "Visit",
    "VisitKey",
    "VisitState",
    "WalkInPatient",
    "clear_pin",
    "hash_pin",
    "require_pin",
    "set_pin",
    "validate_pin",
    "verify_pin",
]

DAYS_AHEAD = 3  # the kiosk shows today and this many following days (times only, no names)
IDLE_MIN_SECONDS, IDLE_MAX_SECONDS = 15, 900
STAFF_ACTOR = "kiosk"
SELF_ACTOR = "kiosk:self"

VisitKey = tuple[str, str]
"""An occurrence's ``Occurrence.key``: (event or series id, recurrence id as ISO text or "")."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_pin(settings: Settings) -> None:
    """Raises KioskNotReady (with NO_PIN_MESSAGE) when no exit PIN is set. Any thread."""
    if not settings.kiosk_pin_hash:
        raise KioskNotReady(NO_PIN_MESSAGE)


def set_pin(repo: Repository, pin: str, *, actor: str) -> Changes:
    """Store the salted hash of a new exit PIN (never the PIN). Caller's thread; disk I/O.
    Raises ValidationError for a PIN that is not 4 to 12 digits."""
    hashed = hash_pin(pin)
    return repo.save_settings(replace(repo.settings(), kiosk_pin_hash=hashed), actor=actor)


def clear_pin(repo: Repository, *, actor: str) -> Changes:
    """Forget the exit PIN (the kiosk then refuses to open). Caller's thread; disk I/O."""
    return repo.save_settings(replace(repo.settings(), kiosk_pin_hash=""), actor=actor)


def idle_seconds(settings: Settings) -> int:
    """The idle timeout, kept within 15 s .. 15 min whatever the stored value says."""
    return min(max(settings.kiosk_idle_seconds, IDLE_MIN_SECONDS), IDLE_MAX_SECONDS)


def kiosk_name(repo: Repository, patient_id: str, style: NameStyle) -> str:
    """A patient named as the kiosk names them ("Patient" once removed). Raises StoreError."""
    try:
        return patient_label(repo.get_patient(patient_id), style)
    except NotFound:
        return "Patient"


def service_name(repo: Repository, event: Event) -> str:
    """The visit's service as the kiosk and the day sheet show it. Raises StoreError."""
    if event.service_id:
        try:
            return repo.get_service(event.service_id).name
        except NotFound:
            pass
    return "Group session" if event.is_group else "Appointment"


@dataclass(frozen=True, slots=True)
class Attendee:
    """One patient of a visit as the kiosk shows them. ``label`` is "" on other days."""

    patient_id: str
    label: str
    state: VisitState
    can_arrive: bool
    can_no_show: bool


@dataclass(frozen=True, slots=True)
class Visit:
    """One appointment occurrence on the kiosk's list: times, the service's name (never the
    free-text title, which may hold anything) and its patients."""

    key: VisitKey
    day: date
    start: datetime
    end: datetime
    service: str
    group: bool
    attendees: tuple[Attendee, ...]


@dataclass(frozen=True, slots=True)
class SelfMatch:
    """The visit a patient found by date of birth and initials: only their own data."""

    key: VisitKey
    day: date
    patient_id: str
    first_name: str
    start: datetime
    service: str


@dataclass(frozen=True, slots=True)
class WalkInPatient:
    """The few fields a walk-in gives at the desk."""

    first_name: str
    last_name: str = ""
    birth_date: date | None = None
    phone: str = ""


class KioskService:
    """The kiosk's reads and writes; see the module docstring for threads and errors."""

    def __init__(
        self,
        repo: Repository,
        *,
        clock: Callable[[], datetime] = utcnow,
        actor: str = STAFF_ACTOR,
        self_actor: str = SELF_ACTOR,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.events = EventService(repo, actor=actor)
        self._self_events = EventService(repo, actor=self_actor)
        self.self_limiter = AttemptLimiter(limit=5, lockout=timedelta(seconds=60))
        self.pin_limiter = AttemptLimiter(limit=5, lockout=timedelta(seconds=30))

    # --- what it may show ----------------------------------------------------------------------

    def settings(self) -> Settings:
        return self.repo.settings()

    def zone(self) -> ZoneInfo:
        return zone_or_utc(self.repo.settings().display_tz)

    def now(self) -> datetime:
        """The clock's now in the display zone."""
        return self.clock().astimezone(self.zone())

    def today(self) -> date:
        return self.now().date()

    def days(self) -> list[date]:
        """The days the kiosk may show: today and the next DAYS_AHEAD days."""
        today = self.today()
        return [today + timedelta(days=n) for n in range(DAYS_AHEAD + 1)]

    def visits(self, day: date) -> list[Visit]:
        """The appointments of ``day`` (one of ``days()``), by start. Patients are named only
        for today. Raises KioskRefused for any other day."""
        if day not in self.days():
            raise KioskRefused("The kiosk shows only today and the next few days.")
        is_today = day == self.today()
        style = NameStyle.of(self.settings().kiosk_names)
        now = self.now()
        out: list[Visit] = []
        for occ in self._occurrences(day):
            names: dict[str, str] = {}
            if is_today:
                for pid in occ.event.patient_ids():
                    names[pid] = kiosk_name(self.repo, pid, style)
            out.append(self._visit(occ, day, now, is_today, names))
        return out

    def services(self) -> list[ServiceType]:
        """Service types a walk-in can book, by name."""
        return sorted(self.repo.list_services(), key=lambda s: s.name.casefold())

    # --- staff check-in ------------------------------------------------------------------------

    def check_in(self, key: VisitKey, day: date, patient_id: str) -> Changes:
        """Mark one patient of a visit of today as arrived (for a group, only that participant).

        Works on the stored visit as it is now (another device may have changed it).
        Raises KioskRefused (not today, already arrived/done, not found), ValidationError,
        ReadOnlyCalendar.
        """
        return self._attend(self.events, key, day, patient_id, Attendance.ARRIVED)

    def no_show(self, key: VisitKey, day: date, patient_id: str) -> Changes:
        """Mark one patient of a visit of today as not attended, once its start has passed.
        Raises KioskRefused (before the start, not today, not expected), ValidationError,
        ReadOnlyCalendar."""
        return self._attend(self.events, key, day, patient_id, Attendance.NO_SHOW)

    def _attend(
        self,
        service: EventService,
        key: VisitKey,
        day: date,
        patient_id: str,
        attendance: Attendance,
    ) -> Changes:
        is_today = day == self.today()
        occ = self._find(key, day)
        state = states_of(occ.event).get(patient_id)
        if state is None:
            raise KioskRefused("This patient is not booked for this visit.")
        if attendance is Attendance.ARRIVED:
            refusal = arrival_refusal(state, is_today)
        else:
            refusal = no_show_refusal(state, utc_instant(occ.start), self.now(), is_today)
        if refusal:
            raise KioskRefused(refusal)
        changed = with_attendance(occ.event, patient_id, attendance)
        return service.edit(occ, changed, EditScope.THIS)

    # --- self check-in -------------------------------------------------------------------------

    def find_own_visit(self, birth_date: date, initials: str) -> SelfMatch | None:
        """The visit of today a patient may check in to: their date of birth and initials must
        match exactly one patient expected today, whose visit has not ended. None otherwise,
        whatever the reason (nothing about anyone else is revealed). Five misses in a row lock
        it for a minute. Raises KioskRefused when self check-in is off or locked."""
        if not self.settings().kiosk_self_checkin:
            raise KioskRefused("Self check-in is not enabled. Please ask at the front desk.")
        now = self.now()
        self.self_limiter.check(now)
        wanted = fold_letters(initials)
        found: dict[str, list[tuple[Occurrence, Patient]]] = {}
        if wanted:
            for occ in self._occurrences(now.date()):
                if utc_instant(occ.end) <= now:
                    continue
                for pid, state in states_of(occ.event).items():
                    if state is not VisitState.EXPECTED:
                        continue
                    try:
                        patient = self.repo.get_patient(pid)
                    except NotFound:
                        continue
                    if patient.birth_date == birth_date and initials_of(patient) == wanted:
                        found.setdefault(pid, []).append((occ, patient))
        self.self_limiter.record(len(found) == 1, now)
        if len(found) != 1:
            return None
        occ, patient = min(next(iter(found.values())), key=lambda item: utc_instant(item[0].start))
        return SelfMatch(
            key=occ.key,
            day=now.date(),
            patient_id=patient.id,
            first_name=patient.first_name,
            start=utc_instant(occ.start).astimezone(self.zone()),
            service=service_name(self.repo, occ.event),
        )

    def self_check_in(self, match: SelfMatch) -> Changes:
        """Check in the patient of a ``find_own_visit`` match (as the kiosk's self actor).
        Raises KioskRefused when self check-in is off or the visit is no longer open."""
        if not self.settings().kiosk_self_checkin:
            raise KioskRefused("Self check-in is not enabled. Please ask at the front desk.")
        return self._attend(
            self._self_events, match.key, match.day, match.patient_id, Attendance.ARRIVED
        )

    # --- walk-ins ------------------------------------------------------------------------------

    def walk_in_slots(self, service_id: str, count: int = 8) -> list[Interval]:
        """The next ``count`` free slots of a service from now, today first, then the next
        days the kiosk shows. Raises NotFound for an unknown service."""
        service = self.repo.get_service(service_id)
        now = self.now()
        slots: list[Interval] = []
        for day in self.days():
            slots.extend(free_slots_for(self.repo, day, service, now=now))
            if len(slots) >= count:
                break
        return slots[:count]

    def book_walk_in(
        self, service_id: str, start: datetime, who: WalkInPatient
    ) -> tuple[Event, Changes]:
        """Book a walk-in into a free slot of a service: a known patient (same full name, and
        the same date of birth when both have one) or a new one, then the appointment through
        EventService. Raises KioskRefused (the slot was taken meanwhile), ValidationError (no
        first name, a bad time), NotFound (service)."""
        first, last = " ".join(who.first_name.split()), " ".join(who.last_name.split())
        if not first:
            raise ValidationError("Enter the patient's first name.")
        service = self.repo.get_service(service_id)
        zone = self.zone()
        start = start.astimezone(zone)
        if start.date() not in self.days():
            raise KioskRefused("Walk-ins are booked for today or the next few days only.")
        free = {s for s, _ in free_slots_for(self.repo, start.date(), service, now=self.now())}
        if start not in free:
            raise KioskRefused("That time was just taken. Please choose another one.")
        patient, changes = self._walk_in_patient(replace(who, first_name=first, last_name=last))
        end = (start.astimezone(UTC) + timedelta(minutes=service.duration_minutes)).astimezone(zone)
        event = Event(
            id=new_id(),
            calendar_id=self.repo.default_calendar().id,
            uid="",
            title=service.name,
            start=start,
            end=end,
            tzid=zone.key,
            status=AppointmentStatus.CONFIRMED,
            patient_id=patient.id,
            service_id=service.id,
            mode=VisitMode.IN_PERSON,
            price=service.price,
            description="Walk-in booked at the front desk.",
        )
        validate_event(event)
        changes |= self.events.create(event)
        return event, changes

    def _walk_in_patient(self, who: WalkInPatient) -> tuple[Patient, Changes]:
        name = f"{who.first_name} {who.last_name}".strip().casefold()
        same = [
            p
            for p in self.repo.list_patients(who.first_name)
            if p.full_name.casefold() == name
            and (who.birth_date is None or p.birth_date in (None, who.birth_date))
        ]
        if len(same) == 1:
            return same[0], Changes()
        patient = Patient(
            id=new_id(),
            first_name=who.first_name,
            last_name=who.last_name,
            phone=who.phone.strip(),
            birth_date=who.birth_date,
        )
        return patient, self.repo.add_patient(patient, actor=self.events.actor)

    # --- leaving -------------------------------------------------------------------------------

    def check_exit_pin(self, pin: str) -> bool:
        """Whether ``pin`` is the exit PIN. Five wrong PINs in a row lock it for 30 s.
        Raises KioskRefused while locked, KioskNotReady when no PIN is set."""
        settings = self.settings()
        require_pin(settings)
        now = self.now()
        self.pin_limiter.check(now)
        ok = verify_pin(pin, settings.kiosk_pin_hash)
        self.pin_limiter.record(ok, now)
        return ok

    # --- helpers -------------------------------------------------------------------------------

    def _occurrences(self, day: date) -> list[Occurrence]:
        start, end = day_bounds(day, self.zone())
        occs = self.events.occurrences(start, end)
        return [
            o
            for o in occs
            if is_kiosk_visit(o.event)
            and isinstance(o.start, datetime)
            and utc_instant(o.start).astimezone(self.zone()).date() == day
        ]

    def _find(self, key: VisitKey, day: date) -> Occurrence:
        for occ in self._occurrences(day):
            if occ.key == key:
                return occ
        raise KioskRefused("This visit is no longer on the list.")

    def _visit(
        self,
        occ: Occurrence,
        day: date,
        now: datetime,
        is_today: bool,
        names: dict[str, str],
    ) -> Visit:
        start, end = (
            utc_instant(occ.start).astimezone(now.tzinfo),
            utc_instant(occ.end).astimezone(now.tzinfo),
        )
        attendees = tuple(
            Attendee(
                patient_id=pid,
                label=names.get(pid, ""),
                state=state,
                can_arrive=arrival_refusal(state, is_today) is None,
                can_no_show=no_show_refusal(state, start, now, is_today) is None,
            )
            for pid, state in states_of(occ.event).items()
        )
        return Visit(
            key=occ.key,
            day=day,
            start=start,
            end=end,
            service=service_name(self.repo, occ.event),
            group=occ.event.is_group or len(attendees) > 1,
            attendees=attendees,
        )
