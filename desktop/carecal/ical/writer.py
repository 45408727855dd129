"""Export: domain Events -> iCalendar text, losslessly.

An event that came from a file or a server keeps its source text in ``Event.raw``. We re-read that
text, compare field by field, and rewrite only the properties of the fields that differ; every
other line (X- properties, VALARMs, ATTENDEEs with their parameters, properties Carecal has never
heard of) is written back exactly as it came, folds included.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from carecal.domain.models import Event, When
from carecal.ical import props
from carecal.ical.lenient import Block, Line, parse_block
from carecal.ical.tz import TzResolver, vtimezone_text, zone_for_name
from carecal.ical.values import (
    escape_text,
    fold,
    parse_duration,
    render_when,
    render_when_list,
    when_identity,
)
from carecal.ical.vevent import SkipEvent, vevent_to_event

log = logging.getLogger(__name__)

_TZID_RE = re.compile(r";TZID=(\"[^\"]*\"|[^;:\r\n]*)", re.IGNORECASE)
_GROUP_ORDER = ("uid", "time", *[f for f in props.FIELD_PROPERTIES if f != "uid"])


def _line(name: str, value: str, params: dict[str, str] | None = None) -> Line:
    from icalendar.parser import dquote  # imported when first needed (process start-up)

    param_text = "".join(f";{k}={dquote(v)}" for k, v in (params or {}).items())
    logical = f"{name}{param_text}:{value}"
    return Line(name, dict(params or {}), value, fold(logical))


def _times(event: Event) -> list[Line]:
    zone = None if event.floating else event.tzid
    lines = []
    for name, value in (("DTSTART", event.start), ("DTEND", event.end)):
        params, text = render_when(value, floating=event.floating, tzid=zone)
        lines.append(_line(name, text, params))
    return lines


def _whens(name: str, values: Sequence[When], event: Event) -> list[Line]:
    zone = None if event.floating else event.tzid
    rendered = render_when_list(values, floating=event.floating, tzid=zone)
    return [_line(name, text, params) for params, text in rendered]


def _group(event: Event, group: str) -> list[Line]:
    """The lines that carry one field (or the time group) of ``event``."""
    text_props = {"title": "SUMMARY", "description": "DESCRIPTION", "location": "LOCATION"}
    if group == "time":
        return _times(event)
    if group == "uid":
        return [_line("UID", escape_text(event.uid))]
    if group == "id":
        return [_line(props.X_ID, escape_text(event.id))]
    if group in text_props:
        value = str(getattr(event, group))
        return [_line(text_props[group], escape_text(value))] if value else []
    if group == "status":
        return [
            _line("STATUS", event.status.to_ical_status()),
            _line(props.X_STATUS, event.status.value),
        ]
    if group == "busy":
        return [_line("TRANSP", "OPAQUE" if event.busy else "TRANSPARENT")]
    if group == "rrule":
        return [_line("RRULE", event.rrule)] if event.rrule else []
    if group == "rdates":
        return _whens("RDATE", event.rdates, event)
    if group == "exdates":
        return _whens("EXDATE", event.exdates, event)
    if group == "recurrence_id":
        return _whens("RECURRENCE-ID", (event.recurrence_id,), event) if event.recurrence_id else []
    if group == "sequence":
        return [_line("SEQUENCE", str(event.sequence))]
    return _own_group(event, group)


def _own_group(event: Event, group: str) -> list[Line]:
    if group == "participants":
        return [
            _line(props.X_PARTICIPANT, escape_text(f"{p.patient_id};{p.attendance.value}"))
            for p in event.participants
        ]
    value: object = getattr(event, group)
    if group == "mode":
        value = None if event.mode.value == "in_person" else event.mode.value
    if value is None or value == "":
        return []
    return [_line(props.FIELD_PROPERTIES[group][0], escape_text(str(value)))]


def _alarm(minutes: int) -> Block:
    return Block(
        "VALARM",
        _line("BEGIN", "VALARM"),
        [
            _line("ACTION", "DISPLAY"),
            _line("DESCRIPTION", "Reminder"),
            _line("TRIGGER", f"-PT{minutes}M" if minutes else "PT0S"),
        ],
        _line("END", "VALARM"),
    )


def _fresh(event: Event) -> Block:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    items: list[Line | Block] = []
    for group in _GROUP_ORDER:
        items.extend(_group(event, group))
        if group == "uid":
            items.append(_line("DTSTAMP", stamp))
    if event.reminder_minutes is not None:
        items.append(_alarm(event.reminder_minutes))
    return Block("VEVENT", _line("BEGIN", "VEVENT"), items, _line("END", "VEVENT"))


def _ident(event: Event, name: str) -> object:
    value = getattr(event, name)
    if event.floating:
        # A floating time's tzinfo is only a placeholder (UTC on read, the display zone once
        # loaded); the wall clock is the value.
        if isinstance(value, datetime):
            value = value.replace(tzinfo=None)
        elif isinstance(value, tuple):
            value = tuple(v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in value)
    return when_identity(value)


def _changed(event: Event, base: Event | None) -> list[str]:
    if base is None:
        return list(_GROUP_ORDER)
    groups = []
    if event.floating != base.floating or any(
        _ident(event, f) != _ident(base, f) for f in props.TIME_FIELDS
    ):
        groups.append("time")
    for group in props.FIELD_PROPERTIES:
        if _ident(event, group) != _ident(base, group):
            groups.append(group)
    return groups


def _replace(block: Block, names: Sequence[str], lines: list[Line]) -> None:
    positions = [
        i for i, item in enumerate(block.items) if isinstance(item, Line) and item.name in names
    ]
    for i in reversed(positions):
        del block.items[i]
    if positions:
        at = positions[0]
    else:
        at = next(
            (i for i, it in enumerate(block.items) if isinstance(it, Block)), len(block.items)
        )
    block.items[at:at] = lines


def _patch_reminder(block: Block, minutes: int | None) -> None:
    for alarm in block.blocks("VALARM"):
        trigger = alarm.first("TRIGGER")
        if trigger is None or trigger.params.get("VALUE", "").upper() == "DATE-TIME":
            continue
        if trigger.params.get("RELATED", "START").upper() != "START":
            continue
        try:
            if parse_duration(trigger.value) > timedelta(0):
                continue
        except ValueError:
            continue
        if minutes is None:
            block.items.remove(alarm)
        else:
            _replace(
                alarm, ("TRIGGER",), [_line("TRIGGER", f"-PT{minutes}M" if minutes else "PT0S")]
            )
        return
    if minutes is not None:
        block.items.append(_alarm(minutes))


def event_to_vevent(event: Event) -> str:
    """The VEVENT text (CRLF lines, folded) for ``event``.

    With ``event.raw`` set, the raw text is patched: only properties of fields that differ from
    what the raw text says are rewritten. A raw that is not iCalendar at all (a provider's own
    representation, such as Google's event JSON) is not patched: the event is rendered anew.
    Any thread; CPU only; raises nothing (an unreadable raw text is replaced by a fresh
    rendering, with a log line).
    """
    if not event.raw or not event.raw.lstrip().upper().startswith("BEGIN:"):
        return _fresh(event).text()
    try:
        block = parse_block(event.raw)
        if block.name != "VEVENT":
            raise ValueError(f"raw text is a {block.name}, not a VEVENT")
    except ValueError as exc:
        log.warning("event %s: stored iCalendar text unusable (%s); wrote it anew", event.id, exc)
        return _fresh(event).text()
    resolver = TzResolver(default=event.tzid)
    try:
        base: Event | None = vevent_to_event(block, resolver, event.calendar_id).event
    except SkipEvent:
        base = None
    for group in _changed(event, base):
        names = props.TIME_PROPERTIES if group == "time" else props.FIELD_PROPERTIES[group]
        _replace(block, names, _group(event, group))
    if base is None or base.reminder_minutes != event.reminder_minutes:
        _patch_reminder(block, event.reminder_minutes)
    return block.text()


def _ordered(events: Sequence[Event]) -> list[Event]:
    """Masters first, then their overrides by RECURRENCE-ID, series in first-seen order."""
    by_uid: dict[str, list[Event]] = {}
    for event in events:
        by_uid.setdefault(event.uid, []).append(event)
    result: list[Event] = []
    for group in by_uid.values():
        group.sort(key=lambda e: (e.recurrence_id is not None, _sort_key(e.recurrence_id)))
        result.extend(group)
    return result


def _sort_key(value: When | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    return value.isoformat()


def _span(event: Event) -> tuple[date, date]:
    days = [event.start, event.end, *event.rdates, *event.exdates]
    if event.recurrence_id is not None:
        days.append(event.recurrence_id)
    plain = [d.date() if isinstance(d, datetime) else d for d in days]
    return min(plain), max(plain)


def write_ics(events: Sequence[Event], *, prodid: str = "-//Carecal//Carecal//EN") -> bytes:
    """One VCALENDAR (UTF-8, CRLF) holding ``events`` and the VTIMEZONEs their TZIDs need.

    Overrides follow their master. Caller's thread; CPU only; raises nothing.
    """
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    spans: dict[str, tuple[date, date]] = {}
    bodies: list[str] = []
    for event in _ordered(events):
        text = event_to_vevent(event)
        first, last = _span(event)
        for match in set(_TZID_RE.findall(text)):
            name = match.strip('"')
            zone = zone_for_name(name)
            if zone is None and event.tzid:
                zone = zone_for_name(event.tzid)
            if zone is None:
                continue
            if name in zones and zones[name].key != zone.key:
                # One made-up TZID meaning two zones (two source files): name the zone instead.
                text = text.replace(f"TZID={match}:", f"TZID={zone.key}:")
                text = text.replace(f"TZID={match};", f"TZID={zone.key};")
                name = zone.key
            zones.setdefault(name, zone)
            low, high = spans.get(name, (first, last))
            spans[name] = (min(low, first), max(high, last))
        bodies.append(text)
    out = ["BEGIN:VCALENDAR\r\n", "VERSION:2.0\r\n", fold(f"PRODID:{prodid}") + "\r\n"]
    out.append("CALSCALE:GREGORIAN\r\n")
    for name in sorted(zones):
        zone = zones[name]
        if zone.key == "UTC":
            continue
        low, high = spans[name]
        try:
            out.append(
                vtimezone_text(name, zone, low - timedelta(days=366), high + timedelta(days=366))
            )
        except (ValueError, OverflowError) as exc:
            log.warning("could not describe time zone %s (%s); left it out", zone.key, exc)
    out.extend(bodies)
    out.append("END:VCALENDAR\r\n")
    return "".join(out).encode("utf-8")
