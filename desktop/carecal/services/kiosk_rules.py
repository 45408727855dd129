"""The front-desk kiosk's pure rules: names, PINs, who may be checked in, self check-in matching.

No I/O and no clock of its own (``now`` is passed in), so every rule is testable as is and safe on
any thread. ``services.kiosk`` applies them to the store; ``ui.kiosk*`` shows them.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carecal.domain.errors import ValidationError
from carecal.domain.models import AppointmentStatus, Attendance, Event, Participant, Patient


class KioskRefused(ValidationError):
    """A kiosk action the rules do not allow (its message is fit to show at the desk)."""


class KioskNotReady(ValidationError):
    """The kiosk cannot open: no PIN is set to leave it."""


NO_PIN_MESSAGE = (
    "The front-desk kiosk needs a PIN first (it is asked to leave the kiosk). "
    "Set one in Tools > Settings > Kiosk, or with: carecal kiosk set-pin"
)


# --- names ------------------------------------------------------------------------------------


class NameStyle(enum.StrEnum):
    """How much of a patient's name the kiosk shows."""

    INITIALS = "initials"
    SHORT = "short"
    FULL = "full"

    @property
    def label(self) -> str:
        return {
            "initials": "Initials only (A. N.)",
            "short": "First name and last initial (Anna N.)",
            "full": "Full name (Anna Nowak)",
        }[self.value]

    @classmethod
    def of(cls, value: str) -> NameStyle:
        """The style a stored setting names; an unknown value falls back to SHORT."""
        try:
            return cls(value)
        except ValueError:
            return cls.SHORT


def patient_label(patient: Patient, style: NameStyle) -> str:
    """The patient's name as much as ``style`` allows."""
    if style is NameStyle.FULL:
        return patient.full_name
    if style is NameStyle.SHORT:
        return patient.short_name
    return " ".join(f"{part[0]}." for part in (patient.first_name, patient.last_name) if part)


_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "s"})


def fold_letters(text: str) -> str:
    """Upper-case letters of ``text`` without accents ("ł." -> "L"); everything else dropped."""
    plain = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in plain if c.isalpha() and not unicodedata.combining(c)).upper()


def initials_of(patient: Patient) -> str:
    """First letter of the first name and of the last name, folded (Łucja Żak -> "LZ")."""
    return "".join(fold_letters(part)[:1] for part in (patient.first_name, patient.last_name))


# --- PIN --------------------------------------------------------------------------------------

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 12
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _KEY_BYTES = 2**14, 8, 1, 32


def validate_pin(pin: str) -> None:
    """Refuse a PIN that is not 4 to 12 digits. Raises ValidationError."""
    if not pin.isdigit() or not pin.isascii():
        raise ValidationError("The PIN must be digits only.")
    if not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise ValidationError(f"The PIN must have {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits.")


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=64 * 1024 * 1024
    )


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of ``pin`` as "scrypt$n$r$p$salt$key" (hex). About 50 ms of CPU.

    Raises ValidationError for a PIN ``validate_pin`` refuses.
    """
    validate_pin(pin)
    salt = secrets.token_bytes(16)
    key = _derive(pin, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${key.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches a ``hash_pin`` result (constant-time compare). A malformed or
    empty stored value matches nothing. About 50 ms of CPU; raises nothing."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
        if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
            return False
        derived = _derive(pin, salt, n, r, p)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(derived, key)


@dataclass(slots=True)
class AttemptLimiter:
    """Locks a guessable entry (exit PIN, self check-in) after ``limit`` failures in a row for
    ``lockout``. Not thread-safe: use it from one thread (the database lane)."""

    limit: int = 5
    lockout: timedelta = timedelta(seconds=60)
    failures: int = 0
    locked_until: datetime | None = field(default=None)

    def check(self, now: datetime) -> None:
        """Raises KioskRefused while locked."""
        if self.locked_until is not None and now < self.locked_until:
            raise KioskRefused("Too many tries. Please wait a minute or ask at the front desk.")

    def record(self, ok: bool, now: datetime) -> None:
        if ok:
            self.failures, self.locked_until = 0, None
            return
        self.failures += 1
        if self.failures >= self.limit:
            self.failures, self.locked_until = 0, now + self.lockout


# --- attendance -------------------------------------------------------------------------------


class VisitState(enum.StrEnum):
    """Where one patient of one visit stands, as the kiosk shows it."""

    EXPECTED = "expected"
    ARRIVED = "arrived"
    NO_SHOW = "no_show"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "expected": "Expected",
            "arrived": "Arrived",
            "no_show": "No-show",
            "done": "Done",
            "cancelled": "Cancelled",
        }[self.value]


_FROM_STATUS = {
    AppointmentStatus.SCHEDULED: VisitState.EXPECTED,
    AppointmentStatus.CONFIRMED: VisitState.EXPECTED,
    AppointmentStatus.ARRIVED: VisitState.ARRIVED,
    AppointmentStatus.COMPLETED: VisitState.DONE,
    AppointmentStatus.NO_SHOW: VisitState.NO_SHOW,
    AppointmentStatus.CANCELLED: VisitState.CANCELLED,
}
_FROM_ATTENDANCE = {
    Attendance.EXPECTED: VisitState.EXPECTED,
    Attendance.ARRIVED: VisitState.ARRIVED,
    Attendance.ATTENDED: VisitState.DONE,
    Attendance.NO_SHOW: VisitState.NO_SHOW,
    Attendance.CANCELLED: VisitState.CANCELLED,
}


def is_kiosk_visit(event: Event) -> bool:
    """An appointment the front desk handles: it names a patient, and is neither cancelled nor
    all-day. Private entries (no patient) never reach the kiosk's screens."""
    return (
        bool(event.patient_ids())
        and not event.all_day
        and event.status is not AppointmentStatus.CANCELLED
    )


