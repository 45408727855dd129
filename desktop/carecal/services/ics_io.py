"""Importing and exporting iCalendar files (the File menu, drag-and-drop and the CLI).

Imports are atomic per file and idempotent by UID (the store decides added/updated/unchanged);
exports write what the events' ``raw`` text keeps, so unmodelled properties survive. Both run on
the caller's thread and do disk I/O; the GUI calls them from its database lane.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from carecal.domain.errors import CarecalError, IcsError, ReadOnlyCalendar
from carecal.domain.models import Event
from carecal.store.repo import Repository

# A file larger than this is refused before parsing: nobody's practice calendar is 200 MB.
MAX_FILE_BYTES = 200 * 1024 * 1024
# "Everything" for an export without a window; wide enough for any practice's history.
_ALL_START = datetime(1900, 1, 1, tzinfo=UTC)
_ALL_END = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What one file's import did. ``warnings`` are user-facing, one sentence each."""

    source: str
    added: int
    updated: int
    unchanged: int
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


def import_file(repo: Repository, path: Path, calendar_id: str, *, actor: str) -> ImportReport:
    """Import every VEVENT of one .ics file into a calendar, in one transaction.

    Raises IcsError (unreadable file or not iCalendar at all; the message names the file),
    ReadOnlyCalendar, NotFound (calendar), StoreError.
    """
    calendar = repo.get_calendar(calendar_id)
    if calendar.read_only:
        raise ReadOnlyCalendar(f"the calendar {calendar.name!r} is read-only")
    source = path.name
    data = _read(path, source)
    from carecal.ical.reader import read_ics

    parsed = read_ics(data, source=source, calendar_id=calendar_id)
    result = repo.import_events(parsed.events, calendar_id, actor=actor)
    return ImportReport(
        source=source,
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        warnings=list(parsed.warnings),
    )


def _read(path: Path, source: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IcsError(f"the file is too large to import ({size // (1024 * 1024)} MB)", source)
        return path.read_bytes()
    except FileNotFoundError:
        raise IcsError("no such file", str(path)) from None
    except IsADirectoryError:
        raise IcsError("is a folder, not an .ics file", str(path)) from None
    except OSError as exc:
        raise IcsError(f"cannot read the file ({exc.strerror or exc})", str(path)) from exc


def events_for_export(
    repo: Repository,
    *,
    calendar_ids: Collection[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Event]:
    """The stored events (masters with all their overrides) to export. Raises StoreError."""
    return repo.events_in_window(start or _ALL_START, end or _ALL_END, calendar_ids, with_raw=True)


def export_file(
    repo: Repository,
    path: Path,
    *,
    calendar_ids: Collection[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> int:
    """Write the events (series whole, with overrides) to one .ics file; returns how many
    VEVENTs were written. The file is replaced atomically (never left half-written).

    Raises IcsError (cannot write the file), StoreError.
    """
    events = events_for_export(repo, calendar_ids=calendar_ids, start=start, end=end)
    from carecal.ical.writer import write_ics

    try:
        data = write_ics(events)
    except CarecalError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise IcsError(f"cannot write the calendar ({exc})", path.name) from exc
    _write_atomically(path, data)
    return len(events)


def _write_atomically(path: Path, data: bytes) -> None:
    target = path.expanduser()
    try:
        directory = target.parent if str(target.parent) else Path()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise IcsError(f"cannot write the file ({exc.strerror or exc})", str(path)) from exc
