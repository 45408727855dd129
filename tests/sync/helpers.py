"""A Carecal replica (a data dir with a CalDAV-kind account mirroring one calendar of a
MemoryProvider) and small helpers for the sync tests."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carecal.domain.errors import RemoteError, TransientError
from carecal.domain.models import Account, Calendar, Event, ProviderKind, new_id
from carecal.providers.base import Provider, RemoteCalendar, RemoteRef
from carecal.providers.memory import MemoryProvider
from carecal.services.session import DB_FILE, Session, open_session
from carecal.services.syncing import ProviderFactory, run_cycle
from carecal.store.syncstate import SyncStore
from carecal.sync.actions import CalendarReport
from carecal.sync.engine import CancelToken, SyncOptions, sync_calendar

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
        # Without a clock: "Sync now" (force). With one: backoff respected unless force=True.
        force = bool(opts.pop("force", clock is None))
        options = SyncOptions(force=force, **opts)  # type: ignore[arg-type]
        if clock is not None:
            options = replace(options, clock=clock)
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


def open_replica(
    data_dir: Path,
    *,
    policy: str = "ask",
    kind: ProviderKind = ProviderKind.CALDAV,
    username: str = "clinic",
    remote_id: str = REMOTE.remote_id,
) -> Replica:
    """A data dir with one account of ``kind`` whose calendar "Practice" mirrors
    ``remote_id``."""
    session = open_session(data_dir, actor="user")
    repo = session.repo
    repo.add_account(
        Account(ACCOUNT_ID, kind, username, {"conflict_policy": policy}),
        actor="user",
    )
    cal, _ = repo.add_calendar("Practice", "#123456", actor="user", account_id=ACCOUNT_ID)
    cal = replace(cal, remote_id=remote_id)
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


class FaultyProvider(MemoryProvider):
    """A MemoryProvider with two more faults, for tests only: ``fail_at[n]`` raises on the
    n-th request from now (0: the next one), and ``lose`` answers of creates/updates are lost
    (the server applied the write, the client sees a dropped connection)."""

    def __init__(self, calendars: Sequence[RemoteCalendar] = (REMOTE,)) -> None:
        super().__init__(calendars)
        self.fail_at: dict[int, RemoteError] = {}
        self.lose = 0
        self._calls = 0

    def _enter(self, request: str, calendar_id: str) -> None:
        n, self._calls = self._calls, self._calls + 1
        error = self.fail_at.pop(n, None)
        if error is not None:
            self.requests.append(request)
            raise error
        super()._enter(request, calendar_id)

    def arm(self, offset: int, error: RemoteError) -> None:
        """Raise ``error`` on the request ``offset`` requests from now."""
        self.fail_at[self._calls + offset] = error

    def calm(self) -> None:
        self.fail_at.clear()
        self.fail_next = []
        self.lose = 0

    def _lost(self, ref: RemoteRef) -> RemoteRef:
        if self.lose > 0:
            self.lose -= 1
            raise TransientError("the connection dropped before the answer")
        return ref

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        return self._lost(await super().create(calendar, uid, raw))

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        return self._lost(await super().update(calendar, ref, raw))


class DataVersion:
    """A second connection on the replica's database: ``moved()`` tells whether anything was
    committed since the last call (SQLite's PRAGMA data_version is per connection)."""

    def __init__(self, replica: Replica) -> None:
        self._conn = sqlite3.connect(replica.data_dir / DB_FILE)
        self._seen = self._read()

    def _read(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def moved(self) -> bool:
        now = self._read()
        moved, self._seen = now != self._seen, now
        return moved

    def close(self) -> None:
        self._conn.close()


def audit_count(replica: Replica) -> int:
    return int(replica.session.repo._db.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


def sync_cleanly(replica: Replica, provider: Provider) -> CalendarReport:
    """``replica.sync`` ("Sync now") with ``provider``, asserting it reported no error."""
    report = replica.sync(provider)  # type: ignore[arg-type]
    assert report.errors == [], report.errors
    return report


def app_cycle(replica: Replica, providers: ProviderFactory) -> None:
    """One pass of the app's sync cycle over the replica's data dir ("Sync now"), asserting
    every account synced; ``providers`` makes a provider per account, as the app does."""
    result = asyncio.run(run_cycle(replica.session.db, providers, CancelToken(), True, None))
    assert result.errors == [] and all(r.ok for r in result.reports), result


def one_copy_view(replica: Replica) -> dict[str, tuple[str, str, str, datetime | Any]]:
    """Title, location, notes and start of every UID, asserting none is stored twice."""
    out = {}
    for uid in replica.uids():
        events = replica.by_uid(uid)
        assert len(events) == 1, f"duplicates of {uid}"
        e = events[0]
        out[uid] = (e.title, e.location, e.description, e.start)
    return out
