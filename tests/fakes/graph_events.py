"""The mailbox behind the Graph emulator: calendars, events, series with their exceptions and
cancelled occurrences, ids, versioning, validation and the JSON Graph renders for an event.

A series is one stored item (its master) plus per-occurrence overrides; occurrences are made
up when listed. Ids are opaque, case-sensitive base64: the default ("REST") form carries the
item's move generation, so it changes when the item moves to another calendar, while the
immutable form (asked for with `Prefer: IdType="ImmutableId"`) never does. Either form is
accepted on input. Everything here runs under the emulator's lock; errors are GraphError.
"""

from __future__ import annotations

import base64
import copy
import html
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.graph_errors import GraphError, body_read, invalid, malformed_id, not_found
from tests.fakes.graph_recurrence import Series, normalize, utc_stamp
from tests.fakes.graph_zones import zone

# Properties a client may write (transactionId only on create).
WRITABLE = frozenset(
    {
        "subject", "body", "start", "end", "isAllDay", "showAs", "sensitivity", "importance",
        "categories", "location", "locations", "attendees", "isOnlineMeeting",
        "onlineMeetingProvider", "reminderMinutesBeforeStart", "isReminderOn", "recurrence",
        "singleValueExtendedProperties", "transactionId",
    }
)  # fmt: skip
# Event properties Graph has that the server sets, or that the emulator accepts and drops
# (they are outside the field whitelist it renders); a client may send them back unchanged.
IGNORED = frozenset(
    {
        "id", "changeKey", "createdDateTime", "lastModifiedDateTime", "iCalUId", "uid", "type",
        "seriesMasterId", "originalStart", "originalStartTimeZone", "originalEndTimeZone",
        "isCancelled", "onlineMeeting", "onlineMeetingUrl", "organizer", "webLink",
        "bodyPreview", "hasAttachments", "isOrganizer", "responseStatus", "isDraft",
        "responseRequested", "hideAttendees", "allowNewTimeProposals", "occurrenceId",
        "multiValueExtendedProperties", "extensions", "attachments", "calendar", "instances",
    }
)  # fmt: skip
# What only "another device" (admin hooks) may set.
ADMIN_ONLY = frozenset({"isCancelled", "onlineMeeting", "organizer"})
SHOW_AS = ("free", "tentative", "busy", "oof", "workingElsewhere", "unknown")
SENSITIVITY = ("normal", "personal", "private", "confidential")
IMPORTANCE = ("low", "normal", "high")
PROVIDERS = ("unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer")
ATTENDEE_TYPES = ("required", "optional", "resource")
RESPONSES = ("none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded")
# Time properties: changing one of them on a series master drops its exceptions (Outlook warns
# that exceptions are lost when a series' time or pattern changes).
SERIES_SHAPE = ("start", "end", "isAllDay", "recurrence")
_GOID_CLASS = "040000008200E00074C5B7101A82E008"  # the Outlook global object id class bytes
_NO_TIME = "0001-01-01T00:00:00Z"
_LOCAL_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$")
_DEFAULT_LOCATION = {
    "displayName": "", "locationType": "default", "uniqueIdType": "unknown",
    "address": {}, "coordinates": {},
}  # fmt: skip


def local_text(moment: datetime) -> str:
    """Graph's offset-less dateTime form with seven fractional digits."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0"


def parse_local(value: Any, where: str) -> datetime:
    """A naive datetime from Graph's offset-less dateTime; 400 otherwise."""
    if not isinstance(value, str) or not _LOCAL_RE.match(value):
        raise invalid(f"{where}.dateTime must be a date and time without an offset.")
    head, _, fraction = value.partition(".")
    parsed = datetime.fromisoformat(head)
    return parsed.replace(microsecond=int((fraction + "000000")[:6])) if fraction else parsed


@dataclass
class Stamp:
    """One version of an item: changeKey (the etag wraps it) and lastModifiedDateTime."""

    change_key: str
    modified: str

    @property
    def etag(self) -> str:
        """The @odata.etag: a weak etag wrapping the changeKey."""
        return f'W/"{self.change_key}"'


