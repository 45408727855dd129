"""Import: iCalendar bytes -> domain Events, leniently, all or nothing.

A file is decoded (UTF-8, else a single-byte fallback), split into components by the lenient
reader, and each VEVENT converted on its own: a broken VEVENT is skipped with a warning, a file
that holds nothing importable raises IcsError. Only IcsError ever leaves ``read_ics``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from carecal.domain.errors import IcsError
from carecal.domain.models import Event
from carecal.ical.lenient import (
    _NAME_RE,
    _NEWLINES_RE,
    MAX_BYTES,
    MAX_DEPTH,
    Block,
    decode,
    make_line,
    parse_components,
)
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


# A clean BEGIN/END line (upper case, no parameters, no blanks); newlines are \n or \r\n here.
_BOUND_RE = re.compile(r"^(BEGIN|END):([A-Z][A-Z0-9-]*)\r?$", re.MULTILINE)


def read_item(text: str, *, source: str, calendar_id: str) -> list[Event]:
    """The events of one calendar object resource (a CalDAV item): the same events as
    ``read_ics(text.encode("utf-8"), ...).events`` (fresh ids aside), without the warnings.

    A well-formed resource (one VCALENDAR holding VEVENTs and VTIMEZONEs, every component
    closed) takes a fast path: only the VEVENTs are split into lines, and a VTIMEZONE is parsed
    only when an event's TZID is not a zone name by itself. Anything else goes through
    ``read_ics``. Caller's thread; CPU only. Raises IcsError like ``read_ics``.
    """
    split = None if len(text) * 4 > MAX_BYTES else _split_item(text)
    if split is None:
        return read_ics(text.encode("utf-8"), source=source, calendar_id=calendar_id).events
    default_tz, vevents, vtimezones = split

    def zones() -> list[Block]:
        return [b for t in vtimezones for b in parse_components(t, source)[0]]

    resolver = TzResolver(zones, default=default_tz)
    events: list[Event] = []
    warnings = _Warnings(source)
    for vtext in vevents:
        blocks, _notes = parse_components(vtext, source)
        if len(blocks) != 1 or blocks[0].name != "VEVENT":  # cannot happen after _split_item
            return read_ics(text.encode("utf-8"), source=source, calendar_id=calendar_id).events
        try:
            converted = vevent_to_event(blocks[0], resolver, calendar_id)
        except SkipEvent:
            continue
        events.append(converted.event)
    return _dedupe(events, warnings)


def _split_item(text: str) -> tuple[str | None, list[str], list[str]] | None:
    """(X-WR-TIMEZONE, VEVENT texts, VTIMEZONE texts) of a well-formed resource, else None.

    Well-formed here: blank lines aside, the text is BEGIN:VCALENDAR ... END:VCALENDAR; its own
    properties are content lines; its components are VEVENTs and VTIMEZONEs, each closed by a
    matching END with every component inside it closed too; BEGIN and END lines are upper case,
    unfolded and without parameters; newlines are LF or CRLF. Whatever the lenient reader would
    repair or warn about falls outside, so the slow path handles it exactly as an import would.
    The component structure comes from a few regular-expression scans, not a loop over lines.
    """
    if "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    bounds = list(_BOUND_RE.finditer(text))
    upper = text.upper()
    lookalikes = upper.count("\nBEGIN") + upper.count("\nEND") + upper.startswith(("BEGIN", "END"))
    if len(bounds) < 2 or len(bounds) != lookalikes:
        return None
    for bound in bounds:
        if text[bound.end() + 1 : bound.end() + 2] in (" ", "\t"):
            return None  # a BEGIN or END line continued by a fold
    first, last = bounds[0], bounds[-1]
    if first.group(1, 2) != ("BEGIN", "VCALENDAR") or last.group(1, 2) != ("END", "VCALENDAR"):
        return None
    if text[: first.start()].strip() or text[last.end() :].strip():
        return None
    spans: list[str] = []  # the VCALENDAR's own text between its components
    vevents: list[str] = []
    vtimezones: list[str] = []
    pos = first.end()
    k = 1
    while k < len(bounds) - 1:
        begin = bounds[k]
        name = begin.group(2)
        if begin.group(1) != "BEGIN" or name not in ("VEVENT", "VTIMEZONE"):
            return None
        spans.append(text[pos : begin.start()])
        stack = [name]
        k += 1
        while stack:
            if k >= len(bounds) - 1:
                return None
            bound = bounds[k]
            k += 1
            if bound.group(1) == "BEGIN":
                if len(stack) + 1 >= MAX_DEPTH:
                    return None  # the slow path refuses absurd nesting
                stack.append(bound.group(2))
            elif bound.group(2) == stack[-1]:
                stack.pop()
            else:
                return None
        pos = bounds[k - 1].end()
        (vevents if name == "VEVENT" else vtimezones).append(text[begin.start() : pos])
    spans.append(text[pos : last.start()])
    default_tz: str | None = None
    for span in spans:
        own: list[str] = []
        for line in _NEWLINES_RE.split(span):
            if line[:1] in (" ", "\t"):
                if not own:
                    return None  # would continue a BEGIN or END line
                own[-1] += line[1:]
            elif line.strip():
                own.append(line)
        for logical in own:
            if not _NAME_RE.match(logical):
                return None
            try:
                parsed = make_line(logical)
            except (ValueError, AssertionError):
                return None
            if default_tz is None and parsed.name == "X-WR-TIMEZONE" and parsed.value.strip():
                default_tz = parsed.value.strip()
    return default_tz, vevents, vtimezones
