"""Import: iCalendar bytes -> domain Events, leniently, all or nothing.

A file is decoded (UTF-8, else a single-byte fallback), split into components by the lenient
reader, and each VEVENT converted on its own: a broken VEVENT is skipped with a warning, a file
that holds nothing importable raises IcsError. Only IcsError ever leaves ``read_ics``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from carecal.domain.errors import IcsError
from carecal.domain.models import Event
from carecal.ical.lenient import MAX_BYTES, Block, decode, parse_components
from carecal.ical.tz import TzResolver
from carecal.ical.values import when_identity
from carecal.ical.vevent import SkipEvent, describe, vevent_to_event

log = logging.getLogger(__name__)

_KNOWN_TOP = frozenset({"VCALENDAR", "VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"})

MAX_WARNINGS = 100
"""More than this many warnings help nobody; the rest are counted in one last line."""


@dataclass(frozen=True, slots=True)
class ParsedCalendar:
    """The events of one file and the user-facing warnings about it.

    ``events`` have fresh ids, ``master_id`` None (the store links overrides by uid) and
    ``raw`` = the VEVENT's text. Each warning names the file and, where it applies, the VEVENT.
    """

    events: list[Event]
    warnings: list[str]


class _Warnings:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []
        self.extra = 0

    def add(self, text: str) -> None:
        if len(self.items) < MAX_WARNINGS:
            self.items.append(f"{self.source}: {text}")
        else:
            self.extra += 1

    def result(self) -> list[str]:
        if self.extra:
            return [*self.items, f"{self.source}: ... and {self.extra} more warnings"]
        return self.items


def _collect(blocks: list[Block], found: dict[str, list[Block]], depth: int = 0) -> None:
    for block in blocks:
        found.setdefault(block.name, []).append(block)
        if block.name == "VCALENDAR" and depth == 0:
            _collect(block.blocks(), found, depth + 1)


def read_ics(data: bytes, *, source: str, calendar_id: str) -> ParsedCalendar:
    """Read one iCalendar file's events.

    Caller's thread; CPU only (the caller reads the file). Never expands recurrence rules, so
    the cost is linear in the file size. Raises IcsError (naming ``source`` and the problem)
    when the file is empty, not iCalendar, or none of its events can be read.
    """
    try:
        return _read(data, source, calendar_id)
    except IcsError:
        raise
    except Exception as exc:  # a bug or an input we did not foresee: still one clear line
        log.exception("unexpected error while reading an iCalendar file")
        raise IcsError(f"could not be read ({type(exc).__name__})", source) from exc


def _read(data: bytes, source: str, calendar_id: str) -> ParsedCalendar:
    if len(data) > MAX_BYTES:
        raise IcsError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB", source)
    if not data.strip():
        raise IcsError("the file is empty", source)
    warnings = _Warnings(source)
    text, encoding_note = decode(data)
    if encoding_note:
        warnings.add(encoding_note)
    top, notes = parse_components(text, source)
    for note in notes:
        warnings.add(note)
    found: dict[str, list[Block]] = {}
    _collect(top, found)
    if not any(block.name in _KNOWN_TOP for block in top):
        raise IcsError("not an iCalendar file (no VCALENDAR or VEVENT component)", source)
    if "VCALENDAR" not in found:
        warnings.add("components are not wrapped in a VCALENDAR; read them anyway")
    default_tz = None
    for cal in found.get("VCALENDAR", []):
        line = cal.first("X-WR-TIMEZONE")
        if line is not None and line.value.strip():
            default_tz = line.value.strip()
            break
    resolver = TzResolver(found.get("VTIMEZONE", []), default=default_tz)
    ignored = {
        name: len(blocks)
        for name, blocks in found.items()
        if name not in ("VCALENDAR", "VEVENT", "VTIMEZONE")
    }
    for name, count in sorted(ignored.items()):
        warnings.add(f"{count} {name} component(s) ignored: Carecal imports events only")

    vevents = found.get("VEVENT", [])
    events: list[Event] = []
    first_problem = ""
    for index, block in enumerate(vevents, start=1):
        label = describe(block, index)
        try:
            converted = vevent_to_event(block, resolver, calendar_id)
        except SkipEvent as exc:
            first_problem = first_problem or f"{label}: {exc}"
            warnings.add(f"{label} skipped: {exc}")
            continue
        events.append(converted.event)
        for note in converted.notes:
            warnings.add(f"{label}: {note}")
    if vevents and not events and "VCALENDAR" not in found:
        raise IcsError(f"none of its {len(vevents)} events could be read ({first_problem})", source)
    if not vevents:
        warnings.add("the calendar holds no events")
    elif not events:
        warnings.add(f"none of its {len(vevents)} events could be read")
    return ParsedCalendar(_dedupe(events, warnings), warnings.result())


def _dedupe(events: list[Event], warnings: _Warnings) -> list[Event]:
    """One event per (UID, RECURRENCE-ID): the highest SEQUENCE wins, later copies on ties."""
    chosen: dict[tuple[str, object], int] = {}
    result: list[Event | None] = []
    for event in events:
        key = (event.uid, when_identity(event.recurrence_id))
        if key in chosen:
            warnings.add(f"UID {event.uid[:60]} appears more than once; kept the newest copy")
            earlier = chosen[key]
            kept = result[earlier]
            if kept is not None and kept.sequence > event.sequence:
                continue
            result[earlier] = None
        chosen[key] = len(result)
        result.append(event)
    return [e for e in result if e is not None]
