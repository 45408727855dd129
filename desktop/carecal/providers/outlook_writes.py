"""Writing to an Outlook calendar through Graph: create, update and delete one item
(providers/outlook.py and outlook_map.py have the representation).

- create: POST with ``transactionId`` derived from the master's local id, so a retried create
  returns the event the first one made instead of a second copy. An answer that is not what
  this create sent (an earlier create whose answer was lost, then edited) is refused with
  PreconditionFailed: the engine finds the item and merges. A UID Carecal did not mint from
  the local id is looked up first (the same file imported on two computers). A new series'
  overrides are made by PATCHing the occurrences that the series' instances list names for
  their original start (ids are never built or parsed), and its exdates by deleting them (Graph
  has no EXDATE).
- update: reads the item as Outlook holds it now, and refuses (PreconditionFailed) when its
  master moved since the version Carecal agreed on; PATCHes only what differs, with If-Match;
  a change of the series' times or pattern makes Outlook drop its exceptions, so they are made
  again afterwards; new exdates delete their occurrences. Then the item is read again for the
  versions of every component.
- delete: the master with If-Match; 404 counts as done.

Coroutines run on the sync worker's event loop; errors are the domain's (outlook_api.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from carecal.domain.errors import (
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    TransientError,
)
from carecal.domain.models import Event, When
from carecal.providers.base import RemoteCalendar, RemoteRef, UidConflict
from carecal.providers.outlook_api import OutlookApi, path
from carecal.providers.outlook_body import changes, render_body
from carecal.providers.outlook_map import (
    EXPAND,
    Labels,
    MalformedEvent,
    Privacy,
    etag_of,
    event_zone,
    item_events,
    item_parts,
    original_start,
    own_props,
    resource_event,
    subject_text,
    transaction_id,
    utc_text,
    version_json,
)
from carecal.providers.outlook_reads import OutlookReads, event_path, text
from carecal.providers.outlook_zones import zone_info

log = logging.getLogger(__name__)
SHAPE = ("start", "end", "isAllDay", "recurrence")


@dataclass(frozen=True)
class Entry:
    """One event of a to_raw payload."""

    local_id: str
    recurrence_id: str | None  # ISO text of the recurrence id
    stored: dict[str, Any] | None
    body: dict[str, Any] | None
    error: str
    exdates: tuple[str, ...]  # the master's excluded original starts, UTC text

    @property
    def uid(self) -> str:
        if self.body is None:
            return ""
        props = own_props(self.body)
        return text(props.get("uid"))

    def body_or_refuse(self) -> dict[str, Any]:
        if self.body is None:
            raise PermanentItemError(self.error or "the event cannot be written to Outlook")
        return self.body


def payload(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"events": entries}, separators=(",", ":"), ensure_ascii=False)


def parse_payload(raw: str) -> list[Entry]:
    """The entries of a to_raw payload, master first. Raises PermanentItemError."""
    try:
        data = json.loads(raw)
        entries = [
            Entry(
                local_id=str(e["localId"]),
                recurrence_id=e.get("recurrenceId"),
                stored=e.get("stored") if isinstance(e.get("stored"), dict) else None,
                body=e.get("body") if isinstance(e.get("body"), dict) else None,
                error=str(e.get("error") or ""),
                exdates=tuple(str(x) for x in e.get("exdates") or []),
            )
            for e in data["events"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise PermanentItemError("the item is not in Carecal's Outlook form") from None
    if not entries or entries[0].recurrence_id is not None:
        raise PermanentItemError("the item has no master event to write to Outlook")
    for entry in entries:
        entry.body_or_refuse()
    return entries


def when_text(value: When, zone: tzinfo) -> str:
    """A recurrence id or exdate as Graph's originalStart (UTC); a date is its midnight in
    ``zone`` (the zone the series' all-day midnights are written in)."""
    if isinstance(value, datetime):
        return utc_text(value)
    assert isinstance(value, date)
    return utc_text(datetime.combine(value, datetime.min.time(), zone))


def _rid_value(text_value: str) -> When:
    return (
        date.fromisoformat(text_value)
        if len(text_value) == 10
        else datetime.fromisoformat(text_value)
    )


def _created_is_ours(created: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether Graph's answer to a create is what this create sent (not an earlier one's
    event, edited since, returned for the same transactionId)."""
    return subject_text(created) == body.get("subject") and own_props(created) == own_props(body)


class OutlookWrites:
    """The write side of one account; see the module docstring."""

    def __init__(
        self,
        api: OutlookApi,
        reads: OutlookReads,
        privacy: Privacy,
        labels: Labels,
        clock: Callable[[], datetime],
    ) -> None:
        self.api = api
        self.reads = reads
        self.privacy = privacy
        self.labels = labels
        self.clock = clock

    # --- create -------------------------------------------------------------------------------

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        """Create the item. Raises PreconditionFailed (an earlier create's event, changed
        since; UidConflict: the UID is there under another event), PermanentItemError,
        AuthExpired, RateLimited, TransientError."""
        entries = parse_payload(raw)
        master = entries[0]
        body = master.body_or_refuse()
        if uid != f"{master.local_id}@carecal" and await self.reads.find(calendar, uid):
            raise UidConflict(f"an item with UID {uid[:60]!r} is in Outlook already")
        events_path = path("me", "calendars", calendar.remote_id, "events")
        sent = {**body, "transactionId": transaction_id(master.local_id)}
        created = await self.api.call(
            "POST", events_path, what="the new event", params={"$expand": EXPAND}, body=sent
        )
        created_id, etag = text(created.get("id")), etag_of(created)
        if not created_id or not etag:
            raise TransientError("Outlook's answer to a new event had no id or etag")
        if "singleValueExtendedProperties" not in created:
            created = await self.api.call(
                "GET", event_path(created_id), what="the new event", params={"$expand": EXPAND}
            )
        if not _created_is_ours(created, body):
            raise PreconditionFailed("Outlook holds this event already (an earlier create)")
        if len(entries) == 1 and not master.exdates:
            return RemoteRef(created_id, version_json({created_id: etag_of(created)}))
        zone, _ = event_zone(created)
        await self._instances(created_id, created, entries[1:], master.exdates, zone, None)
        return await self._reread(created_id)

    # --- update -------------------------------------------------------------------------------

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        """See the module docstring. Raises PreconditionFailed, NotFound, PermanentItemError,
        AuthExpired, RateLimited, TransientError."""
        entries = parse_payload(raw)
        master_id = ref.remote_id
        agreed = _versions(ref.version, master_id)
        low, high = self._window(entries)
        found = await self.reads.parts(master_id, low, high)
        if found is None:
            raise NotFound(f"event {master_id[:24]} is deleted in Outlook")
        current, listed = found
        if not agreed.get(master_id) or agreed[master_id] != etag_of(current):
            raise PreconditionFailed("the event changed in Outlook since Carecal read it")
        item = self.reads.item_of(current, listed, low, high)
        resources, removed = item_parts(item.raw, "the event")
        try:
            read = item_events(resources, removed, "")
        except MalformedEvent:
            read = []
        for inst in listed:
            # Never a write over an exception changed (or made) in Outlook that Carecal has
            # not pulled yet: the engine re-reads the item and merges first.
            self._check_seen(inst, agreed, True)
        master = entries[0]
        base = self._base(read[0] if read else None, current, master)
        fields = changes(master.body_or_refuse(), current, base)
        etag = agreed[master_id]
        before = current
        if fields:
            current = await self._patch(master_id, fields, etag)
            etag = etag_of(current)
        is_series = current.get("type") == "seriesMaster" or bool(
            (master.body or {}).get("recurrence")
        )
        if not is_series:
            return RemoteRef(master_id, version_json({master_id: etag}))
        reshaped = any(k in fields for k in SHAPE)
        if fields:
            # Graph gives every exception a new version with the master's (and drops them
            # all when the series' times or pattern change): list them afresh.
            listed = await self.reads.instances(current, low, high)
        if reshaped:
            removed = []
        zone, _ = event_zone(current)
        master_event = read[0] if read and not reshaped else None
        exdates = tuple(x for x in master.exdates if x not in set(removed))
        changed = await self._instances(
            master_id, current, entries[1:], exdates, zone, listed, master_event,
            shift=_moved_by(before, current) if reshaped else timedelta(0),
        )  # fmt: skip
        if not fields and not changed:
            return item.ref
        return await self._reread(master_id)

    def _window(self, entries: list[Entry]) -> tuple[datetime, datetime]:
        """The sync window, widened to every original start the entries name."""
        low, high = self.reads.window.bounds(self.clock())
        moments = [_as_utc(e.recurrence_id) for e in entries[1:] if e.recurrence_id]
        moments += [_as_utc(x) for x in entries[0].exdates]
        for moment in moments:
            low = min(low, moment - timedelta(days=1))
            high = max(high, moment + timedelta(days=1))
        return low, high

    def _base(
        self, event: Event | None, resource: dict[str, Any], entry: Entry
    ) -> dict[str, Any] | None:
        """What Carecal would write for ``resource`` as it is (with the entry's own ids), the
        base a body is compared with field by field; None (send everything) when Carecal
        cannot read or write the resource."""
        if event is None:
            return None
        event = event.with_changes(id=entry.local_id, uid=entry.uid or event.uid)
        try:
            return render_body(event, resource, self.privacy, self.labels)
        except PermanentItemError:
            return None

    async def _patch(self, event_id: str, fields: dict[str, Any], etag: str) -> dict[str, Any]:
        answer = await self.api.call(
            "PATCH", event_path(event_id), what=f"event {event_id[:24]}", body=fields,
            if_match=etag or None,
        )  # fmt: skip
        if not etag_of(answer):
            raise TransientError("Outlook's answer to a change had no etag")
        return answer

    async def _instances(
        self,
        master_id: str,
        master_res: dict[str, Any],
        overrides: list[Entry],
        exdates: tuple[str, ...],
        zone: tzinfo,
        listed: list[dict[str, Any]] | None,
        master_event: Event | None = None,
        *,
        shift: timedelta = timedelta(0),
    ) -> bool:
        """Make ``overrides`` exceptions (PATCH their occurrences, only what differs) and
        delete the occurrences of ``exdates``; True when anything was written. ``shift``: how
        far the series' start just moved (original starts Carecal names move with it)."""
        keys = [when_text(_rid_value(e.recurrence_id or ""), zone) for e in overrides]
        if shift:
            keys = [utc_text(_as_utc(k) + shift) for k in keys]
            exdates = tuple(utc_text(_as_utc(x) + shift) for x in exdates)
        if not keys and not exdates:
            return False
        if listed is None:
            moments = [_as_utc(k) for k in [*keys, *exdates]]
            listed = await self.reads.instances_between(
                master_id, min(moments) - timedelta(hours=1), max(moments) + timedelta(days=1)
            )
        by_original: dict[str, dict[str, Any]] = {}
        for inst in listed:
            moment = original_start(inst)
            if moment is not None:
                by_original[utc_text(moment)] = inst
        written = False
        for key, entry in zip(keys, overrides, strict=True):
            found = by_original.get(key)
            if found is None:
                log.info("an occurrence Carecal changed is not in the Outlook series; skipped")
                continue
            inst = found
            base = None
            if master_event is not None:
                try:
                    seen = resource_event(
                        inst, calendar_id="", uid=master_event.uid, event_id=entry.local_id,
                        master=master_event, master_zone=zone,
                    )  # fmt: skip
                    base = self._base(seen, inst, entry)
                except MalformedEvent:
                    base = None
            fields = changes(entry.body_or_refuse(), inst, base)
            if fields:
                await self._patch(inst["id"], fields, etag_of(inst))
                written = True
        for key in exdates:
            gone = by_original.get(key)
            if gone is None:
                continue  # already gone, or outside what Outlook lists
            try:
                await self.api.call(
                    "DELETE", event_path(gone["id"]), what="an occurrence",
                    if_match=etag_of(gone) or None,
                )  # fmt: skip
            except NotFound:
                continue
            written = True
        return written

    @staticmethod
    def _check_seen(inst: dict[str, Any], agreed: dict[str, str], refuse_unseen: bool) -> None:
        if not refuse_unseen or inst.get("type") != "exception":
            return
        if agreed.get(inst["id"]) != etag_of(inst):
            raise PreconditionFailed("an occurrence changed in Outlook since Carecal read it")

    async def _reread(self, master_id: str) -> RemoteRef:
        low, high = self.reads.window.bounds(self.clock())
        item = await self.reads.series(master_id, low, high)
        if item is None:
            raise TransientError("the event Carecal just wrote is not in Outlook; will retry")
        return item.ref

    # --- delete -------------------------------------------------------------------------------

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        """DELETE the master (its occurrences go with it) with If-Match. Already gone counts
        as done. Raises PreconditionFailed, AuthExpired, RateLimited, TransientError,
        PermanentItemError."""
        etag = _versions(ref.version, ref.remote_id).get(ref.remote_id)
        where, what = event_path(ref.remote_id), f"event {ref.remote_id[:24]}"
        try:
            await self.api.call("DELETE", where, what=what, if_match=etag or None)
        except NotFound:
            return


def _moved_by(before: dict[str, Any], after: dict[str, Any]) -> timedelta:
    """How far a master's start moved with a write (zero when either cannot be read)."""
    try:
        old = resource_event(before, calendar_id="", uid="x", event_id="x").start
        new = resource_event(after, calendar_id="", uid="x", event_id="x").start
    except MalformedEvent:
        return timedelta(0)
    if isinstance(old, datetime) and isinstance(new, datetime):
        return new - old
    if not isinstance(old, datetime) and not isinstance(new, datetime):
        return timedelta(days=(new - old).days)
    return timedelta(0)


def _versions(version: str | None, master_id: str) -> dict[str, str]:
    from carecal.providers.outlook_map import parse_version

    return parse_version(version, master_id)


def _as_utc(value: str) -> datetime:
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def zone_for(name: str | None) -> tzinfo:
    return zone_info(name)
