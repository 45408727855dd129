"""The shared corpus: every valid file reads and round-trips, no malformed file crashes."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carecal.domain.errors import IcsError
from carecal.domain.models import Event, When
from carecal.ical.reader import read_ics
from carecal.ical.writer import write_ics

# Collection needs the names before fixtures exist; the tests still open files via `ics_corpus`.
_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "ics_corpus"


def _names(sub: str) -> list[str]:
    folder = _CORPUS / sub
    return sorted(p.name for p in folder.glob("*.ics")) if folder.is_dir() else []


def _instant(value: When) -> object:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _key(event: Event) -> tuple[str, str, str]:
    rid = "" if event.recurrence_id is None else str(_instant(event.recurrence_id))
    start = event.start.replace(tzinfo=None) if event.floating else _instant(event.start)
    return (event.uid, rid, str(start))


def test_corpus_is_present(ics_corpus: Path) -> None:
    assert len(_names("valid")) == len(list((ics_corpus / "valid").glob("*.ics"))) >= 100
    assert len(_names("malformed")) == len(list((ics_corpus / "malformed").glob("*.ics"))) >= 50


@pytest.mark.parametrize("name", _names("valid"))
def test_valid_file_reads_and_round_trips(ics_corpus: Path, name: str) -> None:
    data = (ics_corpus / "valid" / name).read_bytes()
    first = read_ics(data, source=name, calendar_id="cal")
    assert all(e.raw and e.raw.startswith("BEGIN:VEVENT") for e in first.events)
    assert all(e.master_id is None and e.calendar_id == "cal" for e in first.events)

    exported = write_ics(first.events)
    second = read_ics(exported, source=f"{name} (exported)", calendar_id="cal")

    assert len(second.events) == len(first.events)
    assert sorted(_key(e) for e in second.events) == sorted(_key(e) for e in first.events)
    assert exported.count(b"BEGIN:VEVENT") == len(first.events)


@pytest.mark.parametrize("name", _names("malformed"))
def test_malformed_file_is_lenient_or_clear(ics_corpus: Path, name: str) -> None:
    data = (ics_corpus / "malformed" / name).read_bytes()
    started = time.perf_counter()
    try:
        parsed = read_ics(data, source=name, calendar_id="cal")
    except IcsError as exc:
        assert str(exc).startswith(f"{name}: ")
        assert exc.detail and "\n" not in str(exc)
    else:
        assert all(w.startswith(f"{name}: ") for w in parsed.warnings)
        # Whatever was read must export and read back whole.
        again = read_ics(write_ics(parsed.events), source="again", calendar_id="cal")
        assert len(again.events) == len(parsed.events)
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize(
    "name",
    [
        "icalendar__invalid_duration.ics",
        "icsparser__issue-343.ics",
        "icaljs__google_birthday.ics",
        "radicale__broken-vevent.ics",
        "rie__end_before_start_event.ics",
        "nodeical__large-file-with-late-error.ics",
        "icalendar__issue_1081_invalid_rrule_freq.ics",
    ],
)
def test_repairs_are_reported(ics_corpus: Path, name: str) -> None:
    parsed = read_ics((ics_corpus / "malformed" / name).read_bytes(), source=name, calendar_id="c")
    assert parsed.events
    assert parsed.warnings


def test_late_error_skips_one_event_not_the_file(ics_corpus: Path) -> None:
    name = "nodeical__large-file-with-late-error.ics"
    data = (ics_corpus / "malformed" / name).read_bytes()
    parsed = read_ics(data, source=name, calendar_id="c")
    skipped = [w for w in parsed.warnings if "skipped: DTSTART is unreadable" in w]
    assert skipped
    assert len(parsed.events) == data.count(b"BEGIN:VEVENT") - len(skipped)


@pytest.mark.parametrize("name", ["ical__empty.ics", "ical__invalid.ics", "libical__issue250.ics"])
def test_not_a_calendar_is_refused_by_name(ics_corpus: Path, name: str) -> None:
    with pytest.raises(IcsError) as info:
        read_ics((ics_corpus / "malformed" / name).read_bytes(), source=name, calendar_id="c")
    assert info.value.source == name
