"""Google Calendar v3 event resources <-> Carecal's domain events, and the privacy levels that
decide what Google sees of an appointment.

Pure functions: no I/O, any thread, CPU only. Reading raises ``MalformedEvent`` (a
PermanentItemError: this one item cannot be used) for a resource Carecal cannot read; writing
raises nothing.

The representation (see GOOGLE.md, "Representation"): an item is a master (or single event)
plus its exceptions, as Google returned them; each domain event's ``raw`` is its own resource
as compact JSON. What Carecal writes is the *body*: only the fields it models, rendered for the
account's privacy level, patched onto the resource so everything else stays as it is on Google.

Carecal's own fields travel in ``extendedProperties.private`` (this calendar's copy only):
carecalId, carecalUid, carecalPatient, carecalService, carecalMode, carecalStatus,
carecalParticipants, carecalCapacity, carecalPrice, carecalMask, carecalMaskSig. All of them are
opaque ids, numbers or enum values; names, notes and links never go there. An empty string
means "absent" (a patch cannot be relied on to delete a key from the map).

The video link travels, when the level shows it, as a last description line "Video: <url>",
which reading strips back off.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from carecal.ical.values import parse_date_or_datetime, render_when_list, zone_key

P_ID = "carecalId"
P_UID = "carecalUid"
P_PATIENT = "carecalPatient"
P_SERVICE = "carecalService"
P_MODE = "carecalMode"
P_STATUS = "carecalStatus"
P_PARTICIPANTS = "carecalParticipants"
P_CAPACITY = "carecalCapacity"
P_PRICE = "carecalPrice"
P_MASK = "carecalMask"
P_SIG = "carecalMaskSig"

VIDEO_PREFIX = "Video: "
BUSY_TITLE = "Busy"
APPOINTMENT_TITLE = "Appointment"
_VIDEO_LINE = re.compile(r"(?:\A|\n)Video: (https?://\S+)\s*\Z")
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


class Privacy(enum.StrEnum):
    """What Google sees of an appointment (per account)."""

    FULL = "full"  # title, notes, location and video link as they are
    INITIALS = "initials"  # "<service> · <patient initials>", nothing else (the default)
    BUSY = "busy"  # every event is "Busy", nothing else


@dataclass(frozen=True)
class Labels:
    """Names the privacy levels may show, built by services from the store (the provider
    cannot read it): patient id -> initials ("A.K."), service id -> name."""

    patient_initials: Mapping[str, str] = field(default_factory=dict)
    service_names: Mapping[str, str] = field(default_factory=dict)


class MalformedEvent(PermanentItemError):
    """Google sent an item Carecal cannot read (not JSON, missing or wrong fields). The message
    names the event id, never its title (it may name a patient)."""


# --- ids and items ---------------------------------------------------------------------------


def google_id(local_id: str) -> str:
    """The Google event id Carecal asks for when creating the item whose master has this local
    id: base32hex of its UTF-8 bytes, lowercase, unpadded (Google allows a-v and 0-9, 5 to 1024
    characters). The same local id always gives the same Google id, so a retried create is
    refused with 409 instead of making a second copy. Raises PermanentItemError for an id that
    cannot give a valid one."""
    text = base64.b32hexencode(local_id.encode("utf-8")).decode("ascii").rstrip("=").lower()
    if not 5 <= len(text) <= 1024:
        raise PermanentItemError(f"the local id {local_id[:40]!r} cannot name a Google event")
    return text


def item_text(resources: Sequence[Mapping[str, Any]]) -> str:
    """``RemoteItem.raw``: the resources as Google returned them, master first."""
    return json.dumps({"events": list(resources)}, separators=(",", ":"), ensure_ascii=False)


def item_resources(raw: str, source: str) -> list[dict[str, Any]]:
    """The resources of a ``RemoteItem.raw`` (master first). Raises MalformedEvent."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise MalformedEvent(f"{source}: the stored Google item is not JSON") from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or not events or not all(isinstance(e, dict) for e in events):
        raise MalformedEvent(f"{source}: the stored Google item holds no events")
    return events


def item_uid(master: Mapping[str, Any]) -> str:
    """The item's UID: Carecal's own (private carecalUid) when present, else Google's iCalUID,
    else (a resource Google should not send) one derived from its id."""
    own = _private(master).get(P_UID)
    if isinstance(own, str) and own:
        return own
    ical = master.get("iCalUID")
    if isinstance(ical, str) and ical:
        return ical
    return f"{master.get('id', '')}@google.com"


