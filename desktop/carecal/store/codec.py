"""Event <-> database row conversion, exact in both directions.

Times are stored as text that keeps everything the domain object holds:
- a date (all-day): ``2024-03-10``
- a floating time: the wall time without offset, ``2024-03-10T09:00:00``; it is loaded with the
  display zone as tzinfo (see ``domain.models``)
- a zoned time: wall time, offset (for people reading the file) and zone key,
  ``2024-10-27T02:30:00+01:00[Europe/Warsaw;fold=1]``; ``fold=1`` (the second 02:30 of a DST
  overlap) is written only when set
- a time with a fixed offset or ``timezone.utc``: plain ISO 8601 with offset.

Beside the text the row holds UTC instants (integer seconds) for the window index. All-day and
floating entries have no single instant, so their span is widened by 14 hours on each side: wide
enough for any display zone, so the index never misses them (callers cut exactly).

All functions run on any thread and raise ``StoreError`` on rows they cannot read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carecal.domain.errors import StoreError
from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Participant,
    VisitMode,
    When,
)

ZONE_SLACK = timedelta(hours=14)
"""How far a floating or all-day entry can lie from its wall-clock reading in UTC."""

KIND_SINGLE = 0
KIND_MASTER = 1
KIND_OVERRIDE = 2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Columns holding Event fields, in the order ``event_values`` produces them.
EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "calendar_id",
    "uid",
    "recurrence_id",
    "recurrence_id_text",
    "master_id",
    "kind",
    "start_text",
    "end_text",
    "tzid",
    "start_utc",
    "end_utc",
    "all_day",
    "floating",
    "summary",
    "description",
    "location",
    "status",
    "busy",
    "rrule",
    "rdates",
    "exdates",
    "patient_id",
    "service_id",
    "mode",
    "video_url",
    "price",
    "capacity",
    "reminder_minutes",
    "sequence",
    "raw",
    "n_participants",
)


def encode_when(value: When, *, floating: bool = False) -> str:
    """Text form of a start, end, RDATE/EXDATE or recurrence id (see module docstring)."""
    if not isinstance(value, datetime):
        return value.isoformat()
    fold = ";fold=1" if value.fold else ""
    if floating or value.tzinfo is None:
        text = value.replace(tzinfo=None).isoformat()
        return f"{text}[{fold}]" if fold else text
    tz = value.tzinfo
    key = tz.key if isinstance(tz, ZoneInfo) and tz.key else ""
    if key or fold:
        return f"{value.isoformat()}[{key}{fold}]"
    # timezone.utc, a fixed offset, or another tzinfo: the instant with its offset.
    return value.isoformat()


def decode_when(text: str, floating_tz: tzinfo) -> When:
    """Inverse of ``encode_when``; floating times get ``floating_tz``. Raises StoreError."""
    try:
        if "T" not in text:
            return date.fromisoformat(text)
        if text.endswith("]"):
            stamp, inner = text[:-1].split("[", 1)
            key, _, flag = inner.partition(";")
            parsed = datetime.fromisoformat(stamp)
            zone = ZoneInfo(key) if key else (parsed.tzinfo or floating_tz)
            return parsed.replace(tzinfo=zone, fold=1 if flag == "fold=1" else 0)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=floating_tz)
        return parsed
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise StoreError(f"a stored time cannot be read: {text!r}") from exc


def recurrence_key(value: When | None, *, floating: bool = False) -> str:
    """The identity of an instance within its series: the same instant gives the same key
    whatever zone it was written in. '' for "not an override" (unique index needs non-NULL)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if floating or value.tzinfo is None:
        return value.replace(tzinfo=None).isoformat()
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_seconds(value: When, *, floating: bool, edge: str) -> int:
    """Integer UTC seconds for the window index; ``edge`` is "start" or "end". Entries without
    one instant (dates, floating) are widened by ``ZONE_SLACK`` so no zone is missed."""
    if isinstance(value, datetime) and not floating and value.tzinfo is not None:
        seconds = (value - _EPOCH).total_seconds()
        return math.floor(seconds) if edge == "start" else math.ceil(seconds)
    if isinstance(value, datetime):
        wall = value.replace(tzinfo=UTC)
    else:
        wall = datetime(value.year, value.month, value.day, tzinfo=UTC)
    shifted = wall - ZONE_SLACK if edge == "start" else wall + ZONE_SLACK
    seconds = (shifted - _EPOCH).total_seconds()
    return math.floor(seconds) if edge == "start" else math.ceil(seconds)


def event_kind(event: Event) -> int:
    """Single, master or (linked) override; an override without master is indexed as a single."""
    if event.recurrence_id is not None:
        return KIND_OVERRIDE if event.master_id is not None else KIND_SINGLE
    return KIND_MASTER if event.is_recurring else KIND_SINGLE


def _whens_json(values: Sequence[When], floating: bool) -> str:
    if not values:
        return "[]"
    return json.dumps([encode_when(v, floating=floating) for v in values])


