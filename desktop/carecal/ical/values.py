"""Reading and writing iCalendar DATE / DATE-TIME values, TEXT escaping and DURATIONs.

Floating times (no zone in the file) are returned as aware datetimes with a UTC *placeholder*
tzinfo; the event is marked ``floating=True`` and the wall-clock fields are what count. Whoever
displays them re-attaches the display zone (``dt.replace(tzinfo=display_tz)``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

_VALUE_RE = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:(T)(?:(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?)?)?(Z)?$"
)


def parse_date_or_datetime(text: str) -> tuple[date | datetime, bool, str | None]:
    """Parse ``20240105`` / ``20240105T090000`` / ``20240105T090000Z``.

    Returns (naive date or datetime, is UTC, repair note or None). Common producer slips are
    repaired with a note: a date with ``Z`` (Google), a stray trailing ``T``, missing seconds.
    Any thread; raises ValueError for anything else (impossible dates included).
    """
    cleaned = text.strip().upper()
    stray = len(cleaned) > 9 and cleaned.endswith("T")
    m = _VALUE_RE.match(cleaned[:-1] if stray else cleaned)
    if m is None:
        raise ValueError(f"'{text[:40]}' is not a date or date-time")
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    zulu = m.group(8) is not None
    if m.group(5) is None:
        note = None
        if m.group(4) or zulu:
            note = f"date '{text.strip()[:20]}' had a stray suffix; read as a date"
        return date(year, month, day), False, note
    seconds = m.group(7)
    value = datetime(year, month, day, int(m.group(5)), int(m.group(6)), int(seconds or 0))
    note = None if seconds else f"time '{text.strip()[:20]}' had no seconds"
    if stray:
        note = f"time '{text.strip()[:20]}' had a stray suffix; ignored it"
    return value, zulu, note


_UNESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPES = {"n": "\n", "N": "\n", ",": ",", ";": ";", "\\": "\\"}


def unescape_text(value: str) -> str:
    """TEXT value as written in the file -> plain text. Any thread; raises nothing.

    Unknown escapes (``\\:`` from sloppy producers) keep the character and drop the backslash.
    """
    if "\\" not in value:
        return value
    return _UNESCAPE_RE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(1)), value)


# RFC 5545 3.3.11 allows no control characters in TEXT but tab (newlines are escaped as \n).
# Left in, a NUL or BEL makes other readers (and ours) drop the whole property.
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_text(value: str) -> str:
    """Plain text -> TEXT value, without the control characters TEXT cannot hold.

    Any thread; raises nothing.
    """
    if _CONTROL_RE.search(value):
        value = _CONTROL_RE.sub("", value)
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at ``limit`` octets without splitting a UTF-8 character."""
    if len(line.encode("utf-8")) <= limit:
        return line
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 1  # the continuation's leading space counts
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def parse_duration(text: str) -> timedelta:
    """RFC 5545 DURATION -> timedelta. Any thread; raises ValueError when invalid or absurd."""
    from icalendar.prop import vDuration  # imported when first needed (process start-up)

    try:
        result = vDuration.from_ical(text.strip())  # type: ignore[no-untyped-call]
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"invalid duration '{text.strip()[:30]}'") from exc
    if not isinstance(result, timedelta):
        raise ValueError(f"invalid duration '{text.strip()[:30]}'")
    return result


def zone_key(tz: tzinfo | None) -> str | None:
    """'UTC', an IANA key, or None for anything else (fixed offsets, foreign tzinfo)."""
    if tz is None:
        return None
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz.key
    if tz is UTC:
        return "UTC"
    return None


def when_identity(value: object) -> object:
    """A key that tells apart equal instants in different zones (datetime == ignores zones)."""
    if isinstance(value, datetime):
        return (
            "dt",
            value.replace(tzinfo=None).isoformat(),
            zone_key(value.tzinfo),
            value.utcoffset(),
        )
    if isinstance(value, date):
        return ("d", value.isoformat())
    if isinstance(value, tuple):
        return tuple(when_identity(v) for v in value)
    return value


def render_when(
    value: date | datetime, *, floating: bool, tzid: str | None
) -> tuple[dict[str, str], str]:
    """(parameters, value text) for one DATE or DATE-TIME.

    Zoned times are written in their own IANA zone with TZID; UTC times with Z; floating times
    as bare wall-clock. A datetime in a zone without an IANA name is converted to ``tzid`` if
    given, else to UTC. Any thread; raises nothing.
    """
    if not isinstance(value, datetime):
        return {"VALUE": "DATE"}, value.strftime("%Y%m%d")
    if floating or value.tzinfo is None:
        return {}, _fmt(value)
    key = zone_key(value.tzinfo)
    if key is None and tzid:
        try:
            value = value.astimezone(zoneinfo.ZoneInfo(tzid))
            key = tzid
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            key = None
    if key is None or key.upper() in ("UTC", "ETC/UTC"):
        return {}, _fmt(value.astimezone(UTC)) + "Z"
    return {"TZID": key}, _fmt(value)


def render_when_list(
    values: Sequence[date | datetime], *, floating: bool, tzid: str | None
) -> list[tuple[dict[str, str], str]]:
    """Group values that share parameters into comma-joined lines, keeping first-seen order."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for value in values:
        params, text = render_when(value, floating=floating, tzid=tzid)
        groups.setdefault(tuple(sorted(params.items())), []).append(text)
    return [(dict(k), ",".join(v)) for k, v in groups.items()]


def _fmt(value: datetime) -> str:
    day = f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return f"{day}T{value.hour:02d}{value.minute:02d}{value.second:02d}"
