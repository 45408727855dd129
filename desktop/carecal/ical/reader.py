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
    MAX_BYTES,
    MAX_DEPTH,
    Block,
    Line,
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


# A clean BEGIN/END line: upper case, no parameters, no blanks.
_BOUND_RE = re.compile(r"(BEGIN|END):([A-Z][A-Z0-9-]*)")


def read_item(text: str, *, source: str, calendar_id: str) -> list[Event]:
    """The events of one calendar object resource (a CalDAV item): the same events as
    ``read_ics(text.encode("utf-8"), ...).events`` (fresh ids aside), without the warnings.

    A well-formed resource (one VCALENDAR holding VEVENTs and VTIMEZONEs, every component
    closed) takes a fast path: one pass over its lines builds the VEVENTs' components, and a
    VTIMEZONE is parsed only when an event's TZID is not a zone name by itself. Anything else
    goes through ``read_ics``. Caller's thread; CPU only. Raises IcsError like ``read_ics``.
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
    for block in vevents:
        try:
            converted = vevent_to_event(block, resolver, calendar_id)
        except SkipEvent:
            continue
        events.append(converted.event)
    return _dedupe(events, warnings)


def _physical_lines(text: str) -> list[str] | None:
    """The text's lines without their line breaks (LF or CRLF); None for a lone CR or a NUL."""
    if "\x00" in text:
        return None
    crs = text.count("\r")
    if not crs:
        return text.split("\n")
    if crs != text.count("\r\n"):
        return None
    if crs == text.count("\n"):
        return text.split("\r\n")
    return [line[:-1] if line[-1:] == "\r" else line for line in text.split("\n")]


def _split_item(text: str) -> tuple[str | None, list[Block], list[str]] | None:
    """(X-WR-TIMEZONE, VEVENT components, VTIMEZONE texts) of a well-formed resource, else None.

    Well-formed here: blank lines aside, the text is BEGIN:VCALENDAR ... END:VCALENDAR; its own
    properties are content lines; its components are VEVENTs and VTIMEZONEs, each closed by a
    matching END with every component inside it closed too; BEGIN and END lines are upper case,
    unfolded and without parameters, and no other line starts with BEGIN or END in any case;
    newlines are LF or CRLF; every line of a VEVENT is a plain content line. Whatever the
    lenient reader would repair or warn about falls outside, so the slow path handles it exactly
    as an import would. A VEVENT's components are what ``parse_components`` builds from the
    VEVENT's own text (line numbers counted from its BEGIN line), made in the same single pass
    over the lines that checks the structure: a first sync reads tens of thousands of items.
    """
    lines = _physical_lines(text)
    if lines is None:
        return None
    n = len(lines)
    i = 0
    while i < n and not lines[i].strip():
        i += 1
    if i == n or lines[i] != "BEGIN:VCALENDAR":
        return None
    i += 1
    default_tz: str | None = None
    vevents: list[Block] = []
    vtimezones: list[str] = []
    closed = False
    while i < n:
        line = lines[i]
        head = line[:1]
        if head in _FOLDS:
            return None  # continues a BEGIN or END line (own lines are joined below)
        bound = _bound(line)
        if bound is _NOT_BOUND:
            return None  # looks like BEGIN or END but is not a clean one
        if bound is not None:
            kind, name = bound
            if kind == "END":
                if name != "VCALENDAR":
                    return None
                closed = True
                i += 1
                break
            if name == "VEVENT":
                found = _vevent_block(lines, i)
                if found is None:
                    return None
                block, i = found
                vevents.append(block)
            elif name == "VTIMEZONE":
                zone = _vtimezone_text(lines, i)
                if zone is None:
                    return None
                zone_text, i = zone
                vtimezones.append(zone_text)
            else:
                return None
            continue
        if not line.strip():
            i += 1
            continue
        # One of the VCALENDAR's own properties, with its folded continuations.
        logical = line
        i += 1
        while i < n and lines[i][:1] in _FOLDS:
            logical += lines[i][1:]
            i += 1
        parsed = _content_line(logical, logical)
        if parsed is None:
            return None
        if default_tz is None and parsed.name == "X-WR-TIMEZONE" and parsed.value.strip():
            default_tz = parsed.value.strip()
    if not closed:
        return None
    if any(line.strip() for line in lines[i:]):
        return None
    return default_tz, vevents, vtimezones


_FOLDS = (" ", "\t")
_NOT_BOUND = ("", "")


