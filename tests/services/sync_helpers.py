"""Test helpers: a CalDAV-like account mirrored from a MemoryProvider, items, a real conflict."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from carecal.domain.models import Account, Calendar
from carecal.providers.base import RemoteCalendar
from carecal.providers.memory import MemoryProvider
from carecal.services.accounts import add_caldav_account
from carecal.store.repo import Repository
from carecal.sync.engine import SyncOptions, sync_account

REMOTE = RemoteCalendar("/cal/practice/", "Practice (server)", color="#0891b2")


@dataclass
class Remote:
    provider: MemoryProvider
    account: Account
    calendar: Calendar


def vevent(uid: str, title: str, day: int = 14, hour: int = 9, location: str = "") -> str:
    loc = f"LOCATION:{location}\r\n" if location else ""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250501T080000Z\r\n"
        f"DTSTART:202505{day:02d}T{hour:02d}0000Z\r\nDTEND:202505{day:02d}T{hour:02d}4500Z\r\n"
        f"SUMMARY:{title}\r\n{loc}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def make_remote(repo: Repository, name: str = "Clinic server") -> Remote:
    """An account (password in the test keyring) mirroring one in-memory server calendar."""
    provider = MemoryProvider([REMOTE])
    account, cals = add_caldav_account(
        repo,
        url="https://dav.example.org/",
        username="front-desk",
        password="secret",
        preset="generic",
        calendars=[REMOTE],
        name=name,
        actor="test",
    )
    return Remote(provider, account, cals[0])


def fill(remote: Remote, count: int) -> None:
    for i in range(count):
        remote.provider.put_from_elsewhere(
            REMOTE.remote_id,
            f"item-{i}@test",
            vevent(f"item-{i}@test", f"Visit {i}", hour=8 + i % 9),
        )


def sync_inline(repo: Repository, remote: Remote) -> None:
    """One sync on the test's thread (to set up state)."""
    asyncio.run(sync_account(repo, remote.provider, remote.account.id, SyncOptions(force=True)))


def make_conflict(repo: Repository, remote: Remote) -> str:
    """An appointment both sides changed differently: title and location here and there."""
    uid = "conflict-1@test"
    remote.provider.put_from_elsewhere(
        REMOTE.remote_id, uid, vevent(uid, "Physio: Anna Kowalska", location="Room 1")
    )
    sync_inline(repo, remote)
    local = repo.find_by_uid(remote.calendar.id, uid)[0]
    repo.update_event(
        local.with_changes(title="Physio: Anna Kowalska (first visit)", description="Knee"),
        actor="user",
    )
    remote.provider.put_from_elsewhere(
        REMOTE.remote_id,
        uid,
        vevent(uid, "Physio: A. Kowalska - moved", hour=11, location="Room 2"),
    )
    sync_inline(repo, remote)
    return uid