def version_text(resources: Sequence[Mapping[str, Any]]) -> str:
    """``RemoteRef.version``: {google id: etag} of every component, compact, sorted keys."""
    versions = {str(r.get("id", "")): str(r.get("etag", "")) for r in resources}
    return version_json(versions)


def version_json(versions: Mapping[str, str]) -> str:
    return json.dumps(dict(versions), sort_keys=True, separators=(",", ":"))


def parse_version(version: str | None, master_id: str) -> dict[str, str]:
    """The {google id: etag} map of a RemoteRef.version. A version that is not such a map (an
    older or foreign one) is taken as the master's etag itself."""
    if not version:
        return {}
    try:
        data = json.loads(version)
    except ValueError:
        data = None
    if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    return {master_id: version}


# --- reading: resource -> Event -------------------------------------------------------------


def _private(resource: Mapping[str, Any]) -> dict[str, str]:
    props = resource.get("extendedProperties")
    private = props.get("private") if isinstance(props, dict) else None
    if not isinstance(private, dict):
        return {}
    return {str(k): v for k, v in private.items() if isinstance(v, str)}


def _zone(name: str | None) -> tuple[tzinfo, str]:
    """(tzinfo, name) for an IANA name; UTC for UTC, a missing or an unknown name."""
    if not name or name.upper() in ("UTC", "ETC/UTC", "Z"):
        return UTC, "UTC"
    try:
        return ZoneInfo(name), name
    except (ZoneInfoNotFoundError, ValueError):
        return UTC, "UTC"


def _when(edt: Any, what: str, fallback_zone: str | None) -> tuple[When, str | None]:
    """(date or aware datetime, zone name or None for dates) of an EventDateTime. Raises
    MalformedEvent."""
    if not isinstance(edt, dict):
        raise MalformedEvent(f"{what} is missing")
    day = edt.get("date")
    if isinstance(day, str) and day:
        try:
            return date.fromisoformat(day), None
        except ValueError:
            raise MalformedEvent(f"{what} has an unreadable date") from None
    stamp = edt.get("dateTime")
    if not isinstance(stamp, str) or not stamp:
        raise MalformedEvent(f"{what} has neither date nor dateTime")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise MalformedEvent(f"{what} has an unreadable dateTime") from None
    name = edt.get("timeZone") if isinstance(edt.get("timeZone"), str) else fallback_zone
    zone, key = _zone(name)
    if moment.tzinfo is None:
        # RFC 3339 requires an offset; without one the time zone is the only reading left.
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(zone), key


def _coerce(value: When, like: When) -> When:
    """A recurrence value made the same kind as the series' start (date or zoned time)."""
    if isinstance(like, datetime):
        if not isinstance(value, datetime):
            return datetime.combine(value, like.timetz())
        return value.astimezone(like.tzinfo)
    return value.date() if isinstance(value, datetime) else value


def _line_values(line: str, like: When) -> list[When]:
    """The dates of one RDATE/EXDATE line (unreadable values are left out)."""
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    line_zone = _zone(params.get("TZID"))[0] if "TZID" in params else None
    out: list[When] = []
    for text in values.split(","):
        text = text.strip().split("/", 1)[0]
        if not text:
            continue
        try:
            value, utc, _note = parse_date_or_datetime(text)
        except ValueError:
            continue
        if isinstance(value, datetime):
            if utc:
                value = value.replace(tzinfo=UTC)
            elif line_zone is not None:
                value = value.replace(tzinfo=line_zone)
            else:  # a floating value: read in the series' own zone
                like_zone = like.tzinfo if isinstance(like, datetime) else UTC
                value = value.replace(tzinfo=like_zone)
        out.append(_coerce(value, like))
    return out


def _sort_key(value: When) -> tuple[int, str]:
    if isinstance(value, datetime):
        return 1, value.astimezone(UTC).isoformat()
    return 0, value.isoformat()


def _canonical(values: Sequence[When]) -> tuple[When, ...]:
    """Sorted, without repeats (by instant): both sides of a comparison list them alike."""
    seen: dict[tuple[int, str], When] = {}
    for value in values:
        seen.setdefault(_sort_key(value), value)
    return tuple(seen[k] for k in sorted(seen))


@dataclass(frozen=True)
class _Recurrence:
    rrule: str | None = None
    rdates: tuple[When, ...] = ()
    exdates: tuple[When, ...] = ()
    others: tuple[str, ...] = ()  # lines Carecal does not model (EXRULE, a second RRULE)


