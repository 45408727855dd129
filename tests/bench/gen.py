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


def generate(
    n: int, *, week_start: date, recurring: int | None = None, seed: int = 7
) -> list[BenchEvent]:
    """N events; ``recurring`` of them weekly series (default 2% of N). Deterministic per seed."""
    rng = random.Random(seed)
    n_rec = recurring if recurring is not None else n // 50
    first_day = week_start - timedelta(weeks=52)
    out: list[BenchEvent] = []
    stamp = "20261101T120000Z"
    for i in range(n):
        uid = f"bench-{n}-{i}@carecal.bench"
        day = first_day + timedelta(days=rng.randrange(7 * 104))
        hour = rng.randrange(7, 19)
        minute = rng.choice((0, 15, 30, 45))
        start = datetime(day.year, day.month, day.day, hour, minute)
        end = start + timedelta(minutes=rng.choice((30, 45, 50, 60, 90)))
        lines = [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;TZID={TZID}:{_fmt(start)}",
            f"DTEND;TZID={TZID}:{_fmt(end)}",
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
