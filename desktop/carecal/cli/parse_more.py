"""The command trees of ``carecal kiosk``, ``reminders``, ``daysheet``, ``requests`` and
``recalls`` (argparse only; the commands themselves are in cmd_kiosk, cmd_reminders and
cmd_requests).

Any thread; imports nothing heavy, so building the whole tree costs a ``carecal sync`` process
none of those commands' imports.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from carecal.cli.argtypes import parse_date, parse_datetime_text


def add_kiosk_commands(sub: Any, plain: argparse.ArgumentParser) -> None:
    """``kiosk [set-pin [--pin-stdin] | clear-pin]`` on the command tree. Any thread."""
    kiosk = sub.add_parser(
        "kiosk", parents=[plain], help="open the front-desk kiosk (full screen; needs a PIN)"
    )
    ki = kiosk.add_subparsers(dest="action", metavar="ACTION", parser_class=type(kiosk))
    pin = ki.add_parser("set-pin", parents=[plain], help="set the PIN that leaves the kiosk")
    pin.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from the first line of stdin"
    )
    ki.add_parser("clear-pin", parents=[plain], help="forget the PIN (the kiosk will not open)")


def add_reminder_commands(sub: Any, plain: argparse.ArgumentParser, listing: Any) -> None:
    """``reminders send|log|set-password`` and ``daysheet`` on the command tree. Any thread."""
    rem = sub.add_parser("reminders", parents=[plain], help="patient e-mail reminders")
    ra = rem.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(rem))
    ra.add_parser("send", parents=[listing], help="queue and send the due reminders once")
    log = ra.add_parser("log", parents=[listing], help="what was sent, failed or is waiting")
    log.add_argument("--limit", type=int, default=50, metavar="N", help="newest N lines")
    pw = ra.add_parser("set-password", parents=[plain], help="keep the SMTP password (keyring)")
    pw.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    sheet = sub.add_parser("daysheet", parents=[plain], help="save a day's list as PDF")
    sheet.add_argument("--date", required=True, type=parse_date, metavar="DATE")
    sheet.add_argument("-o", "--output", required=True, metavar="FILE.pdf")


def add_request_commands(sub: Any, plain: argparse.ArgumentParser, listing: Any) -> None:
    """The ``requests`` and ``recalls`` command trees. Any thread."""
    req = sub.add_parser("requests", parents=[plain], help="the booking-request inbox")
    ra = req.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(req))
    imp = ra.add_parser("import", parents=[listing], help="import a .json or .csv file")
    imp.add_argument("file", type=Path, metavar="FILE.json|FILE.csv")
    scan = ra.add_parser("scan", parents=[listing], help="import the watched folder once")
    scan.add_argument("--folder", type=Path, metavar="DIR", help="default: the setting")
    ls = ra.add_parser("list", parents=[listing], help="open requests")
    ls.add_argument("--all", action="store_true", help="booked and declined ones too")
    sl = ra.add_parser("slots", parents=[listing], help="free slots matching a request")
    sl.add_argument("id")
    bk = ra.add_parser("book", parents=[listing], help="book a request into a free slot")
    bk.add_argument("id")
    bk.add_argument("--at", type=parse_datetime_text, metavar="DATETIME", help="default: first")
    dc = ra.add_parser("decline", parents=[plain], help="decline a request (kept in the history)")
    dc.add_argument("id")

    rec = sub.add_parser("recalls", parents=[plain], help="patients due for a follow-up")
    rc = rec.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(rec))
    rls = rc.add_parser("list", parents=[listing], help="by due date")
    rls.add_argument("--within", type=int, metavar="DAYS", help="only those due by then")
    rbk = rc.add_parser("book", parents=[listing], help="book a recall's next free slot")
    rbk.add_argument("patient_id", metavar="PATIENT_ID")
    rbk.add_argument("--at", type=parse_datetime_text, metavar="DATETIME", help="default: first")
