"""The Google Calendar provider (Calendar API v3).

Items are Google series (a master plus its exceptions, cancelled ones included) or single
events; ``RemoteItem.raw`` holds their resources as Google sent them, ``RemoteRef.remote_id`` is
the master's id and ``RemoteRef.version`` the etag of every component ({id: etag}, JSON). See
providers/google_map.py for the mapping and the privacy levels, providers/google_api.py for
authorization, retries and Google's errors.

Reads: a first pull lists the calendar (singleEvents=false, showDeleted=true, 2500 a page) to the
end and keeps the nextSyncToken of the last page; later pulls pass it back and get only changes:
changed single events come as they are (ten changes cost one request), and a series touched in
any way is fetched whole (its master, then a listing by iCalUID) so an item is never partial.
Writes: creates insert the master under an id derived from its local id (a retried create gets
409 instead of a second copy), then turn occurrences into exceptions by PATCHing the instance
that events.instances names for their original start (instance ids are never built or parsed:
their format changes). Updates PATCH only the components, and of them only the fields, Carecal
changed, each with If-Match on its etag, so whatever else another app keeps on the event stays.
Every write says sendUpdates=none: Carecal never mails anyone; patients are never attendees.

Threads: every coroutine runs on the sync worker's event loop; ``to_events``, ``to_raw`` and
``unmask`` on any thread (CPU only). Errors: only the domain's (providers/base.py); tokens and
patient data are never logged.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from carecal.domain.errors import (
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    SyncStateExpired,
    TransientError,
)
from carecal.domain.models import Event, ProviderKind
from carecal.net.errors import HttpDetail
from carecal.net.jsonapi import Transport
from carecal.providers.base import (
    Capability,
    PullResult,
    RemoteCalendar,
    RemoteItem,
    RemoteRef,
    UidConflict,
)
from carecal.providers.google_api import DEFAULT_API, GoogleApi, GoogleAuth, path
from carecal.providers.google_map import (
    P_UID,
    Labels,
    MalformedEvent,
    Privacy,
    google_id,
    is_cancelled,
    item_events,
    item_resources,
    item_text,
    item_uid,
    parse_version,
    patch_for,
    render_body,
    resource_event,
    stored_resource,
    version_json,
    version_text,
)
from carecal.providers.google_map import unmask as unmask_events

__all__ = ["DEFAULT_API", "GoogleAuth", "GoogleProvider", "Labels", "Privacy"]

STATE_PREFIX = "google:"  # a saved state without it is not ours: the engine lists again
PAGE_SIZE = "2500"  # Google's maximum
MAX_PAGES = 2000  # 5 million events at 2500 a page; Google's empty pages count too
WRITE = {"sendUpdates": "none"}  # Carecal never sends invitation or update mail


@dataclass(frozen=True)
class _Entry:
    """One event of a to_raw payload."""

    local_id: str
    recurrence_id: str | None
    stored: dict[str, Any] | None
    body: dict[str, Any]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _payload(raw: str) -> list[_Entry]:
    """The entries of a to_raw payload, master first. Raises PermanentItemError."""
    try:
        data = json.loads(raw)
        entries = [
            _Entry(
                local_id=str(e["localId"]),
                recurrence_id=e.get("recurrenceId"),
                stored=e.get("stored") if isinstance(e.get("stored"), dict) else None,
                body=dict(e["body"]),
            )
            for e in data["events"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise PermanentItemError("the item is not in Carecal's Google form") from None
    if not entries or entries[0].recurrence_id is not None:
        raise PermanentItemError("the item has no master event to write to Google")
    return entries


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

    @property
    def requests(self) -> list[str]:
        """Every HTTP request sent so far, as "METHOD /path" (tests and diagnostics)."""
        return self._api.requests

    async def close(self) -> None:
        """Close the HTTP client. Raises nothing."""
        await self._api.aclose()

    # --- calendars ----------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The calendars of the account's calendar list (calendarList.list, paged): name is the
        user's own name for it when set, read-only unless the account may write events.
        Raises AuthExpired, RateLimited, TransientError, PermanentItemError."""
        found: list[RemoteCalendar] = []
        page: str | None = None
        for _ in range(MAX_PAGES):
            params = {"maxResults": "250", **({"pageToken": page} if page else {})}
            data = await self._call("GET", "/users/me/calendarList", "the calendar list", params)
            for entry in data.get("items") or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    continue
                if entry.get("deleted") is True:
                    continue
                name = entry.get("summaryOverride") or entry.get("summary") or entry["id"]
                color = entry.get("backgroundColor")
                found.append(
                    RemoteCalendar(
                        remote_id=entry["id"],
                        name=str(name),
                        color=color if isinstance(color, str) else None,
                        read_only=entry.get("accessRole") not in ("owner", "writer"),
                    )
                )
            page = _text(data.get("nextPageToken"))
            if not page:
                return found
        raise TransientError("Google's calendar list did not end; will try again")

    # --- reading ------------------------------------------------------------------------------

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """Everything (``state`` None; ``complete``) or the changes since ``state``. Raises
        SyncStateExpired (Google wants a full sync, or the state is not one of ours),
        AuthExpired, RateLimited, TransientError."""
        if state is None:
            return await self._pull_all(calendar)
        if not state.startswith(STATE_PREFIX) or len(state) == len(STATE_PREFIX):
            raise SyncStateExpired("the saved sync state is not a Google one")
        return await self._pull_changes(calendar, state[len(STATE_PREFIX) :])

    async def _pull_all(self, calendar: RemoteCalendar) -> PullResult:
        warnings: list[str] = []
        resources, token = await self._list(calendar, {}, "the event list", warnings)
        items = _group(resources)
        if token is None:
            warnings.append("Google sent no sync token; the next sync lists everything again")
        return PullResult(
            changed=[_item(r) for r in items],
            state=STATE_PREFIX + token if token else None,
            complete=True,
            warnings=warnings,
        )

    async def _pull_changes(self, calendar: RemoteCalendar, token: str) -> PullResult:
        warnings: list[str] = []
        try:
            resources, new_token = await self._list(
                calendar, {"syncToken": token}, "the change list", warnings
            )
        except NotFound as exc:  # 410 fullSyncRequired (or a calendar gone)
            if isinstance(exc, HttpDetail) and exc.status == 410:
                raise SyncStateExpired("Google asks for a full sync") from None
            raise
        except PermanentItemError as exc:
            if isinstance(exc, HttpDetail) and exc.status == 400:
                raise SyncStateExpired("Google refused the saved sync token") from None
            raise
        changed: dict[str, RemoteItem] = {}
        deleted: list[str] = []
        series: dict[str, dict[str, Any] | None] = {}
        for resource in resources:
            rid = resource["id"]
            parent = _text(resource.get("recurringEventId"))
            if parent:
                series.setdefault(parent, None)
            elif is_cancelled(resource):
                deleted.append(rid)
            elif resource.get("recurrence"):
                series[rid] = resource
            else:
                changed[rid] = _item([resource])
        for master_id, master in series.items():
            if master_id in deleted:
                continue
            whole = await self._series(calendar, master_id, master, warnings)
            if whole is None:
                deleted.append(master_id)
            else:
                changed[master_id] = _item(whole)
        gone = [d for d in dict.fromkeys(deleted) if d not in changed]
        state = STATE_PREFIX + new_token if new_token else STATE_PREFIX + token
        return PullResult(
            changed=list(changed.values()), deleted=gone, state=state, warnings=warnings
        )

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        """The item whose master is ``remote_id``. Raises NotFound (absent or cancelled),
        AuthExpired, RateLimited, TransientError."""
        whole = await self._series(calendar, remote_id, None, [])
        if whole is None:
            raise NotFound(f"event {remote_id} is not on Google")
        return _item(whole)

    async def find(self, calendar: RemoteCalendar, uid: str) -> RemoteItem | None:
        """The live item holding ``uid``: one Carecal wrote (private carecalUid), else one with
        that iCalUID (written by another app), else None. Raises AuthExpired, RateLimited,
        TransientError."""
        for params in ({"privateExtendedProperty": f"{P_UID}={uid}"}, {"iCalUID": uid}):
            found, _ = await self._list(calendar, params, "the search by UID", [])
            masters: list[str] = []
            for resource in found:
                if is_cancelled(resource):
                    continue
                master_id = _text(resource.get("recurringEventId")) or resource["id"]
                if master_id not in masters:
                    masters.append(master_id)
            for master_id in masters:
                whole = await self._series(calendar, master_id, None, [])
                if whole is not None:
                    return _item(whole)
        return None

    async def _series(
        self,
        calendar: RemoteCalendar,
        master_id: str,
        master: dict[str, Any] | None,
        warnings: list[str],
    ) -> list[dict[str, Any]] | None:
        """The live item of ``master_id`` (master, then its exceptions), or None when it is
        deleted or absent. ``master``: the master as just listed, saving a GET."""
        if master is None:
            try:
                master = await self._call(
                    "GET", _event_path(calendar, master_id), f"event {master_id}"
                )
            except NotFound:
                return None
            if not isinstance(master.get("id"), str):
                raise TransientError(f"event {master_id}: Google's answer had no id")
        if is_cancelled(master) or master.get("recurringEventId"):
            return None
        ical_uid = _text(master.get("iCalUID"))
        if not master.get("recurrence") or not ical_uid:
            return [master]
        listed, _ = await self._list(
            calendar, {"iCalUID": ical_uid}, f"the occurrences of event {master_id}", warnings
        )
        exceptions = {r["id"]: r for r in listed if r.get("recurringEventId") == master_id}
        return [master, *exceptions.values()]

    async def _list(
        self,
        calendar: RemoteCalendar,
        extra: dict[str, str],
        what: str,
        warnings: list[str],
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every resource of an events.list query, paged to the end (pages may be empty and
        still go on), and the nextSyncToken of the last page."""
        params = {"singleEvents": "false", "showDeleted": "true", "maxResults": PAGE_SIZE, **extra}
        out: list[dict[str, Any]] = []
        events_path = path("calendars", calendar.remote_id, "events")
        for _ in range(MAX_PAGES):
            data = await self._call("GET", events_path, what, params)
            items = data.get("items")
            for resource in items if isinstance(items, list) else []:
                if isinstance(resource, dict) and isinstance(resource.get("id"), str):
                    out.append(resource)
                else:
                    warnings.append("Google listed an entry without an id; it was skipped")
            page = _text(data.get("nextPageToken"))
            if not page:
                return out, _text(data.get("nextSyncToken")) or None
            params = {**params, "pageToken": page}
        raise TransientError(f"{what}: Google's pages did not end; will try again")

    # --- writing ------------------------------------------------------------------------------

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        """Insert the item (``raw`` from ``to_raw``): the master under the id derived from its
        local id, then one PATCH per exception. Raises PreconditionFailed when the calendar
        holds the item already (409: an earlier create whose answer was lost; or the UID under
        another id: UidConflict), PermanentItemError (refused), AuthExpired, RateLimited,
        TransientError."""
        entries = _payload(raw)
        master = entries[0]
        gid = google_id(master.local_id)
        # A UID Carecal did not mint from this very local id may already be on Google under
        # another id (the same file imported on two computers, another app's copy): adopt that
        # one instead of making a second. Minted UIDs cannot be elsewhere: the 409 covers them.
        if uid != f"{master.local_id}@carecal" and await self.find(calendar, uid) is not None:
            raise UidConflict(f"an item with UID {uid[:60]!r} is on Google already")
        body = {**master.body, "id": gid}
        events_path = path("calendars", calendar.remote_id, "events")
        try:
            created = await self._call("POST", events_path, "the new event", WRITE, body)
        except PreconditionFailed as exc:
            created = await self._revive(calendar, gid, master.body, exc)
        created_id, etag = _written(created, "the new event")
        versions = {created_id: etag}
        for entry in entries[1:]:
            exception = await self._new_exception(calendar, gid, entry)
            eid, etag = _written(exception, f"an occurrence of event {gid}")
            versions[eid] = etag
        return RemoteRef(created_id, version_json(versions))

    async def _revive(
        self, calendar: RemoteCalendar, gid: str, body: dict[str, Any], refused: PreconditionFailed
    ) -> dict[str, Any]:
        """After a 409: a live event under ``gid`` is the item itself (``refused`` is raised:
        the caller adopts it); a deleted one is this local event deleted earlier and now back
        (an undo), so it is brought back to life with the new content."""
        current = await self._call("GET", _event_path(calendar, gid), f"event {gid}")
        if not is_cancelled(current):
            raise refused
        return await self._call(
            "PATCH",
            _event_path(calendar, gid),
            f"event {gid}",
            WRITE,
            patch_for(body, None),
            if_match=_text(current.get("etag")) or None,
        )

    async def _new_exception(
        self, calendar: RemoteCalendar, master_id: str, entry: _Entry
    ) -> dict[str, Any]:
        """Make the occurrence ``entry.recurrence_id`` of ``master_id`` an exception with
        ``entry.body``: events.instances names the instance, a PATCH changes it."""
        listed = await self._call(
            "GET",
            _event_path(calendar, master_id) + "/instances",
            f"the occurrences of event {master_id}",
            {"originalStart": str(entry.recurrence_id), "showDeleted": "true", "maxResults": "5"},
        )
        items = [i for i in listed.get("items") or [] if isinstance(i, dict) and _text(i.get("id"))]
        if not items:
            raise PermanentItemError(
                f"event {master_id}: the changed occurrence {entry.recurrence_id} is not one "
                "of the series on Google"
            )
        instance = items[0]
        return await self._call(
            "PATCH",
            _event_path(calendar, instance["id"]),
            f"event {master_id}",
            WRITE,
            patch_for(entry.body, None),
            if_match=_text(instance.get("etag")) or None,
        )

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        """PATCH the components that changed (the fields that changed), each with If-Match on
        its etag from ``ref.version``; add new exceptions; cancel exceptions Carecal dropped
        with the occurrences it removed. Raises PreconditionFailed (412: changed on Google),
        NotFound (the master is deleted), PermanentItemError, AuthExpired, RateLimited,
        TransientError."""
        entries = _payload(raw)
        versions = parse_version(ref.version, ref.remote_id)
        master_id = ref.remote_id
        master = entries[0]
        changes = patch_for(master.body, self._stored_body(master))
        if changes:
            patched = await self._patch(calendar, master_id, changes, versions, master=True)
            versions[master_id] = _written(patched, f"event {master_id}")[1]
        known = {master_id} | {e.stored["id"] for e in entries[1:] if e.stored is not None}
        dropped = [i for i in versions if i not in known]
        if dropped and "recurrence" in changes:
            await self._cancel_dropped(calendar, master_id, master, dropped, versions)
        for entry in entries[1:]:
            if entry.stored is None:
                exception = await self._new_exception(calendar, master_id, entry)
                eid, etag = _written(exception, f"an occurrence of event {master_id}")
                versions[eid] = etag
                continue
            changes = patch_for(entry.body, self._stored_body(entry))
            if changes:
                eid = entry.stored["id"]
                patched = await self._patch(calendar, eid, changes, versions, master=False)
                versions[eid] = _written(patched, f"event {eid}")[1]
        return RemoteRef(master_id, version_json(versions))

    def _stored_body(self, entry: _Entry) -> dict[str, Any] | None:
        """What Carecal would write for the resource as it was read: the base that a body is
        compared with, field by field, so only real changes are sent. None (send everything)
        for no resource or one that cannot be read. The base carries the entry's own local id
        and UID: Carecal's ids alone never cause a write (an event made on Google, or an
        exception that copied its master's ids, gets them when something else changes)."""
        stored = entry.stored
        if stored is None:
            return None
        private = entry.body.get("extendedProperties", {}).get("private", {})
        try:
            event = resource_event(
                stored,
                calendar_id="",
                uid=_text(private.get(P_UID) if isinstance(private, dict) else None),
                event_id=entry.local_id,
            )
        except MalformedEvent:
            return None
        if stored.get("recurringEventId"):
            event = event.with_changes(recurrence_id=event.start)
        return render_body(event, stored, self.privacy, self.labels)

    async def _patch(
        self,
        calendar: RemoteCalendar,
        event_id: str,
        changes: dict[str, Any],
        versions: dict[str, str],
        *,
        master: bool,
    ) -> dict[str, Any]:
        etag = versions.get(event_id)
        if not etag:
            # Never an unconditional write: without a known version the engine re-reads the
            # item and merges first.
            raise PreconditionFailed(f"event {event_id}: no version of it is known")
        try:
            return await self._call(
                "PATCH",
                _event_path(calendar, event_id),
                f"event {event_id}",
                WRITE,
                changes,
                if_match=etag,
            )
        except NotFound:
            if master:
                raise
            # An exception gone under a live master: the item moved on Google; the engine
            # fetches it and merges.
            raise PreconditionFailed(f"event {event_id} changed on Google") from None

    async def _cancel_dropped(
        self,
        calendar: RemoteCalendar,
        master_id: str,
        master: _Entry,
        dropped: list[str],
        versions: dict[str, str],
    ) -> None:
        """Exceptions Carecal no longer has while it changed the series' dates (an occurrence
        removed, the series ended earlier) are cancelled on Google too, so the moved
        occurrence does not linger there. Cancelled ones only get their etags refreshed."""
        ical_uid = _text((master.stored or {}).get("iCalUID"))
        if not ical_uid:
            return
        listed, _ = await self._list(
            calendar, {"iCalUID": ical_uid}, f"the occurrences of event {master_id}", []
        )
        for resource in listed:
            eid = resource["id"]
            if eid not in dropped or resource.get("recurringEventId") != master_id:
                continue
            if is_cancelled(resource):
                versions[eid] = _text(resource.get("etag"))
                continue
            await self._call(
                "DELETE",
                _event_path(calendar, eid),
                f"event {eid}",
                WRITE,
                if_match=versions.get(eid) or None,
            )
            gone = await self._call("GET", _event_path(calendar, eid), f"event {eid}")
            versions[eid] = _written(gone, f"event {eid}")[1]

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        """DELETE the master (its exceptions go with it) with If-Match on its etag. Already
        deleted or absent counts as done. Raises PreconditionFailed (changed on Google),
        AuthExpired, RateLimited, TransientError, PermanentItemError."""
        etag = parse_version(ref.version, ref.remote_id).get(ref.remote_id)
        event_path = _event_path(calendar, ref.remote_id)
        what = f"event {ref.remote_id}"
        try:
            await self._call("DELETE", event_path, what, WRITE, if_match=etag or None)
        except NotFound:
            return  # 404, or 410 "deleted": the wanted end state
        except PreconditionFailed:
            # Google may check the etag before noticing the event is deleted already.
            try:
                current = await self._call("GET", event_path, what)
            except NotFound:
                return
            if is_cancelled(current):
                return
            raise

    # --- representation -----------------------------------------------------------------------

    def to_events(self, item: RemoteItem, calendar_id: str) -> list[Event]:
        """The item as domain events, master first (see google_map.item_events). Any thread.
        Raises MalformedEvent (a PermanentItemError) for an item Carecal cannot read."""
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
        Any thread; raises nothing."""
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
        return json.dumps({"events": entries}, separators=(",", ":"), ensure_ascii=False)

    def unmask(self, remote: list[Event], local: list[Event]) -> list[Event]:
        """Remote events with the details the privacy level kept from Google put back from
        the local events (see google_map.unmask). Any thread; raises nothing."""
        return unmask_events(remote, local)

    # --- plumbing -----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url_path: str,
        what: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        *,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """The answer's JSON object ({} for an empty one). Raises CarecalError only."""
        data = await self._api.call(
            method, url_path, what=what, params=params, body=body, if_match=if_match
        )
        return data or {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _written(resource: dict[str, Any], what: str) -> tuple[str, str]:
    """(id, etag) of the event Google answered a write with. Raises TransientError when they
    are missing: the write may have happened, and the engine's retry finds out (412, then a
    merge that recognises its own version)."""
    eid, etag = _text(resource.get("id")), _text(resource.get("etag"))
    if not eid or not etag:
        raise TransientError(f"{what}: Google's answer to a change had no id or etag")
    return eid, etag


def _event_path(calendar: RemoteCalendar, event_id: str) -> str:
    return path("calendars", calendar.remote_id, "events", event_id)


def _group(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The live items (master or single, then its exceptions) of a full listing. Deleted ones
    and the exceptions of a master that is not listed live are left out."""
    masters: dict[str, dict[str, Any]] = {}
    exceptions: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in resources:
        parent = _text(resource.get("recurringEventId"))
        if parent:
            exceptions.setdefault(parent, {})[resource["id"]] = resource
        else:
            masters[resource["id"]] = resource
    return [
        [master, *exceptions.get(master_id, {}).values()]
        for master_id, master in masters.items()
        if not is_cancelled(master)
    ]


def _item(resources: list[dict[str, Any]]) -> RemoteItem:
    master = resources[0]
    return RemoteItem(
        RemoteRef(master["id"], version_text(resources)), item_uid(master), item_text(resources)
    )
