"""Booking requests: import them (a file, or a watched folder), show matching slots, book or
decline them.

- ``import_file``: the good rows of a JSON/CSV file go into the inbox in one transaction; bad rows
  come back as errors with their line numbers. Ids are stable per row (``request_files``), so a
  second import of the same file adds nothing.
- ``scan_folder``: every settled ``.json``/``.csv`` file in the watched folder is imported and
  then moved to its ``processed`` subfolder (never deleted; row errors are written beside it as
  ``NAME.errors.txt``). A file still being written (changed in the last ``SETTLE_SECONDS``, or
  looking half-written: JSON that does not parse, a CSV whose last line has no end) is left in
  place and tried again on the next scan; one that still looks broken after ``GIVE_UP_SECONDS``
  is moved with its error. Hidden and temporary files (``.x``, ``*.tmp``, ``*.part``) are
  ignored. A crash between the import and the move only means the next scan imports the same
  rows again, which adds nothing.
- ``slots``: free slots of the requested service inside the preferred windows first, then the
  next free ones.
- ``book``: the patient is matched by e-mail or phone (else created), the appointment is created
  through ``EventService`` (outbox, audit, sync), and the request is marked booked. The
  appointment's id is derived from the request's id, so a booking cut off between the two steps
  is completed, not duplicated, when tried again.
- ``decline``: the request leaves the inbox and stays in the history.

Docplanner: booking a request on a calendar mapped to a Docplanner address also makes the
booking there. ``RequestService`` calls each ``ExternalBooking`` given to it after the local
appointment exists (also when a retried ``book`` finds it already made);
``services.docplanner_requests.DocplannerRequestBooking`` queues a Docplanner book action for
the appointment's time, patient and mapped service, carrying the appointment's id so that
Docplanner's booking is linked to it, never made a second appointment. It goes out at the next
sync (before slots are published, so the slot published earlier is still offered); a time
Docplanner does not offer parks the action with a readable error, and the appointment stands.

Nothing here logs patient data. Threads: a ``RequestService`` is used from one thread at a time
(the GUI's database lane or the command line's main thread); every method does disk I/O and raises
StoreError on database failure besides the errors it names.
"""

from __future__ import annotations

import logging
import time as walltime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol

from carecal.domain.availability import Interval
from carecal.domain.changes import Changes
from carecal.domain.errors import CarecalError, NotFound, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    Event,
    Patient,
    ServiceType,
    new_id,
)
from carecal.services.events import EventService, validate_event
from carecal.services.patients import match_patient
from carecal.services.request_files import (
    IncompleteFile,
    RowError,
    file_kind,
    read_request_file,
)
from carecal.services.slots import free_slots_for
from carecal.store.db import Database
from carecal.store.requests import BookingRequest, RequestState, RequestStore

log = logging.getLogger(__name__)

PROCESSED = "processed"
SETTLE_SECONDS = 3.0
GIVE_UP_SECONDS = 600.0
NEXT_SLOTS = 6
SEARCH_DAYS = 42
_NAMESPACE = uuid.UUID("6f1c0f5e-8b1e-4c1a-9a51-2f3c4e5d6a7b")


def utcnow() -> datetime:
    return datetime.now(UTC)


class ExternalBooking(Protocol):
    """Something that books a request elsewhere too, after the local appointment exists.

    The Docplanner booking for calendars mapped to a Docplanner address is one
    (services.docplanner_requests). Called on the service's thread; may raise CarecalError,
    which is reported to the caller after the local booking stands.
    """

    def after_booking(self, request: BookingRequest, event: Event) -> None: ...


@dataclass(slots=True)
class ImportReport:
    """What importing one file did."""

    file: str
    added: int = 0
    known: int = 0  # rows already in the inbox (an earlier import)
    errors: list[RowError] = field(default_factory=list)
    waiting: bool = False  # half-written: left for a later scan
    failed: str | None = None  # the whole file could not be read
    moved_to: Path | None = None

    def summary(self) -> str:
        """One line for a status bar or the command line (no patient data)."""
        if self.waiting:
            return f"{self.file}: still being written; will try again"
        if self.failed:
            return f"{self.file}: {self.failed}"
        parts = [f"{self.added} new request{'s' if self.added != 1 else ''}"]
        if self.known:
            parts.append(f"{self.known} already imported")
        if self.errors:
            parts.append(f"{len(self.errors)} bad row{'s' if len(self.errors) != 1 else ''}")
        return f"{self.file}: " + ", ".join(parts)


