"""Reading booking-request files (JSON and CSV) into requests, row by row.

A file is read whole, then each row on its own: a bad row gives a ``RowError`` with its line
number and the reason, and the good rows are still returned. Each request gets a stable id (the
row's own ``id`` with its source when it has one, else a hash of its content), so reading the same
file again yields the same ids and the inbox stores nothing twice.

Formats (field names are case-insensitive):

- JSON: an array of objects, or one object. Fields ``id``, ``name`` (or ``first_name`` and
  ``last_name``), ``phone``, ``email``, ``service``, ``preferred`` (a list of
  ``{"date": "2025-05-20", "from": "09:00", "to": "12:00"}`` objects, or the text form below),
  ``date``/``from``/``to`` for a single window, ``note``, ``source``.
- CSV: a header row, then one request per row, with the same column names; ``preferred`` holds
  windows as text: ``2025-05-20 09:00-12:00; 2025-05-21`` (a date alone means any time that day).

A request needs a name and a phone number or an e-mail address.

``IncompleteFile`` means the file looks half-written (JSON that does not parse, a CSV whose last
line has no line end): the caller tries again later instead of importing part of it.

Pure functions on text; ``read_request_file`` reads one file on the caller's thread.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from carecal.domain.errors import ValidationError
from carecal.store.requests import BookingRequest, PreferredWindow

MAX_FILE_BYTES = 5_000_000
_WINDOW_TEXT = re.compile(
    r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T]+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2}))?\s*$"
)


class IncompleteFile(ValidationError):
    """The file looks half-written; read it again later."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(slots=True)
class ParsedFile:
    requests: list[BookingRequest] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def request_id(fields: Mapping[str, object]) -> str:
    """The stable id of a request: from its source and own id when it has one, else from its
    content. Any thread."""
    own = str(fields.get("external_id") or "")
    if own:
        basis = "id\n" + str(fields.get("source") or "") + "\n" + own
    else:
        basis = "content\n" + json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def _clock(text: str, what: str) -> str:
    try:
        return time.fromisoformat(text.strip().rjust(5, "0")).strftime("%H:%M")
    except ValueError:
        raise ValidationError(f"{what} {text!r} is not a time (HH:MM)") from None


def _window(day: str, start: str | None, end: str | None) -> PreferredWindow:
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        raise ValidationError(f"{day!r} is not a date (YYYY-MM-DD)") from None
    if bool(start) != bool(end):
        raise ValidationError("a time window needs both a start and an end")
    if start and end:
        first, last = _clock(start, "the start"), _clock(end, "the end")
        if last <= first:
            raise ValidationError(f"the window {first}-{last} ends before it starts")
        return PreferredWindow(when.isoformat(), first, last)
    return PreferredWindow(when.isoformat())


def windows_from_text(text: str) -> tuple[PreferredWindow, ...]:
    """``2025-05-20 09:00-12:00; 2025-05-21`` as windows. Raises ValidationError."""
    out = []
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _WINDOW_TEXT.match(part)
        if match is None:
            raise ValidationError(
                f"{part.strip()!r} is not a preferred time (e.g. 2025-05-20 09:00-12:00)"
            )
        out.append(_window(match.group(1), match.group(2), match.group(3)))
    return tuple(out)


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise ValidationError(f"{key} must be text")
    return " ".join(str(value).split())


def _windows(row: Mapping[str, object]) -> tuple[PreferredWindow, ...]:
    out: list[PreferredWindow] = []
    preferred = row.get("preferred")
    if isinstance(preferred, list):
        for item in preferred:
            if isinstance(item, str):
                out.extend(windows_from_text(item))
            elif isinstance(item, dict):
                low = {str(k).lower(): v for k, v in item.items()}
                out.append(
                    _window(
                        str(low.get("date") or ""),
                        str(low["from"]) if low.get("from") else None,
                        str(low["to"]) if low.get("to") else None,
                    )
                )
            else:
                raise ValidationError("preferred must list dates with times")
    elif preferred:
        out.extend(windows_from_text(str(preferred)))
    day = _text(row, "date")
    if day:
        out.append(_window(day, _text(row, "from") or None, _text(row, "to") or None))
    elif _text(row, "from") or _text(row, "to"):
        raise ValidationError("a time window needs a date")
    return tuple(out)