def _recurrence(lines: Any, start: When) -> _Recurrence:
    if not isinstance(lines, list):
        return _Recurrence()
    rrule: str | None = None
    rdates: list[When] = []
    exdates: list[When] = []
    others: list[str] = []
    for line in lines:
        if not isinstance(line, str):
            continue
        name = line.split(":", 1)[0].split(";", 1)[0].strip().upper()
        if name == "RRULE" and rrule is None:
            rrule = line.split(":", 1)[1].strip() if ":" in line else None
        elif name == "RDATE":
            rdates.extend(_line_values(line, start))
        elif name == "EXDATE":
            exdates.extend(_line_values(line, start))
        else:
            others.append(line)
    return _Recurrence(rrule or None, _canonical(rdates), _canonical(exdates), tuple(others))


_FROM_GOOGLE_STATUS = {
    "confirmed": AppointmentStatus.CONFIRMED,
    "tentative": AppointmentStatus.SCHEDULED,
}


def google_status(status: AppointmentStatus) -> str:
    """The Google status Carecal writes. Google's "cancelled" means deleted (a cancelled
    single event is gone, a cancelled exception a removed occurrence), so a cancelled visit
    that stays in the calendar is written as "tentative", like one not yet confirmed."""
    if status in (AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED):
        return "tentative"
    return "confirmed"


def _status(resource: Mapping[str, Any], own: str | None) -> AppointmentStatus:
    google = resource.get("status")
    try:
        mine = AppointmentStatus(own) if own else None
    except ValueError:
        mine = None
    # Someone may have changed the status on Google since Carecal wrote it: Google's wins then.
    if mine is not None and google_status(mine) == google:
        return mine
    return _FROM_GOOGLE_STATUS.get(str(google), AppointmentStatus.CONFIRMED)


def _reminder(reminders: Any) -> int | None:
    """The first popup override's minutes; None with Google's default reminders or none."""
    if not isinstance(reminders, dict) or reminders.get("useDefault", True) is not False:
        return None
    for item in reminders.get("overrides") or []:
        if isinstance(item, dict) and item.get("method") == "popup":
            minutes = item.get("minutes")
            if isinstance(minutes, int) and minutes >= 0:
                return minutes
    return None


def split_video(description: str) -> tuple[str, str]:
    """(description, video url): a last line "Video: <http(s) url>" is Carecal's video link."""
    match = _VIDEO_LINE.search(description)
    if match is None:
        return description, ""
    return description[: match.start()].rstrip("\n"), match.group(1)


