"""A Carecal replica (a data dir with a CalDAV-kind account mirroring one calendar of a
MemoryProvider) and small helpers for the sync tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carecal.domain.models import Account, Calendar, Event, ProviderKind, new_id
from carecal.providers.base import RemoteCalendar
from carecal.providers.memory import MemoryProvider
from carecal.services.session import Session, open_session
from carecal.store.syncstate import SyncStore
from carecal.sync.actions import CalendarReport
from carecal.sync.engine import SyncOptions, sync_calendar

WARSAW = ZoneInfo("Europe/Warsaw")
REMOTE = RemoteCalendar("cal1", "Practice")
ACCOUNT_ID = "acct1"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("UTC"))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@dataclass
class Replica:
    data_dir: Path
    session: Session
    calendar: Calendar

    @property
    def store(self) -> SyncStore:
        return SyncStore(self.session.repo)

    def account(self) -> Account:
        return self.store.account(ACCOUNT_ID)

    def reopen(self) -> None:
        self.session.close()
        self.session = open_session(self.data_dir, actor="user")

    def sync(
        self, provider: MemoryProvider, clock: FakeClock | None = None, **opts: object
    ) -> CalendarReport:
        options = SyncOptions(force=True, **opts)  # type: ignore[arg-type]
        if clock is not None:
            options = replace(options, clock=clock, force=bool(opts.get("force", False)))
        cal = self.session.repo.get_calendar(self.calendar.id)
        return asyncio.run(sync_calendar(self.session.repo, provider, cal, self.account(), options))

    def by_uid(self, uid: str) -> list[Event]:
        return self.session.repo.find_by_uid(self.calendar.id, uid)

    def uids(self) -> set[str]:
        return set(self.store.local_counts(self.calendar.id))

    def add(self, title: str, hour: int = 9, uid: str | None = None, **fields: object) -> Event:
        start = datetime(2026, 3, 3, hour, 0, tzinfo=WARSAW)
        eid = new_id()
        event = Event(
            id=eid,
            calendar_id=self.calendar.id,
            uid=uid or f"{eid}@carecal",
            title=title,
            start=start,
            end=start + timedelta(minutes=50),
            tzid="Europe/Warsaw",
            **fields,  # type: ignore[arg-type]
        )
        self.session.events.create(event)
        return self.session.repo.get_event(eid)

    def edit(self, uid: str, **fields: object) -> None:
        master = self.by_uid(uid)[0]
        self.session.events.update(master.with_changes(**fields))

    def delete(self, uid: str) -> None:
        master = self.by_uid(uid)[0]
        self.session.repo.delete_event(master.id, actor="user")


def open_replica(data_dir: Path, *, policy: str = "ask") -> Replica:
    session = open_session(data_dir, actor="user")
    repo = session.repo
    repo.add_account(
        Account(ACCOUNT_ID, ProviderKind.CALDAV, "clinic", {"conflict_policy": policy}),
        actor="user",
    )
    cal, _ = repo.add_calendar("Practice", "#123456", actor="user", account_id=ACCOUNT_ID)
    cal = replace(cal, remote_id=REMOTE.remote_id)
    repo.update_calendar(cal, actor="user")
    return Replica(data_dir, session, cal)


def vevent(uid: str, title: str, *, extra: str = "", hour: int = 9) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Elsewhere//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260301T100000Z\r\n"
        f"DTSTART:20260303T{hour - 1:02d}0000Z\r\nDTEND:20260303T{hour - 1:02d}5000Z\r\n"
        f"SUMMARY:{title}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def remote_titles(provider: MemoryProvider) -> dict[str, str]:
    out = {}
    for item in provider.items(REMOTE.remote_id).values():
        events = provider.to_events(item, "x")
        out[item.uid] = events[0].title
    return out
