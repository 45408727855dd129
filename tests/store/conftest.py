"""Fixtures for store tests: a real SQLite file per test, a repository with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.models import Calendar, Event, Settings, new_id
from carecal.store.db import Database
from carecal.store.repo import Repository

WARSAW = ZoneInfo("Europe/Warsaw")


class Clock:
    """A clock that moves one second per reading, so audit times are distinct and ordered."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "data" / "carecal.sqlite3")
    yield database
    database.close()


@pytest.fixture()
def repo(db: Database) -> Repository:
    r = Repository(db, clock=Clock())
    r.save_settings(Settings(display_tz="Europe/Warsaw"), actor="user")
    return r


@pytest.fixture()
def cal(repo: Repository) -> Calendar:
    return repo.ensure_local_calendar()


def make_event(calendar_id: str, start: datetime, minutes: int = 50, **fields: object) -> Event:
    event = Event(
        id=new_id(),
        calendar_id=calendar_id,
        uid=f"{new_id()}@test",
        title="Session",
        start=start,
        end=start + timedelta(minutes=minutes),
        tzid=getattr(start.tzinfo, "key", None),
    )
    return event.with_changes(**fields) if fields else event