def _own_fields(private: Mapping[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if private.get(P_PATIENT):
        fields["patient_id"] = private[P_PATIENT]
    if private.get(P_SERVICE):
        fields["service_id"] = private[P_SERVICE]
    try:
        fields["mode"] = VisitMode(private.get(P_MODE) or VisitMode.IN_PERSON.value)
    except ValueError:
        fields["mode"] = VisitMode.IN_PERSON
    if private.get(P_CAPACITY, "").isdigit():
        fields["capacity"] = int(private[P_CAPACITY])
    if private.get(P_PRICE):
        # Another app's value may not be a number: Carecal only ever writes plain ones.
        with contextlib.suppress(InvalidOperation):
            fields["price"] = Decimal(private[P_PRICE])
    fields["participants"] = _participants(private.get(P_PARTICIPANTS, ""))
    return fields


def _participants(text: str) -> tuple[Participant, ...]:
    if not text:
        return ()
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    out: list[Participant] = []
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(x, str) for x in entry):
            try:
                out.append(Participant(entry[0], Attendance(entry[1])))
            except ValueError:
                out.append(Participant(entry[0]))
    return tuple(out)


def _text(resource: Mapping[str, Any], key: str) -> str:
    value = resource.get(key)
    return value if isinstance(value, str) else ""


def resource_event(
    resource: Mapping[str, Any],
    *,
    calendar_id: str,
    uid: str,
    event_id: str,
    master: Event | None = None,
) -> Event:
    """One live resource as a domain event (without the exdates of cancelled exceptions: see
    ``item_events``). ``master``: the series' event when ``resource`` is an exception. Raises
    MalformedEvent."""
    gid = str(resource.get("id", "?"))
    start, zone = _when(resource.get("start"), f"event {gid}: start", None)
    end, _ = _when(resource.get("end"), f"event {gid}: end", zone)
    if isinstance(start, datetime) != isinstance(end, datetime):
        raise MalformedEvent(f"event {gid}: start and end are not both dates or both times")
    if end < start:
        raise MalformedEvent(f"event {gid}: ends before it starts")
    recurrence_id: When | None = None
    rec = _Recurrence()
    if master is not None:
        original, _ = _when(
            resource.get("originalStartTime"), f"event {gid}: originalStartTime", zone
        )
        recurrence_id = _coerce(original, master.start)
    else:
        rec = _recurrence(resource.get("recurrence"), start)
    private = _private(resource)
    description, video = split_video(_text(resource, "description"))
    sequence = resource.get("sequence")
    return Event(
        id=event_id,
        calendar_id=calendar_id,
        uid=uid,
        title=_text(resource, "summary"),
        start=start,
        end=end,
        all_day=not isinstance(start, datetime),
        tzid=zone,
        description=description,
        location=_text(resource, "location"),
        status=_status(resource, private.get(P_STATUS)),
        busy=resource.get("transparency") != "transparent",
        rrule=rec.rrule,
        rdates=rec.rdates,
        exdates=rec.exdates,
        recurrence_id=recurrence_id,
        master_id=master.id if master is not None else None,
        video_url=video,
        reminder_minutes=_reminder(resource.get("reminders")),
        sequence=sequence if isinstance(sequence, int) else 0,
        raw=json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
        **_own_fields(private),
    )


def is_cancelled(resource: Mapping[str, Any]) -> bool:
    return resource.get("status") == "cancelled"


def item_events(resources: Sequence[Mapping[str, Any]], calendar_id: str) -> list[Event]:
    """The item (master first, then its live exceptions) as domain events. Cancelled exceptions
    become the master's exdates; a live exception whose original start the master excludes
    (an EXDATE line) is not an occurrence and is left out. Local ids: the private carecalId
    when present and not taken by another event of the item (Google copies the master's
    properties into an exception made on Google), else a new id. Raises MalformedEvent."""
    master_res = resources[0]
    gid = str(master_res.get("id", "?"))
    if master_res.get("recurringEventId") or is_cancelled(master_res):
        raise MalformedEvent(f"event {gid}: the item does not start with a live event")
    uid = item_uid(master_res)
    used: set[str] = set()

    def local_id(resource: Mapping[str, Any]) -> str:
        wanted = _private(resource).get(P_ID)
        chosen = wanted if wanted and wanted not in used else new_id()
        used.add(chosen)
        return chosen

    master = resource_event(
        master_res, calendar_id=calendar_id, uid=uid, event_id=local_id(master_res)
    )
    cancelled: list[When] = []
    live: list[Mapping[str, Any]] = []
    for resource in resources[1:]:
        if resource.get("recurringEventId") != master_res.get("id"):
            continue  # not of this series (a listing by iCalUID may hold foreign copies)
        if is_cancelled(resource):
            original, _ = _when(
                resource.get("originalStartTime"),
                f"event {resource.get('id', '?')}: originalStartTime",
                master.tzid,
            )
            cancelled.append(_coerce(original, master.start))
        else:
            live.append(resource)
    excluded = {_sort_key(x) for x in master.exdates}
    if cancelled:
        master = master.with_changes(exdates=_canonical([*master.exdates, *cancelled]))
    overrides = []
    for resource in live:
        override = resource_event(
            resource, calendar_id=calendar_id, uid=uid, event_id=local_id(resource), master=master
        )
        assert override.recurrence_id is not None
        if _sort_key(override.recurrence_id) in excluded:
            continue
        overrides.append(override)
    overrides.sort(key=lambda e: _sort_key(e.recurrence_id or e.start))
    return [master, *overrides]


def stored_resource(event: Event) -> dict[str, Any] | None:
    """The Google resource an event was read from (its ``raw``), or None (a new event, or a raw
    of another kind, such as iCalendar text)."""
    raw = event.raw
    if not raw or not raw.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("id"), str) else None


# --- writing: Event -> body ------------------------------------------------------------------


