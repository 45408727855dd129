"""``carecal events list|add|update|delete``. Each runs on the main thread and does disk I/O."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecal.cli import EXIT_OK, UsageError
from carecal.cli.occurrence import find_occurrence
from carecal.cli.output import write_json, write_line, write_table
from carecal.cli.records import Names, event_record, occurrence_record
from carecal.cli.timeparse import localize, require_time
from carecal.domain.errors import NotFound, ValidationError
from carecal.domain.models import (
    AppointmentStatus,
    Calendar,
    EditScope,
    Event,
    Occurrence,
    VisitMode,
    When,
    new_id,
)
from carecal.domain.overlap import find_double_bookings
from carecal.services.events import occurrence_of
from carecal.services.session import Session
from carecal.store.repo import Repository


def pick_calendar(repo: Repository, name: str | None) -> Calendar:
    """The named calendar (NotFound names it), else the default one for new appointments."""
    if name:
        return repo.find_calendar(name)
    return repo.default_calendar()


def date_window(
    zone: ZoneInfo, first: date | None, last: date | None, *, default_days: int = 7
) -> tuple[datetime, datetime]:
    """[first 00:00, day after last 00:00) in ``zone``; defaults: today and a week on."""
    first = first or datetime.now(zone).date()
    last = last or first + timedelta(days=default_days - 1)
    if last < first:
        raise ValidationError(f"--to ({last}) is before --from ({first})")
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def _plus(start: datetime, minutes: float) -> datetime:
    # Elapsed time, not wall time: 50 minutes stay 50 minutes across a DST change.
    zone = start.tzinfo
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)


def list_events(session: Session, args: argparse.Namespace) -> int:
    """Occurrences (series expanded) between two dates, table or JSON."""
    repo = session.repo
    zone = session.events.display_zone()
    start, end = date_window(zone, args.date_from, args.date_to)
    calendar_ids = [repo.find_calendar(args.calendar).id] if args.calendar else None
    occs, warnings = session.events.occurrences_with_warnings(start, end, calendar_ids)
    doubles = find_double_bookings(occs)
    names = Names(repo)
    for warning in warnings:
        _warn(warning)
    if args.format == "json":
        write_json([occurrence_record(o, names, zone, o.key in doubles) for o in occs])
        return EXIT_OK
    rows = [_occurrence_row(o, names, zone, o.key in doubles) for o in occs]
    write_table(
        ("DAY", "TIME", "CALENDAR", "STATUS", "FLAGS", "TITLE", "PATIENT", "ID"),
        rows,
        empty=f"No events from {start.date()} to {(end - timedelta(days=1)).date()}.",
    )
    if any(row[4] for row in rows):
        # The one-letter flags need a key; a series' occurrences share the series' ID.
        write_line(
            "FLAGS: R = part of a series (change one with --occurrence DATE), ! = double-booked"
        )
    return EXIT_OK


def _occurrence_row(
    occ: Occurrence, names: Names, zone: ZoneInfo, double: bool
) -> tuple[object, ...]:
    ev = occ.event
    if isinstance(occ.start, datetime) and isinstance(occ.end, datetime):
        s, e = occ.start.astimezone(zone), occ.end.astimezone(zone)
        day = s.strftime("%a %Y-%m-%d")
        span = f"{s:%H:%M}-{e:%H:%M}" if e.date() == s.date() else f"{s:%H:%M}-{e:%m-%d %H:%M}"
    else:
        day = f"{occ.start:%a %Y-%m-%d}"
        last = occ.end - timedelta(days=1)
        span = "all day" if last <= occ.start else f"to {last:%m-%d}"
    flags = ("!" if double else "") + ("R" if ev.is_recurring or ev.is_override else "")
    patient = names.patient(ev.patient_id) or (
        f"{len(ev.participants)} participants" if ev.participants else ""
    )
    return (
        day,
        span,
        names.calendar(ev.calendar_id),
        ev.status.label,
        flags,
        ev.title,
        patient,
        ev.id,
    )


def add_event(session: Session, args: argparse.Namespace) -> int:
    """Create one event (or series) from the options."""
    repo = session.repo
    calendar = pick_calendar(repo, args.calendar)
    zone_name = args.tz or session.events.display_zone().key
    zone = ZoneInfo(zone_name)
    service = repo.find_service(args.service) if args.service else None
    patient = repo.find_patient(args.patient) if args.patient else None
    start: When
    end: When
    if args.all_day:
        if args.duration is not None:
            raise UsageError("--duration does not apply to --all-day (use --end with the last day)")
        start = _as_date(args.start)
        end = (_as_date(args.end) if args.end is not None else start) + timedelta(days=1)
    else:
        start = localize(require_time(args.start, "--start"), zone)
        if args.end is not None:
            end = localize(require_time(args.end, "--end"), zone)
        elif args.duration is not None:
            end = _plus(start, args.duration)
        elif service is not None:
            end = _plus(start, service.duration_minutes)
        else:
            raise UsageError("give --end or --duration (or --service to use its duration)")
    rrule = (args.rrule or "").strip()
    rrule = rrule[len("RRULE:") :] if rrule.upper().startswith("RRULE:") else rrule
    event_id = new_id()
    event = Event(
        id=event_id,
        calendar_id=calendar.id,
        uid=f"{event_id}@carecal",
        title=args.title,
        start=start,
        end=end,
        all_day=bool(args.all_day),
        tzid=None if args.all_day else zone_name,
        description=args.notes or "",
        location=args.location or "",
        status=AppointmentStatus(args.status) if args.status else AppointmentStatus.SCHEDULED,
        rrule=rrule.upper() or None,
        patient_id=patient.id if patient else None,
        service_id=service.id if service else None,
        price=service.price if service else None,
        mode=VisitMode.VIDEO if service is not None and service.online else VisitMode.IN_PERSON,
        capacity=service.capacity if service is not None and service.capacity > 1 else None,
    )
    session.events.create(event)
    return _report(session, repo.get_event(event_id), args, "Created")


def update_event(session: Session, args: argparse.Namespace) -> int:
    """Change fields of one stored event (for a series master: the whole series), or with
    ``--occurrence`` of one occurrence, it and the following ones, or all (``--scope``)."""
    repo = session.repo
    event = repo.get_event(args.id)
    scope = _scope(args)
    occ = find_occurrence(session, event, args.occurrence) if args.occurrence else None
    changed: dict[str, object] = {}
    if args.title is not None:
        changed["title"] = args.title
    if args.status is not None:
        changed["status"] = AppointmentStatus(args.status)
    if args.notes is not None:
        changed["description"] = args.notes
    if args.location is not None:
        changed["location"] = args.location
    if args.start is not None or args.end is not None:
        base = event if occ is None else occ.event.with_changes(start=occ.start, end=occ.end)
        changed.update(_new_times(session, base, args.start, args.end))
    if not changed:
        raise UsageError(
            "nothing to change: give at least one of --title --start --end "
            "--status --notes --location"
        )
    if occ is None:
        session.events.update(event.with_changes(**changed))
        return _report(session, repo.get_event(event.id), args, "Updated")
    changes = session.events.edit(occ, changed, scope)
    return _report_occurrence(session, occ, scope, changes.events, args, "Updated")


def _scope(args: argparse.Namespace) -> EditScope:
    if args.scope is not None and args.occurrence is None:
        raise UsageError("--scope needs --occurrence DATE (which occurrence of the series)")
    return EditScope(args.scope) if args.scope else EditScope.THIS


def _report_occurrence(
    session: Session,
    occ: Occurrence,
    scope: EditScope,
    touched: Collection[str],
    args: argparse.Namespace,
    verb: str,
) -> int:
    if getattr(args, "format", "table") == "json":
        zone = session.events.display_zone()
        names = Names(session.repo)
        stored = [e for e in map(_maybe_event(session), sorted(touched)) if e is not None]
        write_json([event_record(e, names, zone) for e in stored])
        return EXIT_OK
    zone = session.events.display_zone()
    when = occ.start.astimezone(zone) if isinstance(occ.start, datetime) else occ.start
    text = f"{when:%a %Y-%m-%d %H:%M}" if isinstance(when, datetime) else f"{when:%a %Y-%m-%d}"
    which = {
        EditScope.THIS: "the occurrence",
        EditScope.THIS_AND_FOLLOWING: "the occurrences from",
        EditScope.ALL: "every occurrence (the whole series) of the one",
    }[scope]
    write_line(f"{verb} {which} {text} of {occ.event.title!r}")
    return EXIT_OK


def _maybe_event(session: Session) -> Callable[[str], Event | None]:
    def get(event_id: str) -> Event | None:
        try:
            return session.repo.get_event(event_id)
        except NotFound:
            return None

    return get


def _new_times(
    session: Session, event: Event, start: datetime | date | None, end: datetime | date | None
) -> dict[str, object]:
    if event.all_day:
        new_start = _as_date(start) if start is not None else event.start
        new_end = (
            _as_date(end) + timedelta(days=1) if end is not None else new_start + event.duration
        )
        return {"start": new_start, "end": new_end}
    zone = ZoneInfo(event.tzid) if event.tzid else session.events.display_zone()
    s = localize(require_time(start, "--start"), zone) if start is not None else event.start
    if end is not None:
        e: When = localize(require_time(end, "--end"), zone)
    else:
        assert isinstance(s, datetime)
        e = _plus(s, event.duration.total_seconds() / 60)
    return {"start": s, "end": e}


def delete_event(session: Session, args: argparse.Namespace) -> int:
    """Delete one stored event; a master deletes its series, an override only its instance.
    With ``--occurrence``: that occurrence, it and the following ones, or all (``--scope``)."""
    event = session.repo.get_event(args.id)
    scope = _scope(args)
    if args.occurrence is not None:
        occ = find_occurrence(session, event, args.occurrence)
        changes, _undo = session.events.delete(occ, scope)
        return _report_occurrence(session, occ, scope, changes.events, args, "Deleted")
    scope = EditScope.THIS if event.is_override else EditScope.ALL
    session.events.delete(occurrence_of(event), scope)
    what = "the series" if event.is_recurring and not event.is_override else "the event"
    write_line(f"Deleted {what} {event.id} ({event.title})")
    return EXIT_OK


def _report(session: Session, event: Event, args: argparse.Namespace, verb: str) -> int:
    if args.format == "json":
        zone = session.events.display_zone()
        write_json(event_record(event, Names(session.repo), zone))
    else:
        write_line(f"{verb} {event.id} ({event.title})")
    return EXIT_OK


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _warn(text: str) -> None:
    import sys

    sys.stderr.write(f"carecal: warning: {' '.join(text.split())}\n")
