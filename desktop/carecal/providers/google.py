"""The Google Calendar provider (Calendar API v3).

Items are Google series (a master plus its exceptions, cancelled ones included) or single
events; ``RemoteItem.raw`` holds their resources as Google sent them, ``RemoteRef.remote_id`` is
the master's id and ``RemoteRef.version`` the etag of every component ({id: etag}, JSON). See
providers/google_map.py (reading) and google_body.py (writing) for the mapping and the privacy
levels, google_reads.py and google_writes.py for what is sent when, google_api.py for
authorization, retries and Google's errors.

``to_raw`` gives, per event (master first), its local id, recurrence id, the resource it was
read from and its *body* (the fields Carecal models, for this account's privacy level). Writes
PATCH only the fields that differ from Google's copy, so whatever another app keeps on an event
stays; patients are never attendees and no mail is ever sent.

Threads: every coroutine runs on the sync worker's event loop; ``to_events``, ``to_raw`` and
``unmask`` on any thread (CPU only). Errors: only the domain's (providers/base.py); tokens and
patient data are never logged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

from carecal.domain.models import Event, ProviderKind
from carecal.net.jsonapi import Transport
from carecal.providers.base import Capability, PullResult, RemoteCalendar, RemoteItem, RemoteRef
from carecal.providers.google_api import DEFAULT_API, GoogleApi, GoogleAuth
from carecal.providers.google_body import render_body
from carecal.providers.google_map import (
    Labels,
    MalformedEvent,
    Privacy,
    item_events,
    item_resources,
    stored_resource,
    unmask,
)
from carecal.providers.google_reads import GoogleReads
from carecal.providers.google_writes import GoogleWrites, payload

__all__ = ["DEFAULT_API", "GoogleAuth", "GoogleProvider", "Labels", "Privacy"]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class GoogleProvider:
    """One Google account. Nothing touches the network until a coroutine is awaited; ``close``
    closes the HTTP client. ``privacy`` and ``labels`` decide what Google sees of appointments
    (providers/google_map.py); ``transport`` replaces the network and ``sleep``/``rng`` the
    backoff's waiting and jitter (tests)."""

    kind = ProviderKind.GOOGLE
    capabilities = frozenset({Capability.INCREMENTAL})

    def __init__(
        self,
        auth: GoogleAuth,
        *,
        api_base: str = DEFAULT_API,
        privacy: Privacy = Privacy.INITIALS,
        labels: Labels | None = None,
        transport: Transport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.privacy = Privacy(privacy)
        self.labels = labels or Labels()
        self._api = GoogleApi(auth, api_base=api_base, transport=transport, sleep=sleep, rng=rng)
        self._reads = GoogleReads(self._api)
        self._writes = GoogleWrites(self._api, self._reads, self.privacy, self.labels)

    @property
    def requests(self) -> list[str]:
        """Every HTTP request sent so far, as "METHOD /path" (tests and diagnostics)."""
        return self._api.requests

    async def close(self) -> None:
        """Close the HTTP client. Raises nothing."""
        await self._api.aclose()

    # --- the protocol: coroutines on the sync worker's loop -----------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The account's calendar list: the user's own name for each calendar when set,
        read-only unless the account may write events. Raises AuthExpired, RateLimited,
        TransientError, PermanentItemError."""
        return await self._reads.discover()

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """Everything (``state`` None; ``complete``) or the changes since ``state``. Raises
        SyncStateExpired (Google wants a full sync, or the state is not one of ours),
        AuthExpired, RateLimited, TransientError."""
        return await self._reads.pull(calendar, state)

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        """The item whose master is ``remote_id``. Raises NotFound (absent or deleted),
        AuthExpired, RateLimited, TransientError."""
        return await self._reads.get(calendar, remote_id)

    async def find(self, calendar: RemoteCalendar, uid: str) -> RemoteItem | None:
        """The live item holding ``uid`` (Carecal's private carecalUid, else Google's iCalUID),
        or None. Raises AuthExpired, RateLimited, TransientError."""
        return await self._reads.find(calendar, uid)

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        """Insert the item; a retried create gets PreconditionFailed (409), never a second copy.
        Raises PreconditionFailed (UidConflict: the UID is there under another id),
        PermanentItemError, AuthExpired, RateLimited, TransientError."""
        return await self._writes.create(calendar, uid, raw)

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        """PATCH what changed, with If-Match on every component written. Raises
        PreconditionFailed, NotFound (the master is deleted), PermanentItemError, AuthExpired,
        RateLimited, TransientError."""
        return await self._writes.update(calendar, ref, raw)

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        """Delete the item (already deleted counts as done). Raises PreconditionFailed,
        PermanentItemError, AuthExpired, RateLimited, TransientError."""
        await self._writes.delete(calendar, ref)

    # --- representation: any thread, CPU only ------------------------------------------------

    def to_events(self, item: RemoteItem, calendar_id: str) -> list[Event]:
        """The item as domain events, master first (see google_map.item_events). Raises
        MalformedEvent (a PermanentItemError) for an item Carecal cannot read."""
        resources = item_resources(item.raw, f"event {item.ref.remote_id}")
        try:
            return item_events(resources, calendar_id)
        except MalformedEvent:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            raise MalformedEvent(
                f"event {item.ref.remote_id}: Google sent an event Carecal cannot read"
            ) from None

    def to_raw(self, events: Sequence[Event]) -> str:
        """The payload create/update write: per event (master first) its local id, recurrence
        id, the resource it was read from and the body for this account's privacy level.
        Raises nothing."""
        entries = []
        for event in events:
            stored = stored_resource(event)
            entries.append(
                {
                    "localId": event.id,
                    "recurrenceId": _iso(event.recurrence_id),
                    "stored": stored,
                    "body": render_body(event, stored, self.privacy, self.labels),
                }
            )
        return payload(entries)

    def unmask(self, remote: list[Event], local: list[Event]) -> list[Event]:
        """Remote events with the details the privacy level kept from Google put back from
        the local events (see google_map.unmask). Raises nothing."""
        return unmask(remote, local)
