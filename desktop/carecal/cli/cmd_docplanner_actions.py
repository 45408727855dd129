"""``carecal docplanner book|move|cancel|confirm|presence|conflicts|actions|retry|discard``.

Main thread; disk I/O and network on a private event loop. Each action is queued durably
first (services.docplanner_actions) and then sent at once; when Docplanner cannot be reached
it stays queued for the next ``carecal sync`` (exit 0, a line says so). A refused action is
reported on stderr (exit 1) and parked: ``actions`` lists it, ``retry`` sends it again,
``discard`` gives it up (kept for the record). Output names booking ids and times, never
patient data.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from carecal.cli import EXIT_ERROR, EXIT_OK
from carecal.cli.output import write_json, write_line
from carecal.cli.timeparse import localize, require_time
from carecal.domain.errors import AuthExpired, TransientError
from carecal.domain.models import Account
from carecal.services import docplanner_actions as acts
from carecal.services import docplanner_client as dpc
from carecal.services import docplanner_conflicts as conflicts_
from carecal.services import docplanner_panel as panel
from carecal.services.session import Session
from carecal.store.docplanner_actions import ActionStore


def _when(session: Session, value: object, option: str) -> datetime:
    return localize(require_time(value, option), session.events.display_zone())  # type: ignore[arg-type]


def _send_now(session: Session, account: Account, seq: int) -> int:
    """Send the queue now; report what happened to action ``seq``."""
    stopped = acts.send_now(session.repo, account)
    if isinstance(stopped, TransientError | AuthExpired):
        write_line(f"Queued (action {seq}); it goes out at the next sync: {stopped}")
        return EXIT_OK
    if stopped is not None:
        raise stopped
    action = ActionStore(session.repo).get(seq)
    if action is None or action.state == "pending":
        write_line(f"Queued (action {seq}); it goes out at the next sync.")
        return EXIT_OK
    if action.state == "parked":
        sys.stderr.write(f"carecal: error: {action.error}\n")
        return EXIT_ERROR
    done = f" (booking {action.result_id})" if action.result_id else ""
    write_line(f"Done: {action.kind}{done}.")
    return EXIT_OK


def book(session: Session, args: argparse.Namespace) -> int:
    """``docplanner book --address ID --at DATETIME --patient NAME``."""
    account = dpc.find_account(session.repo, args.account)
    patient = session.repo.find_patient(args.patient)
    seq = acts.queue_book(
        session.repo,
        account,
        address_id=args.address,
        start=_when(session, args.at, "--at"),
        patient_id=patient.id,
        address_service_id=args.service,
        comment=args.comment,
    )
    return _send_now(session, account, seq)


def move(session: Session, args: argparse.Namespace) -> int:
    """``docplanner move BOOKING --to DATETIME``."""
    account = dpc.find_account(session.repo, args.account)
    seq = acts.queue_move(session.repo, account, args.booking, _when(session, args.to, "--to"))
    return _send_now(session, account, seq)


def _simple(session: Session, args: argparse.Namespace, kind: str) -> int:
    account = dpc.find_account(session.repo, args.account)
    seq = acts.queue_simple(
        session.repo,
        account,
        kind,
        args.booking,
        reason=getattr(args, "reason", "") or "",
        present=getattr(args, "mark", "present") == "present",
    )
    return _send_now(session, account, seq)


def cancel(session: Session, args: argparse.Namespace) -> int:
    """``docplanner cancel BOOKING [--reason TEXT]``."""
    return _simple(session, args, "cancel")


def confirm(session: Session, args: argparse.Namespace) -> int:
    """``docplanner confirm BOOKING``."""
    return _simple(session, args, "confirm")


def presence(session: Session, args: argparse.Namespace) -> int:
    """``docplanner presence BOOKING present|absent``."""
    return _simple(session, args, "presence")


def conflicts(session: Session, args: argparse.Namespace) -> int:
    """``docplanner conflicts``: the double bookings flagged at the last sync."""
    account = dpc.find_account(session.repo, args.account)
    found = ActionStore(session.repo).conflicts(account.id)
    zone = session.events.display_zone()
    if args.format == "json":
        write_json(
            [
                {
                    "booking": c.booking_id,
                    "start": c.start.astimezone(zone).isoformat(),
                    "end": c.end.astimezone(zone).isoformat(),
                    "free": [p.astimezone(zone).isoformat() for p in c.proposals],
                }
                for c in found
            ]
        )
        return EXIT_OK
    for c in found:
        write_line(conflicts_.conflict_line(c, zone))
    if not found:
        write_line("No double bookings.")
    return EXIT_OK


def list_queued(session: Session, args: argparse.Namespace) -> int:
    """``docplanner actions [--all]``: the actions still open (waiting or refused), or all."""
    rows = panel.list_actions(session.repo, include_all=args.all)
    zone = session.events.display_zone()
    if args.format == "json":
        write_json(
            [
                {
                    "seq": r.action.seq,
                    "account": r.account,
                    "kind": r.action.kind,
                    "booking": r.action.booking_id,
                    "state": r.action.state,
                    "attempted": r.action.attempted,
                    "what": r.what,
                    "error": r.action.error,
                    "result": r.action.result_id,
                    "created": _stamp(r.action.created_at, zone),
                    "done": _stamp(r.action.done_at, zone),
                }
                for r in rows
            ]
        )
        return EXIT_OK
    for r in rows:
        state = {"pending": "waiting", "parked": "REFUSED"}.get(r.action.state, r.action.state)
        line = f"{r.action.seq:>5}  {state:<9}  {r.what}"
        if r.reason:
            line += f" — {r.reason}"
        write_line(line)
    if not rows:
        write_line("No Docplanner actions." if args.all else "Nothing waiting or refused.")
    elif any(r.action.state == "parked" for r in rows):
        write_line("Refused ones wait for you: carecal docplanner retry SEQ | discard SEQ")
    return EXIT_OK


def _stamp(when: datetime | None, zone: ZoneInfo) -> str | None:
    return when.astimezone(zone).isoformat() if when is not None else None


def retry(session: Session, args: argparse.Namespace) -> int:
    """``docplanner retry SEQ``: a refused action queued again and sent at once."""
    action = panel.retry_action(session.repo, args.seq)
    account = next(
        (a for a in dpc.docplanner_accounts(session.repo) if a.id == action.account_id), None
    )
    if account is None:
        write_line(f"Queued again (action {action.seq}); it goes out at the next sync.")
        return EXIT_OK
    return _send_now(session, account, action.seq)


def discard(session: Session, args: argparse.Namespace) -> int:
    """``docplanner discard SEQ``: give up a refused action (kept for the record)."""
    action = panel.discard_action(session.repo, args.seq)
    write_line(f"Discarded action {action.seq}; it will not be sent.")
    return EXIT_OK
