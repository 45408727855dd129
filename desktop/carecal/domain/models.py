"""The domain objects Carecal's layers pass to each other.

Plain frozen dataclasses: no I/O, no Qt, no peewee. Every layer may import this module; it imports
nothing of Carecal's but ``domain.errors``.

Time conventions (they hold everywhere):
- A timed instant is an *aware* ``datetime``. Its ``tzinfo`` is the event's own zone
  (``zoneinfo.ZoneInfo``), or ``UTC`` for UTC times. Floating times (no zone in the source) are
  marked with ``Event.floating=True`` and carry the display zone's tzinfo when loaded.
- An all-day event has ``start``/``end`` as ``date`` (end exclusive, as in iCalendar), never
  instants.
- Ids are opaque strings: UUID4 hex for everything Carecal creates; they never change.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeAlias

When: TypeAlias = datetime | date
"""A start or end: an aware datetime for timed events, a date for all-day events."""


def new_id() -> str:
    """A fresh local id (UUID4 hex). Safe on any thread."""
    return uuid.uuid4().hex


class AppointmentStatus(enum.StrEnum):
    """Where a visit stands for the practitioner (not iCalendar STATUS; see ``to_ical_status``)."""

    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    def to_ical_status(self) -> str:
        """The iCalendar STATUS value other calendars understand."""
        if self is AppointmentStatus.CANCELLED:
            return "CANCELLED"
        if self is AppointmentStatus.SCHEDULED:
            return "TENTATIVE"
        return "CONFIRMED"


_STATUS_LABELS = {
    AppointmentStatus.SCHEDULED: "Scheduled",
    AppointmentStatus.CONFIRMED: "Confirmed",
    AppointmentStatus.ARRIVED: "Arrived",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.CANCELLED: "Cancelled",
}


class VisitMode(enum.StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return {"in_person": "In person", "phone": "Phone", "video": "Video"}[self.value]


class Attendance(enum.StrEnum):
    """One participant's attendance in a (group) appointment."""

    EXPECTED = "expected"
    ARRIVED = "arrived"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class EditScope(enum.StrEnum):
    """Which occurrences of a recurring series an edit applies to."""

    THIS = "this"
    THIS_AND_FOLLOWING = "following"
    ALL = "all"


class ProviderKind(enum.StrEnum):
    LOCAL = "local"
    CALDAV = "caldav"
    GOOGLE = "google"
    OUTLOOK = "outlook"
    DOCPLANNER = "docplanner"


@dataclass(frozen=True, slots=True)
class Participant:
    """A patient taking part in an appointment, with their own attendance."""

    patient_id: str
    attendance: Attendance = Attendance.EXPECTED


@dataclass(frozen=True, slots=True)
class Event:
    """An appointment or any other calendar entry (a series master, a single event or an override).

    ``rrule``/``rdates``/``exdates`` make it a series master. An override (one changed occurrence)
    has ``recurrence_id`` set and ``master_id`` pointing at the master's local id; it shares the
    master's ``uid``. ``raw`` is the source representation as last seen (iCalendar text of the
    VEVENT for local/CalDAV events) so edits can be patched onto it losslessly.
    """

    id: str
    calendar_id: str
    uid: str
    title: str
    start: When
    end: When
    all_day: bool = False
    floating: bool = False
    tzid: str | None = None
    description: str = ""
    location: str = ""
    status: AppointmentStatus = AppointmentStatus.SCHEDULED
    busy: bool = True
    rrule: str | None = None
    rdates: tuple[When, ...] = ()
    exdates: tuple[When, ...] = ()
    recurrence_id: When | None = None
    master_id: str | None = None
    patient_id: str | None = None
    participants: tuple[Participant, ...] = ()
    capacity: int | None = None
    service_id: str | None = None
    mode: VisitMode = VisitMode.IN_PERSON
    video_url: str = ""
    price: Decimal | None = None
    reminder_minutes: int | None = None
    sequence: int = 0
    raw: str | None = None

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule or self.rdates)

    @property
    def is_override(self) -> bool:
        return self.recurrence_id is not None

    @property
    def is_group(self) -> bool:
        return self.capacity is not None and self.capacity > 1

    @property
    def duration(self) -> timedelta:
        """End minus start (for all-day events, whole days)."""
        return _as_naive_span(self.start, self.end)

    def patient_ids(self) -> tuple[str, ...]:
        """Every patient of this appointment: the main one and the group participants."""
        ids = [p.patient_id for p in self.participants]
        if self.patient_id and self.patient_id not in ids:
            ids.insert(0, self.patient_id)
        return tuple(ids)

    def with_changes(self, **changes: object) -> Event:
        """A copy with the given fields replaced (dataclasses.replace, typed loosely)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _as_naive_span(start: When, end: When) -> timedelta:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end - start
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        return end - start
    raise TypeError("start and end must both be dates or both be datetimes")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete occurrence of an event inside a queried window.

    For a single event this is the event itself (``recurrence_id`` None). For a series it is one
    expanded instance: ``event`` is the master, or the override when that instance was changed;
    ``recurrence_id`` identifies the instance within the series (its original start).
    """

    event: Event
    start: When
    end: When
    recurrence_id: When | None = None

    @property
    def key(self) -> tuple[str, str]:
        """A stable identity for views: (event id, recurrence id as ISO text or '')."""
        rid = "" if self.recurrence_id is None else self.recurrence_id.isoformat()
        return (self.event.master_id or self.event.id, rid)


