"""Practitioner reminders with a fake clock: what is due when, shown once (also after a restart)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from carecal.domain.models import VisitMode
from carecal.services.reminders import ReminderService
from carecal.services.session import Session
from tests.services.kiosk_practice import WARSAW, Practice, at, build_practice


def _service(session: Session) -> ReminderService:
    return ReminderService(session.repo, session.db)


def _utc(hhmm: str) -> datetime:
    return at(hhmm).astimezone(UTC)


def _practice(session: Session, **settings: object) -> Practice:
    practice = build_practice(session)
    repo = session.repo
    repo.save_settings(replace(repo.settings(), **settings), actor="test")  # type: ignore[arg-type]
    return practice


def test_ten_minutes_before_each_appointment_once(session: Session) -> None:
    _practice(session, summary_enabled=False)
    svc = _service(session)
    assert svc.take_due(_utc("10:49")) == []
    (notice,) = svc.take_due(_utc("10:50"))
    assert notice.kind == "before"
    assert notice.title == "Marek Z. · Therapy session"
    assert notice.body.startswith("11:00–11:50 (in 10 min)")
    assert notice.video_url == ""
    assert svc.take_due(_utc("10:51")) == []
    # A restart (a new service on the same database) does not show it again.
    assert _service(session).take_due(_utc("10:55")) == []
    assert _service(session).take_due(_utc("11:01")) == []  # started: too late for a reminder


def test_reminder_lead_time_and_off_switch(session: Session) -> None:
    _practice(session, summary_enabled=False, notify_before_minutes=30)
    svc = _service(session)
    assert [n.title for n in svc.take_due(_utc("10:30"))] == ["Marek Z. · Therapy session"]
    repo = session.repo
    repo.save_settings(replace(repo.settings(), notify_before_enabled=False), actor="test")
    assert svc.take_due(_utc("11:45")) == []  # the 12:00 group would be due by now


def test_video_visit_carries_its_link_and_names_follow_the_privacy_setting(
    session: Session,
) -> None:
    practice = _practice(session, summary_enabled=False, kiosk_names="initials")
    url = "https://meet.example.test/marek"
    session.events.update(practice.marek_11.with_changes(mode=VisitMode.VIDEO, video_url=url))
    (notice,) = _service(session).take_due(_utc("10:52"))
    assert notice.video_url == url
    assert notice.title == "M. Z. · Therapy session"
    assert "Video visit" in notice.body and "(in 8 min)" in notice.body
    assert "Zieliński" not in notice.title + notice.body


def test_moved_appointment_reminds_again_for_its_new_time(session: Session) -> None:
    practice = _practice(session, summary_enabled=False)
    svc = _service(session)
    assert len(svc.take_due(_utc("10:50"))) == 1
    moved = practice.marek_11.with_changes(start=at("11:20"), end=at("12:10"))
    session.events.update(moved)
    assert svc.take_due(_utc("11:05")) == []
    assert [n.body[:5] for n in svc.take_due(_utc("11:10"))] == ["11:20"]


def test_cancelled_appointments_remind_nobody(session: Session) -> None:
    from carecal.domain.models import AppointmentStatus

    practice = _practice(session, summary_enabled=False)
    session.events.update(practice.marek_11.with_changes(status=AppointmentStatus.CANCELLED))
    assert _service(session).take_due(_utc("10:55")) == []


def test_morning_summary_once_with_count_first_and_gaps(session: Session) -> None:
    _practice(session, summary_time="07:30", notify_before_enabled=False)
    svc = _service(session)
    assert svc.take_due(_utc("07:29")) == []
    (summary,) = svc.take_due(_utc("07:30"))
    assert summary.kind == "summary"
    assert summary.title == "Today: 4 appointments"
    lines = summary.body.splitlines()
    assert lines[0] == "First: 09:00 Anna N. · Therapy session"
    assert lines[1] == "Gaps: 09:50–11:00, 13:30–15:00"
    assert lines[2] == "Last ends at 15:50"
    assert svc.take_due(_utc("08:00")) == []
    assert _service(session).take_due(_utc("08:05")) == []  # not again after a restart
    # A laptop opened in the afternoon does not get the morning summary any more.
    tomorrow = datetime(2025, 5, 15, 16, 0, tzinfo=WARSAW)
    assert svc.take_due(tomorrow.astimezone(UTC)) == []


def test_summary_of_an_empty_day(session: Session) -> None:
    _practice(session, summary_time="07:00")
    day = datetime(2025, 5, 17, 7, 5, tzinfo=WARSAW)  # a Saturday
    (summary,) = _service(session).take_due(day.astimezone(UTC))
    assert summary.title == "Today: no appointments"
