"""The Outlook / Microsoft 365 provider (Microsoft Graph v1.0 calendar API).

Items are Outlook series (a master plus its exceptions, and the occurrences deleted in the
sync window) or single events; ``RemoteItem.raw`` holds Graph's resources as sent (see
providers/outlook_map.py), ``RemoteRef.remote_id`` is the master's immutable id and
``RemoteRef.version`` the @odata.etag of every component ({id: etag}, JSON). Pulls walk a
calendarView/delta round over a sliding window (outlook_reads.py); writes PATCH only what
differs from Outlook's copy, with If-Match (outlook_writes.py); outlook_api.py has
authorization, the Prefer headers, retries, $batch and Graph's errors; outlook_body.py the
fields Carecal writes for each privacy level (the same levels as Google's).

Threads: every coroutine runs on the sync worker's event loop; ``to_events``, ``to_raw`` and
``unmask`` on any thread (CPU only). Errors: only the domain's (providers/base.py); tokens and
patient data are never logged.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from carecal.domain.models import Event, ProviderKind
from carecal.net.jsonapi import Transport
from carecal.providers.base import Capability, PullResult, RemoteCalendar, RemoteItem, RemoteRef
from carecal.providers.outlook_api import DEFAULT_API, OutlookApi, OutlookAuth
from carecal.providers.outlook_body import render_body, write_zone
from carecal.providers.outlook_map import (
    Labels,
    MalformedEvent,
    Privacy,
    item_events,
    item_parts,
    stored_resource,
    unmask,
)
from carecal.providers.outlook_reads import OutlookReads, Window
from carecal.providers.outlook_recur import Unexpressible
from carecal.providers.outlook_writes import OutlookWrites, payload, when_text

__all__ = ["DEFAULT_API", "Labels", "OutlookAuth", "OutlookProvider", "Privacy", "Window"]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _now() -> datetime:
    return datetime.now(UTC)


class OutlookProvider:
    """One Microsoft account. Nothing touches the network until a coroutine is awaited;
    ``close`` closes the HTTP client. ``privacy`` and ``labels`` decide what Outlook sees of
    appointments; ``window`` is the sliding window mirrored (90 days back, 18 months ahead);
    ``transport`` replaces the network, ``sleep``/``rng`` the backoff's waiting and jitter and
    ``clock`` the time the window follows (tests)."""

    kind = ProviderKind.OUTLOOK
    capabilities = frozenset({Capability.INCREMENTAL})

    def __init__(
        self,
        auth: OutlookAuth,
        *,
        api_base: str = DEFAULT_API,
        privacy: Privacy = Privacy.INITIALS,
        labels: Labels | None = None,
        window: Window | None = None,
        transport: Transport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.privacy = Privacy(privacy)
        self.labels = labels or Labels()
        self._auth = auth
        self._api = OutlookApi(auth, api_base=api_base, transport=transport, sleep=sleep, rng=rng)
        self._reads = OutlookReads(self._api, window or Window(), clock)
        self._writes = OutlookWrites(self._api, self._reads, self.privacy, self.labels, clock)

    @property
    def requests(self) -> list[str]:
        """Every HTTP request sent so far, as "METHOD /path" (tests and diagnostics)."""
        return self._api.requests

    @property
    def waits(self) -> list[float]:
        """Every in-place wait for a rate limit, in seconds (tests and diagnostics)."""
        return self._api.waits

    async def close(self) -> None:
        """Close the HTTP client (and the sign-in's, when it has one). Raises nothing."""
        await self._api.aclose()
        closer = getattr(self._auth, "close", None)
        if callable(closer):
            closer()

    # --- the protocol: coroutines on the sync worker's loop -----------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The mailbox's calendars. Raises AuthExpired, RateLimited, TransientError,
        PermanentItemError."""
        return await self._reads.discover()

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """Everything (``state`` None, or the window slid; ``complete``) or the changes since
        ``state``. Raises SyncStateExpired, AuthExpired, RateLimited, TransientError."""
        return await self._reads.pull(calendar, state)

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        """The item whose master is ``remote_id``. Raises NotFound, AuthExpired, RateLimited,
        TransientError."""
        return await self._reads.get(calendar, remote_id)

    async def find(self, calendar: RemoteCalendar, uid: str) -> RemoteItem | None:
        """The item holding ``uid``, or None. Raises AuthExpired, RateLimited,
        TransientError."""
        return await self._reads.find(calendar, uid)

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        """Create the item (idempotent through transactionId). Raises PreconditionFailed
        (UidConflict included), PermanentItemError (Unexpressible: a repeat Graph cannot
        hold), AuthExpired, RateLimited, TransientError."""
        return await self._writes.create(calendar, uid, raw)

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        """PATCH what changed, with If-Match. Raises PreconditionFailed, NotFound,
        PermanentItemError, AuthExpired, RateLimited, TransientError."""
        return await self._writes.update(calendar, ref, raw)

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        """Delete the item (already gone counts as done). Raises PreconditionFailed,
        PermanentItemError, AuthExpired, RateLimited, TransientError."""
        await self._writes.delete(calendar, ref)

    # --- representation: any thread, CPU only ------------------------------------------------

    def to_events(self, item: RemoteItem, calendar_id: str) -> list[Event]:
        """The item as domain events, master first. Raises MalformedEvent."""
        source = f"Outlook event {item.ref.remote_id[:24]}"
        resources, removed = item_parts(item.raw, source)
        try:
            return item_events(resources, removed, calendar_id)
        except MalformedEvent:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
            raise MalformedEvent(f"{source}: Outlook sent an event Carecal cannot read") from None

    def to_raw(self, events: Sequence[Event]) -> str:
        """The payload create/update write: per event (master first) its local id, recurrence
        id, the resource it was read from, its body for this account's privacy level (or why
        Outlook cannot hold it) and, for the master, its exdates. Raises nothing."""
        entries: list[dict[str, Any]] = []
        for event in events:
            stored = stored_resource(event)
            entry: dict[str, Any] = {
                "localId": event.id,
                "recurrenceId": _iso(event.recurrence_id),
                "stored": stored,
            }
            try:
                entry["body"] = render_body(event, stored, self.privacy, self.labels)
            except Unexpressible as exc:
                entry["body"] = None
                entry["error"] = str(exc)
            if event.recurrence_id is None and event.exdates:
                zone, _ = write_zone(event, stored)
                entry["exdates"] = sorted({when_text(x, zone) for x in event.exdates})
            entries.append(entry)
        return payload(entries)

    def unmask(self, remote: list[Event], local: list[Event]) -> list[Event]:
        """Remote events with what the privacy level kept from Outlook put back from the local
        events (see outlook_map.unmask). Raises nothing."""
        return unmask(remote, local)
