"""Writing to a Google calendar: create, update and delete one item (see providers/google.py
and google_map.py for the representation).

- create: the master is inserted under the id derived from its local id (google_map.google_id),
  so a retried create gets 409 instead of making a second copy; a UID Carecal did not mint from
  that local id is looked up first (the same file imported on two computers, another app's
  copy). Occurrences become exceptions by PATCHing the instance events.instances names for
  their original start: instance ids are never built or parsed (their format changes).
- update: reads the item as Google holds it now (the event's own ``raw`` may be stale after
  Carecal's earlier writes, or replaced by a local edit), fits each body onto its resource and
  PATCHes only the fields that differ (google_body.changes: a new privacy level or new labels
  count as a difference), each component with If-Match on the etag Carecal agreed on. A
  component that moved on Google since then refuses the whole update before anything is
  written (PreconditionFailed: the engine merges). Exceptions Carecal dropped (an occurrence
  removed, the series ended earlier) are cancelled on Google too.
- delete: the master with If-Match; already deleted counts as done.
Every write says sendUpdates=none: Carecal never mails anyone.

Coroutines run on the sync worker's event loop; errors are the domain's (google_api.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from carecal.domain.errors import (
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    TransientError,
)
from carecal.domain.models import Event
from carecal.providers.base import RemoteCalendar, RemoteRef, UidConflict
from carecal.providers.google_api import GoogleApi, path
from carecal.providers.google_body import changes, patch_for, render_body, with_context
from carecal.providers.google_map import (
    P_UID,
    Labels,
    MalformedEvent,
    Privacy,
    google_id,
    is_cancelled,
    item_events,
    original_key,
    parse_version,
    resource_event,
    sort_key,
    version_json,
)
from carecal.providers.google_reads import GoogleReads, event_path, text

WRITE = {"sendUpdates": "none"}  # Carecal never sends invitation or update mail
Key = tuple[int, str] | None  # a component's recurrence identity; None for the master


@dataclass(frozen=True)
class Entry:
    """One event of a to_raw payload: its local id, recurrence id (ISO), the resource it was
    read from (if any) and its body."""

    local_id: str
    recurrence_id: str | None
    stored: dict[str, Any] | None
    body: dict[str, Any]

    @property
    def key(self) -> Key:
        if self.recurrence_id is None:
            return None
        text = self.recurrence_id
        value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        return sort_key(value)

    @property
    def uid(self) -> str:
        private = self.body.get("extendedProperties", {}).get("private", {})
        return text(private.get(P_UID)) if isinstance(private, dict) else ""


def payload(events: list[dict[str, Any]]) -> str:
    return json.dumps({"events": events}, separators=(",", ":"), ensure_ascii=False)


def parse_payload(raw: str) -> list[Entry]:
    """The entries of a to_raw payload, master first. Raises PermanentItemError."""
    try:
        data = json.loads(raw)
        entries = [
            Entry(
                local_id=str(e["localId"]),
                recurrence_id=e.get("recurrenceId"),
                stored=e.get("stored") if isinstance(e.get("stored"), dict) else None,
                body=dict(e["body"]),
            )
            for e in data["events"]
        ]
        for entry in entries:
            _ = entry.key  # an unreadable recurrence id fails here, before any write
    except (ValueError, TypeError, KeyError, AttributeError):
        raise PermanentItemError("the item is not in Carecal's Google form") from None
    if not entries or entries[0].recurrence_id is not None:
        raise PermanentItemError("the item has no master event to write to Google")
    return entries


def written(resource: dict[str, Any], what: str) -> tuple[str, str]:
    """(id, etag) of the event Google answered a write with. Raises TransientError when they
    are missing: the write may have happened, and the engine's retry finds out (412, then a
    merge that recognises its own version)."""
    eid, etag = text(resource.get("id")), text(resource.get("etag"))
    if not eid or not etag:
        raise TransientError(f"{what}: Google's answer to a change had no id or etag")
    return eid, etag


@dataclass
class _Plan:
    """What one update will send."""

    patches: list[tuple[str, dict[str, Any]]]  # (event id, fields)
    new: list[Entry]  # occurrences that become exceptions
    drops: list[str]  # exceptions to cancel


class GoogleWrites:
    """The write side of one account; see the module docstring."""

    def __init__(self, api: GoogleApi, reads: GoogleReads, privacy: Privacy, labels: Labels):
        self.api = api
        self.reads = reads
        self.privacy = privacy
        self.labels = labels

    # --- create -------------------------------------------------------------------------------

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        """Insert the item (``raw`` from to_raw). Raises PreconditionFailed when the calendar
        holds it already (409: an earlier create whose answer was lost; UidConflict: the UID
        under another id), PermanentItemError (refused), AuthExpired, RateLimited,
        TransientError."""
        entries = parse_payload(raw)
        master = entries[0]
        gid = google_id(master.local_id)
        # Minted UIDs cannot be on Google under another id: the 409 covers them.
        if uid != f"{master.local_id}@carecal" and await self.reads.find(calendar, uid):
            raise UidConflict(f"an item with UID {uid[:60]!r} is on Google already")
        events_path = path("calendars", calendar.remote_id, "events")
        body = {**with_context(master.body, None), "id": gid}
        try:
            created = await self.api.fetch("POST", events_path, "the new event", WRITE, body)
        except PreconditionFailed as exc:
            created = await self._revive(calendar, gid, master.body, exc)
        created_id, etag = written(created, "the new event")
        versions = {created_id: etag}
        for entry in entries[1:]:
            eid, etag = await self._new_exception(calendar, created_id, entry, {})
            versions[eid] = etag
        return RemoteRef(created_id, version_json(versions))

    async def _revive(
        self, calendar: RemoteCalendar, gid: str, body: dict[str, Any], refused: PreconditionFailed
    ) -> dict[str, Any]:
        """After a 409: a live event under ``gid`` is the item itself (``refused`` is raised:
        the caller adopts it); a deleted one is this local event deleted earlier and now back
        (an undo), so it is brought back to life with the new content."""
        current = await self.api.fetch("GET", event_path(calendar, gid), f"event {gid}")
        if not is_cancelled(current):
            raise refused
        return await self.api.fetch(
            "PATCH",
            event_path(calendar, gid),
            f"event {gid}",
            WRITE,
            patch_for(with_context(body, current), None),
            if_match=text(current.get("etag")) or None,
        )

    async def _new_exception(
        self,
        calendar: RemoteCalendar,
        master_id: str,
        entry: Entry,
        agreed: dict[str, str],
    ) -> tuple[str, str]:
        """Make the occurrence ``entry.recurrence_id`` an exception with ``entry.body``:
        events.instances names the instance, a PATCH changes it. Raises PreconditionFailed
        when Google cancelled or changed that occurrence since Carecal last agreed."""
        what = f"the occurrences of event {master_id}"
        params = {"originalStart": str(entry.recurrence_id), "showDeleted": "true"}
        listed = await self.api.fetch(
            "GET", event_path(calendar, master_id) + "/instances", what, params
        )
        found = [i for i in listed.get("items") or [] if isinstance(i, dict) and text(i.get("id"))]
        if not found:
            raise PermanentItemError(
                f"event {master_id}: the changed occurrence {entry.recurrence_id} is not one "
                "of the series on Google"
            )
        instance = found[0]
        iid, etag = instance["id"], text(instance.get("etag"))
        if iid in agreed and agreed[iid] != etag:
            raise PreconditionFailed(f"event {iid} changed on Google")
        if iid not in agreed and is_cancelled(instance):
            raise PreconditionFailed(f"event {iid} was cancelled on Google")
        changed = await self.api.fetch(
            "PATCH",
            event_path(calendar, iid),
            f"event {master_id}",
            WRITE,
            patch_for(with_context(entry.body, instance), None),
            if_match=etag or None,
        )
        return written(changed, f"an occurrence of event {master_id}")

    # --- update -------------------------------------------------------------------------------

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        """See the module docstring. Raises PreconditionFailed (changed on Google), NotFound
        (the master is deleted), PermanentItemError, AuthExpired, RateLimited,
        TransientError."""
        entries = parse_payload(raw)
        master_id = ref.remote_id
        agreed = parse_version(ref.version, master_id)
        current = await self.reads.series(calendar, master_id, None, [])
        if current is None:
            raise NotFound(f"event {master_id} is deleted on Google")
        plan = self._plan(master_id, entries, current, agreed)
        etags = {r["id"]: text(r.get("etag")) for r in current}
        touched = [eid for eid, _ in plan.patches] + plan.drops
        if touched or plan.new:
            touched.append(master_id)  # a series changed on Google is merged before adding to it
        for eid in touched:
            # Never an unconditional write, nor one over a change not yet pulled: the engine
            # re-reads the item and merges first.
            if not agreed.get(eid) or agreed[eid] != etags.get(eid):
                raise PreconditionFailed(f"event {eid} changed on Google since it was read")
        versions = dict(agreed)
        for eid, fields in plan.patches:
            versions[eid] = await self._patch(calendar, eid, fields, agreed[eid], eid == master_id)
        for entry in plan.new:
            eid, etag = await self._new_exception(calendar, master_id, entry, agreed)
            versions[eid] = etag
        for eid in plan.drops:
            versions[eid] = await self._cancel(calendar, eid, agreed[eid])
        return RemoteRef(master_id, version_json(versions))

    def _plan(
        self,
        master_id: str,
        entries: list[Entry],
        current: list[dict[str, Any]],
        agreed: dict[str, str],
    ) -> _Plan:
        """Which fields of which components differ from Google's current copy, which
        occurrences are new exceptions, and which live exceptions Carecal no longer has."""
        try:
            # The master as Carecal reads it: cancelled exceptions folded into its exdates,
            # so they never look like a change of the recurrence.
            master_event: Event | None = item_events(current, "")[0]
        except MalformedEvent:
            master_event = None
        live = {
            original_key(r): r
            for r in current[1:]
            if r.get("recurringEventId") == master_id and not is_cancelled(r)
        }
        plan = _Plan([], [], [])
        for entry in entries:
            resource = current[0] if entry.key is None else live.get(entry.key)
            if resource is None:
                plan.new.append(entry)
                continue
            base = self._base(resource, entry, master_event if entry.key is None else None)
            fields = changes(with_context(entry.body, resource), resource, base)
            if fields:
                plan.patches.append((resource["id"], fields))
        kept = {entry.key for entry in entries}
        plan.drops = [r["id"] for k, r in live.items() if k not in kept and r["id"] in agreed]
        return plan

    def _base(
        self, resource: dict[str, Any], entry: Entry, master_event: Event | None
    ) -> dict[str, Any] | None:
        """What Carecal would write for ``resource`` as it is: the base a body is compared
        with, field by field. It carries the entry's own local id and UID, so Carecal's ids
        alone never cause a write. None (send every field) for a resource Carecal cannot
        read."""
        try:
            event = master_event or resource_event(
                resource, calendar_id="", uid=entry.uid, event_id=entry.local_id
            )
        except MalformedEvent:
            return None
        if entry.key is not None:
            event = event.with_changes(recurrence_id=event.start, rrule=None, rdates=(), exdates=())
        event = event.with_changes(id=entry.local_id, uid=entry.uid)
        return render_body(event, resource, self.privacy, self.labels)

    async def _patch(
        self,
        calendar: RemoteCalendar,
        event_id: str,
        fields: dict[str, Any],
        etag: str,
        is_master: bool,
    ) -> str:
        try:
            changed = await self.api.fetch(
                "PATCH", event_path(calendar, event_id), f"event {event_id}", WRITE, fields,
                if_match=etag,
            )  # fmt: skip
        except NotFound:
            if is_master:
                raise
            # An exception gone under a live master: the item moved on Google; the engine
            # fetches it and merges.
            raise PreconditionFailed(f"event {event_id} changed on Google") from None
        return written(changed, f"event {event_id}")[1]

    async def _cancel(self, calendar: RemoteCalendar, event_id: str, etag: str) -> str:
        """Cancel one exception; its tombstone's etag (Google keeps cancelled exceptions)."""
        what = f"event {event_id}"
        await self.api.fetch("DELETE", event_path(calendar, event_id), what, WRITE, if_match=etag)
        return written(await self.api.fetch("GET", event_path(calendar, event_id), what), what)[1]

    # --- delete -------------------------------------------------------------------------------

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        """DELETE the master (its exceptions go with it) with If-Match on its etag. Already
        deleted or absent counts as done. Raises PreconditionFailed (changed on Google),
        AuthExpired, RateLimited, TransientError, PermanentItemError."""
        etag = parse_version(ref.version, ref.remote_id).get(ref.remote_id)
        where, what = event_path(calendar, ref.remote_id), f"event {ref.remote_id}"
        try:
            await self.api.fetch("DELETE", where, what, WRITE, if_match=etag or None)
        except NotFound:
            return  # 404, or 410 "deleted": the wanted end state
        except PreconditionFailed:
            # Google may check the etag before noticing the event is deleted already.
            try:
                current = await self.api.fetch("GET", where, what)
            except NotFound:
                return
            if is_cancelled(current):
                return
            raise
