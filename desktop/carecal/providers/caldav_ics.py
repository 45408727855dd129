"""Text-level touches on iCalendar resources the CalDAV provider sends or receives.

Working on text (not a parse and re-serialise) keeps every byte Carecal does not model. Any thread;
nothing here raises.
"""

from __future__ import annotations

import re

_UID = re.compile(r"^UID[;:](?:[^:\r\n]*:)?(.*)$", re.MULTILINE)
_SCHEDULING = re.compile(r"^(ORGANIZER|ATTENDEE)(?=[;:])", re.IGNORECASE)


def unfold(text: str) -> str:
    """RFC 5545 unfolding: a line break followed by a space or tab continues the line."""
    return re.sub(r"\r?\n[ \t]", "", text)


def first_uid(raw: str) -> str | None:
    """The UID of the first component that has one, without a full parse (fast on big pulls).

    The same answer as searching the unfolded text: when no line is folded before the first
    raw ``UID`` line, unfolding cannot create an earlier one, so only that line is unfolded (a
    first sync reads tens of thousands of items; unfolding each whole item cost about 15 us).
    """
    start = _uid_line(raw)
    if start < 0 or raw.find("\n ", 0, start) >= 0 or raw.find("\n\t", 0, start) >= 0:
        found = _UID.search(unfold(raw))
        return found.group(1).strip() if found else None
    end = raw.find("\n", start)
    while end != -1 and raw[end + 1 : end + 2] in (" ", "\t"):
        end = raw.find("\n", end + 1)
    line = unfold(raw[start : len(raw) if end == -1 else end + 1])
    found = _UID.match(line)
    return found.group(1).strip() if found else None


def _uid_line(raw: str) -> int:
    """Where the first raw line starting ``UID;`` or ``UID:`` begins, or -1."""
    if raw.startswith(("UID;", "UID:")):
        return 0
    pos = raw.find("\nUID")
    while pos >= 0:
        if raw.startswith((";", ":"), pos + 4):
            return pos + 1
        pos = raw.find("\nUID", pos + 1)
    return -1


def prepare_for_put(raw: str) -> str:
    """The text to upload: ORGANIZER/ATTENDEE get ``SCHEDULE-AGENT=CLIENT`` (RFC 6638 §7.1) so a
    scheduling server never e-mails a patient, and a VEVENT without DTEND or DURATION gets an
    explicit DURATION (servers such as iCloud refuse events without an end)."""
    lines = _logical_lines(raw)
    out: list[str] = []
    in_event = False
    sub_depth = 0  # inside a VALARM: its DURATION is not the event's end
    has_end = False
    start_is_date = False
    for physical in lines:
        line = unfold(physical)
        upper = line.upper().rstrip("\r\n")
        if upper == "BEGIN:VEVENT":
            in_event, sub_depth, has_end, start_is_date = True, 0, False, False
        elif in_event and upper.startswith("BEGIN:"):
            sub_depth += 1
        elif in_event and sub_depth and upper.startswith("END:"):
            sub_depth -= 1
        elif in_event and not sub_depth and upper.startswith(("DTEND", "DURATION")):
            has_end = True
        elif in_event and not sub_depth and upper.startswith("DTSTART"):
            start_is_date = "VALUE=DATE:" in upper or bool(re.search(r":\d{8}$", upper))
        if upper == "END:VEVENT" and in_event:
            if not has_end:
                out.append("DURATION:P1D\r\n" if start_is_date else "DURATION:PT0S\r\n")
            in_event = False
        m = _SCHEDULING.match(line)
        if m and "SCHEDULE-AGENT=" not in upper.split(":", 1)[0]:
            name = m.group(1)
            line = name + ";SCHEDULE-AGENT=CLIENT" + line[len(name) :]
            out.append(_fold(line))
            continue
        out.append(physical)
    return "".join(out)


def _logical_lines(raw: str) -> list[str]:
    """Split into logical lines, each with its folded continuations and line break kept."""
    physical = raw.splitlines(keepends=True)
    out: list[str] = []
    for p in physical:
        if out and p[:1] in (" ", "\t"):
            out[-1] += p
        else:
            out.append(p)
    if out and not out[-1].endswith("\n"):
        out[-1] += "\r\n"
    return out


def _fold(line: str) -> str:
    """Fold one logical line at 75 octets, without splitting a UTF-8 sequence."""
    data = line.rstrip("\r\n")
    chunks: list[str] = []
    cur = ""
    size = 0
    for ch in data:
        n = len(ch.encode("utf-8"))
        limit = 75 if not chunks else 74
        if size + n > limit:
            chunks.append(cur)
            cur, size = "", 0
        cur += ch
        size += n
    chunks.append(cur)
    return "\r\n ".join(chunks) + "\r\n"
