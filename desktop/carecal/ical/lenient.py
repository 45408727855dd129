"""Lenient reading of iCalendar text into a tree of components.

This layer does what icalendar's own parser does not do for us: it decodes bytes that are not
UTF-8, accepts CRLF, LF and lone CR, joins raw continuation lines that some producers (Exchange)
forget to fold, closes components whose END is missing, and keeps every line's original text so a
VEVENT can be written back byte for byte. Property values are decoded later, one property at a
time, so one broken value costs one event (or one field), never the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from carecal.domain.errors import IcsError

MAX_DEPTH = 16
"""Deeper nesting than this is no real calendar; refusing it keeps fuzz input cheap."""

MAX_BYTES = 64 * 1024 * 1024

# A content line starts with a name token followed by ';' (parameters) or ':' (value).
_NAME_RE = re.compile(r"[A-Za-z0-9-]+[ \t]*[;:]")
_NEWLINES_RE = re.compile(r"\r\n|\r|\n")
# A line head icalendar would split the same way as ``str.split``: a name token, parameters
# whose values hold no quote, escape, list comma, RFC 6868 caret, blank or control character,
# then the value colon.
_SIMPLE_HEAD_RE = re.compile(r"([A-Za-z0-9-]+)((?:;[A-Za-z0-9-]+=[^;:,\"\\^\s\x00-\x1f\x7f]+)*):")


@dataclass(slots=True)
class Line:
    """One logical content line: upper-case name, parameters, raw (still escaped) value.

    ``text`` is the line as it appeared in the source, folds included (joined with CRLF), so
    unchanged lines are written back exactly as they came.
    """

    name: str
    params: dict[str, str]
    value: str
    text: str


@dataclass(slots=True)
class Block:
    """A component (VCALENDAR, VEVENT, VALARM ...) with its lines and sub-components in order."""

    name: str
    begin: Line
    items: list[Line | Block] = field(default_factory=list)
    end: Line | None = None
    lineno: int = 0

    def lines(self) -> list[Line]:
        return [i for i in self.items if isinstance(i, Line)]

    def blocks(self, name: str | None = None) -> list[Block]:
        return [i for i in self.items if isinstance(i, Block) and (name is None or i.name == name)]

    def first(self, name: str) -> Line | None:
        for item in self.items:
            if isinstance(item, Line) and item.name == name:
                return item
        return None

    def all(self, name: str) -> list[Line]:
        return [i for i in self.items if isinstance(i, Line) and i.name == name]

    def text(self) -> str:
        """The component as CRLF-separated text with a final CRLF."""
        out: list[str] = []
        _emit(self, out)
        return "\r\n".join(out) + "\r\n"


def _emit(block: Block, out: list[str]) -> None:
    out.append(block.begin.text)
    for item in block.items:
        if isinstance(item, Block):
            _emit(item, out)
        else:
            out.append(item.text)
    out.append(block.end.text if block.end is not None else f"END:{block.name}")


def decode(data: bytes) -> tuple[str, str | None]:
    """Bytes to text: UTF-8 (BOM stripped), else Windows-1252, else Latin-1.

    Returns the text and, when a fallback was used, a warning sentence. Any thread; no errors.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    for encoding, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, f"the file is not UTF-8; it was read as {label}, some letters may look wrong"
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def make_line(text: str, physical: str | None = None) -> Line:
    """Split one unfolded content line; raises ValueError when it is not a content line."""
    simple = _SIMPLE_HEAD_RE.match(text)
    if simple is not None:
        # Nearly every real line: plain parameters, nothing quoted or escaped before the value.
        # Splitting it by hand gives what icalendar's parser gives, many times faster.
        name = simple.group(1).upper()
        simple_params: dict[str, str] = {}
        if simple.group(2):
            for part in simple.group(2)[1:].split(";"):
                key, _, val = part.partition("=")
                simple_params[key.upper()] = val
        return Line(
            name, simple_params, text[simple.end() :], text if physical is None else physical
        )
    # icalendar is imported only here: a process that reads clean CalDAV items never needs it.
    from icalendar.parser import Contentline

    name, params, value = Contentline(text).raw_parts()  # type: ignore[no-untyped-call]
    flat: dict[str, str] = {}
    for key, val in params.items():
        flat[str(key).upper()] = ",".join(val) if isinstance(val, list) else str(val)
    return Line(name.upper(), flat, value, physical if physical is not None else text)