def request_from_row(row: Mapping[str, object], origin: str) -> BookingRequest:
    """One request from a row's fields (keys lower-cased). Raises ValidationError."""
    name = _text(row, "name") or " ".join(
        p for p in (_text(row, "first_name"), _text(row, "last_name")) if p
    )
    if not name:
        raise ValidationError("no name")
    phone, email = _text(row, "phone"), _text(row, "email")
    if not phone and not email:
        raise ValidationError("needs a phone number or an e-mail address")
    if email and ("@" not in email or " " in email):
        raise ValidationError(f"{email!r} is not an e-mail address")
    if phone and sum(c.isdigit() for c in phone) < 6:
        raise ValidationError(f"{phone!r} is not a phone number")
    service = _text(row, "service")
    if not service:
        raise ValidationError("no service")
    windows = _windows(row)
    note = str(row.get("note") or "").strip()
    source = _text(row, "source")
    external = _text(row, "id")
    fields = {
        "external_id": external,
        "name": name,
        "phone": phone,
        "email": email,
        "service": service,
        "windows": [[w.day, w.start, w.end] for w in windows],
        "note": note,
        "source": source,
    }
    return BookingRequest(
        id=request_id(fields),
        name=name,
        phone=phone,
        email=email,
        service=service,
        windows=windows,
        note=note,
        source=source,
        external_id=external,
        origin=origin,
    )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _json_items(text: str) -> list[tuple[int, object]]:
    """The top-level items of a JSON array (or the one object) with their line numbers.
    Raises IncompleteFile when the text is not whole JSON."""
    decoder = json.JSONDecoder()
    try:
        json.loads(text)
    except ValueError as exc:
        raise IncompleteFile(f"not complete JSON ({exc})") from None
    pos = len(text) - len(text.lstrip())
    if not text[pos:].startswith("["):
        return [(_line_of(text, pos), json.loads(text))]
    pos += 1
    items: list[tuple[int, object]] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return items
        value, end = decoder.raw_decode(text, pos)
        items.append((_line_of(text, pos), value))
        pos = end


def parse_json(text: str, name: str) -> ParsedFile:
    """Requests of a JSON text. Raises IncompleteFile."""
    parsed = ParsedFile()
    for line, item in _json_items(text):
        if not isinstance(item, dict):
            parsed.errors.append(RowError(line, "not an object with request fields"))
            continue
        row = {str(k).lower(): v for k, v in item.items()}
        try:
            parsed.requests.append(request_from_row(row, f"{name}:{line}"))
        except ValidationError as exc:
            parsed.errors.append(RowError(line, str(exc)))
    return parsed


def parse_csv(text: str, name: str) -> ParsedFile:
    """Requests of a CSV text with a header row (comma or semicolon separated). Raises
    IncompleteFile when the last line has no line end, ValidationError without a header."""
    if text and not text.endswith(("\n", "\r")):
        raise IncompleteFile("the last line has no line end")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return ParsedFile()
    except csv.Error as exc:
        raise ValidationError(f"line 1: {exc}") from None
    if "name" not in header and "first_name" not in header:
        raise ValidationError("line 1: the header row needs a name column")
    parsed = ParsedFile()
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.errors.append(RowError(reader.line_num, str(exc)))
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            parsed.errors.append(RowError(line, f"{len(values)} values for {len(header)} columns"))
            continue
        row = dict(zip(header, values, strict=False))
        try:
            parsed.requests.append(request_from_row(row, f"{name}:{line}"))
        except ValidationError as exc:
            parsed.errors.append(RowError(line, str(exc)))
    return parsed


def parse_request_text(text: str, name: str, kind: str) -> ParsedFile:
    """Requests of a file's text; ``kind`` is "json" or "csv". Raises IncompleteFile,
    ValidationError."""
    if kind == "json":
        return parse_json(text, name)
    if kind == "csv":
        return parse_csv(text, name)
    raise ValidationError(f"{name}: only .json and .csv files hold booking requests")


def file_kind(path: Path) -> str | None:
    """ "json" or "csv" by the file's suffix, None for anything else. Any thread."""
    suffix = path.suffix.lower()
    return {".json": "json", ".csv": "csv"}.get(suffix)


def read_request_file(path: Path) -> ParsedFile:
    """Read and parse one file. Caller's thread; disk I/O. Raises IncompleteFile,
    ValidationError (unknown type, too big, not UTF-8), OSError."""
    kind = file_kind(path)
    if kind is None:
        raise ValidationError(f"{path.name}: only .json and .csv files hold booking requests")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValidationError(f"{path.name} is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name} is not UTF-8 text") from None
    return parse_request_text(text, path.name, kind)


def error_lines(errors: Sequence[RowError]) -> list[str]:
    """The errors as lines for a report. Any thread."""
    return [str(e) for e in errors]
