"""An in-memory remote: the reference provider for tests and the engine's state machine.

It behaves like a careful CalDAV server: every write gets a new version, writes are conditional,
a retried create of the same UID is refused (PreconditionFailed), an incremental pull returns
only what changed since a token, and tokens can be expired on demand. Other "devices" change it
through ``put_from_elsewhere`` / ``delete_from_elsewhere``; ``fail_next`` injects errors.

Not thread-safe: one event loop uses it at a time (the sync worker's, or a test's).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from carecal.domain.errors import NotFound, PreconditionFailed, RemoteError, SyncStateExpired
from carecal.domain.models import Event, ProviderKind
from carecal.ical.reader import read_ics
from carecal.ical.writer import write_ics
from carecal.providers.base import (  # resource_name re-exported for callers
    Capability,
    PullResult,
    RemoteCalendar,
    RemoteItem,
    RemoteRef,
    resource_name,
)


@dataclass
class _Stored:
    uid: str
    version: str
    raw: str


@dataclass
class _Calendar:
    info: RemoteCalendar
    items: dict[str, _Stored] = field(default_factory=dict)
    log: list[tuple[int, str]] = field(default_factory=list)  # (sequence, remote id)
    oldest_valid: int = 0  # tokens older than this are expired


class MemoryProvider:
    """An account on an in-memory server. See the module docstring."""

    kind = ProviderKind.CALDAV
    capabilities = frozenset({Capability.INCREMENTAL})

    def __init__(self, calendars: Sequence[RemoteCalendar] = ()) -> None:
        self._calendars: dict[str, _Calendar] = {c.remote_id: _Calendar(c) for c in calendars}
        self._seq = itertools.count(1)
        self._versions = itertools.count(1)
        self.fail_next: list[RemoteError] = []  # raised, one per call, before doing anything
        self.requests: list[str] = []  # "METHOD remote_id" of every call, for assertions

    # --- test hooks: the server as other devices see it ------------------------------------

    def add_calendar(self, calendar: RemoteCalendar) -> None:
        self._calendars[calendar.remote_id] = _Calendar(calendar)

    def put_from_elsewhere(self, calendar_id: str, uid: str, raw: str) -> RemoteRef:
        """Create or replace an item as another device would (no precondition)."""
        cal = self._calendars[calendar_id]
        name = resource_name(uid)
        return self._store(cal, name, uid, raw)

    def delete_from_elsewhere(self, calendar_id: str, remote_id: str) -> None:
        cal = self._calendars[calendar_id]
        if cal.items.pop(remote_id, None) is not None:
            cal.log.append((next(self._seq), remote_id))

    def expire_tokens(self, calendar_id: str) -> None:
        """Every token handed out so far becomes invalid (as after a server's token pruning)."""
        cal = self._calendars[calendar_id]
        cal.oldest_valid = next(self._seq)

    def items(self, calendar_id: str) -> dict[str, RemoteItem]:
        """Everything the calendar holds now, by remote id."""
        cal = self._calendars[calendar_id]
        return {
            rid: RemoteItem(RemoteRef(rid, s.version), s.uid, s.raw) for rid, s in cal.items.items()
        }

    # --- the protocol ------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        self._enter("DISCOVER", "")
        return [c.info for c in self._calendars.values()]

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        cal = self._enter_cal("PULL", calendar)
        now = next(self._seq)
        if state is None:
            changed = [self._item(rid, s) for rid, s in sorted(cal.items.items())]
            return PullResult(changed=changed, state=str(now), complete=True)
        try:
            since = int(state)
        except ValueError:
            raise SyncStateExpired(f"unknown sync token {state!r}") from None
        if since < cal.oldest_valid:
            raise SyncStateExpired("the sync token has expired")
        touched = {rid for seq, rid in cal.log if seq > since}
        changed = [self._item(rid, cal.items[rid]) for rid in sorted(touched) if rid in cal.items]
        deleted = sorted(rid for rid in touched if rid not in cal.items)
        return PullResult(changed=changed, deleted=deleted, state=str(now))

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        cal = self._enter_cal("GET " + remote_id, calendar)
        stored = cal.items.get(remote_id)
        if stored is None:
            raise NotFound(f"{remote_id} is not on the server")
        return self._item(remote_id, stored)

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        name = resource_name(uid)
        cal = self._enter_cal("CREATE " + name, calendar)
        if name in cal.items:
            raise PreconditionFailed(f"{name} exists already")
        return self._store(cal, name, uid, raw)

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        cal = self._enter_cal("UPDATE " + ref.remote_id, calendar)
        stored = cal.items.get(ref.remote_id)
        if stored is None:
            raise NotFound(f"{ref.remote_id} is not on the server")
        if ref.version is None or stored.version != ref.version:
            raise PreconditionFailed(f"{ref.remote_id} changed on the server")
        return self._store(cal, ref.remote_id, stored.uid, raw)

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        cal = self._enter_cal("DELETE " + ref.remote_id, calendar)
        stored = cal.items.get(ref.remote_id)
        if stored is None:
            return
        if ref.version is None or stored.version != ref.version:
            raise PreconditionFailed(f"{ref.remote_id} changed on the server")
        del cal.items[ref.remote_id]
        cal.log.append((next(self._seq), ref.remote_id))

    def to_events(self, item: RemoteItem, calendar_id: str) -> list[Event]:
        parsed = read_ics(
            item.raw.encode("utf-8"), source=item.ref.remote_id, calendar_id=calendar_id
        )
        return parsed.events

    def to_raw(self, events: Sequence[Event]) -> str:
        return write_ics(events).decode("utf-8")

    # --- internals ---------------------------------------------------------------------------

    def _enter(self, request: str, _calendar_id: str) -> None:
        self.requests.append(request)
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _enter_cal(self, request: str, calendar: RemoteCalendar) -> _Calendar:
        self._enter(request, calendar.remote_id)
        cal = self._calendars.get(calendar.remote_id)
        if cal is None:
            raise NotFound(f"the calendar {calendar.name!r} is not on the server")
        return cal

    def _store(self, cal: _Calendar, name: str, uid: str, raw: str) -> RemoteRef:
        version = f'"{next(self._versions)}"'
        cal.items[name] = _Stored(uid, version, raw)
        cal.log.append((next(self._seq), name))
        return RemoteRef(name, version)

    @staticmethod
    def _item(remote_id: str, stored: _Stored) -> RemoteItem:
        return RemoteItem(RemoteRef(remote_id, stored.version), stored.uid, stored.raw)