@dataclass
class Override:
    """An exception of a series: the properties it changes from the master's."""

    fields: dict[str, Any]
    created: str
    stamp: Stamp


@dataclass
class Item:
    """A stored event: a single instance or a series master with its exceptions."""

    key: str
    calendar_id: str
    fields: dict[str, Any]
    created: str
    stamp: Stamp
    series_stamp: Stamp  # the version occurrences show (changes on series-level edits only)
    uid_hex: str
    seq: int
    gen: int = 0
    transaction_id: str | None = None
    overrides: dict[datetime, Override] = field(default_factory=dict)  # original start (UTC)
    cancelled: set[datetime] = field(default_factory=set)


@dataclass
class Inst:
    """One event as Graph shows it: a single instance, a master, an occurrence or an
    exception (`original` is the occurrence's original start in UTC)."""

    item: Item
    original: datetime | None
    kind: str
    fields: dict[str, Any]
    stamp: Stamp
    created: str

    @property
    def identity(self) -> tuple[str, datetime | None]:
        """(item key, original start): what stays the same across ids and versions."""
        return (self.item.key, self.original)


@dataclass
class CalendarInfo:
    """One calendar folder of the mailbox."""

    id: str
    name: str
    is_default: bool
    color: str = "auto"
    change_key: str = ""
    can_edit: bool = True


@dataclass(frozen=True)
class View:
    """How the request wants events rendered (from its Prefer headers and query)."""

    immutable: bool = False
    tz_label: str = "UTC"
    text_body: bool = False
    expand: tuple[str, ...] | None = None  # extended property ids to include; () for all


def span(fields: dict[str, Any]) -> tuple[datetime, datetime]:
    """(start, end) of stored event fields as aware UTC moments."""
    start = parse_local(fields["start"]["dateTime"], "start")
    end = parse_local(fields["end"]["dateTime"], "end")
    return (
        start.replace(tzinfo=zone(fields["start"]["timeZone"])).astimezone(UTC),
        end.replace(tzinfo=zone(fields["end"]["timeZone"])).astimezone(UTC),
    )


def overlaps(first: datetime, last: datetime, low: datetime, high: datetime) -> bool:
    """Whether an event [first, last) shows in the window [low, high) (a zero-length event
    shows when it starts inside the window)."""
    return first < high and (last > low or (first == last and first >= low))


def _text_to_html(text: str) -> str:
    escaped = html.escape(text).replace("\r\n", "\n").replace("\n", "<br>\r\n")
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; '
        'charset=utf-8">\r\n</head>\r\n<body>\r\n<div>' + escaped + "</div>\r\n</body>\r\n</html>"
    )


def _html_to_text(markup: str) -> str:
    without_head = re.sub(r"(?is)<head.*?</head>", "", markup)
    breaks = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", without_head)
    return html.unescape(re.sub(r"<[^>]+>", "", breaks)).strip()


