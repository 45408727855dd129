"""Carecal's events as the Google fields it writes (the *body*), for a privacy level, and the
patch that sends only what changed.

``plain_body`` renders an event alone; ``with_context`` fits a body onto a resource as Google
holds it, keeping what Carecal does not model (email reminders, other apps' private properties,
EXRULE lines); ``render_body`` is both. ``patch_for`` compares a body with the rendering of the
resource as it is, field by field. Pure functions: any thread, CPU only, raise nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from carecal.domain.models import Event, VisitMode, When
from carecal.ical.values import render_when_list, zone_key
from carecal.providers.google_map import (
    OWN_KEYS,
    P_CAPACITY,
    P_ID,
    P_MASK,
    P_MODE,
    P_PARTICIPANTS,
    P_PATIENT,
    P_PRICE,
    P_SERVICE,
    P_SIG,
    P_STATUS,
    P_UID,
    VIDEO_PREFIX,
    Labels,
    Privacy,
    canonical,
    google_status,
    mask_signature,
    private_of,
    reminder_of,
    status_of,
    text_of,
    zone_of,
)

BUSY_TITLE = "Busy"
APPOINTMENT_TITLE = "Appointment"
# The fields Carecal writes; a patch never names any other field of the resource.
BODY_FIELDS = (
    "summary",
    "description",
    "location",
    "start",
    "end",
    "recurrence",
    "status",
    "transparency",
    "reminders",
    "extendedProperties",
)
_MODELED_LINES = ("RRULE", "RDATE", "EXDATE")
TEXT_FIELDS = ("summary", "description", "location")


def is_appointment(event: Event) -> bool:
    return bool(event.patient_id or event.participants or event.service_id)


def appointment_label(event: Event, labels: Labels) -> str:
    """ "<service name> · <initials>", either part alone, or "Appointment"."""
    service = labels.service_names.get(event.service_id or "", "")
    initials = ", ".join(
        labels.patient_initials[p] for p in event.patient_ids() if labels.patient_initials.get(p)
    )
    parts = [p for p in (service.strip(), initials.strip()) if p]
    return " · ".join(parts) if parts else APPOINTMENT_TITLE


def visible_text(event: Event, privacy: Privacy, labels: Labels) -> tuple[str, str, str, str]:
    """(summary, description, location, mask level or "") Google may see of ``event``."""
    if privacy is Privacy.BUSY:
        return BUSY_TITLE, "", "", Privacy.BUSY.value
    if privacy is Privacy.INITIALS and is_appointment(event):
        return appointment_label(event, labels), "", "", Privacy.INITIALS.value
    description = event.description
    if event.video_url:
        sep = "\n\n" if description else ""
        description = f"{description}{sep}{VIDEO_PREFIX}{event.video_url}"
    return event.title, description, event.location, ""


def event_datetime(value: When, zone_name: str | None) -> dict[str, Any]:
    """An EventDateTime: ``date`` for all-day, else ``dateTime`` in the event's zone plus that
    zone's IANA name (Google needs it on series; floating times have no Google form and are
    written in the zone their value carries, else UTC)."""
    if not isinstance(value, datetime):
        return {"date": value.isoformat()}
    name = zone_name or zone_key(value.tzinfo)
    zone, key = zone_of(name)
    local = value.astimezone(zone).replace(microsecond=0)
    return {"dateTime": local.isoformat(), "timeZone": key}


def _recurrence_lines(event: Event) -> list[str]:
    lines: list[str] = []
    if event.rrule:
        lines.append("RRULE:" + event.rrule.removeprefix("RRULE:"))
    for name, values in (("RDATE", event.rdates), ("EXDATE", event.exdates)):
        if not values:
            continue
        groups = render_when_list(canonical(values), floating=False, tzid=event.tzid)
        for params, text in groups:
            head = "".join(f";{k}={v}" for k, v in params.items())
            lines.append(f"{name}{head}:{text}")
    return lines


def _reminders(minutes: int | None, stored: Any) -> dict[str, Any]:
    """The reminders to write: the stored ones untouched when they already say ``minutes``;
    else the first popup replaced (or added, or dropped), email reminders kept."""
    if isinstance(stored, dict) and reminder_of(stored) == minutes:
        return dict(stored)
    kept = []
    if isinstance(stored, dict) and stored.get("useDefault") is False:
        kept = [o for o in stored.get("overrides") or [] if isinstance(o, dict)]
    first_popup = next((i for i, o in enumerate(kept) if o.get("method") == "popup"), None)
    if minutes is None:
        if first_popup is not None:
            del kept[first_popup]
        if not kept:
            return {"useDefault": True}
        return {"useDefault": False, "overrides": kept}
    # Google allows 0 to 40320 minutes (four weeks) before the start.
    popup = {"method": "popup", "minutes": max(0, min(40320, minutes))}
    if first_popup is not None:
        kept[first_popup] = popup
    else:
        kept.insert(0, popup)
    return {"useDefault": False, "overrides": kept[:5]}


def _price_text(price: Decimal | None) -> str:
    return "" if price is None else format(price, "f")


def _own_values(event: Event, mask: str, sig: str) -> dict[str, str]:
    """Carecal's private properties of ``event`` ("" for none)."""
    participants = [[p.patient_id, p.attendance.value] for p in event.participants]
    return {
        P_ID: event.id,
        P_UID: event.uid,
        P_PATIENT: event.patient_id or "",
        P_SERVICE: event.service_id or "",
        P_MODE: event.mode.value if event.mode is not VisitMode.IN_PERSON else "",
        P_STATUS: event.status.value,
        P_PARTICIPANTS: json.dumps(participants) if participants else "",
        P_CAPACITY: str(event.capacity) if event.capacity is not None else "",
        P_PRICE: _price_text(event.price),
        P_MASK: mask,
        P_SIG: sig,
    }