@dataclass(frozen=True, slots=True)
class RequestSlots:
    service: ServiceType
    preferred: tuple[Interval, ...]
    others: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class Booked:
    request: BookingRequest
    event: Event
    patient: Patient
    changes: Changes
    external_error: str | None = None


def event_id_for(request_id: str) -> str:
    """The id of the appointment a request becomes (stable, so a retry finds it). Any thread."""
    return uuid.uuid5(_NAMESPACE, request_id).hex


class RequestService:
    """The booking-request inbox; see the module docstring."""

    def __init__(
        self,
        events: EventService,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        wall: Callable[[], float] = walltime.time,
        external: Sequence[ExternalBooking] = (),
    ) -> None:
        self.events = events
        self.repo = events.repo
        self.store = RequestStore(db)
        self.clock = clock
        self.wall = wall
        self.external = tuple(external)

    # --- reading -------------------------------------------------------------------------------

    def inbox(self, *, history: bool = False) -> list[BookingRequest]:
        """Open requests (oldest first); with ``history``, booked and declined ones too."""
        return self.store.all(None if history else [RequestState.OPEN])

    def get(self, request_id: str) -> BookingRequest:
        """A request by id or by a unique prefix of it. Raises NotFound, ValidationError."""
        try:
            return self.store.get(request_id)
        except NotFound:
            found = [r for r in self.store.all() if r.id.startswith(request_id)]
            if len(found) == 1 and len(request_id) >= 4:
                return found[0]
            if len(found) > 1:
                raise ValidationError(f"{request_id!r} matches several requests") from None
            raise

    def service_for(self, request: BookingRequest) -> ServiceType | None:
        """The service the request names (by name, case-insensitive), or None."""
        try:
            return self.repo.find_service(request.service)
        except NotFound:
            return None

    # --- importing -----------------------------------------------------------------------------

    def import_file(self, path: Path) -> ImportReport:
        """Import a file's good rows (see the module docstring). Raises IncompleteFile,
        ValidationError (a file that cannot be read as requests), OSError."""
        parsed = read_request_file(path)
        added = self.store.add_many(parsed.requests, self.clock())
        return ImportReport(
            file=path.name,
            added=len(added),
            known=len(parsed.requests) - len(added),
            errors=list(parsed.errors),
        )

    def scan_folder(self, folder: Path) -> list[ImportReport]:
        """Import and move every settled request file of ``folder`` (see the module docstring).
        Raises OSError when the folder cannot be listed (files that cannot be moved are
        reported in their ``failed``)."""
        reports: list[ImportReport] = []
        now = self.wall()
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.startswith(".") or file_kind(path) is None:
                continue
            try:
                age = now - path.stat().st_mtime
            except FileNotFoundError:
                continue  # moved away meanwhile
            if age < SETTLE_SECONDS:
                reports.append(ImportReport(path.name, waiting=True))
                continue
            report = self._scan_one(path, age)
            if report.waiting:
                reports.append(report)
                continue
            try:
                report.moved_to = self._move(path, folder / PROCESSED, report)
            except OSError as exc:
                report.failed = f"imported, but could not be moved: {exc.strerror or exc}"
            reports.append(report)
        return reports

    def _scan_one(self, path: Path, age: float) -> ImportReport:
        try:
            return self.import_file(path)
        except IncompleteFile as exc:
            if age < GIVE_UP_SECONDS:
                return ImportReport(path.name, waiting=True)
            return ImportReport(path.name, failed=str(exc))
        except ValidationError as exc:
            return ImportReport(path.name, failed=str(exc))
        except OSError as exc:
            return ImportReport(path.name, waiting=True, failed=exc.strerror or str(exc))

    @staticmethod
    def _move(path: Path, target_dir: Path, report: ImportReport) -> Path:
        target_dir.mkdir(exist_ok=True)
        target = target_dir / path.name
        n = 1
        while target.exists():
            target = target_dir / f"{path.stem}-{n}{path.suffix}"
            n += 1
        path.rename(target)
        lines = [str(e) for e in report.errors]
        if report.failed:
            lines.insert(0, report.failed)
        if lines:
            notes = target.with_name(target.name + ".errors.txt")
            notes.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return target

    # --- slots ---------------------------------------------------------------------------------

    def slots(
        self, request: BookingRequest, service: ServiceType | None = None, count: int = NEXT_SLOTS
    ) -> RequestSlots:
        """Free slots for a request: inside its preferred windows first, then the next
        ``count`` others from its first wished day (or today). Raises ValidationError when the
        request's service is unknown and none is given."""
        service = service or self.service_for(request)
        if service is None:
            raise ValidationError(
                f"No service is named {request.service!r}. Choose one to see free slots."
            )
        zone = self.events.display_zone()
        now = self.clock()
        today = now.astimezone(zone).date()
        preferred: list[Interval] = []
        for w in request.windows:
            day = date.fromisoformat(w.day)
            if day < today:
                continue
            lo = time.fromisoformat(w.start) if w.start else time(0)
            hi = time.fromisoformat(w.end) if w.end else None
            for start, end in free_slots_for(self.repo, day, service, now=now):
                local_start, local_end = start.astimezone(zone), end.astimezone(zone)
                fits_end = hi is None or (local_end.date() == day and local_end.time() <= hi)
                if local_start.time() >= lo and fits_end and (start, end) not in preferred:
                    preferred.append((start, end))
        preferred.sort()
        first = min(
            (d for w in request.windows if (d := date.fromisoformat(w.day)) >= today),
            default=today,
        )
        others: list[Interval] = []
        taken = set(preferred)
        for offset in range(SEARCH_DAYS + 1):
            for slot in free_slots_for(self.repo, first + timedelta(days=offset), service, now=now):
                if slot not in taken:
                    others.append(slot)
            if len(others) >= count:
                break
        return RequestSlots(service, tuple(preferred), tuple(others[:count]))

    # --- deciding ------------------------------------------------------------------------------

    def decline(self, request_id: str) -> BookingRequest:
        """Decline an open request (it stays in the history). Raises NotFound,
        ValidationError."""
        return self.store.mark_declined(request_id, self.clock())

    def reopen(self, request_id: str) -> BookingRequest:
        """Put a declined request back in the inbox. Raises NotFound, ValidationError."""
        return self.store.reopen(request_id)

    def book(self, request_id: str, start: datetime, service: ServiceType | None = None) -> Booked:
        """Turn an open request into an appointment at ``start`` (a free slot of its service,
        or of ``service`` when given). Raises NotFound, ValidationError (not open, unknown
        service, the slot is no longer free), ReadOnlyCalendar."""
        request = self.store.get(request_id)
        if request.state is not RequestState.OPEN:
            raise ValidationError(f"This request is already {request.state.value}.")
        service = service or self.service_for(request)
        if service is None:
            raise ValidationError(f"No service is named {request.service!r}. Choose one.")
        zone = self.events.display_zone()
        start = start.astimezone(zone)
        event_id = event_id_for(request.id)
        changes = Changes()
        try:
            event = self.repo.get_event(event_id)  # booked before, cut off before the mark
        except NotFound:
            free = {
                s for s, _ in free_slots_for(self.repo, start.date(), service, now=self.clock())
            }
            if start not in free:
                raise ValidationError(
                    "That time is no longer free. Please choose another one."
                ) from None
            patient, changes = self._patient_for(request)
            end = start.astimezone(UTC) + timedelta(minutes=service.duration_minutes)
            event = Event(
                id=event_id,
                calendar_id=self.repo.default_calendar().id,
                uid="",
                title=service.name,
                start=start,
                end=end.astimezone(zone),
                tzid=zone.key,
                status=AppointmentStatus.SCHEDULED,
                patient_id=patient.id,
                service_id=service.id,
                price=service.price,
                description=self._description(request),
            )
            validate_event(event)
            changes |= self.events.create(event)
        else:
            patient = self.repo.get_patient(event.patient_id or "")
        marked = self.store.mark_booked(request.id, event.id, patient.id, self.clock())
        external_error = None
        for booker in self.external:
            try:
                booker.after_booking(marked, event)
            except CarecalError as exc:
                external_error = str(exc)
        return Booked(marked, event, patient, changes, external_error)

    # --- helpers -------------------------------------------------------------------------------

    def match_patient(self, request: BookingRequest) -> Patient | None:
        """The patient with the request's e-mail address, else with its phone number (the
        last nine digits compared), preferring one whose name also matches; None when none."""
        return match_patient(
            self.repo.list_patients(),
            email=request.email,
            phone=request.phone,
            full_name=request.name,
        )

    def _patient_for(self, request: BookingRequest) -> tuple[Patient, Changes]:
        found = self.match_patient(request)
        if found is not None:
            return found, Changes()
        first, _, last = " ".join(request.name.split()).partition(" ")
        patient = Patient(
            id=new_id(),
            first_name=first,
            last_name=last,
            phone=request.phone,
            email=request.email,
        )
        return patient, self.repo.add_patient(patient, actor=self.events.actor)

    @staticmethod
    def _description(request: BookingRequest) -> str:
        # The request's note stays in the inbox's history: the description syncs to other
        # calendars, where health details do not belong.
        return f"Booked from {request.source or 'a booking request'}."
