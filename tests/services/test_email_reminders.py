"""Patient e-mail reminders against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from carecal.domain.models import (
    AppointmentStatus,
    Event,
    Patient,
    ServiceType,
    VisitMode,
    new_id,
)
from carecal.net.smtp import SmtpConfig, SmtpConnection, SmtpUnreachable
from carecal.services.email_reminders import EmailReminderService, store_smtp_password
from carecal.services.email_templates import TemplateError, render
from carecal.services.session import Session
from carecal.store.reminders import ReminderState
from tests.services.smtp_server import Inbox, free_port, self_signed, start_smtp

WARSAW = ZoneInfo("Europe/Warsaw")
VISIT = datetime(2025, 5, 15, 10, 0, tzinfo=WARSAW)  # Thursday 10:00
NOW = VISIT.astimezone(UTC) - timedelta(hours=23)  # one hour after the reminder is due


@dataclass
class Setup:
    session: Session
    port: int
    anna: Patient
    marek: Patient
    visit: Event


def _build(session: Session, port: int) -> Setup:
    repo = session.repo
    repo.save_settings(
        replace(
            repo.settings(),
            display_tz="Europe/Warsaw",
            email_reminders_enabled=True,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_from="desk@practice.test",
            practitioner_name="Dr Ola Lis",
        ),
        actor="test",
    )
    physio = ServiceType(new_id(), "Physiotherapy", 50, Decimal("150"))
    repo.save_service(physio, actor="test")
    anna = Patient(new_id(), "Anna", "Nowak", email="anna@example.test")
    marek = Patient(new_id(), "Marek", "Wiśniewski", email="marek@example.test")
    marek = replace(marek, email_reminders=False)
    for p in (anna, marek):
        repo.add_patient(p, actor="test")
    cal = repo.ensure_local_calendar().id

    def book(patient: Patient, start: datetime, **kw: object) -> Event:
        ev = Event(
            id=new_id(),
            calendar_id=cal,
            uid="",
            title=f"{patient.full_name} physio",
            start=start,
            end=start + timedelta(minutes=50),
            tzid="Europe/Warsaw",
            patient_id=patient.id,
            service_id=physio.id,
            location="Lipowa 3, Kraków",
            description="private note: knee pain",
            status=AppointmentStatus.CONFIRMED,
            **kw,  # type: ignore[arg-type]
        )
        session.events.create(ev)
        return repo.get_event(ev.id)

    visit = book(anna, VISIT)
    book(marek, VISIT + timedelta(hours=1))
    return Setup(session, port, anna, marek, visit)


@pytest.fixture()
def setup(session: Session) -> Setup:
    return _build(session, free_port())


@pytest.fixture()
def inbox(setup: Setup) -> Iterator[Inbox]:
    box = Inbox()
    server = start_smtp(setup.port, box)
    yield box
    server.stop()


def _service(setup: Setup, **kw: object) -> EmailReminderService:
    return EmailReminderService(setup.session.repo, setup.session.db, **kw)  # type: ignore[arg-type]


def test_due_reminder_is_sent_once_with_rendered_templates_and_a_clean_ics(
    setup: Setup, inbox: Inbox
) -> None:
    svc = _service(setup)
    result = svc.run_pass(NOW)
    assert (result.sent, result.error) == (1, None)
    assert svc.run_pass(NOW + timedelta(minutes=5)).sent == 0
    assert len(inbox.received) == 1
    msg = inbox.received[0]
    assert inbox.envelopes[0] == ("desk@practice.test", ["anna@example.test"])
    assert msg["Subject"] == "Reminder: Physiotherapy on Thursday, 15 May 2025 at 10:00"
    assert msg["Message-ID"].startswith("<carecal-reminder.")
    assert msg["Message-ID"].endswith("@practice.test>")
    body = msg.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Hello Anna," in text and "10:00–10:50" in text and "Dr Ola Lis" in text
    attachments = list(msg.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["text/calendar"]
    raw = attachments[0].get_payload(decode=True)
    cal = icalendar.Calendar.from_ical(raw)
    (vevent,) = cal.walk("VEVENT")
    assert vevent.decoded("DTSTART") == VISIT
    assert str(vevent["SUMMARY"]) == "Physiotherapy with Dr Ola Lis"
    whole = msg.as_string() + raw.decode()
    # Nothing about anyone else, and nothing of the practitioner's notes.
    for secret in ("Marek", "marek@", "knee pain", setup.anna.id, setup.marek.id, "Nowak physio"):
        assert secret not in whole
    row = svc.queue.all()[0]
    assert row.state is ReminderState.SENT
    outcomes = [line.outcome for line in svc.queue.log()]
    assert outcomes[0] == "sent" and "queued" in outcomes


def test_opted_out_patient_gets_nothing(setup: Setup, inbox: Inbox) -> None:
    svc = _service(setup)
    svc.run_pass(NOW + timedelta(hours=1))  # Marek's visit is due too by now
    assert [e[1] for e in inbox.envelopes] == [["anna@example.test"]]
    assert {r.patient_id for r in svc.queue.all()} == {setup.anna.id}


def test_offline_reminder_waits_and_goes_out_later_exactly_once(setup: Setup) -> None:
    svc = _service(setup)
    first = svc.run_pass(NOW)  # nothing listens on the port: the machine is "offline"
    assert first.sent == 0 and first.waiting == 1 and first.error
    assert "connection refused" in first.error
    (row,) = svc.queue.all()
    assert row.state is ReminderState.PENDING and row.attempts == 0
    assert svc.run_pass(NOW + timedelta(minutes=5)).waiting == 1
    lines = [line.outcome for line in svc.queue.log()]
    assert lines.count("not sent") == 1  # one line per distinct error, not per pass
    box = Inbox()
    server = start_smtp(setup.port, box)
    try:
        restarted = _service(setup)  # e.g. the next day's app start or cron run
        assert restarted.run_pass(NOW + timedelta(hours=2)).sent == 1
        assert restarted.run_pass(NOW + timedelta(hours=3)).sent == 0
    finally:
        server.stop()
    assert len(box.received) == 1


class _Crash(BaseException):
    """Stands for the process dying (power cut, kill -9) at one point."""


def test_crash_between_sending_and_sent_never_sends_twice(
    setup: Setup, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _service(setup)

    def die(*args: object) -> None:
        raise _Crash

    monkeypatch.setattr(svc.queue, "mark_sent", die)
    with pytest.raises(_Crash):
        svc.run_pass(NOW)
    assert len(inbox.received) == 1  # the server has it; Carecal never heard the answer
    (row,) = svc.queue.all()
    assert row.state is ReminderState.SENDING
    restarted = _service(setup)
    soon = restarted.run_pass(NOW + timedelta(minutes=1))  # another sender may still be at it
    assert soon.sent == 0 and restarted.queue.all()[0].state is ReminderState.SENDING
    later = restarted.run_pass(NOW + timedelta(minutes=15))
    assert later.sent == 0 and later.unknown == 1
    assert restarted.queue.all()[0].state is ReminderState.UNKNOWN
    assert restarted.run_pass(NOW + timedelta(hours=1)).sent == 0
    assert len(inbox.received) == 1
    # Sending it again is the user's explicit choice, and keeps its Message-ID.
    assert restarted.queue.requeue(row.id, NOW + timedelta(hours=2))
    assert restarted.run_pass(NOW + timedelta(hours=2)).sent == 1
    assert [m["Message-ID"] for m in inbox.received] == [row.message_id] * 2


def test_cancelled_and_moved_visits_cancel_or_reschedule_the_pending_reminder(
    setup: Setup, inbox: Inbox
) -> None:
    svc = _service(setup)
    early = NOW - timedelta(hours=6)  # queued, not yet due
    svc.run_pass(early)
    (row,) = svc.queue.all()
    assert row.state is ReminderState.PENDING and row.due_at == NOW - timedelta(hours=1)
    events = setup.session.events
    moved = setup.visit.with_changes(
        start=VISIT + timedelta(hours=3), end=VISIT + timedelta(hours=3, minutes=50)
    )
    events.update(moved)
    svc.run_pass(early + timedelta(minutes=1))
    (row,) = svc.queue.all()
    assert row.state is ReminderState.PENDING
    assert row.starts_at == (VISIT + timedelta(hours=3)).astimezone(UTC)
    events.update(
        setup.session.repo.get_event(setup.visit.id).with_changes(
            status=AppointmentStatus.CANCELLED
        )
    )
    result = svc.run_pass(early + timedelta(minutes=2))
    assert result.cancelled == 1 and svc.queue.all()[0].state is ReminderState.CANCELLED
    assert svc.run_pass(NOW + timedelta(hours=3)).sent == 0
    assert inbox.received == []


def test_visit_that_started_before_the_machine_came_online_expires(setup: Setup) -> None:
    svc = _service(setup)
    svc.run_pass(NOW)  # offline: stays pending
    result = svc.run_pass(VISIT.astimezone(UTC) + timedelta(minutes=5))
    assert result.expired == 1 and svc.queue.all()[0].state is ReminderState.EXPIRED


def test_unknown_placeholder_is_a_clear_error_and_nothing_is_sent(
    setup: Setup, inbox: Inbox
) -> None:
    with pytest.raises(TemplateError, match=r"unknown placeholder \{frist_name\} in the subject"):
        render("Hi {frist_name}", {}, "subject")
    with pytest.raises(TemplateError, match=r"\{first_name.upper\}"):
        render("{first_name.upper}", {}, "body")
    assert render("{{literal}} {time}", {"time": "10:00"}, "body") == "{literal} 10:00"
    repo = setup.session.repo
    repo.save_settings(replace(repo.settings(), email_subject="See you {when}"), actor="test")
    result = _service(setup).run_pass(NOW)
    assert result.sent == 0 and result.error and "{when}" in result.error
    assert inbox.received == []


def test_video_visit_link_reaches_the_patient(setup: Setup, inbox: Inbox) -> None:
    url = "https://meet.example.test/abc"
    setup.session.events.update(
        setup.visit.with_changes(mode=VisitMode.VIDEO, video_url=url, location="")
    )
    assert _service(setup).run_pass(NOW).sent == 1
    body = inbox.received[0].get_body(("plain",))
    assert body is not None and url in body.get_content()


def test_starttls_with_login_and_password_from_the_keyring(setup: Setup, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    repo = setup.session.repo
    repo.save_settings(
        replace(repo.settings(), smtp_security="starttls", smtp_user="desk"), actor="test"
    )
    store_smtp_password("s3cret-pw")
    box = Inbox()
    port = setup.port
    server = start_smtp(port, box, tls=(cert, key), login=("desk", "s3cret-pw"))
    try:
        untrusted = _service(setup).run_pass(NOW)
        assert untrusted.sent == 0 and untrusted.error and "secure connection" in untrusted.error
        assert _service(setup, cafile=str(cert)).run_pass(NOW).sent == 1
    finally:
        server.stop()
    assert len(box.received) == 1
    assert "s3cret-pw" not in repo.settings().__repr__()


def test_password_never_goes_out_unencrypted_to_another_machine() -> None:
    with pytest.raises(SmtpUnreachable, match="unencrypted"):
        SmtpConnection(SmtpConfig("mail.example.test", 25, "none", user="desk"), "pw")
