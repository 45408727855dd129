"""``read_item`` (the CalDAV item reader) gives exactly the events ``read_ics`` gives, whether it
takes its fast path or falls back, on the whole corpus and on mangled variants of clean items."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from carecal.domain.errors import IcsError
from carecal.domain.models import Event
from carecal.ical import reader
from carecal.ical.reader import read_ics, read_item

_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "ics_corpus"

_ITEM = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
    "X-WR-TIMEZONE:Europe/Vienna\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Custom Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:a@x\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART;TZID=Custom Berlin:20260105T090000\r\nDTEND;TZID=Custom Berlin:20260105T100000\r\n"
    "SUMMARY:Weekly\\, with a comma and a long title that needs a fold to stay under se\r\n"
    " venty-five octets\r\nRRULE:FREQ=WEEKLY;COUNT=5\r\n"
    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:a@x\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260112T090000\r\n"
    "DTSTART;TZID=Europe/Berlin:20260112T110000\r\nDURATION:PT30M\r\nSUMMARY:Moved\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:a@x\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260119T090000\r\n"
    "DTSTART:20260119T120000\r\nSUMMARY:Floating\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def _plain(events: list[Event]) -> list[Event]:
    return [dataclasses.replace(e, id="") for e in events]


def _same(text: str) -> None:
    try:
        want = _plain(read_ics(text.encode("utf-8"), source="x", calendar_id="c").events)
    except IcsError:
        with pytest.raises(IcsError):
            read_item(text, source="x", calendar_id="c")
        return
    assert _plain(read_item(text, source="x", calendar_id="c")) == want


def _utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _corpus() -> list[Path]:
    """The corpus files a CalDAV item can be: UTF-8 text (the HTTP layer decodes a resource
    before read_item sees it; files in other encodings go through read_ics, tested in
    test_corpus.py)."""
    files = sorted(_CORPUS.glob("*/*.ics")) if _CORPUS.is_dir() else []
    return [p for p in files if _utf8(p)]


def test_the_corpus_is_there_and_mostly_utf8() -> None:
    files = sorted(_CORPUS.glob("*/*.ics"))
    assert len(files) > 150
    assert len(_corpus()) >= len(files) - 15


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_files_read_the_same(path: Path) -> None:
    _same(path.read_bytes().decode("utf-8"))


def test_a_clean_item_takes_the_fast_path_and_parses_no_zone_it_does_not_need(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    want = _plain(read_ics(_ITEM.encode(), source="x", calendar_id="c").events)
    assert len(want) == 3

    def no_slow_path(*args: object, **kwargs: object) -> object:
        raise AssertionError("fell back to read_ics")

    monkeypatch.setattr(reader, "read_ics", no_slow_path)
    assert _plain(read_item(_ITEM, source="x", calendar_id="c")) == want
    # Only IANA names: the VTIMEZONE is never parsed.
    parsed: list[str] = []
    real = reader.parse_components
    monkeypatch.setattr(
        reader, "parse_components", lambda t, s: parsed.append(t[:16]) or real(t, s)
    )
    iana = _ITEM.replace("Custom Berlin", "Europe/Berlin")
    read_item(iana, source="x", calendar_id="c")
    assert parsed == []  # the VEVENTs are built in the same pass that checks the structure
    read_item(_ITEM, source="x", calendar_id="c")
    assert parsed == ["BEGIN:VTIMEZONE\r"]  # a zone named by its VTIMEZONE only


@pytest.mark.parametrize("seed", range(120))
def test_mangled_items_read_the_same(seed: int) -> None:
    rng = random.Random(seed)
    lines = _ITEM.split("\r\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        how = rng.choice(
            ["drop", "lower", "blank", "fold", "dup", "space", "param", "lf", "junk", "swap"]
        )
        if how == "drop":
            del lines[i]
        elif how == "lower":
            lines[i] = lines[i].lower()
        elif how == "blank":
            lines.insert(i, rng.choice(["", "  ", "\t"]))
        elif how == "fold" and len(lines[i]) > 3:
            cut = rng.randrange(1, len(lines[i]))
            lines[i : i + 1] = [lines[i][:cut], " " + lines[i][cut:]]
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "space":
            lines[i] = lines[i] + " "
        elif how == "param":
            lines[i] = lines[i].replace(":", ";X=1:", 1)
        elif how == "lf":
            lines[i] = lines[i] + "\n"
        elif how == "junk":
            lines.insert(i, rng.choice(["garbage", "BEGIN:VTODO", "END:VEVENT", "ENDX:1", "\x00"]))
        elif how == "swap" and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
    _same("\r\n".join(lines))


@pytest.mark.parametrize("seed", range(60))
def test_mangled_lines_read_the_same(seed: int) -> None:
    """Line-level oddities inside a clean structure: names the fast split must leave to the
    lenient reader (parameters, non-ASCII, lower case, hyphens only, blanks), folds in odd
    places, LF and CRLF mixed, a repeated zone (its structure check is remembered)."""
    rng = random.Random(1000 + seed)
    lines = _ITEM.split("\r\n")
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(1, len(lines) - 2)
        how = rng.choice(["name", "fold", "mixed", "zone", "blankfold", "colon"])
        if how == "name":
            lines.insert(i, rng.choice(["X-É:1", "x-low:2", "---:3", "X-A;B=1:4", "X A:5", ":6"]))
        elif how == "fold" and len(lines[i]) > 2:
            cut = rng.randrange(1, len(lines[i]))
            lines[i : i + 1] = [lines[i][:cut], rng.choice([" ", "\t"]) + lines[i][cut:]]
        elif how == "mixed":
            lines[i] = lines[i] + "\n" + rng.choice(["X-B:1", "", " "])
        elif how == "zone":
            start, end = lines.index("BEGIN:VTIMEZONE"), lines.index("END:VTIMEZONE")
            lines[end + 1 : end + 1] = lines[start : end + 1]
        elif how == "blankfold":
            lines.insert(i, rng.choice([" ", "\t", "  x"]))
        elif how == "colon":
            lines[i] = lines[i].replace(":", "::", 1)
    text = "\r\n".join(lines)
    _same(text)
    _same(text.replace("\r\n", "\n"))
