"""``carecal import|export|patients|services|free|audit``. Main thread; disk I/O."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal, InvalidOperation

from carecal.cli import EXIT_ERROR, EXIT_OK, UsageError
from carecal.cli.cmd_events import date_window, pick_calendar
from carecal.cli.output import write_csv, write_json, write_line, write_table
from carecal.cli.records import iso, patient_record, service_record
from carecal.domain.errors import AuditChainBroken, ValidationError
from carecal.domain.models import Patient, ServiceType, new_id
from carecal.services.session import Session

_AUDIT_KEYS = (
    "id",
    "at",
    "actor",
    "action",
    "entity_kind",
    "entity_id",
    "before",
    "after",
    "prev_hash",
    "hash",
)


def import_ics(session: Session, args: argparse.Namespace) -> int:
    """Import one .ics file; prints the counts, warnings go to stderr."""
    from carecal.services.ics_io import import_file

    calendar = pick_calendar(session.repo, args.calendar)
    report = import_file(session.repo, args.file, calendar.id, actor="import")
    for warning in report.warnings:
        sys.stderr.write(f"carecal: warning: {' '.join(warning.split())}\n")
    write_line(
        f"{report.source}: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged into {calendar.name!r}"
        + (f" ({len(report.warnings)} warnings)" if report.warnings else "")
    )
    return EXIT_OK


def export_ics(session: Session, args: argparse.Namespace) -> int:
    """Write events to an .ics file (everything, or one calendar and/or a date range)."""
    from carecal.services.ics_io import export_file

    calendar_ids = [session.repo.find_calendar(args.calendar).id] if args.calendar else None
    start = end = None
    if args.date_from is not None or args.date_to is not None:
        if args.date_from is None or args.date_to is None:
            raise UsageError("give both --from and --to, or neither")
        start, end = date_window(session.events.display_zone(), args.date_from, args.date_to)
    count = export_file(session.repo, args.output, calendar_ids=calendar_ids, start=start, end=end)
    write_line(f"Wrote {count} events to {args.output}")
    return EXIT_OK


def list_patients(session: Session, args: argparse.Namespace) -> int:
    patients = session.repo.list_patients(args.search)
    if args.format == "json":
        write_json([patient_record(p) for p in patients])
        return EXIT_OK
    rows = [(p.full_name, p.phone, p.email, p.id) for p in patients]
    write_table(("NAME", "PHONE", "EMAIL", "ID"), rows, empty="No patients.")
    return EXIT_OK


def add_patient(session: Session, args: argparse.Namespace) -> int:
    first = args.first.strip()
    if not first:
        raise ValidationError("the first name cannot be empty")
    patient = Patient(
        id=new_id(),
        first_name=first,
        last_name=args.last.strip(),
        phone=args.phone.strip(),
        email=args.email.strip(),
    )
    session.repo.add_patient(patient, actor="cli")
    if args.format == "json":
        write_json(patient_record(patient))
    else:
        write_line(f"Added patient {patient.id} ({patient.full_name})")
    return EXIT_OK


def list_services(session: Session, args: argparse.Namespace) -> int:
    services = session.repo.list_services()
    if args.format == "json":
        write_json([service_record(s) for s in services])
        return EXIT_OK
    rows = [
        (
            s.name,
            f"{s.duration_minutes} min",
            "" if s.price is None else str(s.price),
            s.color,
            "online" if s.online else "",
            s.capacity,
            s.id,
        )
        for s in services
    ]
    write_table(
        ("NAME", "DURATION", "PRICE", "COLOUR", "MODE", "CAPACITY", "ID"),
        rows,
        empty="No service types.",
    )
    return EXIT_OK


def add_service(session: Session, args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not name:
        raise ValidationError("the service name cannot be empty")
    price = None
    if args.price is not None:
        try:
            price = Decimal(args.price.replace(",", "."))
        except InvalidOperation:
            raise ValidationError(f"not a price: {args.price!r}") from None
        if not price.is_finite() or price < 0:
            raise ValidationError(f"not a price: {args.price!r}")
    color = args.color or "#10b981"
    if not _is_hex_colour(color):
        raise ValidationError(f"not a colour: {color!r} (expected #rrggbb)")
    if args.buffer < 0 or args.capacity < 1:
        raise ValidationError("the buffer cannot be negative and the capacity must be at least 1")
    service = ServiceType(
        id=new_id(),
        name=name,
        duration_minutes=args.duration,
        price=price,
        color=color.lower(),
        online=bool(args.online),
        buffer_minutes=args.buffer,
        capacity=args.capacity,
    )
    session.repo.save_service(service, actor="cli")
    if args.format == "json":
        write_json(service_record(service))
    else:
        write_line(f"Added service {service.id} ({service.name})")
    return EXIT_OK


def _is_hex_colour(text: str) -> bool:
    digits = text[1:] if text.startswith("#") else ""
    return len(digits) in (3, 6) and all(c in "0123456789abcdefABCDEF" for c in digits)


def free(session: Session, args: argparse.Namespace) -> int:
    """Free slots for a service on one day."""
    from carecal.services.slots import free_slots_for

    service = session.repo.find_service(args.service)
    zone = session.events.display_zone()
    slots = free_slots_for(session.repo, args.date, service)
    if args.format == "json":
        write_json([{"start": iso(s, zone), "end": iso(e, zone)} for s, e in slots])
        if not slots:
            sys.stderr.write(f"carecal: note: {_why_no_slot(session, args.date)}\n")
        return EXIT_OK
    rows = [(f"{s.astimezone(zone):%H:%M}", f"{e.astimezone(zone):%H:%M}") for s, e in slots]
    empty = f"No free slot for {service.name} on {args.date:%a %Y-%m-%d}"
    write_table(("START", "END"), rows, empty=f"{empty}: {_why_no_slot(session, args.date)}")
    return EXIT_OK


def _why_no_slot(session: Session, day: date) -> str:
    """Why a day has no slot, in words a practitioner can act on."""
    hours = session.repo.working_hours()
    if not hours:
        return (
            "no working hours are set. Set them with, for example: "
            "carecal hours set --weekday mon-fri --from 09:00 --to 17:00"
        )
    if not any(h.weekday == day.weekday() for h in hours):
        return "it is not a working day (see: carecal hours list)."
    return "the working hours are booked, in breaks, or too short for the service."


def audit(session: Session, args: argparse.Namespace) -> int:
    """The audit log, oldest first (the newest --limit entries when given)."""
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    entries = session.repo.audit.entries(limit=args.limit)
    records = [{k: getattr(e, k) for k in _AUDIT_KEYS} for e in entries]
    if args.format == "json":
        write_json(records)
    elif args.format == "csv":
        write_csv(_AUDIT_KEYS, records)
    else:
        rows = [
            (e.id, _short_time(e.at), e.actor, e.action, e.entity_kind, e.entity_id)
            for e in entries
        ]
        write_table(
            ("#", "TIME (UTC)", "ACTOR", "ACTION", "ENTITY", "ID"),
            rows,
            empty="The audit log is empty.",
        )
    return EXIT_OK


def _short_time(at: str) -> str:
    # The table is for reading: seconds are enough (JSON and CSV keep the full stored time).
    return at.replace("T", " ")[:19]


def audit_verify(session: Session, args: argparse.Namespace) -> int:
    """Check the audit log's hash chain; exit 1 naming the first broken entry."""
    try:
        count = session.repo.audit.verify()
    except AuditChainBroken as exc:
        sys.stderr.write(f"carecal: audit log BROKEN: {exc}\n")
        return EXIT_ERROR
    write_line(f"Audit log OK: {count} entries verified")
    return EXIT_OK
