"""``carecal requests import|list|slots|book|decline`` and ``carecal recalls list|book``.

Main thread; disk I/O. ``requests import FILE`` imports the good rows of a JSON/CSV file and
prints one line per bad row (exit status 1 when there was any); importing the same file again
adds nothing. ``requests scan`` does what the app's watched folder does, once. Requests and
recalls are shown with the patient's full name: these commands are the practitioner's, like
``patients list``.

``requests book`` on a calendar mapped to a Docplanner address books the slot there too: the
Docplanner booking is queued (services.docplanner_requests) and sent at once; when Docplanner
cannot be reached it stays queued for the next ``carecal sync`` (a line says so). When
Docplanner refuses it, the appointment in Carecal stands, the reason goes to stderr and the
exit status is 1 (``carecal docplanner actions`` lists the refused action).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from carecal.cli import EXIT_ERROR, EXIT_OK, UsageError
from carecal.cli.output import write_json, write_line, write_table
from carecal.services.session import Session


def _service(session: Session, external: Any = ()) -> Any:
    from carecal.services.requests import RequestService

    return RequestService(session.events, session.db, external=external)


def _send_to_docplanner(session: Session, queued: Any) -> tuple[str, str, str | None]:
    """Send a queued Docplanner booking (a ``QueuedBook``) now: (state, a line for the
    person, Docplanner's booking id). State: done, queued (offline: the next sync sends it) or
    parked (refused)."""
    from carecal.services import docplanner_actions as acts
    from carecal.services import docplanner_panel as panel
    from carecal.store.docplanner_actions import ActionStore

    seq = queued.seq
    stopped = acts.send_now(session.repo, queued.account)
    if stopped is not None:
        action = ActionStore(session.repo).get(seq)
        if action is None or action.state == "pending":
            return (
                "queued",
                f"Queued for Docplanner (action {seq}); Docplanner could not be reached now "
                f"({stopped}), so it goes out at the next sync.",
                None,
            )
    action = ActionStore(session.repo).get(seq)
    if action is None or action.state == "pending":
        return (
            "queued",
            f"Queued for Docplanner (action {seq}); it goes out at the next sync.",
            None,
        )
    if action.state == "parked":
        reason = panel.refusal_reason(action.error).rstrip(".")
        return (
            "parked",
            f"Not booked on Docplanner: {reason}. The appointment in Carecal stands "
            f"(carecal docplanner actions shows action {seq}).",
            None,
        )
    return "done", f"Booked on Docplanner too (booking {action.result_id}).", action.result_id


def _when(value: datetime, zone: Any) -> str:
    return f"{value.astimezone(zone):%a %Y-%m-%d %H:%M}"


def import_requests(session: Session, args: argparse.Namespace) -> int:
    """Import one file; a line per bad row; exit 1 when any row was bad."""
    report = _service(session).import_file(args.file)
    if args.format == "json":
        write_json(
            {
                "file": report.file,
                "added": report.added,
                "already_imported": report.known,
                "errors": [{"line": e.line, "reason": e.reason} for e in report.errors],
            }
        )
    else:
        write_line(report.summary())
        for error in report.errors:
            write_line(f"  {error}")
    return EXIT_ERROR if report.errors else EXIT_OK


def scan_folder(session: Session, args: argparse.Namespace) -> int:
    """One pass over the watched folder (as the app does on its timer)."""
    folder = args.folder or Path(session.repo.settings().requests_folder or ".")
    if not args.folder and not session.repo.settings().requests_folder:
        raise UsageError("no watched folder is set; pass --folder DIR")
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    reports = _service(session).scan_folder(folder)
    if args.format == "json":
        write_json(
            [
                {
                    "file": r.file,
                    "added": r.added,
                    "already_imported": r.known,
                    "waiting": r.waiting,
                    "failed": r.failed,
                    "errors": [{"line": e.line, "reason": e.reason} for e in r.errors],
                }
                for r in reports
            ]
        )
    else:
        for r in reports:
            write_line(r.summary())
            for error in r.errors:
                write_line(f"  {error}")
        if not reports:
            write_line("No request files in the folder.")
    return EXIT_ERROR if any(r.errors or r.failed for r in reports) else EXIT_OK


def list_requests(session: Session, args: argparse.Namespace) -> int:
    """Open requests (with --all, the history too)."""
    svc = _service(session)
    items = svc.inbox(history=args.all)
    if args.format == "json":
        write_json(
            [
                {
                    "id": r.id,
                    "state": r.state.value,
                    "name": r.name,
                    "phone": r.phone,
                    "email": r.email,
                    "service": r.service,
                    "preferred": [{"date": w.day, "from": w.start, "to": w.end} for w in r.windows],
                    "note": r.note,
                    "source": r.source,
                    "event_id": r.event_id,
                }
                for r in items
            ]
        )
        return EXIT_OK
    rows = [
        (
            r.state.value,
            r.name,
            r.service,
            "; ".join(f"{w.day} {w.start}-{w.end}" if w.start else w.day for w in r.windows),
            r.source,
            r.id[:12],
        )
        for r in items
    ]
    write_table(
        ("STATE", "NAME", "SERVICE", "PREFERRED", "SOURCE", "ID"), rows, empty="No requests."
    )
    return EXIT_OK


def request_slots(session: Session, args: argparse.Namespace) -> int:
    """The preferred-window slots, then the next ones."""
    svc = _service(session)
    found = svc.slots(svc.get(args.id))
    zone = session.events.display_zone()
    records = [("preferred", s) for s, _ in found.preferred] + [
        ("next", s) for s, _ in found.others
    ]
    if args.format == "json":
        write_json([{"kind": k, "start": s.isoformat()} for k, s in records])
        return EXIT_OK
    write_table(
        ("KIND", "START"),
        [(k, _when(s, zone)) for k, s in records],
        empty="No free slots in the next weeks.",
    )
    return EXIT_OK


def book_request(session: Session, args: argparse.Namespace) -> int:
    """Book a request at --at (default: its first matching slot); on a calendar mapped to
    Docplanner, there too (see the module docstring)."""
    from carecal.services.docplanner_requests import DocplannerRequestBooking

    docplanner = DocplannerRequestBooking(session.repo)
    svc = _service(session, [docplanner])
    request = svc.get(args.id)
    start = args.at
    if start is None:
        found = svc.slots(request)
        first = (found.preferred or found.others or ((None, None),))[0][0]
        if first is None:
            raise UsageError("no free slot found; pass --at DATETIME")
        start = first
    booked = svc.book(request.id, start)
    zone = session.events.display_zone()
    sent = [_send_to_docplanner(session, q) for q in docplanner.queued]
    failed = [line for state, line, _ in sent if state == "parked"]
    if booked.external_error:
        failed.append(
            f"Not booked on Docplanner: {booked.external_error}. The appointment in Carecal stands."
        )
    if args.format == "json":
        record: dict[str, Any] = {
            "request_id": request.id,
            "event_id": booked.event.id,
            "start": start.isoformat(),
        }
        if sent or booked.external_error:
            state, line, booking_id = sent[0] if sent else ("not_booked", failed[0], None)
            record["docplanner"] = {
                "state": state,
                "action": docplanner.queued[0].seq if docplanner.queued else None,
                "booking_id": booking_id,
                "message": line,
            }
        write_json(record)
    else:
        write_line(
            f"Booked {booked.event.title} on {_when(start, zone)} (event {booked.event.id})."
        )
        for state, line, _ in sent:
            if state != "parked":
                write_line(line)
    for line in failed:
        sys.stderr.write(f"carecal: error: {line}\n")
    return EXIT_ERROR if failed else EXIT_OK


def decline_request(session: Session, args: argparse.Namespace) -> int:
    """Decline a request; it stays in ``requests list --all``."""
    svc = _service(session)
    svc.decline(svc.get(args.id).id)
    write_line("Request declined.")
    return EXIT_OK


def _followups(session: Session) -> Any:
    from carecal.services.followups import FollowupService

    return FollowupService(session.events)


def list_recalls(session: Session, args: argparse.Namespace) -> int:
    """Patients due for a follow-up, by due date."""
    svc = _followups(session)
    recalls = svc.recalls(within_days=args.within)
    today = svc.today()
    if args.format == "json":
        write_json(
            [
                {
                    "patient_id": r.patient.id,
                    "patient": r.patient.full_name,
                    "service": r.service.name,
                    "last_visit": r.last_visit.isoformat(),
                    "due": r.due.isoformat(),
                    "overdue_days": r.overdue_days(today),
                }
                for r in recalls
            ]
        )
        return EXIT_OK
    rows = [
        (
            r.due.isoformat(),
            r.patient.full_name,
            r.service.name,
            f"{r.last_visit:%Y-%m-%d}",
            r.patient.phone or r.patient.email,
            r.patient.id,
        )
        for r in recalls
    ]
    write_table(
        ("DUE", "PATIENT", "SERVICE", "LAST VISIT", "CONTACT", "PATIENT ID"),
        rows,
        empty="Nobody is due for a follow-up.",
    )
    return EXIT_OK


def book_recall(session: Session, args: argparse.Namespace) -> int:
    """Book a recall's first free slot (or --at)."""
    svc = _followups(session)
    recall = next((r for r in svc.recalls() if r.patient.id == args.patient_id), None)
    if recall is None:
        raise UsageError(f"{args.patient_id} is not on the recall list")
    start = args.at
    if start is None:
        slots = svc.recall_slots(recall, count=1)
        if not slots:
            raise UsageError("no free slot found; pass --at DATETIME")
        start = slots[0][0]
    event, _changes = svc.book_recall(recall, start)
    zone = session.events.display_zone()
    if args.format == "json":
        write_json(
            {"patient_id": recall.patient.id, "event_id": event.id, "start": start.isoformat()}
        )
    else:
        write_line(f"Booked {event.title} on {_when(start, zone)} (event {event.id}).")
    return EXIT_OK
