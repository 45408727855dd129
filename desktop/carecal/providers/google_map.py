"""Google Calendar v3 event resources -> Carecal's domain events; the privacy levels that
decide what Google sees of an appointment, and the masks that let Carecal put back what a level
withheld. (Events -> the fields Carecal writes: providers/google_body.py.)

Pure functions: no I/O, any thread, CPU only. Reading raises ``MalformedEvent`` (a
PermanentItemError: this one item cannot be used) for a resource Carecal cannot read; the rest
raises nothing.

The representation (providers/google.py): an item is a master (or single event)
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
from carecal.ical.values import parse_date_or_datetime

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
OWN_KEYS = (
    P_ID, P_UID, P_PATIENT, P_SERVICE, P_MODE, P_STATUS, P_PARTICIPANTS, P_CAPACITY, P_PRICE,
    P_MASK, P_SIG,
)  # fmt: skip
VIDEO_PREFIX = "Video: "

_VIDEO_LINE = re.compile(r"(?:\A|\n)Video: (https?://\S+)\s*\Z")


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
    own = private_of(master).get(P_UID)
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
    """The {event id: etag} map of a RemoteRef.version (Google's and Outlook's). A version
    that is not such a map (an older or foreign one) is taken as the master's etag itself."""
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


def private_of(resource: Mapping[str, Any]) -> dict[str, str]:
    props = resource.get("extendedProperties")
    private = props.get("private") if isinstance(props, dict) else None
    if not isinstance(private, dict):
        return {}
    return {str(k): v for k, v in private.items() if isinstance(v, str)}


def zone_of(name: str | None) -> tuple[tzinfo, str]:
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
    zone, key = zone_of(name)
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
    line_zone = zone_of(params.get("TZID"))[0] if "TZID" in params else None
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


def sort_key(value: When) -> tuple[int, str]:
    if isinstance(value, datetime):
        return 1, value.astimezone(UTC).isoformat()
    return 0, value.isoformat()


def canonical(values: Sequence[When]) -> tuple[When, ...]:
    """Sorted, without repeats (by instant): both sides of a comparison list them alike."""
    seen: dict[tuple[int, str], When] = {}
    for value in values:
        seen.setdefault(sort_key(value), value)
    return tuple(seen[k] for k in sorted(seen))


@dataclass(frozen=True)
class _Recurrence:
    rrule: str | None = None
    rdates: tuple[When, ...] = ()
    exdates: tuple[When, ...] = ()
    others: tuple[str, ...] = ()  # lines Carecal does not model (EXRULE, a second RRULE)


def parse_recurrence(lines: Any, start: When) -> _Recurrence:
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
    return _Recurrence(rrule or None, canonical(rdates), canonical(exdates), tuple(others))


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


def status_of(resource: Mapping[str, Any]) -> AppointmentStatus:
    """The appointment status Carecal reads from a resource."""
    return _status(resource, private_of(resource).get(P_STATUS))


def reminder_of(reminders: Any) -> int | None:
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


def text_of(resource: Mapping[str, Any], key: str) -> str:
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
        rec = parse_recurrence(resource.get("recurrence"), start)
    private = private_of(resource)
    description, video = split_video(text_of(resource, "description"))
    sequence = resource.get("sequence")
    return Event(
        id=event_id,
        calendar_id=calendar_id,
        uid=uid,
        title=text_of(resource, "summary"),
        start=start,
        end=end,
        all_day=not isinstance(start, datetime),
        tzid=zone,
        description=description,
        location=text_of(resource, "location"),
        status=_status(resource, private.get(P_STATUS)),
        busy=resource.get("transparency") != "transparent",
        rrule=rec.rrule,
        rdates=rec.rdates,
        exdates=rec.exdates,
        recurrence_id=recurrence_id,
        master_id=master.id if master is not None else None,
        video_url=video,
        reminder_minutes=reminder_of(resource.get("reminders")),
        sequence=sequence if isinstance(sequence, int) else 0,
        raw=json.dumps(resource, separators=(",", ":"), ensure_ascii=False),
        **_own_fields(private),
    )


def original_key(resource: Mapping[str, Any]) -> tuple[int, str] | None:
    """An exception's identity within its series: its original start as an instant (or a
    date), comparable with ``sort_key`` of a local recurrence id; None when unreadable."""
    try:
        value, _ = _when(resource.get("originalStartTime"), "originalStartTime", None)
    except MalformedEvent:
        return None
    return sort_key(value)


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
        wanted = private_of(resource).get(P_ID)
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
    excluded = {sort_key(x) for x in master.exdates}
    if cancelled:
        master = master.with_changes(exdates=canonical([*master.exdates, *cancelled]))
    overrides = []
    for resource in live:
        override = resource_event(
            resource, calendar_id=calendar_id, uid=uid, event_id=local_id(resource), master=master
        )
        assert override.recurrence_id is not None
        if sort_key(override.recurrence_id) in excluded:
            continue
        overrides.append(override)
    overrides.sort(key=lambda e: sort_key(e.recurrence_id or e.start))
    return [master, *overrides]


def stored_resource(event: Event) -> dict[str, Any] | None:
    """The Google (or Graph) resource an event was read from (its ``raw``), or None (a new
    event, or a raw of another kind, such as iCalendar text)."""
    raw = event.raw
    if not raw or not raw.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("id"), str) else None


# --- masks -----------------------------------------------------------------------------------


def mask_signature(summary: str, description: str, location: str) -> str:
    """A short hash of each text Carecal wrote under a mask ("sum.desc.loc", 8 hex digits
    each): a part that no longer matches later means someone edited that text on Google."""
    return ".".join(_short_hash(t) for t in (summary, description, location))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def unmask(remote: Sequence[Event], local: Sequence[Event]) -> list[Event]:
    """Remote events with the details a privacy level withheld put back from the local events
    of the same item (matched by recurrence id; a new exception made on Google takes the local
    master's). Field by field, and only where the mask is intact: Carecal wrote it and that
    text (summary -> title, description -> notes and video link, location) still hashes to its
    part of the signature. A text someone edited on Google is a real edit and stays. Any
    thread; raises nothing."""
    by_key = {_key(e.recurrence_id): e for e in local}
    local_master = by_key.get(None)
    out: list[Event] = []
    for event in remote:
        resource = stored_resource(event)
        private = private_of(resource) if resource is not None else {}
        source = by_key.get(_key(event.recurrence_id))
        if source is None and event.recurrence_id is not None:
            source = local_master
        parts = private.get(P_SIG, "").split(".")
        if resource is None or source is None or not private.get(P_MASK) or len(parts) != 3:
            out.append(event)
            continue
        restored: dict[str, object] = {}
        if parts[0] == _short_hash(text_of(resource, "summary")):
            restored["title"] = source.title
        if parts[1] == _short_hash(text_of(resource, "description")):
            restored.update(description=source.description, video_url=source.video_url)
        if parts[2] == _short_hash(text_of(resource, "location")):
            restored["location"] = source.location
        out.append(event.with_changes(**restored) if restored else event)
    return out


def _key(value: When | None) -> tuple[int, str] | None:
    return None if value is None else sort_key(value)