def uses_participants(event: Event) -> bool:
    """Attendance is kept per participant (group sessions) rather than in the status."""
    return bool(event.participants)


def states_of(event: Event) -> dict[str, VisitState]:
    """Each patient id of the event with their state (participants in their order)."""
    if event.status is AppointmentStatus.CANCELLED:
        return {pid: VisitState.CANCELLED for pid in event.patient_ids()}
    if not uses_participants(event):
        return {pid: _FROM_STATUS[event.status] for pid in event.patient_ids()}
    states = {p.patient_id: _FROM_ATTENDANCE[p.attendance] for p in event.participants}
    if event.patient_id and event.patient_id not in states:
        states = {event.patient_id: _FROM_STATUS[event.status], **states}
    return states


def arrival_refusal(state: VisitState, is_today: bool) -> str | None:
    """Why the patient cannot be marked arrived now, or None when they can. A no-show may be
    corrected to arrived (a very late patient)."""
    if not is_today:
        return "Only today's visits can be checked in."
    if state in (VisitState.EXPECTED, VisitState.NO_SHOW):
        return None
    return f"This visit is already marked {state.label.lower()}."


def no_show_refusal(
    state: VisitState, start: datetime, now: datetime, is_today: bool
) -> str | None:
    """Why the visit cannot be marked a no-show now, or None when it can: only an expected
    patient, only today, and only once the visit's start has passed."""
    if not is_today:
        return "Only today's visits can be marked as no-show."
    if now < start:
        return "A visit can be marked as no-show only after its start time."
    if state is not VisitState.EXPECTED:
        return f"This visit is already marked {state.label.lower()}."
    return None


def with_attendance(event: Event, patient_id: str, attendance: Attendance) -> dict[str, object]:
    """The fields to change to give one patient of ``event`` a new attendance.

    Group sessions (participants) change that participant's attendance and derive the status:
    arrived once anyone arrived, no-show once everyone did not come. Others change the status.
    Raises KioskRefused when the patient is not in the event.
    """
    if patient_id not in event.patient_ids():
        raise KioskRefused("This patient is not booked for this visit.")
    if not uses_participants(event):
        status = {
            Attendance.ARRIVED: AppointmentStatus.ARRIVED,
            Attendance.NO_SHOW: AppointmentStatus.NO_SHOW,
        }[attendance]
        return {"status": status}
    participants = [
        Participant(p.patient_id, attendance) if p.patient_id == patient_id else p
        for p in event.participants
    ]
    if patient_id not in {p.patient_id for p in participants}:
        participants.insert(0, Participant(patient_id, attendance))
    return {"participants": tuple(participants), "status": group_status(participants, event)}


def group_status(participants: Iterable[Participant], event: Event) -> AppointmentStatus:
    """A group session's status from its participants' attendance (see ``with_attendance``)."""
    seen = [p.attendance for p in participants]
    if event.status is AppointmentStatus.COMPLETED:
        return event.status
    if any(a in (Attendance.ARRIVED, Attendance.ATTENDED) for a in seen):
        return AppointmentStatus.ARRIVED
    if seen and all(a is Attendance.NO_SHOW for a in seen):
        return AppointmentStatus.NO_SHOW
    if event.status in (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW):
        return AppointmentStatus.CONFIRMED
    return event.status