@dataclass(frozen=True, slots=True)
class Calendar:
    id: str
    account_id: str
    name: str
    color: str = "#3b82f6"
    visible: bool = True
    read_only: bool = False
    is_default: bool = False
    publish_availability: bool = False
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    kind: ProviderKind
    name: str
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Patient:
    id: str
    first_name: str
    last_name: str = ""
    phone: str = ""
    email: str = ""
    birth_date: date | None = None
    notes: str = ""
    # False when the patient opted out of e-mail reminders (services.email_reminders).
    email_reminders: bool = True

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def short_name(self) -> str:
        """First name and last initial: what a front desk screen shows by default."""
        if self.last_name:
            return f"{self.first_name} {self.last_name[0]}."
        return self.first_name


@dataclass(frozen=True, slots=True)
class ServiceType:
    id: str
    name: str
    duration_minutes: int = 50
    price: Decimal | None = None
    color: str = "#10b981"
    online: bool = False
    buffer_minutes: int = 0
    capacity: int = 1
    # Weeks after a completed visit when a follow-up is due (services.followups); None = no
    # follow-up interval (no recall; the follow-up offer uses Settings.followup_default_weeks).
    followup_weeks: int | None = None


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """One working interval on a weekday (0 = Monday), valid between two dates (inclusive)."""

    id: str
    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_to: date | None = None
    calendar_id: str | None = None


@dataclass(frozen=True, slots=True)
class Break:
    """A pause inside working hours: weekly (``weekday`` set) or on one date (``on_date`` set)."""

    id: str
    start: time
    end: time
    weekday: int | None = None
    on_date: date | None = None
    label: str = ""
    calendar_id: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """The user's display and scheduling preferences."""

    display_tz: str = "Europe/Warsaw"
    week_start: int = 0  # 0 = Monday, 6 = Sunday
    day_start_hour: int = 7
    day_end_hour: int = 20
    slot_minutes: int = 15
    default_duration_minutes: int = 50
    # Front-desk kiosk (services.kiosk): how patients are named on its screens ("initials",
    # "short" = first name + last initial, "full"), whether patients may check themselves in,
    # seconds of no input before it returns to its start screen, and the salted hash of the PIN
    # that leaves it ("" = no PIN set: the kiosk refuses to open). Never the PIN itself.
    kiosk_names: str = "short"
    kiosk_self_checkin: bool = False
    kiosk_idle_seconds: int = 60
    kiosk_pin_hash: str = ""
    # The Google OAuth client Carecal signs in with (README: "Google Calendar"). Google calls
    # a desktop app's secret a secret, but it is not confidential; tokens never live here.
    google_client_id: str = ""
    google_client_secret: str = ""
    # The Microsoft app registration (public client) Outlook accounts sign in with, and the
    # sign-in authority ("" = Microsoft's common one); README: "Outlook and Microsoft 365".
    ms_client_id: str = ""
    ms_authority: str = ""
    # Desktop notifications for the practitioner (services.reminders): minutes before each
    # appointment (notify_before_enabled off = none), and a morning summary at summary_time.
    notify_before_enabled: bool = True
    notify_before_minutes: int = 10
    summary_enabled: bool = True
    summary_time: str = "07:30"
    # E-mail reminders to patients (services.email_reminders), sent through the practitioner's
    # own SMTP account. The password lives only in the system keyring, never here.
    email_reminders_enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # "starttls", "ssl" or "none" (local relays only)
    smtp_user: str = ""
    smtp_from: str = ""
    email_lead_hours: int = 24
    email_subject: str = ""  # "" = the built-in template
    email_body: str = ""
    practitioner_name: str = ""
    # Follow-ups (services.followups): the weeks offered after a completed visit of a service
    # with no follow-up interval of its own. Booking requests (services.requests): a folder
    # whose .json/.csv files are imported and then moved to its "processed" subfolder.
    followup_default_weeks: int = 4
    requests_folder: str = ""
