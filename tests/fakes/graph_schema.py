"""A field whitelist for what the Graph emulator sends, so it cannot drift into inventing
properties: the event fields of the reference's section 2.3 (google-graph-api.md, "Event
resource") plus the v1.0 fields its section 4 names in the Graph column (`createdDateTime`,
`location`, `locations`), Graph's collection, delta-removal, error and batch envelopes, and
the few calendar properties a client reads. Pure functions, any thread.

A spec is a Python type (or tuple of types), a compiled regex (a string that must match), a
frozenset (one of those values), a dict (an object whose keys must be among the spec's), a
one-element list (an array of that spec), or a tuple `(None, spec)` (null or that spec).
"""

from __future__ import annotations

import re
from typing import Any

_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$")  # no offset, 7 digits
_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ETAG = re.compile(r'^W/"[A-Za-z0-9+/=]+"$')
_ABSOLUTE = re.compile(r"^http://127\.0\.0\.1:\d+/v1\.0/")
_DAYS = frozenset({"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"})
_EMAIL = {"name": str, "address": str}
_TIME = {"dateTime": _LOCAL, "timeZone": str}
_LOCATION = {  # section 4 names location.displayName; the rest is Graph's location type
    "displayName": str,
    "locationType": str,
    "uniqueId": str,
    "uniqueIdType": str,
    "locationUri": str,
    "locationEmailAddress": str,
    "address": dict,
    "coordinates": dict,
}
RECURRENCE = {
    "pattern": {
        "type": frozenset(
            {
                "daily",
                "weekly",
                "absoluteMonthly",
                "relativeMonthly",
                "absoluteYearly",
                "relativeYearly",
            }
        ),
        "interval": int,
        "month": int,
        "dayOfMonth": int,
        "daysOfWeek": [_DAYS],
        "firstDayOfWeek": _DAYS,
        "index": frozenset({"first", "second", "third", "fourth", "last"}),
    },
    "range": {
        "type": frozenset({"endDate", "noEnd", "numbered"}),
        "startDate": _DATE,
        "endDate": _DATE,
        "recurrenceTimeZone": str,
        "numberOfOccurrences": int,
    },
}
# Section 2.3 of the reference, field by field (annotations Graph puts on every entity too).
EVENT: dict[str, Any] = {
    "@odata.context": str,
    "@odata.etag": _ETAG,
    "id": str,
    "iCalUId": str,
    "changeKey": str,
    "type": frozenset({"singleInstance", "occurrence", "exception", "seriesMaster"}),
    "seriesMasterId": (None, str),
    "originalStart": _UTC,
    "recurrence": (None, RECURRENCE),
    "start": _TIME,
    "end": _TIME,
    "originalStartTimeZone": str,
    "originalEndTimeZone": str,
    "isAllDay": bool,
    "showAs": frozenset({"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}),
    "isCancelled": bool,
    "onlineMeeting": (None, {"joinUrl": str}),
    "isOnlineMeeting": bool,
    "onlineMeetingProvider": str,
    "onlineMeetingUrl": (None, str),
    "transactionId": str,
    "subject": str,
    "body": {"contentType": frozenset({"html", "text"}), "content": str},
    "attendees": [
        {
            "type": frozenset({"required", "optional", "resource"}),
            "status": {"response": str, "time": _UTC},
            "emailAddress": _EMAIL,
        }
    ],
    "organizer": {"emailAddress": _EMAIL},
    "sensitivity": frozenset({"normal", "personal", "private", "confidential"}),
    "categories": [str],
    "importance": frozenset({"low", "normal", "high"}),
    "reminderMinutesBeforeStart": int,
    "isReminderOn": bool,
    "lastModifiedDateTime": _UTC,
    "singleValueExtendedProperties": [{"id": str, "value": str}],
    # Section 4, Graph column (v1.0 names).
    "createdDateTime": _UTC,
    "location": _LOCATION,
    "locations": [_LOCATION],
}
REMOVED = {
    "@odata.type": frozenset({"#microsoft.graph.event"}),
    "id": str,
    "@removed": {"reason": frozenset({"deleted", "changed"})},
}
CALENDAR = {
    "@odata.context": str,
    "id": str,
    "name": str,
    "color": str,
    "hexColor": str,
    "isDefaultCalendar": bool,
    "changeKey": str,
    "canShare": bool,
    "canViewPrivateItems": bool,
    "canEdit": bool,
    "owner": _EMAIL,
}
ERROR = {
    "error": {
        "code": str,
        "message": str,
        "innerError": {"date": str, "request-id": str, "client-request-id": str},
    }
}
_LINKS = {"@odata.context": str, "@odata.nextLink": _ABSOLUTE, "@odata.deltaLink": _ABSOLUTE}
BATCH = {"responses": [{"id": str, "status": int, "headers": dict, "body": dict}]}


def problems(value: Any, spec: Any, where: str = "$") -> list[str]:
    """Every way `value` departs from `spec` (see the module docstring)."""
    if isinstance(spec, tuple) and len(spec) == 2 and spec[0] is None:
        return [] if value is None else problems(value, spec[1], where)
    if isinstance(spec, re.Pattern):
        ok = isinstance(value, str) and spec.match(value) is not None
        return [] if ok else [f"{where}: {value!r} does not match {spec.pattern}"]
    if isinstance(spec, frozenset):
        return [] if value in spec else [f"{where}: {value!r} not one of {sorted(spec)}"]
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, spec[0], f"{where}[{i}]")]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        found: list[str] = []
        for key, item in value.items():
            if key not in spec:
                found.append(f"{where}: field {key!r} is not in the whitelist")
            else:
                found += problems(item, spec[key], f"{where}.{key}")
        return found
    if spec is int and isinstance(value, bool):
        return [f"{where}: expected a number, got a boolean"]
    return [] if isinstance(value, spec) else [f"{where}: expected {spec}, got {value!r}"]


def _collection(body: Any, entry: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("value"), list):
        return ["$: a collection needs a value array"]
    found = problems({k: v for k, v in body.items() if k != "value"}, _LINKS)
    for index, item in enumerate(body["value"]):
        spec = REMOVED if isinstance(item, dict) and "@removed" in item else entry
        found += problems(item, spec, f"$.value[{index}]")
    if "@odata.nextLink" in body and "@odata.deltaLink" in body:
        found.append("$: a page carries either a nextLink or a deltaLink, not both")
    return found


def check_response(kind: str, body: Any) -> list[str]:
    """Problems of one emulator response body of `kind` (identity bodies are not Graph
    resources and are skipped)."""
    if kind == "identity":
        return []
    if kind == "event":
        return problems(body, EVENT)
    if kind == "events":
        return _collection(body, EVENT)
    if kind == "delta":
        found = _collection(body, EVENT)
        masters = [e for e in body.get("value", []) if e.get("type") == "seriesMaster"]
        return found + (["$: delta returned a series master"] if masters else [])
    if kind == "calendar":
        return problems(body, CALENDAR)
    if kind == "calendars":
        return _collection(body, CALENDAR)
    if kind == "error":
        return problems(body, ERROR)
    if kind == "batch":
        return problems(body, BATCH)
    return [f"unknown response kind {kind!r}"]