def event_values(event: Event) -> tuple[Any, ...]:
    """The row values for ``EVENT_FIELDS``. Runs on any thread."""
    fl = event.floating
    return (
        event.id,
        event.calendar_id,
        event.uid,
        recurrence_key(event.recurrence_id, floating=fl),
        None if event.recurrence_id is None else encode_when(event.recurrence_id, floating=fl),
        event.master_id,
        event_kind(event),
        encode_when(event.start, floating=fl),
        encode_when(event.end, floating=fl),
        event.tzid,
        utc_seconds(event.start, floating=fl, edge="start"),
        utc_seconds(event.end, floating=fl, edge="end"),
        int(event.all_day),
        int(fl),
        event.title,
        event.description,
        event.location,
        event.status.value,
        int(event.busy),
        event.rrule,
        _whens_json(event.rdates, fl),
        _whens_json(event.exdates, fl),
        event.patient_id,
        event.service_id,
        event.mode.value,
        event.video_url,
        None if event.price is None else str(event.price),
        event.capacity,
        event.reminder_minutes,
        event.sequence,
        event.raw,
        len(event.participants),
    )


def participants_values(event: Event) -> list[tuple[str, int, str, str]]:
    """Rows for ``event_participants``: (event_id, position, patient_id, attendance)."""
    return [
        (event.id, i, p.patient_id, p.attendance.value) for i, p in enumerate(event.participants)
    ]


_STATUSES = {s.value: s for s in AppointmentStatus}
_MODES = {m.value: m for m in VisitMode}


def _decode_list(text: str, floating_tz: tzinfo) -> tuple[When, ...]:
    if text == "[]":
        return ()
    return tuple(decode_when(t, floating_tz) for t in json.loads(text))


def row_to_event(
    row: Mapping[str, Any], participants: Sequence[Participant], floating_tz: tzinfo
) -> Event:
    """Build the Event of one ``events`` row. Runs on any thread; raises StoreError."""
    try:
        rid_text = row["recurrence_id_text"]
        price = row["price"]
        return Event(
            id=row["id"],
            calendar_id=row["calendar_id"],
            uid=row["uid"],
            title=row["summary"],
            start=decode_when(row["start_text"], floating_tz),
            end=decode_when(row["end_text"], floating_tz),
            all_day=bool(row["all_day"]),
            floating=bool(row["floating"]),
            tzid=row["tzid"],
            description=row["description"],
            location=row["location"],
            status=_STATUSES[row["status"]],
            busy=bool(row["busy"]),
            rrule=row["rrule"],
            rdates=_decode_list(row["rdates"], floating_tz),
            exdates=_decode_list(row["exdates"], floating_tz),
            recurrence_id=None if rid_text is None else decode_when(rid_text, floating_tz),
            master_id=row["master_id"],
            patient_id=row["patient_id"],
            participants=tuple(participants),
            capacity=row["capacity"],
            service_id=row["service_id"],
            mode=_MODES[row["mode"]],
            video_url=row["video_url"],
            price=None if price is None else Decimal(price),
            reminder_minutes=row["reminder_minutes"],
            sequence=row["sequence"],
            raw=row["raw"],
        )
    except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
        raise StoreError(f"event {row.get('id')!r} cannot be read from the database") from exc


# A document's fields in sorted order (the row's fields but the derived ones, and the
# participants): built in this order, a document dumps the same without ``sort_keys``.
_DERIVED = frozenset({"kind", "start_utc", "end_utc", "n_participants", "recurrence_id"})
_DOC_FIELDS = sorted([*(f for f in EVENT_FIELDS if f not in _DERIVED), "participants"])
_PARTS_AT = _DOC_FIELDS.index("participants")
_DOC_HEAD = tuple(_DOC_FIELDS[:_PARTS_AT])
_DOC_TAIL = tuple(_DOC_FIELDS[_PARTS_AT + 1 :])
_HEAD_VALUES = itemgetter(*(EVENT_FIELDS.index(f) for f in _DOC_HEAD))
_TAIL_VALUES = itemgetter(*(EVENT_FIELDS.index(f) for f in _DOC_TAIL))


def event_doc(event: Event, values: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """A JSON-ready dict of every Event field (audit before/after, outbox payload, sync base),
    its keys in sorted order. ``values``: the event's ``event_values`` when the caller has them
    already. Raises ValueError for values of the wrong length."""
    row = values or event_values(event)
    if len(row) != len(EVENT_FIELDS):
        raise ValueError("event values do not match the event fields")
    doc = dict(zip(_DOC_HEAD, _HEAD_VALUES(row), strict=True))
    doc["participants"] = [[p.patient_id, p.attendance.value] for p in event.participants]
    doc.update(zip(_DOC_TAIL, _TAIL_VALUES(row), strict=True))
    return doc


def doc_to_event(doc: Mapping[str, Any], floating_tz: tzinfo) -> Event:
    """Inverse of ``event_doc``. Raises StoreError."""
    try:
        parts = [Participant(pid, Attendance(att)) for pid, att in doc["participants"]]
        row = dict(doc)
        row.setdefault("recurrence_id", "")
    except (KeyError, ValueError, TypeError) as exc:
        raise StoreError("a stored event document cannot be read") from exc
    return row_to_event(row, parts, floating_tz)
