"""Drive the real ``carecal`` command line in subprocesses, and read a CalDAV calendar directly.

Used by the multi-process sync tests (crash, two machines). Every call is a fresh
``python -m carecal --data-dir DIR ...`` process, exactly as a user or a script would run it.
The child's PYTHONPATH keeps whatever the caller's environment put first (so a patched copy of
the package can be tested against the same assertions), then the project's own ``desktop``.

Runs on the test's thread; raises AssertionError when a command that must succeed fails.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import niquests
from icalendar import Calendar

from carecal.services.session import DB_FILE
from tests.integration.servers import PASSWORD, USERNAME

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 60.0
EVENT_FIELDS = ("title", "location", "notes")


# Set by a test whose children need more (the Google emulator's endpoints, a file keyring).
EXTRA_ENV: dict[str, str] = {}


@contextmanager
def extra_env(extra: dict[str, str]) -> Iterator[None]:
    """EXTRA_ENV with ``extra`` added while the block runs, as it was again after."""
    saved = dict(EXTRA_ENV)
    EXTRA_ENV.update(extra)
    try:
        yield
    finally:
        EXTRA_ENV.clear()
        EXTRA_ENV.update(saved)


def cli_env() -> dict[str, str]:
    """The environment of a child ``carecal``: the sync password, an import path that honours
    the caller's PYTHONPATH first, and no keyring (the account keeps no stored password)."""
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths += [str(PROJECT_ROOT / "desktop"), str(PROJECT_ROOT)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["CARECAL_PASSWORD"] = PASSWORD
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.update(EXTRA_ENV)
    return env


def cli_argv(data_dir: Path, *args: str) -> list[str]:
    """The argument vector of one ``carecal`` run on ``data_dir``."""
    return [sys.executable, "-m", "carecal", "--data-dir", str(data_dir), *args]


def run_cli(
    data_dir: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run one ``carecal`` command to its end. With ``check``, a non-zero exit fails the test
    with the command's stderr."""
    done = subprocess.run(
        cli_argv(data_dir, *args),
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=cli_env(),
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    if check:
        assert done.returncode == 0, (
            f"carecal {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return done


def cli_json(data_dir: Path, *args: str) -> Any:
    """Run a command with ``--format json`` and return its parsed output."""
    return json.loads(run_cli(data_dir, *args, "--format", "json").stdout)


def add_account(data_dir: Path, calendar_url: str) -> str:
    """Add a CalDAV account on one calendar URL (password not stored) and return the name of
    the mirrored calendar."""
    run_cli(
        data_dir,
        "accounts",
        "add",
        "caldav",
        "--url",
        calendar_url,
        "--username",
        USERNAME,
        "--password-stdin",
        "--no-store-password",
        "--no-sync",  # the tests' own 'carecal sync' runs bring the events
        stdin=PASSWORD + "\n",
    )
    remote = [c for c in cli_json(data_dir, "calendars", "list") if c["remote"]]
    assert len(remote) == 1, f"expected one mirrored calendar, found {remote}"
    return str(remote[0]["name"])


def sync(data_dir: Path) -> subprocess.CompletedProcess[str]:
    """One ``carecal sync`` that must succeed (exit 0)."""
    return run_cli(data_dir, "sync")


@dataclass(frozen=True)
class Item:
    """What the tests compare of one appointment: its UID and the text fields edits change."""

    uid: str
    title: str
    location: str
    notes: str

    def field(self, name: str) -> str:
        return str(getattr(self, name))


def local_items(data_dir: Path, calendar: str) -> dict[str, list[dict[str, Any]]]:
    """The calendar's events as ``carecal events list`` prints them, grouped by UID."""
    rows = cli_json(
        data_dir,
        "events",
        "list",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
        "--calendar",
        calendar,
    )
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["uid"]), []).append(row)
    return grouped


def local_item(row: dict[str, Any]) -> Item:
    return Item(str(row["uid"]), str(row["title"]), str(row["location"]), str(row["notes"]))


def open_conflict_uids(data_dir: Path) -> list[str]:
    """The UIDs in the conflict inbox (one entry per open conflict, so repeats show)."""
    return [str(c["uid"]) for c in cli_json(data_dir, "conflicts", "list")]


def integrity(data_dir: Path) -> str:
    """SQLite's PRAGMA integrity_check of the data directory's database ("ok" when sound)."""
    con = sqlite3.connect(data_dir / DB_FILE)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


def audit_verifies(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(data_dir, "audit", "verify", check=False)


_DAV = "{DAV:}"


def server_hrefs(calendar_url: str) -> list[str]:
    """Absolute URLs of the calendar's member resources (PROPFIND, Depth 1)."""
    body = (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    )
    r = niquests.request(
        "PROPFIND",
        calendar_url,
        data=body.encode(),
        headers={"Depth": "1", "Content-Type": "application/xml"},
        auth=(USERNAME, PASSWORD),
        timeout=10,
    )
    assert r.status_code == 207, f"PROPFIND {calendar_url} answered {r.status_code}"
    assert r.content is not None
    root = ET.fromstring(r.content)
    own = urlparse(calendar_url).path.rstrip("/")
    hrefs = []
    for response in root.iter(f"{_DAV}response"):
        href = response.findtext(f"{_DAV}href") or ""
        if href.rstrip("/") == own:
            continue
        hrefs.append(urljoin(calendar_url, href))
    return hrefs


def server_get(url: str) -> str:
    r = niquests.get(url, auth=(USERNAME, PASSWORD), timeout=10)
    assert r.status_code == 200, f"GET {url} answered {r.status_code}"
    assert r.text is not None
    return r.text


def parse_item(text: str) -> Item:
    """The one VEVENT of a resource as an Item (the resources here hold no series)."""
    cal = Calendar.from_ical(text)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1, f"expected one VEVENT, got {len(events)}"
    ev = events[0]
    return Item(
        str(ev.get("UID")),
        str(ev.get("SUMMARY", "")),
        str(ev.get("LOCATION", "")),
        str(ev.get("DESCRIPTION", "")),
    )


def server_items(calendar_url: str) -> list[tuple[str, Item, str]]:
    """Every resource of the calendar as (href, item, raw text)."""
    out = []
    for href in server_hrefs(calendar_url):
        raw = server_get(href)
        out.append((href, parse_item(raw), raw))
    return out


def vevent(uid: str, start: str, end: str, title: str, location: str = "", notes: str = "") -> str:
    """One VEVENT block (CRLF lines) with UTC times given as ``YYYYMMDDTHHMMSSZ``."""
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20300101T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{_escape(title)}",
    ]
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    if notes:
        lines.append(f"DESCRIPTION:{_escape(notes)}")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


def vcalendar(*blocks: str) -> str:
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Carecal tests//other client//EN\r\n"
    return head + "\r\n".join(blocks) + "\r\nEND:VCALENDAR\r\n"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def edited_raw(raw: str, field: str, value: str) -> str:
    """The resource text with one of SUMMARY/LOCATION/DESCRIPTION set, as another client that
    edits an event in place would write it (everything else kept)."""
    prop = {"title": "SUMMARY", "location": "LOCATION", "notes": "DESCRIPTION"}[field]
    cal = Calendar.from_ical(raw)
    for ev in cal.walk("VEVENT"):
        if prop in ev:
            del ev[prop]
        ev.add(prop, value)
        seq = int(ev.get("SEQUENCE", 0))
        if "SEQUENCE" in ev:
            del ev["SEQUENCE"]
        ev.add("SEQUENCE", seq + 1)
    return str(cal.to_ical().decode("utf-8"))