def _logical_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, unfolded text, original text with CRLF folds) for each logical line."""
    result: list[tuple[int, str, str]] = []
    for number, raw in enumerate(_NEWLINES_RE.split(text), start=1):
        if raw[:1] in (" ", "\t") and result:
            lineno, logical, physical = result[-1]
            result[-1] = (lineno, logical + raw[1:], physical + "\r\n" + raw)
        elif raw.strip():
            result.append((number, raw, raw))
    return result


def parse_components(text: str, source: str) -> tuple[list[Block], list[str]]:
    """Build the component tree of a whole file.

    Returns the top-level components and repair notes (without the file name). Raises IcsError
    when the text holds no component at all or nests absurdly deep. Caller's thread; CPU only.
    """
    notes: list[str] = []
    top: list[Block] = []
    stack: list[Block] = []
    joined = dropped = 0
    for lineno, logical, physical in _logical_lines(text):
        if "\x00" in logical:
            logical = logical.replace("\x00", "")
            physical = physical.replace("\x00", "")
        if not _NAME_RE.match(logical):
            # Producers such as Exchange write line breaks of a long text raw instead of folding.
            target = stack[-1].items[-1] if stack and stack[-1].items else None
            if isinstance(target, Line) and target.name not in ("BEGIN", "END"):
                extra = "\\n" + logical.strip()
                stack[-1].items[-1] = Line(
                    target.name, target.params, target.value + extra, _unfold(target.text) + extra
                )
                joined += 1
            else:
                dropped += 1
            continue
        try:
            line = make_line(logical, physical)
        except (ValueError, AssertionError):
            dropped += 1
            continue
        if line.name == "BEGIN":
            comp = line.value.strip().upper()
            if len(stack) >= MAX_DEPTH:
                raise IcsError(f"components are nested more than {MAX_DEPTH} deep", source)
            block = Block(comp, line, lineno=lineno)
            if stack:
                stack[-1].items.append(block)
            else:
                top.append(block)
            stack.append(block)
        elif line.name == "END":
            comp = line.value.strip().upper()
            names = [b.name for b in stack]
            if comp not in names:
                dropped += 1
                continue
            while stack[-1].name != comp:
                notes.append(f"{stack[-1].name} at line {stack[-1].lineno} had no END; closed it")
                stack.pop()
            stack.pop().end = line
        elif stack:
            stack[-1].items.append(line)
        else:
            dropped += 1
    for block in reversed(stack):
        notes.append(f"{block.name} at line {block.lineno} had no END; closed it")
    if joined:
        notes.append(f"{joined} unfolded continuation line(s) were joined to the text before them")
    if dropped:
        notes.append(f"{dropped} line(s) that are not iCalendar content were ignored")
    if not top:
        raise IcsError("not an iCalendar file (no BEGIN:VCALENDAR found)", source)
    return top, notes


def _unfold(text: str) -> str:
    return re.sub(r"\r\n[ \t]", "", text)


def parse_block(text: str) -> Block:
    """One component's text (as written by ``Block.text``) back into a Block.

    Raises ValueError when the text is not exactly one component. Any thread.
    """
    try:
        blocks, _notes = parse_components(text, "")
    except IcsError as exc:
        raise ValueError(str(exc)) from exc
    if len(blocks) != 1:
        raise ValueError("expected exactly one component")
    return blocks[0]