def plain_body(event: Event, privacy: Privacy, labels: Labels) -> dict[str, Any]:
    """The Google fields Carecal models for ``event`` alone, rendered for ``privacy``; a
    master always has ``recurrence`` (empty when it does not repeat)."""
    summary, description, location, mask = visible_text(event, privacy, labels)
    sig = mask_signature(summary, description, location) if mask else ""
    own = {k: v for k, v in _own_values(event, mask, sig).items() if v}
    end_zone = zone_key(event.end.tzinfo) if isinstance(event.end, datetime) else None
    body: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "location": location,
        "start": event_datetime(event.start, event.tzid),
        "end": event_datetime(event.end, end_zone or event.tzid),
        "status": google_status(event.status),
        "transparency": "opaque" if event.busy else "transparent",
        "reminders": _reminders(event.reminder_minutes, None),
        "extendedProperties": {"private": own},
    }
    if event.recurrence_id is None:
        body["recurrence"] = _recurrence_lines(event)
    return body


def _line_kind(line: str) -> str:
    return line.split(":", 1)[0].split(";", 1)[0].strip().upper()


def _split_lines(lines: Any) -> tuple[list[str], list[str]]:
    """(lines Carecal models: the first RRULE, RDATEs, EXDATEs; every other line)."""
    modeled: list[str] = []
    others: list[str] = []
    seen_rule = False
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, str):
            continue
        kind = _line_kind(line)
        if kind in _MODELED_LINES and not (kind == "RRULE" and seen_rule):
            seen_rule = seen_rule or kind == "RRULE"
            modeled.append(line)
        else:
            others.append(line)
    return modeled, others


def with_context(body: Mapping[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """``body`` fitted onto ``stored`` (the resource as Google holds it; None for a new one):
    the reminder Carecal models replaces Google's first popup and leaves email reminders; other
    apps' private properties stay and Carecal's absent ones are cleared; recurrence lines
    Carecal does not model stay. Fitting a body twice gives what fitting it once does."""
    stored = stored or {}
    out = dict(body)
    out["reminders"] = _reminders(reminder_of(body.get("reminders")), stored.get("reminders"))
    mine = body.get("extendedProperties", {}).get("private", {})
    theirs = private_of(stored)
    private = {k: v for k, v in theirs.items() if k not in OWN_KEYS}
    for key in OWN_KEYS:
        value = mine.get(key, "") if isinstance(mine, dict) else ""
        if value:
            private[key] = value
        elif theirs.get(key):
            private[key] = ""  # cleared; a key never written stays absent
    out["extendedProperties"] = {"private": private}
    if "recurrence" in body:
        modeled, _ = _split_lines(body["recurrence"])
        _, others = _split_lines(stored.get("recurrence"))
        if modeled:
            out["recurrence"] = [*modeled, *others]
        elif stored.get("recurrence"):
            out["recurrence"] = []  # it stopped repeating
        else:
            del out["recurrence"]
    return out


def render_body(
    event: Event, stored: Mapping[str, Any] | None, privacy: Privacy, labels: Labels
) -> dict[str, Any]:
    """``plain_body`` fitted onto ``stored`` (see ``with_context``)."""
    return with_context(plain_body(event, privacy, labels), stored)


def patch_for(body: Mapping[str, Any], base: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields of ``body`` that differ from ``base`` (the stored resource's own rendering),
    ready to PATCH: a start/end that changes between date and dateTime names the other key as
    null so Google drops it. Everything when there is no base."""
    out: dict[str, Any] = {}
    for key in BODY_FIELDS:
        if key not in body:
            continue
        if base is not None and base.get(key) == body[key]:
            continue
        value = body[key]
        if key in ("start", "end"):
            value = {"date": None, "dateTime": None, "timeZone": None, **value}
        out[key] = value
    return out


def changes(
    body: Mapping[str, Any], resource: Mapping[str, Any], base: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The PATCH that brings ``resource`` (Google's copy) to ``body`` (fitted onto it, see
    ``with_context``). Times, recurrence, status, transparency and reminders are compared with
    ``base``, the resource rendered the way Carecal renders (so Google's own spelling of the
    same time is no change). The texts and Carecal's private properties are compared with what
    Google actually holds: what Google sees of them depends on the privacy level and the
    labels, which may have changed since they were written. Carecal's ids alone are no
    change."""
    structural = {k: v for k, v in body.items() if k not in (*TEXT_FIELDS, "extendedProperties")}
    out = patch_for(structural, base)
    for key in TEXT_FIELDS:
        if key in body and body[key] != text_of(resource, key):
            out[key] = body[key]
    mine = _without_ids(body.get("extendedProperties", {}).get("private", {}))
    theirs = _without_ids(private_of(resource))
    # Without carecalStatus Google's own status is the one read: no change when it agrees.
    theirs.setdefault(P_STATUS, status_of(resource).value)
    if mine != theirs:
        out["extendedProperties"] = body["extendedProperties"]
    return out


def _without_ids(private: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in private.items() if k not in (P_ID, P_UID) and v}
