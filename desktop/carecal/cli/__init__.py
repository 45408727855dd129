"""Carecal's command line: ``carecal [COMMAND] ...`` (no command opens the calendar window).

``main(argv)`` parses, opens the session, runs one command and returns the exit status:
0 success, 1 an error (one line on stderr), 2 a usage error (one line on stderr). It never lets a
traceback reach the terminal: unexpected errors are logged to ``carecal.log`` in the data
directory. It never imports Qt (the ``gui`` command imports ``carecal.app`` only when it runs),
and imports icalendar only for the commands that read or write iCalendar.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from carecal import __version__
from carecal.cli.argtypes import (
    parse_clock,
    parse_date,
    parse_datetime_text,
    parse_minutes,
    parse_weekdays,
    parse_zone,
)
from carecal.cli.parse_more import add_kiosk_commands, add_reminder_commands, add_request_commands
from carecal.cli.parse_sync import add_sync_commands

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
_STATUSES = ("scheduled", "confirmed", "arrived", "completed", "no_show", "cancelled")


class UsageError(Exception):
    """A command line that cannot be run as typed (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as ONE line instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _common(*, listing: bool = False, formats: Sequence[str] = ("table", "json")) -> _Parser:
    # SUPPRESS: a subcommand's default must not overwrite a --data-dir given before the command.
    parent = _Parser(add_help=False)
    parent.add_argument(
        "--data-dir",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="where Carecal keeps its data (default: $CARECAL_DATA_DIR or the platform's folder)",
    )
    if listing:
        parent.add_argument("--format", choices=formats, default="table", help="output format")
    return parent


def build_parser() -> _Parser:
    """The whole command tree. Any thread."""
    parser = _Parser(
        prog="carecal",
        description="Local-first scheduling for solo practitioners. No command opens the calendar.",
    )
    parser.add_argument("--version", action="version", version=f"carecal {__version__}")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="data folder")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    plain, listing = _common(), _common(listing=True)

    gui = sub.add_parser("gui", parents=[plain], help="open the calendar window (the default)")
    gui.add_argument("--demo", action="store_true", help="fill a realistic practice week first")

    events = sub.add_parser("events", parents=[plain], help="list, add, change, delete events")
    ev = events.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    ls = ev.add_parser("list", parents=[listing], help="occurrences in a date range")
    ls.add_argument("--from", dest="date_from", type=parse_date, metavar="DATE")
    ls.add_argument("--to", dest="date_to", type=parse_date, metavar="DATE", help="inclusive")
    ls.add_argument("--calendar", metavar="NAME")

    add = ev.add_parser("add", parents=[listing], help="create an event")
    add.add_argument("--title", required=True)
    add.add_argument("--start", required=True, type=parse_datetime_text, metavar="DATETIME")
    length = add.add_mutually_exclusive_group()
    length.add_argument("--end", type=parse_datetime_text, metavar="DATETIME")
    length.add_argument("--duration", type=parse_minutes, metavar="MIN")
    add.add_argument("--calendar", metavar="NAME")
    add.add_argument("--patient", metavar="NAME", help="a patient's full name")
    add.add_argument("--service", metavar="NAME", help="a service type's name")
    add.add_argument("--rrule", metavar="RULE", help="e.g. FREQ=WEEKLY;COUNT=10")
    add.add_argument("--tz", type=parse_zone, metavar="ZONE", help="the event's IANA time zone")
    add.add_argument("--all-day", action="store_true", help="dates only; --end is the last day")
    add.add_argument("--status", choices=_STATUSES)
    add.add_argument("--location")
    add.add_argument("--notes")

    up = ev.add_parser("update", parents=[listing], help="change an event, a series or occurrences")
    up.add_argument("id")
    up.add_argument("--title")
    up.add_argument("--start", type=parse_datetime_text, metavar="DATETIME")
    up.add_argument("--end", type=parse_datetime_text, metavar="DATETIME")
    up.add_argument("--status", choices=_STATUSES)
    up.add_argument("--notes")
    up.add_argument("--location")
    _occurrence_options(up)

    rm = ev.add_parser("delete", parents=[listing], help="delete an event, a series or occurrences")
    rm.add_argument("id")
    _occurrence_options(rm)

    imp = sub.add_parser("import", parents=[plain], help="import an .ics file (idempotent)")
    imp.add_argument("file", type=Path, metavar="FILE.ics")
    imp.add_argument("--calendar", metavar="NAME")

    exp = sub.add_parser("export", parents=[plain], help="write events to an .ics file")
    exp.add_argument("-o", "--output", required=True, type=Path, metavar="FILE.ics")
    exp.add_argument("--calendar", metavar="NAME")
    exp.add_argument("--from", dest="date_from", type=parse_date, metavar="DATE")
    exp.add_argument("--to", dest="date_to", type=parse_date, metavar="DATE", help="inclusive")

    patients = sub.add_parser("patients", parents=[plain], help="list or add patients")
    pa = patients.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    pls = pa.add_parser("list", parents=[listing], help="list patients")
    pls.add_argument("--search", default="", metavar="TEXT")
    padd = pa.add_parser("add", parents=[listing], help="add a patient")
    padd.add_argument("--first", required=True, metavar="NAME")
    padd.add_argument("--last", default="", metavar="NAME")
    padd.add_argument("--phone", default="")
    padd.add_argument("--email", default="")

    services = sub.add_parser("services", parents=[plain], help="list or add service types")
    sv = services.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=_Parser
    )
    sv.add_parser("list", parents=[listing], help="list service types")
    sadd = sv.add_parser("add", parents=[listing], help="add a service type")
    sadd.add_argument("--name", required=True)
    sadd.add_argument("--duration", required=True, type=parse_minutes, metavar="MIN")
    sadd.add_argument("--price", metavar="P")
    sadd.add_argument("--color", metavar="C", help="#rrggbb")
    sadd.add_argument("--online", action="store_true")
    sadd.add_argument("--buffer", type=int, default=0, metavar="MIN")
    sadd.add_argument("--capacity", type=int, default=1)

    _schedule_commands(sub, plain, listing)

    free = sub.add_parser("free", parents=[listing], help="free slots for a service on a day")
    free.add_argument("--date", required=True, type=parse_date, metavar="DATE")
    free.add_argument("--service", required=True, metavar="NAME")

    audit = sub.add_parser(
        "audit",
        parents=[_common(listing=True, formats=("table", "json", "csv"))],
        help="show or verify the audit log",
    )
    audit.add_argument("--limit", type=int, default=None, metavar="N", help="newest N entries")
    au = audit.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    au.add_parser("verify", parents=[plain], help="check the hash chain")

    add_sync_commands(sub, plain, listing)
    add_kiosk_commands(sub, plain)
    add_reminder_commands(sub, plain, listing)
    add_request_commands(sub, plain, listing)
    from carecal.cli.parse_docplanner import add_docplanner_commands

    add_docplanner_commands(sub, plain, listing)
    return parser


