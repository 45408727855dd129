"""Microsoft Graph event resources -> Carecal's domain events, Carecal's own fields on an
Outlook event, and the masks of the privacy levels (the same levels and labels as Google's:
providers/google_map.Privacy and Labels; the version map and ``stored_resource`` come from
there too). Events -> the fields Carecal writes: providers/outlook_body.py.

The representation: an item is a series master (or a single event) plus the
series' exceptions, as Graph returned them, and the original starts of the occurrences Graph no
longer has (deleted in Outlook, or by Carecal: Graph has no EXDATE) among those Carecal looked
at (the sync window). ``RemoteItem.raw`` = ``{"events": [master, exception...], "removed":
[originalStart...]}``; each domain event's ``raw`` is its own resource as compact JSON.

Carecal's own fields ride in ONE single-value extended property (a string in Carecal's own
property set, never shown by Outlook): compact JSON with the local id, the UID, patient and
service ids, mode, status, participants' ids, capacity, price, the mask level and signature,
and the RRULE text Carecal wrote. Only opaque ids, numbers and enum values: names, notes and
links never go there. Patients are never attendees, so Outlook never mails anyone.

The video link is Graph's ``onlineMeeting.joinUrl`` when there is one; otherwise it travels as
a last body line "Video: <url>" (when the privacy level shows it), which reading strips off.

Pure functions: any thread, CPU only. Reading raises ``MalformedEvent`` (a PermanentItemError)
for a resource Carecal cannot read; the rest raises nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from carecal.domain.errors import PermanentItemError
from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Participant,
    VisitMode,
    When,
    new_id,
)
from carecal.domain.recurrence import occurrences_in_window
from carecal.providers.google_map import (
    Labels,
    Privacy,
    canonical,
    mask_signature,
    parse_version,
    sort_key,
    split_video,
    stored_resource,
    version_json,
)
from carecal.providers.outlook_recur import same_pattern, to_rrule
from carecal.providers.outlook_zones import iana_of, windows_of, zone_info

__all__ = ["Labels", "Privacy", "parse_version", "stored_resource", "version_json"]

log = logging.getLogger(__name__)

# Carecal's property set (a GUID of its own) and the one property it keeps there.
PROP_ID = "String {6b1f3e52-8c0d-4a57-9e21-c4a7d3f05b18} Name carecal"
EXPAND = f"singleValueExtendedProperties($filter=id eq '{PROP_ID}')"
TX_NAMESPACE = uuid.UUID("0f4c9a61-27d3-4e8b-b5a2-9d6e1c3f7a40")


class MalformedEvent(PermanentItemError):
    """Graph sent an item Carecal cannot read. The message names the event, never its text."""


# --- Carecal's property ---------------------------------------------------------------------


def own_props(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Carecal's fields kept on a resource ({} when absent or unreadable)."""
    for prop in resource.get("singleValueExtendedProperties") or []:
        if isinstance(prop, dict) and str(prop.get("id", "")).lower() == PROP_ID.lower():
            try:
                data = json.loads(str(prop.get("value") or ""))
            except ValueError:
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def props_text(props: Mapping[str, Any]) -> str:
    """The property's value: compact JSON, sorted keys, empty values left out."""
    kept = {k: v for k, v in props.items() if v not in ("", None, [], {})}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def transaction_id(local_id: str) -> str:
    """Graph's transactionId for creating the item of ``local_id``: the same for every retry,
    so a retried POST returns the event the first one made."""
    return str(uuid.uuid5(TX_NAMESPACE, local_id))


# --- the item ---------------------------------------------------------------------------------