def _bound(line: str) -> tuple[str, str] | None:
    """(BEGIN or END, name) of a clean BEGIN/END line; None for any other line that does not
    start with BEGIN or END in any case; ``_NOT_BOUND`` for one that does but is not clean."""
    if line[:1] not in "BbEe" or not line[:1]:
        return None
    if line[:5].upper() != "BEGIN" and line[:3].upper() != "END":
        return None
    m = _BOUND_RE.fullmatch(line)
    if m is None:
        return _NOT_BOUND
    return m[1], m[2]


def _component_end(lines: list[str], start: int) -> int | None:
    """The index of the END line closing the component begun at ``start`` (every component
    inside closed in order, no bound folded, nesting under MAX_DEPTH), else None."""
    stack = [lines[start][6:]]
    i = start + 1
    n = len(lines)
    if i < n and lines[i][:1] in _FOLDS:
        return None
    while i < n:
        bound = _bound(lines[i])
        if bound is _NOT_BOUND:
            return None
        if bound is not None:
            if i + 1 < n and lines[i + 1][:1] in _FOLDS:
                return None
            kind, name = bound
            if kind == "BEGIN":
                if len(stack) + 1 >= MAX_DEPTH:
                    return None  # the slow path refuses absurd nesting
                stack.append(name)
            elif name == stack[-1]:
                stack.pop()
                if not stack:
                    return i
            else:
                return None
        i += 1
    return None


# VTIMEZONE texts already found well-formed: a calendar's items repeat the same few zones, so
# each is checked line by line once per process, not once per item.
_CLEAN_ZONES: dict[str, bool] = {}
_CLEAN_ZONES_MAX = 64


def _vtimezone_text(lines: list[str], start: int) -> tuple[str, int] | None:
    """(the VTIMEZONE's text, the index after its END line) for a well-formed VTIMEZONE begun
    at ``start``, else None. Only its structure is checked: its lines are read when needed."""
    try:
        end = lines.index("END:VTIMEZONE", start + 1)
    except ValueError:
        return None
    text = "\r\n".join(lines[start : end + 1])
    clean = _CLEAN_ZONES.get(text)
    if clean is None:
        clean = _component_end(lines, start) == end
        if len(_CLEAN_ZONES) >= _CLEAN_ZONES_MAX:
            _CLEAN_ZONES.clear()
        _CLEAN_ZONES[text] = clean
    if not clean or (end + 1 < len(lines) and lines[end + 1][:1] in _FOLDS):
        return None
    return text, end + 1


def _vevent_block(lines: list[str], start: int) -> tuple[Block, int] | None:
    """(the component ``parse_components`` builds from the VEVENT begun at ``start``, the index
    after its END line), or None when the VEVENT is not well-formed or one of its lines is not a
    plain content line."""
    n = len(lines)
    top = Block("VEVENT", Line("BEGIN", {}, "VEVENT", lines[start]), lineno=1)
    stack = [top]
    i = start + 1
    if i < n and lines[i][:1] in _FOLDS:
        return None
    while i < n:
        physical = lines[i]
        lineno = i - start + 1
        i += 1
        head = physical[:1]
        if head and head in "BbEe":
            bound = _bound(physical)
            if bound is _NOT_BOUND:
                return None
            if bound is not None:
                if i < n and lines[i][:1] in _FOLDS:
                    return None
                kind, name = bound
                line = Line(kind, {}, name, physical)
                if kind == "BEGIN":
                    if len(stack) + 1 >= MAX_DEPTH:
                        return None  # the slow path refuses absurd nesting
                    block = Block(name, line, lineno=lineno)
                    stack[-1].items.append(block)
                    stack.append(block)
                    continue
                if name != stack[-1].name:
                    return None
                stack.pop().end = line
                if not stack:
                    return top, i
                continue
        if not physical.strip():
            continue  # a blank line (a blank continuation is joined below)
        logical = physical
        while i < n and lines[i][:1] in _FOLDS:
            logical += lines[i][1:]
            physical += "\r\n" + lines[i]
            i += 1
        content = _content_line(logical, physical)
        if content is None:
            return None  # the lenient reader would join or drop it: the slow path decides
        stack[-1].items.append(content)
    return None


def _content_line(logical: str, physical: str) -> Line | None:
    """What ``parse_components`` makes of a content line, or None where it would repair or drop
    the line. A line without parameters whose name is plain ASCII is split here: it is what
    ``make_line``'s own fast split gives, without its regular expression (most lines are)."""
    name, colon, value = logical.partition(":")
    if colon and name and name.isascii() and name.replace("-", "a").isalnum():
        return Line(name.upper(), {}, value, physical)
    if not _NAME_RE.match(logical):
        return None
    try:
        return make_line(logical, physical)
    except (ValueError, AssertionError):
        return None
