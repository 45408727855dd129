"""E-mail reminders for patients: plan them into the durable queue, send the due ones once.

A pass (``EmailReminderService.run_pass``; the app runs one on a timer, ``carecal reminders
send`` runs one for cron) does three things:

1. Recover: claims left ``sending`` by a sender that died become ``unknown`` (never resent by
   themselves: the server may have the message; see ``store.reminders``).
2. Plan: every scheduled or confirmed timed visit starting within the lead time plus two days
   gets one queue row per patient with an e-mail address who did not opt out (idempotent by a
   key of occurrence and patient). A moved visit reschedules its pending row; a cancelled one,
   one moved out of reach or an opted-out patient cancels it. Sent rows are never touched.
3. Send: due rows (lead time before the visit, not yet started) go out through one SMTP
   session. Each is claimed (``sending``, committed) before the transaction and marked
   ``sent`` after the server's answer. No connection: the rows simply stay ``pending`` and go
   out on a later pass. Each message has a stable Message-ID derived from its row, so even a
   manual resend of an ``unknown`` row can be recognised as the same message by mail systems.

The message holds only this patient's appointment (no other participant, no notes) and an
.ics attachment built from those fields alone. Passwords come from the keyring
(``services.secrets``), never from the settings. Nothing here logs patient data.

Threads: a worker thread (a pass blocks on the network); the service is used by one thread at a
time. Raises StoreError on database failure; SMTP trouble is reported in ``PassResult``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from carecal.domain.errors import CarecalError, NotFound, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Occurrence,
    Patient,
    Settings,
    VisitMode,
)
from carecal.domain.timeutil import utc_instant
from carecal.net.smtp import (
    SmtpConfig,
    SmtpConnection,
    SmtpNotSent,
    SmtpUncertain,
    SmtpUnreachable,
)
from carecal.services import email_templates
from carecal.services.events import EventService
from carecal.store.db import Database
from carecal.store.reminders import (
    EmailQueue,
    PlannedReminder,
    QueuedReminder,
    ReminderState,
)
from carecal.store.repo import Repository

log = logging.getLogger(__name__)

SMTP_SECRET_ID = "smtp:reminders"
"""The keyring entry (user name under the service ``Carecal``) of the SMTP password."""

PLAN_AHEAD = timedelta(days=2)
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=1)
_SENDABLE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)

Connect = Callable[[SmtpConfig, str | None], SmtpConnection]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PassResult:
    """What one pass did; ``error`` is a sentence when the server could not be used."""

    queued: int = 0
    rescheduled: int = 0
    cancelled: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    expired: int = 0
    unknown: int = 0
    waiting: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the status bar or the command line."""
        parts = [
            f"{n} {label}"
            for n, label in (
                (self.sent, "sent"),
                (self.retry, "to retry"),
                (self.failed, "failed"),
                (self.unknown, "interrupted (not resent)"),
                (self.expired, "too late"),
                (self.waiting, "waiting for the server"),
                (self.queued, "queued"),
                (self.cancelled, "cancelled"),
            )
            if n
        ]
        text = ", ".join(parts) if parts else "nothing to send"
        return f"{text}; {self.error}" if self.error else text


def reminder_id(event_id: str, recurrence_id: str, patient_id: str) -> str:
    """The stable id of one patient's reminder for one occurrence. Any thread."""
    digest = hashlib.sha256(f"{event_id}\n{recurrence_id}\n{patient_id}".encode()).hexdigest()
    return digest[:32]


def smtp_config(settings: Settings, cafile: str | None = None) -> SmtpConfig:
    """The SMTP settings as the network layer wants them. Raises ValidationError when the
    server or the sender address is missing."""
    if not settings.smtp_host.strip():
        raise ValidationError("no mail server is set (Settings > Reminders)")
    if "@" not in settings.smtp_from:
        raise ValidationError("no sender address is set (Settings > Reminders)")
    return SmtpConfig(
        host=settings.smtp_host.strip(),
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user.strip(),
        cafile=cafile,
    )


def _wants(event: Event, patient_id: str) -> bool:
    for p in event.participants:
        if p.patient_id == patient_id:
            return p.attendance is Attendance.EXPECTED
    return True


