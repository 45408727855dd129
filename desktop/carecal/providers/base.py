"""The one protocol every remote calendar system implements, and the records it trades in.

The sync engine (carecal.sync) knows only this module. A provider is one module beside it
(memory.py, caldav.py; later google.py, outlook.py, docplanner.py).

The unit of sync is an *item*: everything one calendar holds under one iCalendar UID, i.e. a
single event, or a series master with its overrides. That is one CalDAV resource, and the
provider maps it to whatever its remote stores (Google keeps a series' instances apart; the
provider groups them).

Every method is a coroutine run on the sync worker's event loop (never the GUI thread). Errors are
the domain's (carecal.domain.errors), classified once:
- ``TransientError`` (and ``RateLimited`` with ``retry_after``): network down, 5xx, 429;
- ``AuthExpired``: credentials refused; the account needs sign-in, the queue is kept;
- ``PreconditionFailed``: the remote version moved (412, ETag mismatch, If-None-Match hit);
- ``SyncStateExpired``: the sync token is no longer valid; do a full listing;
- ``PermanentItemError``: this one item is refused for good (400, 403, 409 on one resource);
- ``NotFound``: the item is not there.
A provider never lets a foreign exception (httpx, niquests, lxml, caldav's own) escape.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from carecal.domain.errors import PreconditionFailed
from carecal.domain.models import Event, ProviderKind

_SAFE_UID = re.compile(r"^[A-Za-z0-9@._-]{1,120}$")


def resource_name(uid: str) -> str:
    """The resource name derived from a UID (so a create is idempotent): the UID itself when it
    is safe in a URL path, else its SHA-1. Any thread."""
    if _SAFE_UID.match(uid):
        return f"{uid}.ics"
    return hashlib.sha1(uid.encode("utf-8")).hexdigest() + ".ics"


class UidConflict(PreconditionFailed):
    """A create was refused because the calendar holds the same UID under another remote id
    (CalDAV's no-uid-conflict). A full pull brings that item in; it is never created twice."""


class Capability(enum.StrEnum):
    """What a provider can do beyond the basics."""

    INCREMENTAL = "incremental"  # pull() with a state returns only changes
    READ_ONLY = "read_only"  # nothing can be written (an ICS feed)


@dataclass(frozen=True, slots=True)
class RemoteCalendar:
    """A calendar as the remote names it. ``remote_id`` is stable (a URL for CalDAV)."""

    remote_id: str
    name: str
    color: str | None = None
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class RemoteRef:
    """Where an item lives remotely and which version we last saw (an ETag for CalDAV)."""

    remote_id: str
    version: str | None


@dataclass(frozen=True, slots=True)
class RemoteItem:
    """One item as the remote holds it: its reference, its UID and its raw representation
    (iCalendar text of a VCALENDAR with the item's VEVENTs for CalDAV and the memory provider)."""

    ref: RemoteRef
    uid: str
    raw: str


@dataclass(frozen=True, slots=True)
class PullResult:
    """What changed since the given state.

    ``complete`` is True when ``changed`` lists EVERY item of the calendar (a first sync, or a
    full listing after ``SyncStateExpired``): items the local mirror knows that are not listed
    were deleted remotely. ``state`` is the token to pass next time; persist it only after the
    changes are stored.

    ``follow_up`` is set only by ``StagedPull.pull_staged``: a second step, already under way,
    that gives what changed since these items were read, and the state (``state`` is then None).
    ``pull()`` never returns one (see ``settle``).
    """

    changed: list[RemoteItem] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # remote ids
    state: str | None = None
    complete: bool = False
    warnings: list[str] = field(default_factory=list)
    follow_up: Callable[[], Awaitable[PullResult]] | None = None


async def settle(result: PullResult) -> PullResult:
    """One result without a follow-up: the follow-up's changes laid over ``result``'s items.
    Coroutine (the caller's loop). Raises what the follow-up raises."""
    while result.follow_up is not None:
        more = await result.follow_up()
        by_id = {item.ref.remote_id: item for item in result.changed}
        for rid in more.deleted:
            by_id.pop(rid, None)
        for item in more.changed:
            by_id[item.ref.remote_id] = item
        gone = (set(result.deleted) | set(more.deleted)) - set(by_id)
        result = PullResult(
            changed=list(by_id.values()),
            deleted=sorted(gone),
            state=more.state,
            complete=result.complete or more.complete,
            warnings=[*result.warnings, *more.warnings],
            follow_up=more.follow_up,
        )
    return result


class Provider(Protocol):
    """A remote calendar system. See the module docstring for threads and errors."""

    kind: ProviderKind
    capabilities: frozenset[Capability]

    async def discover(self) -> list[RemoteCalendar]:
        """The calendars this account can mirror."""
        ...

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """Changes since ``state`` (None: everything, ``complete=True``).

        Raises SyncStateExpired when ``state`` is no longer valid.
        """
        ...

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        """One item as it is now. Raises NotFound."""
        ...

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        """Create an item; idempotent: the remote id is derived from ``uid``, so a retried create
        cannot make a second copy. Raises PreconditionFailed when the item exists already (the
        caller fetches it and decides)."""
        ...

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        """Replace an item if its version is still ``ref.version``. Raises PreconditionFailed,
        NotFound."""
        ...

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        """Delete an item if its version is still ``ref.version``; an item already gone counts
        as deleted. Raises PreconditionFailed."""
        ...

    def to_events(self, item: RemoteItem, calendar_id: str) -> list[Event]:
        """The item as domain events (master first, then overrides), with ``raw`` set to each
        component's own text so local edits can be patched onto it. Any thread.
        Raises IcsError (or the provider's equivalent CarecalError) for an unreadable item."""
        ...

    def to_raw(self, events: Sequence[Event]) -> str:
        """The item's representation for writing, built losslessly from the events' ``raw``.
        Any thread."""
        ...


@runtime_checkable
class StagedPull(Protocol):
    """A provider whose complete pull can hand over its items before the calendar's state, so
    the engine stores them while the state is still being read (CalDAV: see
    ``CalDAVProvider.pull_staged``)."""

    async def pull_staged(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """As ``Provider.pull``, except that a complete pull may return its items with
        ``state=None`` and a ``follow_up`` that gives the changes since and the state. The
        caller stores the items, then awaits the follow-up and stores what it gives."""
        ...
