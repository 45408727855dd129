"""Seeded benchmark calendars: N events around a target week, as iCalendar text.

Singles are spread over two years (about 960 a week at 100,000 events, the density perf-anchors.md
measured SQLite against); a share are weekly recurring series with TZID=Europe/Berlin, some with
COUNT, some unbounded, some with EXDATEs. The same events can be written as one .ics file (for
Carecal's import) or as one .ics file per event (a vdir, for khal).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

TZID = "Europe/Berlin"
VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""

TITLES = [
    "Therapy session",
    "Initial consultation",
    "Follow-up",
    "Physio treatment",
    "Video consultation",
    "Supervision",
    "Team meeting",
    "Assessment",
]


@dataclass(frozen=True)
class BenchEvent:
    uid: str
    vevent: str


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%S")


SHAPES = ("spread", "anchors")
"""``spread``: singles over two years (about 960 a week at 100,000 events), 2 % weekly series.
``anchors``: the shape of perf-anchors.md's generator, which the issue's khal figures were
measured on: 10 % weekly series, 5 % all-day entries, singles over the 20 weeks around the
measured week, so a week lists about 1,050 entries at 20,000 events."""


def generate(
    n: int,
    *,
    week_start: date,
    recurring: int | None = None,
    seed: int = 7,
    shape: str = "spread",
) -> list[BenchEvent]:
    """N events; ``recurring`` of them weekly series (default by shape). Deterministic per seed."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; one of {SHAPES}")
    rng = random.Random(seed)
    anchors = shape == "anchors"
    n_rec = recurring if recurring is not None else (n // 10 if anchors else n // 50)
    n_all_day = n // 20 if anchors else 0
    weeks = 20 if anchors else 104
    first_day = week_start - timedelta(weeks=weeks // 2)
    out: list[BenchEvent] = []
    stamp = "20261101T120000Z"
    for i in range(n):
        uid = f"bench-{n}-{i}@carecal.bench"
        day = first_day + timedelta(days=rng.randrange(7 * weeks))
        hour = rng.randrange(7, 19)
        minute = rng.choice((0, 15, 30, 45))
        start = datetime(day.year, day.month, day.day, hour, minute)
        end = start + timedelta(minutes=rng.choice((30, 45, 50, 60, 90)))
        if n_rec <= i < n_rec + n_all_day:
            dates = (
                f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            )
        else:
            dates = (f"DTSTART;TZID={TZID}:{_fmt(start)}", f"DTEND;TZID={TZID}:{_fmt(end)}")
        lines = [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{stamp}",
            *dates,
            f"SUMMARY:{rng.choice(TITLES)} {i}",
            f"LOCATION:Room {rng.randrange(1, 6)}",
        ]
        if i < n_rec:
            if i % 3 == 0:
                lines.append(f"RRULE:FREQ=WEEKLY;COUNT={rng.randrange(10, 80)}")
            else:
                lines.append("RRULE:FREQ=WEEKLY")
            if i % 4 == 0:
                ex = start + timedelta(weeks=rng.randrange(1, 8))
                lines.append(f"EXDATE;TZID={TZID}:{_fmt(ex)}")
        lines.append("END:VEVENT")
        out.append(BenchEvent(uid, "\r\n".join(lines)))
    return out


def calendar_text(events: list[BenchEvent]) -> str:
    body = "\r\n".join(e.vevent for e in events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Carecal//bench//EN\r\n"
        f"{VTIMEZONE.replace(chr(10), chr(13) + chr(10))}\r\n{body}\r\nEND:VCALENDAR\r\n"
    )


def write_single_file(events: list[BenchEvent], path: Path) -> Path:
    path.write_text(calendar_text(events), encoding="utf-8", newline="")
    return path


def write_vdir(events: list[BenchEvent], folder: Path) -> Path:
    """One .ics per event, as vdirsyncer writes them and khal reads them."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, e in enumerate(events):
        (folder / f"{i}.ics").write_text(calendar_text([e]), encoding="utf-8", newline="")
    return folder
