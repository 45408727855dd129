"""Event resources of the Google emulator: validation, writes, instances and exceptions.

Everything here runs under the emulator's lock, on whichever HTTP handler thread (or test
thread, for admin hooks) called in; errors are GoogleApiError.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.google_errors import GoogleApiError, not_found
from tests.fakes.google_recurrence import edt_for, expand, instance_id, invalid, moment

ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
# Fields the server sets; a client's values for them are ignored on insert/update/patch.
READ_ONLY = frozenset(
    {
        "kind", "etag", "id", "created", "updated", "htmlLink", "iCalUID", "recurringEventId",
        "originalStartTime", "creator", "organizer", "hangoutLink", "privateCopy", "eventType",
    }
)  # fmt: skip
_TIME_FIELDS = ("start", "end", "recurrence")


def rfc3339(moment_: datetime) -> str:
    """Google's UTC timestamp form, with milliseconds."""
    return moment_.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Google's patch semantics: objects merge recursively, arrays and scalars replace, null
    clears."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


@dataclass
class Calendar:
    """One calendar's events (masters, single events, exceptions and tombstones)."""

    id: str
    summary: str
    time_zone: str
    primary: bool = False
    access_role: str = "owner"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)  # event id -> write sequence number
    etag: str = '"0"'


class EventWriter:
    """Validates and applies writes to one emulator's calendars; `known` is the set of Event
    fields the discovery document defines (anything else a client sends is dropped)."""

    def __init__(self, known_fields: frozenset[str], owner_email: str) -> None:
        self.known = known_fields
        self.owner = owner_email
        self.seq = 0

    # ----- bookkeeping -------------------------------------------------------------------
    def _stamp(self, cal: Calendar, event: dict[str, Any], *, touch_updated: bool) -> None:
        """Give `event` a new etag (and `updated`) and record the change for sync tokens."""
        self.seq += 1
        now = datetime.now(UTC)
        event["etag"] = f'"{3_180_000_000_000_000 + self.seq}"'
        if touch_updated or "updated" not in event:
            event["updated"] = rfc3339(now)
        cal.events[event["id"]] = event
        cal.changed[event["id"]] = self.seq

    def _clean(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            k: copy.deepcopy(v)
            for k, v in body.items()
            if k in self.known and k not in READ_ONLY and v is not None
        }

    def _validate(self, cal: Calendar, event: dict[str, Any]) -> None:
        for key in ("start", "end"):
            if not isinstance(event.get(key), dict):
                raise GoogleApiError(
                    400, "required", f"Missing {key} time.", location=key, location_type="other"
                )
        start, start_all_day = moment(event["start"], cal.time_zone, "start")
        end, end_all_day = moment(event["end"], cal.time_zone, "end")
        if start_all_day != end_all_day:
            raise invalid(
                "Start and end times must either both be date or both be dateTime.", "end"
            )
        if end < start:
            raise GoogleApiError(400, "timeRangeEmpty", "The specified time range is empty.")
        lines = event.get("recurrence")
        if lines is not None:
            if "recurringEventId" in event:
                raise invalid("Instances cannot have a recurrence.", "recurrence")
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                raise invalid("Invalid recurrence rule.", "recurrence")
            if not start_all_day and not event["start"].get("timeZone"):
                raise GoogleApiError(
                    400,
                    "required",
                    "Missing time zone definition for start time.",
                    location="start.timeZone",
                    location_type="other",
                )
            expand(lines, start, start_all_day)

    # ----- lookups ----------------------------------------------------------------------
    def virtual_instance(self, cal: Calendar, event_id: str) -> dict[str, Any] | None:
        """The unmodified instance `event_id` of a live series, or None."""
        master_id, sep, _ = event_id.rpartition("_")
        master = cal.events.get(master_id) if sep else None
        if not master or master.get("status") == "cancelled" or not master.get("recurrence"):
            return None
        for inst in self.instances_of(cal, master, until=None):
            if inst["id"] == event_id:
                return inst
        return None

    def instances_of(
        self, cal: Calendar, master: dict[str, Any], *, until: datetime | None
    ) -> list[dict[str, Any]]:
        """The series' instances (exceptions substituted, cancelled ones included)."""
        start, all_day = moment(master["start"], cal.time_zone, "start")
        end, _ = moment(master["end"], cal.time_zone, "end")
        duration = end - start
        tz_name = master["start"].get("timeZone")
        out = []
        for original in expand(master.get("recurrence", []), start, all_day, until=until):
            iid = instance_id(master["id"], original, all_day)
            stored = cal.events.get(iid)
            if stored is not None:
                out.append(stored)
                continue
            inst = {k: copy.deepcopy(v) for k, v in master.items() if k != "recurrence"}
            inst["id"] = iid
            inst["recurringEventId"] = master["id"]
            inst["originalStartTime"] = edt_for(original, all_day, tz_name)
            inst["start"] = edt_for(original, all_day, tz_name)
            inst["end"] = edt_for(original + duration, all_day, master["end"].get("timeZone"))
            out.append(inst)
        return out

    def get(self, cal: Calendar, event_id: str) -> dict[str, Any]:
        """A stored event (cancelled ones too) or a virtual instance; 404 otherwise."""
        event = cal.events.get(event_id) or self.virtual_instance(cal, event_id)
        if event is None:
            raise not_found()
        return event

    # ----- writes -----------------------------------------------------------------------
    def insert(self, cal: Calendar, body: dict[str, Any]) -> dict[str, Any]:
        """events.insert: a client-supplied id must be base32hex (5-1024) and new."""
        event_id = body.get("id")
        if event_id is None:
            event_id = uuid.uuid4().hex  # lowercase hex is valid base32hex
        elif not isinstance(event_id, str) or not ID_RE.match(event_id):
            raise invalid("Invalid resource id value.", "id")
        elif event_id in cal.events:
            raise GoogleApiError(409, "duplicate", "The requested identifier already exists.")
        event = self._clean(body)
        event.setdefault("status", "confirmed")
        self._validate(cal, event)
        now = rfc3339(datetime.now(UTC))
        ical_uid = body.get("iCalUID")
        event.update(
            kind="calendar#event",
            id=event_id,
            iCalUID=ical_uid if isinstance(ical_uid, str) else f"{event_id}@google.com",
            created=now,
            htmlLink=f"https://www.google.com/calendar/event?eid={event_id}",
            creator={"email": self.owner, "self": True},
            organizer={"email": cal.id, "self": True},
            eventType="default",
        )
        event.setdefault("sequence", 0)
        event.setdefault("reminders", {"useDefault": True})
        self._stamp(cal, event, touch_updated=True)
        return event

    def _writable(self, cal: Calendar, event_id: str, if_match: str | None) -> dict[str, Any]:
        """The event a patch/update/delete acts on, after the If-Match check; a virtual
        instance becomes a stored exception here."""
        current = self.get(cal, event_id)
        if if_match is not None and if_match != "*" and if_match != current["etag"]:
            raise GoogleApiError(
                412,
                "conditionNotMet",
                "Precondition Failed",
                location="If-Match",
                location_type="header",
            )
        return copy.deepcopy(current)

    def _finish(
        self, cal: Calendar, before: dict[str, Any], after: dict[str, Any]
    ) -> dict[str, Any]:
        for key in READ_ONLY:
            if key in before:
                after[key] = before[key]
            else:
                after.pop(key, None)
        self._validate(cal, after)
        if any(before.get(k) != after.get(k) for k in _TIME_FIELDS) and after.get(
            "sequence", 0
        ) <= before.get("sequence", 0):
            after["sequence"] = before.get("sequence", 0) + 1
        # Reminders are per-user settings: changing only them leaves `updated` alone.
        others = {k for k in set(before) | set(after) if k not in ("reminders", "etag", "updated")}
        touch = any(before.get(k) != after.get(k) for k in others)
        self._stamp(cal, after, touch_updated=touch)
        return after

    def patch(
        self, cal: Calendar, event_id: str, body: dict[str, Any], if_match: str | None
    ) -> dict[str, Any]:
        """events.patch: merge the body into the stored resource."""
        before = self._writable(cal, event_id, if_match)
        if before.get("status") == "cancelled" and body.get("status") in (None, "cancelled"):
            raise GoogleApiError(410, "deleted", "Resource has been deleted")
        after = copy.deepcopy(before)
        merge_patch(
            after, {k: v for k, v in body.items() if k in self.known and k not in READ_ONLY}
        )
        return self._finish(cal, before, after)

    def update(
        self, cal: Calendar, event_id: str, body: dict[str, Any], if_match: str | None
    ) -> dict[str, Any]:
        """events.update: the body replaces every writable field (omitted ones are cleared)."""
        before = self._writable(cal, event_id, if_match)
        if before.get("status") == "cancelled" and body.get("status") in (None, "cancelled"):
            raise GoogleApiError(410, "deleted", "Resource has been deleted")
        after = self._clean(body)
        after.setdefault("status", "confirmed")
        return self._finish(cal, before, after)

    def delete(self, cal: Calendar, event_id: str, if_match: str | None) -> None:
        """events.delete: leaves a cancelled tombstone (a cancelled exception for an
        instance); a series' exceptions are cancelled with it; 410 when already deleted."""
        event = self._writable(cal, event_id, if_match)
        if event.get("status") == "cancelled":
            raise GoogleApiError(410, "deleted", "Resource has been deleted")
        event["status"] = "cancelled"
        self._stamp(cal, event, touch_updated=True)
        if event.get("recurrence"):
            for other in list(cal.events.values()):
                if other.get("recurringEventId") == event_id and other["status"] != "cancelled":
                    other = copy.deepcopy(other)
                    other["status"] = "cancelled"
                    self._stamp(cal, other, touch_updated=True)
