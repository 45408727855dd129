"""Carecal's events as the Graph fields it writes (the *body*) for a privacy level, and the
PATCH that sends only what differs from Outlook's copy (so every field Carecal does not model
stays as it is in Outlook: attendees, categories, sensitivity, an HTML body nobody edited,
other apps' extended properties, a showAs of "oof" while the event stays busy).

Pure functions: any thread, CPU only. ``render_body`` raises ``Unexpressible`` (a
PermanentItemError) for a repeat rule Graph cannot hold; the rest raises nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from carecal.domain.models import Event, VisitMode, When
from carecal.providers.google_body import visible_text
from carecal.providers.google_map import Labels, Privacy, mask_signature
from carecal.providers.outlook_map import (
    PROP_ID,
    body_text,
    join_url,
    location_text,
    own_props,
    props_text,
    subject_text,
)
from carecal.providers.outlook_recur import Unexpressible, to_pattern
from carecal.providers.outlook_zones import windows_of, zone_info

TEXT_FIELDS = ("subject", "body", "location")
STRUCTURAL = ("start", "end", "isAllDay", "showAs", "isReminderOn",
              "reminderMinutesBeforeStart", "recurrence")  # fmt: skip
ID_KEYS = ("id", "uid")


def write_zone(event: Event, stored: Mapping[str, Any] | None) -> tuple[tzinfo, str]:
    """(zone, Graph name) the event's times are written in: its own zone when Graph has a name
    for it, else UTC. All-day events keep the zone their midnights were written in."""
    if event.all_day or not isinstance(event.start, datetime):
        name = (stored or {}).get("originalStartTimeZone")
        name = name if isinstance(name, str) and name else "UTC"
        return zone_info(name), name
    iana = event.tzid
    if iana is None and isinstance(event.start.tzinfo, ZoneInfo):
        iana = event.start.tzinfo.key
    win = windows_of(iana)
    if win is None or iana is None:
        return UTC, "UTC"
    return (UTC if win == "UTC" else ZoneInfo(iana)), win


def graph_time(value: When, zone: tzinfo, name: str) -> dict[str, str]:
    """A dateTimeTimeZone: local wall time in ``zone`` without an offset, or midnight of a
    date."""
    if isinstance(value, datetime):
        local = value.astimezone(zone)
        return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": name}
    assert isinstance(value, date)
    return {"dateTime": value.isoformat() + "T00:00:00", "timeZone": name}


def _price(price: Decimal | None) -> str:
    return "" if price is None else format(price, "f")


def own_values(event: Event, mask: str, sig: str) -> dict[str, Any]:
    """Carecal's property for ``event`` (see outlook_map)."""
    return {
        "id": event.id,
        "uid": event.uid,
        "patient": event.patient_id or "",
        "service": event.service_id or "",
        "mode": event.mode.value if event.mode is not VisitMode.IN_PERSON else "",
        "status": event.status.value,
        "participants": [[p.patient_id, p.attendance.value] for p in event.participants],
        "capacity": event.capacity,
        "price": _price(event.price),
        "mask": mask,
        "sig": sig,
        "rrule": event.rrule if event.recurrence_id is None else None,
    }


def render_body(
    event: Event, stored: Mapping[str, Any] | None, privacy: Privacy, labels: Labels
) -> dict[str, Any]:
    """The Graph fields Carecal models for ``event``, rendered for ``privacy``. A master has
    ``recurrence`` (None when it does not repeat); an exception has none. A video link that is
    the event's own online meeting is not written again. Raises Unexpressible."""
    shown = event
    if event.video_url and stored is not None and event.video_url == join_url(stored):
        shown = event.with_changes(video_url="")
    subject, description, location, mask = visible_text(shown, privacy, labels)
    sig = mask_signature(subject, description, location) if mask else ""
    zone, name = write_zone(event, stored)
    body: dict[str, Any] = {
        "subject": subject,
        "body": {"contentType": "text", "content": description},
        "location": {"displayName": location},
        "start": graph_time(event.start, zone, name),
        "end": graph_time(event.end, zone, name),
        "isAllDay": not isinstance(event.start, datetime),
        "showAs": "busy" if event.busy else "free",
        "isReminderOn": event.reminder_minutes is not None,
        "singleValueExtendedProperties": [
            {"id": PROP_ID, "value": props_text(own_values(event, mask, sig))}
        ],
    }
    if event.reminder_minutes is not None:
        body["reminderMinutesBeforeStart"] = max(0, event.reminder_minutes)
    if event.recurrence_id is None:
        if event.rdates:
            raise Unexpressible("Outlook cannot hold extra dates (RDATE) in a series")
        body["recurrence"] = (
            to_pattern(event.rrule, event.start, zone, name) if event.rrule else None
        )
    return body


def changes(
    body: Mapping[str, Any], resource: Mapping[str, Any], base: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The PATCH that brings ``resource`` (Outlook's copy) to ``body``. Times, all-day, showAs,
    the reminder and the recurrence are compared with ``base`` (the resource rendered the way
    Carecal renders it, so Graph's own spelling of the same thing is no change; None: send
    them all); the texts and Carecal's property with what Outlook actually holds (what Outlook
    sees of them depends on the privacy level and the labels). Carecal's ids alone are no
    change."""
    out: dict[str, Any] = {}
    for key in STRUCTURAL:
        if key not in body:
            continue
        if base is None or base.get(key) != body[key]:
            if key == "showAs" and base is not None and _busy(resource) == (body[key] == "busy"):
                continue  # Outlook's finer free/busy value ("oof", "tentative") stays
            out[key] = body[key]
    if body["subject"] != subject_text(resource):
        out["subject"] = body["subject"]
    if body["body"]["content"] != body_text(resource):
        out["body"] = body["body"]
    if body["location"]["displayName"] != location_text(resource):
        out["location"] = body["location"]
    mine = _without_ids(json.loads(body["singleValueExtendedProperties"][0]["value"]))
    theirs = _without_ids(own_props(resource))
    if mine != theirs:
        out["singleValueExtendedProperties"] = body["singleValueExtendedProperties"]
    if "start" in out or "end" in out:
        out.update(start=body["start"], end=body["end"], isAllDay=body["isAllDay"])
    if "reminderMinutesBeforeStart" in out or "isReminderOn" in out:
        out["isReminderOn"] = body["isReminderOn"]
        if "reminderMinutesBeforeStart" in body:
            out["reminderMinutesBeforeStart"] = body["reminderMinutesBeforeStart"]
    return out


def _busy(resource: Mapping[str, Any]) -> bool:
    return resource.get("showAs") != "free"


def _without_ids(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in ID_KEYS and v not in ("", None, [], {})}


def entry_error(exc: Unexpressible) -> str:
    return str(exc)
