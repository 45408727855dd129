"""``carecal hours list|set|add|clear`` and ``carecal breaks list|add|remove``: the weekly working
hours and the breaks that ``carecal free`` subtracts. Main thread; disk I/O."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import time

from carecal.cli import EXIT_OK, UsageError
from carecal.cli.output import write_json, write_line, write_table
from carecal.cli.timeparse import WEEKDAY_NAMES
from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import Break, WorkingHours, new_id
from carecal.services.session import Session

DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hours_record(h: WorkingHours) -> dict[str, object]:
    """One working interval as the documented ``hours list`` JSON object."""
    return {
        "id": h.id,
        "weekday": WEEKDAY_NAMES[h.weekday],
        "from": f"{h.start:%H:%M}",
        "to": f"{h.end:%H:%M}",
        "valid_from": h.valid_from.isoformat() if h.valid_from else None,
        "valid_to": h.valid_to.isoformat() if h.valid_to else None,
    }


def break_record(b: Break) -> dict[str, object]:
    """One break as the documented ``breaks list`` JSON object."""
    return {
        "id": b.id,
        "weekday": None if b.weekday is None else WEEKDAY_NAMES[b.weekday],
        "date": b.on_date.isoformat() if b.on_date else None,
        "from": f"{b.start:%H:%M}",
        "to": f"{b.end:%H:%M}",
        "label": b.label,
    }


def _span(start: time, end: time) -> None:
    if end <= start:
        raise ValidationError(f"--to ({end:%H:%M}) must be after --from ({start:%H:%M})")


def list_hours(session: Session, args: argparse.Namespace) -> int:
    """The weekly working hours, Monday first."""
    hours = session.repo.working_hours()
    if args.format == "json":
        write_json([hours_record(h) for h in hours])
        return EXIT_OK
    rows = []
    for day in range(7):
        spans = [h for h in hours if h.weekday == day]
        text = ", ".join(f"{h.start:%H:%M}-{h.end:%H:%M}" + _validity(h) for h in spans)
        rows.append((DAY_LABELS[day], text or "off"))
    if not hours:
        write_line(
            "No working hours are set. Set them with, for example: "
            "carecal hours set --weekday mon-fri --from 09:00 --to 17:00"
        )
        return EXIT_OK
    write_table(("DAY", "HOURS"), rows, empty="")
    return EXIT_OK


def _validity(h: WorkingHours) -> str:
    if h.valid_from is None and h.valid_to is None:
        return ""
    return f" ({h.valid_from or '…'} to {h.valid_to or '…'})"


def set_hours(session: Session, args: argparse.Namespace) -> int:
    """Replace the hours of the given weekdays with one interval each (other days unchanged)."""
    _span(args.start, args.end)
    return _save_hours(session, args.weekdays, args.start, args.end, replace=True)


def add_hours(session: Session, args: argparse.Namespace) -> int:
    """Add an interval to the given weekdays (a split shift), keeping what they have."""
    _span(args.start, args.end)
    return _save_hours(session, args.weekdays, args.start, args.end, replace=False)


def clear_hours(session: Session, args: argparse.Namespace) -> int:
    """Make the given weekdays days off."""
    kept = [h for h in session.repo.working_hours() if h.weekday not in args.weekdays]
    session.repo.set_working_hours(kept, actor="cli")
    write_line(f"{_days(args.weekdays)}: off")
    return EXIT_OK


def _save_hours(
    session: Session, weekdays: Sequence[int], start: time, end: time, *, replace: bool
) -> int:
    current = session.repo.working_hours()
    kept = [h for h in current if not (replace and h.weekday in weekdays)]
    for day in weekdays:
        for h in kept:
            if h.weekday == day and h.start < end and start < h.end:
                raise ValidationError(
                    f"{DAY_LABELS[day]} {start:%H:%M}-{end:%H:%M} overlaps the hours "
                    f"{h.start:%H:%M}-{h.end:%H:%M} already set (use: carecal hours set)"
                )
    added = [WorkingHours(new_id(), day, start, end) for day in weekdays]
    session.repo.set_working_hours([*kept, *added], actor="cli")
    write_line(f"{_days(weekdays)}: working {start:%H:%M}-{end:%H:%M}")
    return EXIT_OK


def _days(weekdays: Sequence[int]) -> str:
    return ", ".join(DAY_LABELS[d] for d in weekdays)


def list_breaks(session: Session, args: argparse.Namespace) -> int:
    """Weekly breaks and breaks on one date."""
    breaks = session.repo.breaks()
    if args.format == "json":
        write_json([break_record(b) for b in breaks])
        return EXIT_OK
    ordered = sorted(
        breaks, key=lambda b: (b.on_date is not None, b.on_date or b.weekday or 0, b.start)
    )
    rows = [
        (
            DAY_LABELS[b.weekday] if b.weekday is not None else str(b.on_date or "every day"),
            f"{b.start:%H:%M}-{b.end:%H:%M}",
            b.label,
            b.id,
        )
        for b in ordered
    ]
    write_table(("WHEN", "TIME", "LABEL", "ID"), rows, empty="No breaks.")
    return EXIT_OK


def add_break(session: Session, args: argparse.Namespace) -> int:
    """A weekly break on the given weekdays, or a break on one date."""
    _span(args.start, args.end)
    if (args.weekdays is None) == (args.on_date is None):
        raise UsageError("give --weekday (a weekly break) or --date (one day), not both")
    label = (args.label or "").strip()
    if args.on_date is not None:
        new = [Break(new_id(), args.start, args.end, on_date=args.on_date, label=label)]
        where = str(args.on_date)
    else:
        new = [Break(new_id(), args.start, args.end, weekday=d, label=label) for d in args.weekdays]
        where = _days(args.weekdays)
    session.repo.set_breaks([*session.repo.breaks(), *new], actor="cli")
    if args.format == "json":
        write_json([break_record(b) for b in new])
    else:
        what = f"{label} break" if label else "Break"
        ids = new[0].id if len(new) == 1 else "see: carecal breaks list"
        write_line(f"{what} {args.start:%H:%M}-{args.end:%H:%M} added on {where} ({ids})")
    return EXIT_OK


def remove_break(session: Session, args: argparse.Namespace) -> int:
    """Remove breaks by id (a unique prefix of at least 4 characters is enough)."""
    breaks = session.repo.breaks()
    gone: set[str] = set()
    for wanted in args.ids:
        key = wanted.strip().lower()
        matches = [b for b in breaks if b.id == key or (len(key) >= 4 and b.id.startswith(key))]
        if not matches:
            raise NotFound(f"no break with id {wanted} (see: carecal breaks list)")
        if len(matches) > 1:
            raise ValidationError(f"the id {wanted} matches {len(matches)} breaks; give more of it")
        gone.add(matches[0].id)
    session.repo.set_breaks([b for b in breaks if b.id not in gone], actor="cli")
    write_line(f"Removed {len(gone)} break{'s' if len(gone) != 1 else ''}")
    return EXIT_OK