def item_text(resources: Sequence[Mapping[str, Any]], removed: Sequence[str] = ()) -> str:
    """``RemoteItem.raw``: the resources (master first) and the removed original starts."""
    data: dict[str, Any] = {"events": list(resources)}
    if removed:
        data["removed"] = sorted(set(removed))
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def item_parts(raw: str, source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """(resources, removed original starts) of a ``RemoteItem.raw``. Raises MalformedEvent."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise MalformedEvent(f"{source}: the stored Outlook item is not JSON") from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        raise MalformedEvent(f"{source}: the stored Outlook item holds no events")
    removed = data.get("removed") if isinstance(data.get("removed"), list) else []
    return events, [str(r) for r in removed]


def item_uid(master: Mapping[str, Any]) -> str:
    """Carecal's UID when it wrote the event, else Graph's iCalUId (the master's), else one
    made from the id."""
    own = own_props(master).get("uid")
    if isinstance(own, str) and own:
        return own
    ical = master.get("iCalUId")
    if isinstance(ical, str) and ical:
        return ical
    return f"{master.get('id', '')}@outlook"


def etag_of(resource: Mapping[str, Any]) -> str:
    value = resource.get("@odata.etag")
    return value if isinstance(value, str) else ""


def version_text(resources: Sequence[Mapping[str, Any]]) -> str:
    """``RemoteRef.version``: {id: @odata.etag} of the master and every exception."""
    return version_json({str(r.get("id", "")): etag_of(r) for r in resources})


# --- times ------------------------------------------------------------------------------------


def parse_local(text: Any, what: str) -> datetime:
    """A naive datetime from Graph's offset-less "2026-03-02T09:00:00.0000000". Raises
    MalformedEvent."""
    if not isinstance(text, str) or not text:
        raise MalformedEvent(f"{what} has no dateTime")
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head)
    except ValueError:
        raise MalformedEvent(f"{what} has an unreadable dateTime") from None
    if fraction.isdigit():
        moment = moment.replace(microsecond=int((fraction + "000000")[:6]))
    return moment.replace(tzinfo=None)


def original_start(resource: Mapping[str, Any]) -> datetime | None:
    """An occurrence's or exception's originalStart as an aware UTC moment (None if absent)."""
    text = resource.get("originalStart")
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def start_of(resource: Mapping[str, Any]) -> datetime | None:
    """When an event (a series' first occurrence, for a master) starts, in UTC; None when
    unreadable."""
    edt = resource.get("start")
    if not isinstance(edt, dict):
        return None
    try:
        local = parse_local(edt.get("dateTime"), "start")
    except MalformedEvent:
        return None
    return local.replace(tzinfo=zone_info(edt.get("timeZone"))).astimezone(UTC)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_zone(resource: Mapping[str, Any]) -> tuple[tzinfo, str]:
    """(zone, IANA name) the event was written in: originalStartTimeZone, else the series'
    recurrenceTimeZone, else UTC."""
    name = resource.get("originalStartTimeZone")
    if not isinstance(name, str) or not name:
        rec = resource.get("recurrence")
        rng = rec.get("range") if isinstance(rec, dict) else None
        name = rng.get("recurrenceTimeZone") if isinstance(rng, dict) else None
    key = iana_of(name if isinstance(name, str) else None)
    return (UTC if key == "UTC" else ZoneInfo(key)), key


def _times(resource: Mapping[str, Any], what: str) -> tuple[When, When, str | None]:
    """(start, end, IANA zone or None for all-day). All-day events are dates whatever zone
    Graph rendered their midnights in; timed ones are read in the zone the answer names and
    shown in the zone the event was written in."""
    start_edt, end_edt = resource.get("start"), resource.get("end")
    if not isinstance(start_edt, dict) or not isinstance(end_edt, dict):
        raise MalformedEvent(f"{what}: start or end is missing")
    start = parse_local(start_edt.get("dateTime"), f"{what}: start")
    end = parse_local(end_edt.get("dateTime"), f"{what}: end")
    if resource.get("isAllDay") is True:
        first, last = start.date(), end.date()
        return first, max(last, first + timedelta(days=1)), None
    zone, key = event_zone(resource)
    start_at = start.replace(tzinfo=zone_info(start_edt.get("timeZone"))).astimezone(zone)
    end_at = end.replace(tzinfo=zone_info(end_edt.get("timeZone"))).astimezone(zone)
    return start_at, end_at, key


def as_recurrence_id(original: datetime, master: Event, zone: tzinfo) -> When:
    """An originalStart as a recurrence id of the same kind as the master's start (for an
    all-day series, the date in ``zone``, the zone its midnights were written in)."""
    if isinstance(master.start, datetime):
        return original.astimezone(master.start.tzinfo)
    return original.astimezone(zone).date()


# --- reading: resource -> Event ---------------------------------------------------------------


def _status(resource: Mapping[str, Any], props: Mapping[str, Any]) -> AppointmentStatus:
    if resource.get("isCancelled") is True:
        return AppointmentStatus.CANCELLED
    try:
        return AppointmentStatus(str(props.get("status")))
    except ValueError:
        return AppointmentStatus.CONFIRMED


def reminder_of(resource: Mapping[str, Any]) -> int | None:
    minutes = resource.get("reminderMinutesBeforeStart")
    if resource.get("isReminderOn") is not True or not isinstance(minutes, int) or minutes < 0:
        return None
    return minutes


def body_text(resource: Mapping[str, Any]) -> str:
    """The body as text (Carecal asks Graph for text bodies; an HTML one is read as it is)."""
    body = resource.get("body")
    content = body.get("content") if isinstance(body, dict) else None
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""


def location_text(resource: Mapping[str, Any]) -> str:
    location = resource.get("location")
    name = location.get("displayName") if isinstance(location, dict) else None
    return name if isinstance(name, str) else ""


def subject_text(resource: Mapping[str, Any]) -> str:
    value = resource.get("subject")
    return value if isinstance(value, str) else ""


def join_url(resource: Mapping[str, Any]) -> str:
    meeting = resource.get("onlineMeeting")
    url = meeting.get("joinUrl") if isinstance(meeting, dict) else None
    return url if isinstance(url, str) else ""


def _own_fields(props: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, name in (("patient", "patient_id"), ("service", "service_id")):
        if isinstance(props.get(key), str) and props[key]:
            fields[name] = props[key]
    try:
        fields["mode"] = VisitMode(str(props.get("mode") or VisitMode.IN_PERSON.value))
    except ValueError:
        fields["mode"] = VisitMode.IN_PERSON
    if isinstance(props.get("capacity"), int):
        fields["capacity"] = props["capacity"]
    if isinstance(props.get("price"), str) and props["price"]:
        with contextlib.suppress(InvalidOperation):
            fields["price"] = Decimal(props["price"])
    people: list[Participant] = []
    for entry in props.get("participants") or []:
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry):
            try:
                people.append(Participant(entry[0], Attendance(entry[1])))
            except ValueError:
                people.append(Participant(entry[0]))
    fields["participants"] = tuple(people)
    return fields


def resource_event(
    resource: Mapping[str, Any],
    *,
    calendar_id: str,
    uid: str,
    event_id: str,
    master: Event | None = None,
    master_zone: tzinfo = UTC,
) -> Event:
    """One resource as a domain event; ``master`` is the series' event for an exception (its
    all-day midnights were written in ``master_zone``). Raises MalformedEvent."""
    rid = str(resource.get("id", "?"))[:24]
    what = f"Outlook event {rid}"
    start, end, zone_key = _times(resource, what)
    if end < start:
        raise MalformedEvent(f"{what}: ends before it starts")
    props = own_props(resource)
    recurrence_id: When | None = None
    rrule: str | None = None
    if master is not None:
        original = original_start(resource)
        if original is None:
            raise MalformedEvent(f"{what}: an exception without originalStart")
        recurrence_id = as_recurrence_id(original, master, master_zone)
    elif resource.get("recurrence") is not None:
        zone, _ = event_zone(resource)
        rrule = to_rrule(resource.get("recurrence"), start, zone)
        mine = props.get("rrule")
        name = windows_of(zone_key) or "UTC"
        if isinstance(mine, str) and mine and same_pattern(mine, resource["recurrence"], start,
                                                           zone, name):  # fmt: skip
            rrule = mine  # Carecal's own spelling of the rule Graph holds
        if rrule is None:
            log.warning("%s: a repeat pattern Carecal does not know; read as one event", what)
    description, video = split_video(body_text(resource))
    video = video or join_url(resource)
    return Event(
        id=event_id,
        calendar_id=calendar_id,
        uid=uid,
        title=subject_text(resource),
        start=start,
        end=end,
        all_day=not isinstance(start, datetime),
        tzid=zone_key,
        description=description,
        location=location_text(resource),
        status=_status(resource, props),
        busy=resource.get("showAs") != "free",
        rrule=rrule,
        recurrence_id=recurrence_id,
        master_id=master.id if master is not None else None,
        video_url=video,
        reminder_minutes=reminder_of(resource),
        raw=json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
        **_own_fields(props),
    )


def item_events(
    resources: Sequence[Mapping[str, Any]], removed: Sequence[str], calendar_id: str
) -> list[Event]:
    """The item (master first, then its exceptions by original start) as domain events; the
    removed occurrences become the master's exdates. Local ids: Carecal's own when present and
    not taken by another event of the item (Outlook copies a master's properties into an
    exception made in Outlook), else new ones. Raises MalformedEvent."""
    master_res = resources[0]
    if master_res.get("type") in ("occurrence", "exception"):
        raise MalformedEvent("Outlook item does not start with a series or single event")
    uid = item_uid(master_res)
    used: set[str] = set()

    def local_id(resource: Mapping[str, Any]) -> str:
        wanted = own_props(resource).get("id")
        chosen = wanted if isinstance(wanted, str) and wanted and wanted not in used else new_id()
        used.add(chosen)
        return chosen

    master = resource_event(
        master_res, calendar_id=calendar_id, uid=uid, event_id=local_id(master_res)
    )
    if master.rrule is None:
        return [master]
    zone, _ = event_zone(master_res)
    exdates: list[When] = []
    for text in removed:
        moment = original_start({"originalStart": text})
        if moment is not None:
            exdates.append(as_recurrence_id(moment, master, zone))
    if exdates:
        master = master.with_changes(exdates=canonical(exdates))
    excluded = {sort_key(x) for x in master.exdates}
    overrides = []
    for resource in resources[1:]:
        if resource.get("type") != "exception":
            continue
        override = resource_event(
            resource,
            calendar_id=calendar_id,
            uid=uid,
            event_id=local_id(resource),
            master=master,
            master_zone=zone,
        )
        assert override.recurrence_id is not None
        if sort_key(override.recurrence_id) not in excluded:
            overrides.append(override)
    overrides.sort(key=lambda e: sort_key(e.recurrence_id or e.start))
    return [master, *overrides]


def removed_originals(
    master_res: Mapping[str, Any],
    listed: Sequence[Mapping[str, Any]],
    low: datetime,
    high: datetime,
) -> list[str]:
    """The original starts (UTC text) of the occurrences the series' pattern makes inside
    [low, high) that Graph did not list: deleted ones. A day at each edge of the window is
    left out, so an occurrence the two expansions see differently there is never taken for
    deleted."""
    try:
        master = resource_event(master_res, calendar_id="", uid="x", event_id="m")
    except MalformedEvent:
        return []
    if master.rrule is None:
        return []
    inner_low, inner_high = low + timedelta(days=1), high - timedelta(days=1)
    if inner_high <= inner_low:
        return []
    found, _warnings = occurrences_in_window(
        [master], inner_low, inner_high, display_tz=ZoneInfo("UTC")
    )
    seen = {utc_text(o) for o in (original_start(r) for r in listed) if o is not None}
    out: list[str] = []
    for occ in found:
        rid = occ.recurrence_id
        if rid is None:
            continue
        if isinstance(rid, datetime):
            moment = rid
        else:
            moment = datetime.combine(rid, datetime.min.time(), event_zone(master_res)[0])
        text = utc_text(moment)
        if text not in seen and inner_low <= moment.astimezone(UTC) < inner_high:
            out.append(text)
    return out


# --- masks ------------------------------------------------------------------------------------


def unmask(remote: Sequence[Event], local: Sequence[Event]) -> list[Event]:
    """Remote events with the details a privacy level withheld put back from the local events
    of the same item (matched by recurrence id; a new exception made in Outlook takes the local
    master's), field by field and only where the mask is intact (Carecal wrote it and the text
    still hashes to its part of the signature). Any thread; raises nothing."""
    by_key = {_key(e.recurrence_id): e for e in local}
    out: list[Event] = []
    for event in remote:
        resource = stored_resource(event)
        props = own_props(resource) if resource is not None else {}
        source = by_key.get(_key(event.recurrence_id))
        if source is None and event.recurrence_id is not None:
            source = by_key.get(None)
        parts = str(props.get("sig") or "").split(".")
        if resource is None or source is None or not props.get("mask") or len(parts) != 3:
            out.append(event)
            continue
        now = mask_signature(
            subject_text(resource), body_text(resource), location_text(resource)
        ).split(".")
        restored: dict[str, object] = {}
        if parts[0] == now[0]:
            restored["title"] = source.title
        if parts[1] == now[1]:
            restored.update(description=source.description, video_url=source.video_url)
        if parts[2] == now[2]:
            restored["location"] = source.location
        out.append(event.with_changes(**restored) if restored else event)
    return out


def _key(value: When | None) -> tuple[int, str] | None:
    return None if value is None else sort_key(value)