def mask_signature(summary: str, description: str, location: str) -> str:
    """A short hash of the text Carecal wrote under a mask; a different one on Google later
    means someone edited the text there."""
    text = json.dumps([summary, description, location], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
    zone, key = _zone(name)
    local = value.astimezone(zone).replace(microsecond=0)
    return {"dateTime": local.isoformat(), "timeZone": key}


def _recurrence_lines(event: Event, others: Sequence[str]) -> list[str]:
    lines: list[str] = []
    if event.rrule:
        lines.append("RRULE:" + event.rrule.removeprefix("RRULE:"))
    for name, values in (("RDATE", event.rdates), ("EXDATE", event.exdates)):
        if not values:
            continue
        groups = render_when_list(_canonical(values), floating=False, tzid=event.tzid)
        for params, text in groups:
            head = "".join(f";{k}={v}" for k, v in params.items())
            lines.append(f"{name}{head}:{text}")
    return [*lines, *others]


def _reminders(minutes: int | None, stored: Any) -> dict[str, Any]:
    """The reminders to write: the stored ones untouched when they already say ``minutes``;
    else the first popup replaced (or added, or dropped), email reminders kept."""
    if isinstance(stored, dict) and _reminder(stored) == minutes:
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


def _private_props(
    event: Event, stored_private: Mapping[str, str], mask: str, sig: str
) -> dict[str, str]:
    ours = {
        P_ID: event.id,
        P_UID: event.uid,
        P_PATIENT: event.patient_id or "",
        P_SERVICE: event.service_id or "",
        P_MODE: event.mode.value if event.mode is not VisitMode.IN_PERSON else "",
        P_STATUS: event.status.value,
        P_PARTICIPANTS: json.dumps([[p.patient_id, p.attendance.value] for p in event.participants])
        if event.participants
        else "",
        P_CAPACITY: str(event.capacity) if event.capacity is not None else "",
        P_PRICE: _price_text(event.price),
        P_MASK: mask,
        P_SIG: sig,
    }
    private = dict(stored_private)
    for key, value in ours.items():
        if value:
            private[key] = value
        elif private.get(key):
            private[key] = ""  # cleared; an absent key is left absent
    return private


def render_body(
    event: Event, stored: Mapping[str, Any] | None, privacy: Privacy, labels: Labels
) -> dict[str, Any]:
    """The Google fields Carecal models for ``event``, rendered for ``privacy``. ``stored`` is
    the resource the event was read from (None for a new one): what it holds beyond Carecal's
    model (email reminders, other apps' private properties, EXRULE lines) is carried over, so a
    patch of these fields loses nothing. Any thread; raises nothing."""
    summary, description, location, mask = visible_text(event, privacy, labels)
    sig = mask_signature(summary, description, location) if mask else ""
    stored = stored or {}
    body: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "location": location,
        "start": event_datetime(event.start, event.tzid),
        "end": event_datetime(
            event.end, zone_key(getattr(event.end, "tzinfo", None)) or event.tzid
        ),
        "status": google_status(event.status),
        "transparency": "opaque" if event.busy else "transparent",
        "reminders": _reminders(event.reminder_minutes, stored.get("reminders")),
        "extendedProperties": {
            "private": _private_props(event, _private(stored), mask, sig),
        },
    }
    if event.recurrence_id is None and (
        event.is_recurring or event.exdates or stored.get("recurrence")
    ):
        start = event.start
        others = _recurrence(stored.get("recurrence"), start).others
        body["recurrence"] = _recurrence_lines(event, others)
    return body


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


def unmask(remote: Sequence[Event], local: Sequence[Event]) -> list[Event]:
    """Remote events with the details a privacy level withheld put back from the local events
    of the same item (matched by recurrence id; a new exception made on Google takes the local
    master's). Only where the mask is intact: Carecal wrote it and the summary, description and
    location still hash to its signature. If not, someone edited them on Google and Google's
    values stay. Any thread; raises nothing."""
    by_key = {_key(e.recurrence_id): e for e in local}
    local_master = by_key.get(None)
    out: list[Event] = []
    for event in remote:
        resource = stored_resource(event)
        private = _private(resource) if resource is not None else {}
        source = by_key.get(_key(event.recurrence_id))
        if source is None and event.recurrence_id is not None:
            source = local_master
        if (
            resource is None
            or source is None
            or not private.get(P_MASK)
            or private.get(P_SIG)
            != mask_signature(
                _text(resource, "summary"),
                _text(resource, "description"),
                _text(resource, "location"),
            )
        ):
            out.append(event)
            continue
        out.append(
            event.with_changes(
                title=source.title,
                description=source.description,
                location=source.location,
                video_url=source.video_url,
            )
        )
    return out


def _key(value: When | None) -> tuple[int, str] | None:
    return None if value is None else _sort_key(value)
