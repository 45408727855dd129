"""Calendars, patients, services, working hours, breaks and settings."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Break, Patient, ServiceType, Settings, WorkingHours
from carecal.store.db import Database
from carecal.store.localzone import system_zone_name
from carecal.store.repo import Repository


def test_local_calendar_is_created_once(repo: Repository) -> None:
    first = repo.ensure_local_calendar()
    assert repo.ensure_local_calendar() == first
    assert first.name == "My practice" and first.is_default
    assert repo.find_calendar("my PRACTICE") == first
    _cal, changes = repo.add_calendar("Home visits", "#abcdef", actor="user")
    assert changes.calendars
    assert [c.name for c in repo.list_calendars()] == ["My practice", "Home visits"]
    with pytest.raises(NotFound):
        repo.get_calendar("nope")


def test_patients(repo: Repository) -> None:
    repo.add_patient(Patient("p1", "Anna", "Nowak", email="anna@example.org"), actor="user")
    repo.add_patient(Patient("p2", "Jan", "Kowalski", birth_date=date(1980, 2, 29)), actor="user")
    assert [p.id for p in repo.list_patients()] == ["p2", "p1"]
    assert [p.id for p in repo.list_patients("ann now")] == ["p1"]
    assert [p.id for p in repo.list_patients("100%")] == []
    assert repo.find_patient("jan  KOWALSKI").birth_date == date(1980, 2, 29)
    repo.update_patient(Patient("p1", "Anna", "Nowak-Lis"), actor="user")
    assert repo.get_patient("p1").last_name == "Nowak-Lis"
    with pytest.raises(NotFound):
        repo.find_patient("Nobody")
    with pytest.raises(ValidationError):
        repo.add_patient(Patient("p1", "Dup"), actor="user")
    with pytest.raises(NotFound):
        repo.update_patient(Patient("zzz", "X"), actor="user")


def test_services(repo: Repository) -> None:
    s = ServiceType("s1", "Massage", 60, Decimal("180.00"), buffer_minutes=10)
    repo.save_service(s, actor="user")
    repo.save_service(ServiceType("s2", "Consultation", 30), actor="user")
    assert repo.get_service("s1") == s
    assert repo.find_service("massage") == s
    repo.save_service(s.__class__("s1", "Massage", 90, Decimal("200")), actor="user")
    assert repo.get_service("s1").duration_minutes == 90
    assert [x.name for x in repo.list_services()] == ["Consultation", "Massage"]
    repo.delete_service("s2", actor="user")
    with pytest.raises(NotFound):
        repo.get_service("s2")
    with pytest.raises(ValidationError):
        repo.save_service(ServiceType("s3", "Zero", 0), actor="user")


def test_working_hours_and_breaks(repo: Repository) -> None:
    hours = [
        WorkingHours("h1", 0, time(8), time(16), valid_from=date(2024, 1, 1)),
        WorkingHours("h2", 2, time(12), time(20)),
    ]
    repo.set_working_hours(hours, actor="user")
    assert repo.working_hours() == hours
    breaks = [Break("b1", time(12), time(12, 30), weekday=0, label="Lunch")]
    repo.set_breaks(breaks, actor="user")
    assert repo.breaks() == breaks
    with pytest.raises(ValidationError):
        repo.set_working_hours([WorkingHours("h3", 1, time(16), time(8))], actor="user")
    assert repo.working_hours() == hours


def test_settings_default_zone_and_round_trip(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "s.sqlite3")
    repo = Repository(db)
    assert not repo.has_settings()
    assert repo.settings().display_tz == system_zone_name()
    custom = Settings(display_tz="America/New_York", week_start=6, slot_minutes=30)
    repo.save_settings(custom, actor="user")
    assert Repository(db).settings() == custom
    db.close()


def test_system_zone_name(tmp_path: Path) -> None:
    assert system_zone_name(environ={"TZ": "Europe/Warsaw"}) == "Europe/Warsaw"
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/America/New_York")
    assert system_zone_name(environ={}, localtime=link) == "America/New_York"
    assert system_zone_name(environ={"TZ": "Not/AZone"}, localtime=tmp_path / "none") == "UTC"
