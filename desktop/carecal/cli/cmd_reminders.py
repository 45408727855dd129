"""``carecal reminders send|log|set-password`` and ``carecal daysheet --date D -o FILE.pdf``.

Main thread; disk I/O. ``reminders send`` runs one e-mail reminder pass (for cron on a headless
machine; the app runs the same pass every five minutes) and blocks on the mail server for up
to its timeout. ``daysheet`` needs Qt to lay out the PDF: it reaches it through ``carecal.app``
(offscreen when there is no display), like the kiosk, so the other commands never load Qt.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from carecal.cli import EXIT_ERROR, EXIT_OK, UsageError
from carecal.cli.output import write_json, write_line, write_table
from carecal.services.session import Session


def send(session: Session, args: argparse.Namespace) -> int:
    """One pass; exit status 1 when the server could not be used or a message failed."""
    from carecal.services.email_reminders import EmailReminderService

    result = EmailReminderService(session.repo, session.db).run_pass()
    if args.format == "json":
        write_json(
            {
                "sent": result.sent,
                "queued": result.queued,
                "rescheduled": result.rescheduled,
                "cancelled": result.cancelled,
                "retry": result.retry,
                "failed": result.failed,
                "expired": result.expired,
                "unknown": result.unknown,
                "waiting": result.waiting,
                "error": result.error,
            }
        )
    else:
        write_line(f"E-mail reminders: {result.summary()}")
    return EXIT_ERROR if (result.error and result.waiting) or result.failed else EXIT_OK


def show_log(session: Session, args: argparse.Namespace) -> int:
    """The newest log lines: when, outcome, the visit's time, the patient (short name)."""
    from carecal.domain.errors import NotFound
    from carecal.services.email_reminders import EmailReminderService

    svc = EmailReminderService(session.repo, session.db)
    zone = svc.events.display_zone()
    lines = svc.queue.log(max(1, args.limit))
    names: dict[str, str] = {}

    def name(pid: str | None) -> str:
        if not pid:
            return ""
        if pid not in names:
            try:
                names[pid] = session.repo.get_patient(pid).short_name
            except NotFound:
                names[pid] = "(removed)"
        return names[pid]

    records = [
        {
            "at": line.at.isoformat(),
            "outcome": line.outcome,
            "visit": line.starts_at.isoformat() if line.starts_at else None,
            "patient": name(line.patient_id),
            "detail": line.detail,
            "reminder_id": line.reminder_id,
        }
        for line in lines
    ]
    if args.format == "json":
        write_json(records)
        return EXIT_OK
    rows = [
        (
            f"{line.at.astimezone(zone):%Y-%m-%d %H:%M}",
            line.outcome,
            f"{line.starts_at.astimezone(zone):%a %d %b %H:%M}" if line.starts_at else "",
            name(line.patient_id),
            line.detail,
        )
        for line in lines
    ]
    write_table(("AT", "OUTCOME", "VISIT", "PATIENT", "DETAIL"), rows, empty="No reminders yet.")
    return EXIT_OK


def set_password(session: Session, args: argparse.Namespace) -> int:
    """Keep the SMTP password in the system keyring (never in Carecal's database)."""
    from carecal.services.email_reminders import store_smtp_password

    if args.password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("SMTP password: ")
    if not password:
        raise UsageError("no password given")
    store_smtp_password(password)
    write_line("SMTP password kept in the system keyring.")
    return EXIT_OK


def daysheet(session: Session, args: argparse.Namespace) -> int:
    """Write the day sheet of ``--date`` as PDF."""
    from pathlib import Path

    from carecal import app

    target = Path(args.output)
    count = app.daysheet_pdf(session, args.date, target)
    visits = f"{count} visit{'s' if count != 1 else ''}"
    write_line(f"Wrote the day sheet of {args.date.isoformat()} ({visits}) to {target}")
    return EXIT_OK