class Mailbox:
    """One user's calendars and events."""

    def __init__(self, owner_email: str, owner_name: str) -> None:
        self.owner = {"emailAddress": {"name": owner_name, "address": owner_email}}
        self.guid = secrets.token_bytes(12)
        self.calendars: dict[str, CalendarInfo] = {}
        self.items: dict[str, Item] = {}
        self.tombstones: dict[str, Item] = {}
        self.transactions: dict[str, str] = {}  # transactionId -> item key
        self.seq = 0
        self._last_modified = datetime.now(UTC)
        self._keys = 0
        self._series: dict[str, tuple[str, Series]] = {}

    # ----- ids ----------------------------------------------------------------------------
    def _encode(self, prefix: str, text: str) -> str:
        return prefix + base64.urlsafe_b64encode(self.guid + text.encode()).decode()

    def calendar_id(self, number: int) -> str:
        """The opaque id of the mailbox's `number`th calendar."""
        return self._encode("AAMkAGI2", f"C:{number}")

    def id_for(self, item: Item, original: datetime | None, immutable: bool) -> str:
        """The id of an item (original None) or of one of its occurrences."""
        text = f"I:{item.key}" if immutable else f"R:{item.key}:{item.gen}"
        if original is not None:
            text += ":" + original.strftime("%Y%m%dT%H%M%SZ")
        return self._encode("AAkALgAA" if immutable else "AAMkAGI2", text)

    def resolve(self, event_id: str) -> tuple[Item, datetime | None]:
        """(item, original start or None) an id names; 400 when the id is not one this mailbox
        could have issued, 404 when it names nothing live (a REST id from before a move
        included)."""
        prefix = event_id[:8]
        kind = {"AAkALgAA": "I", "AAMkAGI2": "R"}.get(prefix)
        if kind is None:
            raise malformed_id()
        try:
            raw = base64.urlsafe_b64decode(event_id[len(prefix) :].encode("ascii"))
            if base64.urlsafe_b64encode(raw).decode() != event_id[len(prefix) :]:
                raise ValueError("not canonical")
            text = raw[len(self.guid) :].decode()
        except (ValueError, UnicodeError):
            raise malformed_id() from None
        parts = text.split(":")
        if not raw.startswith(self.guid) or parts[0] != kind:
            raise malformed_id()
        item = self.items.get(parts[1])
        if item is None:
            raise not_found()
        rest = parts[2:]
        if kind == "R":
            if not rest or rest[0] != str(item.gen):
                raise not_found()
            rest = rest[1:]
        if not rest:
            return item, None
        try:
            original = datetime.strptime(rest[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise malformed_id() from None
        if item.fields.get("recurrence") is None or original in item.cancelled:
            raise not_found()
        if original not in item.overrides and not self.series(item).contains(
            original.astimezone(self.series(item).tz)
        ):
            raise not_found()
        return item, original

    # ----- versions -----------------------------------------------------------------------
    def _stamp(self) -> Stamp:
        now = max(datetime.now(UTC), self._last_modified + timedelta(microseconds=1))
        self._last_modified = now
        key = base64.b64encode(secrets.token_bytes(4) + b"\0\0\0\x01" + secrets.token_bytes(12))
        return Stamp(key.decode(), local_text(now.replace(tzinfo=None)) + "Z")

    def _touch(self, item: Item) -> None:
        self.seq += 1
        item.seq = self.seq
        item.stamp = self._stamp()

    # ----- validation ---------------------------------------------------------------------
    def _clean(self, body: dict[str, Any], *, admin: bool, create: bool) -> dict[str, Any]:
        """The writable properties of a request body, validated one by one."""
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key.startswith("@odata."):
                continue
            if key in ADMIN_ONLY and admin:
                out[key] = copy.deepcopy(value)
                continue
            if key in IGNORED:
                continue
            if key not in WRITABLE:
                raise body_read(
                    f"The property '{key}' does not exist on type 'microsoft.graph.event'."
                )
            if key == "transactionId" and not create:
                continue  # cannot be changed after creation
            out[key] = self._value(key, value)
        return out

    @staticmethod
    def _enum(value: Any, allowed: tuple[str, ...], key: str) -> str:
        for choice in allowed:
            if isinstance(value, str) and value.lower() == choice.lower():
                return choice
        raise body_read(f"Cannot convert {value!r} for '{key}': requested value was not found.")

    def _value(self, key: str, value: Any) -> Any:
        """One property's stored form; 400 for a value of the wrong type or range."""

        def need(ok: bool) -> None:
            if not ok:
                raise body_read(f"Cannot convert the value of property '{key}'.")

        if value is None:
            need(key in ("recurrence", "location", "body", "subject"))
            return None
        if key in ("subject", "transactionId"):
            need(isinstance(value, str))
            return value
        if key in ("isAllDay", "isOnlineMeeting", "isReminderOn"):
            need(isinstance(value, bool))
            return value
        if key == "reminderMinutesBeforeStart":
            need(isinstance(value, int) and not isinstance(value, bool))
            return value
        if key == "showAs":
            return self._enum(value, SHOW_AS, key)
        if key == "sensitivity":
            return self._enum(value, SENSITIVITY, key)
        if key == "importance":
            return self._enum(value, IMPORTANCE, key)
        if key == "onlineMeetingProvider":
            return self._enum(value, PROVIDERS, key)
        if key == "categories":
            need(isinstance(value, list) and all(isinstance(c, str) for c in value))
            return list(value)
        if key == "body":
            need(isinstance(value, dict) and set(value) <= {"contentType", "content"})
            return {
                "contentType": self._enum(value.get("contentType", "text"), ("text", "html"), key),
                "content": str(value.get("content") or ""),
            }
        if key in ("start", "end"):
            need(isinstance(value, dict) and set(value) <= {"dateTime", "timeZone", "@odata.type"})
            moment = parse_local(value.get("dateTime"), key)
            name = value.get("timeZone") or "UTC"
            zone(name)
            return {"dateTime": local_text(moment), "timeZone": name}
        if key == "location":
            need(isinstance(value, dict))
            return {**copy.deepcopy(_DEFAULT_LOCATION), **copy.deepcopy(value)}
        if key == "locations":
            need(isinstance(value, list) and all(isinstance(v, dict) for v in value))
            return copy.deepcopy(value)
        if key == "attendees":
            need(isinstance(value, list))
            return [self._attendee(a) for a in value]
        if key == "singleValueExtendedProperties":
            need(isinstance(value, list))
            for prop in value:
                need(
                    isinstance(prop, dict)
                    and isinstance(prop.get("id"), str)
                    and isinstance(prop.get("value"), str)
                    and set(prop) <= {"id", "value"}
                )
            return copy.deepcopy(value)
        return copy.deepcopy(value)  # recurrence: checked against start in _check

    def _attendee(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or not isinstance(value.get("emailAddress"), dict):
            raise body_read("Cannot convert the value of property 'attendees'.")
        status = value.get("status") or {"response": "none", "time": _NO_TIME}
        return {
            "type": self._enum(value.get("type", "required"), ATTENDEE_TYPES, "attendees"),
            "status": {
                "response": self._enum(status.get("response", "none"), RESPONSES, "attendees"),
                "time": status.get("time", _NO_TIME),
            },
            "emailAddress": {
                "name": value["emailAddress"].get("name", ""),
                "address": value["emailAddress"].get("address", ""),
            },
        }

    def _check(self, fields: dict[str, Any], recurrence_given: Any = None) -> None:
        """Cross-property rules: times present and ordered, all-day at midnight, a valid
        pattern starting on the series' first day (moved to its first occurrence)."""
        for key in ("start", "end"):
            if not isinstance(fields.get(key), dict):
                raise invalid(f"An event needs {key}.")
        start, end = span(fields)
        if end < start:
            raise GraphError(
                400,
                "ErrorCalendarEndDateIsEarlierThanStartDate",
                "The end date occurs before the start date.",
            )
        if fields.get("isAllDay"):
            local_start = parse_local(fields["start"]["dateTime"], "start")
            local_end = parse_local(fields["end"]["dateTime"], "end")
            if local_start.time() != time(0) or local_end.time() != time(0) or end <= start:
                raise invalid(
                    "An all-day event's start and end must be midnight, at least a day apart."
                )
        if recurrence_given is not None:
            local_start = parse_local(fields["start"]["dateTime"], "start")
            fields["recurrence"] = normalize(
                recurrence_given, local_start.date(), fields["start"]["timeZone"]
            )
        if fields.get("recurrence") is not None:
            first = Series.of(fields["recurrence"], start).first()
            if first is None:
                raise GraphError(
                    400,
                    "ErrorRecurrenceHasNoOccurrence",
                    "The recurrence pattern gives no occurrence.",
                )
            if first != start:  # the series begins on the pattern's first matching day
                self._shift(fields, first - start)

    @staticmethod
    def _shift(fields: dict[str, Any], delta: timedelta) -> None:
        for key in ("start", "end"):
            tz = zone(fields[key]["timeZone"])
            local = parse_local(fields[key]["dateTime"], key).replace(tzinfo=tz)
            moved = (local.astimezone(UTC) + delta).astimezone(tz).replace(tzinfo=None)
            fields[key]["dateTime"] = local_text(moved)

    # ----- reads --------------------------------------------------------------------------
    def series(self, item: Item) -> Series:
        """The expansion of a master's pattern (cached per series version)."""
        cached = self._series.get(item.key)
        if cached is None or cached[0] != item.series_stamp.change_key:
            cached = (
                item.series_stamp.change_key,
                Series.of(item.fields["recurrence"], span(item.fields)[0]),
            )
            self._series[item.key] = cached
        return cached[1]

    def kind_of(self, item: Item) -> str:
        """seriesMaster or singleInstance."""
        return "seriesMaster" if item.fields.get("recurrence") is not None else "singleInstance"

    def as_inst(self, item: Item) -> Inst:
        """A stored item as itself (single instance or master)."""
        return Inst(item, None, self.kind_of(item), item.fields, item.stamp, item.created)

    def occurrence(self, item: Item, original: datetime) -> Inst:
        """The occurrence (or exception) of `item` originally starting at `original`."""
        master = item.fields
        fields = {k: v for k, v in master.items() if k != "recurrence"}
        start_tz = zone(master["start"]["timeZone"])
        end_tz = zone(master["end"]["timeZone"])
        start, end = span(master)
        if master.get("isAllDay"):
            days = (
                parse_local(master["end"]["dateTime"], "end").date()
                - parse_local(master["start"]["dateTime"], "start").date()
            )
            first_local = original.astimezone(start_tz).replace(tzinfo=None)
            last_local = first_local + days
        else:
            first_local = original.astimezone(start_tz).replace(tzinfo=None)
            last_local = (original + (end - start)).astimezone(end_tz).replace(tzinfo=None)
        fields["start"] = {**master["start"], "dateTime": local_text(first_local)}
        fields["end"] = {**master["end"], "dateTime": local_text(last_local)}
        override = item.overrides.get(original)
        if override is None:
            return Inst(item, original, "occurrence", fields, item.series_stamp, item.created)
        fields.update(copy.deepcopy(override.fields))
        return Inst(item, original, "exception", fields, override.stamp, override.created)

    def instances(self, item: Item, low: datetime | None, high: datetime) -> list[Inst]:
        """A master's occurrences and exceptions overlapping [low, high) (all those starting
        before `high` when `low` is None), by start."""
        start, end = span(item.fields)
        out = []
        for moment in self.series(item).starts(high):
            original = moment.astimezone(UTC)
            if original in item.cancelled or original in item.overrides:
                continue
            if low is None or overlaps(original, original + (end - start), low, high):
                out.append(self.occurrence(item, original))
        for original in item.overrides:
            inst = self.occurrence(item, original)
            first, last = span(inst.fields)
            if first < high and (low is None or overlaps(first, last, low, high)):
                out.append(inst)
        out.sort(key=lambda i: span(i.fields)[0])
        return out

    def window(self, calendar_id: str, low: datetime, high: datetime) -> list[Inst]:
        """What calendarView shows of a calendar for [low, high): single instances,
        occurrences and exceptions (never masters), by start."""
        out: list[Inst] = []
        for item in self.items.values():
            if item.calendar_id != calendar_id:
                continue
            if item.fields.get("recurrence") is not None:
                out.extend(self.instances(item, low, high))
                continue
            if overlaps(*span(item.fields), low, high):
                out.append(self.as_inst(item))
        out.sort(key=lambda i: span(i.fields)[0])
        return out

    def get(self, event_id: str) -> Inst:
        """The event an id names (a master, single instance, occurrence or exception)."""
        item, original = self.resolve(event_id)
        return self.as_inst(item) if original is None else self.occurrence(item, original)

    # ----- writes -------------------------------------------------------------------------
    def add_calendar(self, name: str, *, default: bool = False) -> CalendarInfo:
        """A new calendar folder."""
        cal = CalendarInfo(
            self.calendar_id(len(self.calendars) + 1),
            name,
            default,
            change_key=self._stamp().change_key,
        )
        self.calendars[cal.id] = cal
        return cal

    def default_calendar(self) -> CalendarInfo:
        """The mailbox's default calendar."""
        return next(c for c in self.calendars.values() if c.is_default)

    def calendar(self, calendar_id: str) -> CalendarInfo:
        """A calendar by id; 404 for an unknown one."""
        cal = self.calendars.get(calendar_id)
        if cal is None:
            raise not_found()
        return cal

    def create(
        self, calendar_id: str, body: dict[str, Any], *, admin: bool = False
    ) -> tuple[Item, bool]:
        """POST an event: (item, created?). A transactionId seen before returns the item it
        created, unchanged (created False)."""
        cal = self.calendar(calendar_id)
        clean = self._clean(body, admin=admin, create=True)
        txid = clean.pop("transactionId", None)
        if txid is not None and self.transactions.get(txid) in self.items:
            return self.items[self.transactions[txid]], False
        fields: dict[str, Any] = {
            "subject": "",
            "body": {"contentType": "html", "content": ""},
            "isAllDay": False,
            "showAs": "busy",
            "sensitivity": "normal",
            "importance": "normal",
            "categories": [],
            "location": copy.deepcopy(_DEFAULT_LOCATION),
            "locations": [],
            "attendees": [],
            "isOnlineMeeting": False,
            "onlineMeetingProvider": "unknown",
            "onlineMeeting": None,
            "reminderMinutesBeforeStart": 15,
            "isReminderOn": True,
            "isCancelled": False,
            "organizer": copy.deepcopy(self.owner),
            "recurrence": None,
        }
        recurrence = clean.pop("recurrence", None)
        fields.update({k: v for k, v in clean.items() if v is not None})
        self._check(fields, recurrence)
        self._meeting(fields)
        self._keys += 1
        stamp = self._stamp()
        filetime = secrets.token_hex(8).upper()
        item = Item(
            key=f"{self._keys:x}",
            calendar_id=cal.id,
            fields=fields,
            created=stamp.modified,
            stamp=stamp,
            series_stamp=stamp,
            uid_hex=f"{filetime}{'0' * 16}10000000{secrets.token_hex(16).upper()}",
            seq=0,
            transaction_id=txid,
        )
        self.items[item.key] = item
        self.seq += 1
        item.seq = self.seq
        if txid is not None:
            self.transactions[txid] = item.key
        return item, True

    @staticmethod
    def _meeting(fields: dict[str, Any]) -> None:
        """An online meeting gets a join URL from the meeting service when it is turned on."""
        if (
            fields.get("isOnlineMeeting")
            and fields.get("onlineMeetingProvider", "unknown") != "unknown"
            and not fields.get("onlineMeeting")
        ):
            fields["onlineMeeting"] = {
                "joinUrl": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
                + secrets.token_urlsafe(24)
                + "%40thread.v2/0"
            }
        if not fields.get("isOnlineMeeting") and fields.get("onlineMeetingProvider") == "unknown":
            fields["onlineMeeting"] = fields.get("onlineMeeting") or None

    @staticmethod
    def check_if_match(inst: Inst, if_match: str | None) -> None:
        """412 when If-Match is not the event's current @odata.etag."""
        if if_match is not None and if_match.strip() != "*" and if_match.strip() != inst.stamp.etag:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The change key passed in the request does not match the item's current one.",
            )

    def patch(
        self, event_id: str, body: dict[str, Any], if_match: str | None, *, admin: bool = False
    ) -> Inst:
        """PATCH an event: top-level properties replace the stored ones; patching an
        occurrence makes (or edits) an exception."""
        item, original = self.resolve(event_id)
        current = self.as_inst(item) if original is None else self.occurrence(item, original)
        self.check_if_match(current, if_match)
        clean = self._clean(body, admin=admin, create=False)
        props = clean.pop("singleValueExtendedProperties", None)
        if original is None:
            fields = copy.deepcopy(item.fields)
            if "recurrence" in body and body["recurrence"] is None and fields["recurrence"]:
                raise invalid("A series cannot be turned back into a single event.")
            recurrence = clean.pop("recurrence", None)
            fields.update(clean)
            fields["singleValueExtendedProperties"] = _merge_props(
                fields.get("singleValueExtendedProperties"), props
            )
            if not fields["singleValueExtendedProperties"]:
                fields.pop("singleValueExtendedProperties")
            if recurrence is None and fields.get("recurrence") and "start" in clean:
                # The pattern's startDate follows the series' new first day.
                recurrence = copy.deepcopy(fields["recurrence"])
                local = parse_local(fields["start"]["dateTime"], "start")
                recurrence["range"]["startDate"] = local.date().isoformat()
            self._check(fields, recurrence)
            self._meeting(fields)
            reshaped = any(fields.get(k) != item.fields.get(k) for k in SERIES_SHAPE)
            item.fields = fields
            self._touch(item)
            item.series_stamp = item.stamp
            if reshaped:
                item.overrides.clear()
                item.cancelled.clear()
            for kept in item.overrides.values():
                kept.stamp = self._stamp()  # exceptions inherit what they do not change
            return self.as_inst(item)
        if "recurrence" in clean:
            raise invalid("An occurrence cannot have its own recurrence.")
        override = item.overrides.get(original)
        changes = dict(override.fields) if override else {}
        changes.update(clean)
        if props is not None:
            changes["singleValueExtendedProperties"] = _merge_props(
                current.fields.get("singleValueExtendedProperties"), props
            )
        trial = {**current.fields, **clean, "recurrence": None}
        self._check(trial)
        self._meeting(trial)
        if "onlineMeeting" in trial and trial["onlineMeeting"] != current.fields.get(
            "onlineMeeting"
        ):
            changes["onlineMeeting"] = trial["onlineMeeting"]
        if "start" in clean:
            self._check_boundaries(item, original, span(trial)[0])
        self._touch(item)  # the master carries its exceptions, so its version changes too
        created = override.created if override else item.stamp.modified
        item.overrides[original] = Override(changes, created, self._stamp())
        return self.occurrence(item, original)

    def _check_boundaries(self, item: Item, original: datetime, new_start: datetime) -> None:
        """400 ErrorOccurrenceCrossingBoundary when an occurrence would move onto or past the
        day of the occurrence before or after it."""
        series = self.series(item)
        tz = series.tz
        before, after = series.neighbours(original.astimezone(tz))
        new_day = new_start.astimezone(tz).date()

        def nearest(candidates: list[datetime]) -> date | None:
            for moment in candidates:
                key = moment.astimezone(UTC)
                if key in item.cancelled:
                    continue
                return span(self.occurrence(item, key).fields)[0].astimezone(tz).date()
            return None

        previous, following = nearest(before), nearest(after)
        if (previous is not None and new_day <= previous) or (
            following is not None and new_day >= following
        ):
            raise GraphError(
                400,
                "ErrorOccurrenceCrossingBoundary",
                "An occurrence cannot be moved onto or past the day of a neighbouring occurrence.",
            )

    def delete(self, event_id: str, if_match: str | None) -> None:
        """DELETE an event; deleting an occurrence or exception cancels that instance."""
        item, original = self.resolve(event_id)
        current = self.as_inst(item) if original is None else self.occurrence(item, original)
        self.check_if_match(current, if_match)
        if original is None:
            del self.items[item.key]
            self.seq += 1
            item.seq = self.seq
            self.tombstones[item.key] = item
            return
        item.overrides.pop(original, None)
        item.cancelled.add(original)
        self._touch(item)

    def move(self, event_id: str, calendar_id: str) -> Item:
        """Move an item to another calendar: a new REST id (the immutable id stays)."""
        item, original = self.resolve(event_id)
        if original is not None:
            raise invalid("Only a whole series or a single event can be moved.")
        item.calendar_id = self.calendar(calendar_id).id
        item.gen += 1
        self._touch(item)
        item.series_stamp = item.stamp
        return item

    # ----- rendering ----------------------------------------------------------------------
    def ical_uid(self, inst: Inst) -> str:
        """Per-occurrence iCalUId: the series' global object id with the instance's original
        date in bytes 16-19 (zeros for masters and single instances)."""
        day = "00000000"
        if inst.original is not None:
            local = inst.original.astimezone(self.series(inst.item).tz)
            day = f"{local.year:04X}{local.month:02X}{local.day:02X}"
        return _GOID_CLASS + day + inst.item.uid_hex

    def render(self, inst: Inst, view: View) -> dict[str, Any]:
        """The event JSON Graph returns."""
        fields = inst.fields
        item = inst.item
        out: dict[str, Any] = {
            "@odata.etag": inst.stamp.etag,
            "id": self.id_for(item, inst.original, view.immutable),
            "createdDateTime": inst.created,
            "lastModifiedDateTime": inst.stamp.modified,
            "changeKey": inst.stamp.change_key,
            "categories": list(fields["categories"]),
        }
        if item.transaction_id is not None:
            out["transactionId"] = item.transaction_id
        out.update(
            originalStartTimeZone=fields["start"]["timeZone"],
            originalEndTimeZone=fields["end"]["timeZone"],
            iCalUId=self.ical_uid(inst),
            reminderMinutesBeforeStart=fields["reminderMinutesBeforeStart"],
            isReminderOn=fields["isReminderOn"],
            subject=fields.get("subject") or "",
            importance=fields["importance"],
            sensitivity=fields["sensitivity"],
            isAllDay=fields["isAllDay"],
            isCancelled=fields["isCancelled"],
            seriesMasterId=(
                self.id_for(item, None, view.immutable) if inst.original is not None else None
            ),
            showAs=fields["showAs"],
            type=inst.kind,
            onlineMeetingUrl=None,
            isOnlineMeeting=fields["isOnlineMeeting"],
            onlineMeetingProvider=fields["onlineMeetingProvider"],
            recurrence=copy.deepcopy(fields.get("recurrence")),
            body=self._body(fields.get("body"), view),
            start=self._when(fields, "start", view),
            end=self._when(fields, "end", view),
            location=copy.deepcopy(fields.get("location") or _DEFAULT_LOCATION),
            locations=copy.deepcopy(fields["locations"]),
            attendees=copy.deepcopy(fields["attendees"]),
            organizer=copy.deepcopy(fields["organizer"]),
            onlineMeeting=copy.deepcopy(fields.get("onlineMeeting")),
        )
        if inst.original is not None:
            out["originalStart"] = utc_stamp(inst.original)
        if view.expand is not None:
            props = fields.get("singleValueExtendedProperties") or []
            wanted = {p.lower() for p in view.expand}
            out["singleValueExtendedProperties"] = [
                dict(p) for p in props if not wanted or p["id"].lower() in wanted
            ]
        return out

    @staticmethod
    def _body(body: dict[str, Any] | None, view: View) -> dict[str, Any]:
        body = body or {"contentType": "html", "content": ""}
        if view.text_body:
            if body["contentType"] == "html":
                return {"contentType": "text", "content": _html_to_text(body["content"])}
            return dict(body)
        if body["contentType"] == "text":
            return {"contentType": "html", "content": _text_to_html(body["content"])}
        return dict(body)

    @staticmethod
    def _when(fields: dict[str, Any], key: str, view: View) -> dict[str, Any]:
        """start/end in the zone the request prefers; all-day events keep their midnights."""
        if fields["isAllDay"]:
            local = parse_local(fields[key]["dateTime"], key)
            return {"dateTime": local_text(local), "timeZone": view.tz_label}
        stored = fields[key]
        local = parse_local(stored["dateTime"], key).replace(tzinfo=zone(stored["timeZone"]))
        shown = local.astimezone(zone(view.tz_label)).replace(tzinfo=None)
        return {"dateTime": local_text(shown), "timeZone": view.tz_label}


def _merge_props(
    stored: list[dict[str, Any]] | None, given: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Extended properties after a write: given ones replace stored ones with the same id
    (ids compare case-insensitively), the rest stay as they were."""
    out = [dict(p) for p in stored or []]
    for prop in given or []:
        out = [p for p in out if p["id"].lower() != prop["id"].lower()]
        out.append(dict(prop))
    return out


def zone_label(name: str | None) -> tuple[str, ZoneInfo]:
    """(label echoed in responses, zone) for a Prefer outlook.timezone value."""
    label = name or "UTC"
    return label, zone(label)