class EmailReminderService:
    """Plans and sends patient e-mail reminders; see the module docstring."""

    def __init__(
        self,
        repo: Repository,
        db: Database,
        *,
        password: Callable[[], str | None] | None = None,
        connect: Connect = SmtpConnection,
        cafile: str | None = None,
    ) -> None:
        self.repo = repo
        self.queue = EmailQueue(db)
        self.events = EventService(repo, actor="reminders")
        self._password = password or _keyring_password
        self._connect = connect
        self._cafile = cafile

    # --- planning ------------------------------------------------------------------------------

    def plan(self, now: datetime, result: PassResult | None = None) -> PassResult:
        """Bring the queue in line with the calendar (see the module docstring, step 2)."""
        result = result or PassResult()
        settings = self.repo.settings()
        lead = timedelta(hours=max(0, settings.email_lead_hours))
        window = (now, now + lead + PLAN_AHEAD)
        planned: list[PlannedReminder] = []
        patients: dict[str, Patient | None] = {}
        domain = settings.smtp_from.rpartition("@")[2] or "carecal.invalid"
        for occ in self._occurrences(*window):
            start = utc_instant(occ.start)
            if not now <= start < window[1]:
                continue
            event_id, rid = occ.key
            for pid in occ.event.patient_ids():
                if not _wants(occ.event, pid):
                    continue
                if pid not in patients:
                    patients[pid] = self._patient(pid)
                patient = patients[pid]
                if patient is None or not patient.email_reminders or "@" not in patient.email:
                    continue
                key = reminder_id(event_id, rid, pid)
                planned.append(
                    PlannedReminder(
                        id=key,
                        event_id=event_id,
                        recurrence_id=rid,
                        patient_id=pid,
                        starts_at=start.astimezone(UTC),
                        due_at=(start - lead).astimezone(UTC),
                        message_id=f"<carecal-reminder.{key}@{domain}>",
                    )
                )
        added, moved, cancelled = self.queue.plan(planned, window, now)
        result.queued += added
        result.rescheduled += moved
        result.cancelled += cancelled
        return result

    # --- sending -------------------------------------------------------------------------------

    def run_pass(self, now: datetime | None = None) -> PassResult:
        """Recover, plan and send what is due (see the module docstring). Raises StoreError."""
        now = now or utcnow()
        result = PassResult()
        result.unknown += len(self.queue.recover(now))
        settings = self.repo.settings()
        if not settings.email_reminders_enabled:
            result.error = "e-mail reminders are off (Settings > Reminders)"
            return result
        self.plan(now, result)
        due = self.queue.due(now)
        sendable = [r for r in due if self._still_sendable(r, now, result)]
        if not sendable:
            return result
        try:
            config = smtp_config(settings, self._cafile)
            email_templates.check_template(self._subject(settings), "subject")
            email_templates.check_template(self._body(settings), "body")
            password = self._password() if config.user else None
        except CarecalError as exc:
            result.error = str(exc)
            result.waiting += len(sendable)
            return result
        try:
            with self._connect(config, password) as conn:
                for row in sendable:
                    if not self._send_one(conn, row, settings, now, result):
                        break
        except SmtpUnreachable as exc:
            result.error = str(exc)
            still = [r.id for r in sendable if self._is_pending(r.id)]
            result.waiting += len(still)
            self.queue.note_attempt_failed(still, now, str(exc))
        return result

    def _still_sendable(self, row: QueuedReminder, now: datetime, result: PassResult) -> bool:
        if row.starts_at <= now:
            self.queue.mark(row.id, ReminderState.EXPIRED, now, "the visit had already started")
            result.expired += 1
            return False
        return True

    def _is_pending(self, reminder_id_: str) -> bool:
        row = self.queue.get(reminder_id_)
        return row is not None and row.state is ReminderState.PENDING

    def _send_one(
        self,
        conn: SmtpConnection,
        row: QueuedReminder,
        settings: Settings,
        now: datetime,
        result: PassResult,
    ) -> bool:
        """Send one claimed row; False when the connection is gone (stop the pass)."""
        try:
            message, recipient = self.compose(row, settings, now)
        except NotFound as exc:
            self.queue.cancel(row.id, now, str(exc))
            result.cancelled += 1
            return True
        except CarecalError as exc:
            self.queue.mark(row.id, ReminderState.FAILED, now, str(exc))
            result.failed += 1
            return True
        if not self.queue.claim(row.id, now):
            return True  # another sender has it
        try:
            conn.send(message, settings.smtp_from, recipient)
        except SmtpNotSent as exc:
            if exc.transient:
                wait = min(RETRY_FIRST * (2 ** max(0, row.attempts)), RETRY_MAX)
                self.queue.mark_retry(row.id, now, now + wait, str(exc))
                result.retry += 1
            else:
                self.queue.mark(row.id, ReminderState.FAILED, now, str(exc))
                result.failed += 1
            return True
        except SmtpUnreachable as exc:
            # The connection was gone before this message started: nothing of it was sent.
            self.queue.mark_retry(row.id, now, now, str(exc))
            raise
        except SmtpUncertain as exc:
            self.queue.mark(row.id, ReminderState.UNKNOWN, now, str(exc))
            result.unknown += 1
            return False
        self.queue.mark_sent(row.id, now)
        result.sent += 1
        return True

    # --- the message ---------------------------------------------------------------------------

    def compose(
        self, row: QueuedReminder, settings: Settings, now: datetime
    ) -> tuple[EmailMessage, str]:
        """The message for one queue row and its recipient. Raises NotFound (the visit or the
        patient is gone, the patient opted out or has no address), TemplateError."""
        occ = self._find(row)
        patient = self.repo.get_patient(row.patient_id)
        if not patient.email_reminders or "@" not in patient.email:
            raise NotFound("the patient opted out or has no e-mail address")
        fields = self.fields(occ, patient, settings)
        message = EmailMessage()
        message["Subject"] = email_templates.render(self._subject(settings), fields, "subject")
        message["From"] = settings.smtp_from
        message["To"] = patient.email
        message["Date"] = format_datetime(now)
        message["Message-ID"] = row.message_id
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(email_templates.render(self._body(settings), fields, "body"))
        ics = self.ics_for(occ, row.id, fields)
        message.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename="appointment.ics",
        )
        return message, patient.email

    def fields(self, occ: Occurrence, patient: Patient, settings: Settings) -> dict[str, str]:
        """The template fields of one visit for one patient (nothing about anyone else)."""
        zone = self.events.display_zone()
        start = utc_instant(occ.start).astimezone(zone)
        end = utc_instant(occ.end).astimezone(zone)
        event = occ.event
        video = event.video_url if event.mode is VisitMode.VIDEO else ""
        return {
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "full_name": patient.full_name,
            "weekday": f"{start:%A}",
            "date": f"{start.day} {start:%B %Y}",
            "time": f"{start:%H:%M}",
            "end_time": f"{end:%H:%M}",
            "duration": str(int((end - start).total_seconds() // 60)),
            "service": self._service_name(event),
            "location": event.location,
            "video_link": video,
            "practitioner": settings.practitioner_name,
        }

    def ics_for(self, occ: Occurrence, key: str, fields: dict[str, str]) -> bytes:
        """An iCalendar file of this one visit, from the patient's own fields only."""
        from carecal.ical.writer import write_ics

        title = fields["service"]
        if fields["practitioner"]:
            title += f" with {fields['practitioner']}"
        event = Event(
            id=key,
            calendar_id="",
            uid=f"{key}@carecal",
            title=title,
            start=occ.start,
            end=occ.end,
            tzid=occ.event.tzid,
            description=fields["video_link"],
            location=fields["location"],
            status=AppointmentStatus.CONFIRMED,
        )
        return write_ics([event])

    # --- helpers -------------------------------------------------------------------------------

    def _occurrences(self, start: datetime, end: datetime) -> list[Occurrence]:
        return [
            o
            for o in self.events.occurrences(start, end)
            if isinstance(o.start, datetime)
            and not o.event.all_day
            and o.event.status in _SENDABLE
            and o.event.patient_ids()
        ]

    def _find(self, row: QueuedReminder) -> Occurrence:
        lo, hi = row.starts_at - timedelta(minutes=1), row.starts_at + timedelta(minutes=1)
        for occ in self._occurrences(lo, hi):
            same = (
                occ.key == (row.event_id, row.recurrence_id)
                and utc_instant(occ.start) == row.starts_at
            )
            ours = row.patient_id in occ.event.patient_ids() and _wants(occ.event, row.patient_id)
            if same and ours:
                return occ
        raise NotFound("the visit is no longer in the calendar at this time")

    def _patient(self, patient_id: str) -> Patient | None:
        try:
            return self.repo.get_patient(patient_id)
        except NotFound:
            return None

    def _service_name(self, event: Event) -> str:
        if event.service_id:
            try:
                return self.repo.get_service(event.service_id).name
            except NotFound:
                pass
        return "Appointment"

    @staticmethod
    def _subject(settings: Settings) -> str:
        return settings.email_subject or email_templates.DEFAULT_SUBJECT

    @staticmethod
    def _body(settings: Settings) -> str:
        return settings.email_body or email_templates.DEFAULT_BODY


def _keyring_password() -> str | None:
    """The SMTP password from the keyring, else $CARECAL_PASSWORD (scripted runs).

    Raises NoKeyring / KeyringFailed only when neither gives one."""
    from carecal.services.secrets import NoKeyring, load_password, password_from_env

    try:
        stored = load_password(SMTP_SECRET_ID)
    except NoKeyring:
        stored = None
        if password_from_env() is None:
            raise
    return stored or password_from_env()


def store_smtp_password(password: str) -> None:
    """Keep the SMTP password in the system keyring. Raises NoKeyring, KeyringFailed."""
    from carecal.services.secrets import store_password

    store_password(SMTP_SECRET_ID, password)
