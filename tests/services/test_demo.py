"""The demo practice week: realistic content, and a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.models import AppointmentStatus, VisitMode
from carecal.services.demo import fill_demo_week
from carecal.services.session import Session, open_session

WEDNESDAY = date(2025, 3, 12)


@pytest.fixture()
def session(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    with open_session(data_dir, actor="user") as s:
        yield s


def _week(session: Session) -> list:  # type: ignore[type-arg]
    zone = ZoneInfo("Europe/Warsaw")
    monday = WEDNESDAY - timedelta(days=WEDNESDAY.weekday())
    start = datetime.combine(monday, time(0), tzinfo=zone)
    return session.events.occurrences(start, start + timedelta(days=7))


def test_demo_week_content(session: Session) -> None:
    fill_demo_week(session.repo, WEDNESDAY)
    repo = session.repo
    assert len(repo.list_patients()) == 25
    assert len({p.full_name for p in repo.list_patients()}) == 25
    assert all(p.email.endswith("@example.com") for p in repo.list_patients())
    services = {s.name: s for s in repo.list_services()}
    assert services["Initial consultation"].duration_minutes == 80
    assert services["Group therapy"].capacity == 8
    assert services["Video consultation"].online
    assert {c.name for c in repo.list_calendars()} == {"My practice", "Personal"}
    assert len(repo.working_hours()) == 5 and len(repo.breaks()) == 5

    occs = _week(session)
    appointments = [o for o in occs if o.event.patient_ids()]
    assert 40 <= len(appointments) <= 60
    statuses = {o.event.status for o in occs}
    past = [o for o in occs if isinstance(o.start, datetime) and o.start.date() < WEDNESDAY]
    assert {o.event.status for o in past if o.event.patient_ids()} <= {
        AppointmentStatus.COMPLETED,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.CANCELLED,
    }
    assert AppointmentStatus.NO_SHOW in statuses and AppointmentStatus.SCHEDULED in statuses
    assert any(o.event.mode is VisitMode.VIDEO and o.event.video_url for o in occs)
    assert any(o.event.all_day for o in occs)
    assert any(len(o.event.participants) >= 4 for o in occs)
    assert any(o.event.rrule for o in occs)
    assert session.events.double_bookings(occs)
    # Nothing lands outside the practice's hours except the personal calendar and all-day.
    personal = repo.find_calendar("Personal").id
    assert sum(o.event.calendar_id == personal for o in occs) >= 2


def test_demo_is_idempotent(session: Session) -> None:
    fill_demo_week(session.repo, WEDNESDAY)
    first = sorted(o.key for o in _week(session))
    audit_size = len(session.repo.audit.entries())
    fill_demo_week(session.repo, WEDNESDAY)
    assert sorted(o.key for o in _week(session)) == first
    assert len(session.repo.audit.entries()) == audit_size
    assert len(session.repo.list_patients()) == 25