def _occurrence_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--occurrence",
        type=parse_datetime_text,
        metavar="DATE|DATETIME",
        help="one occurrence of a series: its date, or its start time when a day has several",
    )
    parser.add_argument(
        "--scope",
        choices=("this", "following", "all"),
        help="with --occurrence: only it (default), it and the following ones, or all",
    )


def _schedule_commands(sub: Any, plain: _Parser, listing: _Parser) -> None:
    hours = sub.add_parser("hours", parents=[plain], help="weekly working hours (for free slots)")
    ho = hours.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    ho.add_parser("list", parents=[listing], help="the working hours per weekday")
    for name, text in (
        ("set", "replace the hours of these weekdays"),
        ("add", "add a second interval (split shift) to these weekdays"),
    ):
        cmd = ho.add_parser(name, parents=[plain], help=text)
        _weekday_option(cmd, required=True)
        cmd.add_argument("--from", dest="start", required=True, type=parse_clock, metavar="HH:MM")
        cmd.add_argument("--to", dest="end", required=True, type=parse_clock, metavar="HH:MM")
    clear = ho.add_parser("clear", parents=[plain], help="make these weekdays days off")
    _weekday_option(clear, required=True)

    breaks = sub.add_parser("breaks", parents=[plain], help="breaks inside the working hours")
    br = breaks.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=_Parser)
    br.add_parser("list", parents=[listing], help="weekly and one-day breaks")
    badd = br.add_parser("add", parents=[listing], help="add a weekly or one-day break")
    _weekday_option(badd, required=False)
    badd.add_argument("--date", dest="on_date", type=parse_date, metavar="DATE")
    badd.add_argument("--from", dest="start", required=True, type=parse_clock, metavar="HH:MM")
    badd.add_argument("--to", dest="end", required=True, type=parse_clock, metavar="HH:MM")
    badd.add_argument("--label", metavar="TEXT", help="e.g. Lunch")
    brm = br.add_parser("remove", parents=[plain], help="remove breaks by id")
    brm.add_argument("ids", nargs="+", metavar="ID")


def _weekday_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--weekday",
        dest="weekdays",
        required=required,
        type=parse_weekdays,
        metavar="DAYS",
        help="mon, mon-fri, mon,wed,fri or all",
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command line; no command means ``gui``. Raises UsageError."""
    args = build_parser().parse_args(list(argv))
    if args.command is None:
        args.command = "gui"
        args.demo = False
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; returns the exit status. The main thread."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
    except UsageError as exc:
        return _fail(f"carecal: error: {exc}", EXIT_USAGE)
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    from carecal.cli.run import run

    return run(args)


def _fail(line: str, code: int) -> int:
    sys.stderr.write(line.replace("\n", " ") + "\n")
    return code
