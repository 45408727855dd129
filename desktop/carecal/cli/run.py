"""Running one parsed command: open the session, dispatch, turn every failure into one line."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carecal.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError
from carecal.domain.errors import CarecalError
from carecal.services.session import LOG_FILE, Session, SessionArgs, open_session, resolve_data_dir

SessionOpener = Callable[[], AbstractContextManager[Session]]
# A command gets the open Session, or (those in _OPEN_THEMSELVES) a SessionOpener.
Command = Callable[[Any, argparse.Namespace], int]

# Commands that open the data folder themselves, when they need it: adding an account first
# starts asking the server for its calendars (and their events), which then runs while the
# store opens.
_OPEN_THEMSELVES = frozenset({("accounts", "add")})


# (command, action) -> (module in carecal.cli, function). A command's module is imported only
# when it runs: each process pays for one command's imports, not for all of them.
_COMMANDS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("events", "list"): ("cmd_events", "list_events"),
    ("events", "add"): ("cmd_events", "add_event"),
    ("events", "update"): ("cmd_events", "update_event"),
    ("events", "delete"): ("cmd_events", "delete_event"),
    ("import", None): ("cmd_misc", "import_ics"),
    ("export", None): ("cmd_misc", "export_ics"),
    ("patients", "list"): ("cmd_misc", "list_patients"),
    ("patients", "add"): ("cmd_misc", "add_patient"),
    ("services", "list"): ("cmd_misc", "list_services"),
    ("services", "add"): ("cmd_misc", "add_service"),
    ("hours", "list"): ("cmd_schedule", "list_hours"),
    ("hours", "set"): ("cmd_schedule", "set_hours"),
    ("hours", "add"): ("cmd_schedule", "add_hours"),
    ("hours", "clear"): ("cmd_schedule", "clear_hours"),
    ("breaks", "list"): ("cmd_schedule", "list_breaks"),
    ("breaks", "add"): ("cmd_schedule", "add_break"),
    ("breaks", "remove"): ("cmd_schedule", "remove_break"),
    ("free", None): ("cmd_misc", "free"),
    ("audit", None): ("cmd_misc", "audit"),
    ("audit", "verify"): ("cmd_misc", "audit_verify"),
    ("accounts", "list"): ("cmd_accounts", "list_accounts"),
    ("accounts", "add"): ("cmd_accounts", "add_account"),
    ("accounts", "remove"): ("cmd_accounts", "remove_account"),
    ("accounts", "password"): ("cmd_accounts", "set_password"),
    ("accounts", "signin"): ("cmd_accounts", "sign_in_again"),
    ("accounts", "signout"): ("cmd_accounts", "sign_out"),
    ("accounts", "set"): ("cmd_accounts", "set_account"),
    ("calendars", "list"): ("cmd_accounts", "list_calendars"),
    ("kiosk", None): ("cmd_kiosk", "open_kiosk"),
    ("kiosk", "set-pin"): ("cmd_kiosk", "set_pin"),
    ("kiosk", "clear-pin"): ("cmd_kiosk", "clear_pin"),
    ("sync", None): ("cmd_sync", "sync"),
    ("outbox", "list"): ("cmd_sync", "list_outbox"),
    ("conflicts", "list"): ("cmd_sync", "list_conflicts"),
    ("conflicts", "resolve"): ("cmd_sync", "resolve_conflict"),
    ("reminders", "send"): ("cmd_reminders", "send"),
    ("reminders", "log"): ("cmd_reminders", "show_log"),
    ("reminders", "set-password"): ("cmd_reminders", "set_password"),
    ("daysheet", None): ("cmd_reminders", "daysheet"),
    ("requests", "import"): ("cmd_requests", "import_requests"),
    ("requests", "scan"): ("cmd_requests", "scan_folder"),
    ("requests", "list"): ("cmd_requests", "list_requests"),
    ("requests", "slots"): ("cmd_requests", "request_slots"),
    ("requests", "book"): ("cmd_requests", "book_request"),
    ("requests", "decline"): ("cmd_requests", "decline_request"),
    ("recalls", "list"): ("cmd_requests", "list_recalls"),
    ("recalls", "book"): ("cmd_requests", "book_recall"),
    ("docplanner", "map"): ("cmd_docplanner", "map_addresses"),
    ("docplanner", "publish"): ("cmd_docplanner", "publish"),
    ("docplanner", "mode"): ("cmd_docplanner", "set_mode"),
    ("docplanner", "book"): ("cmd_docplanner_actions", "book"),
    ("docplanner", "move"): ("cmd_docplanner_actions", "move"),
    ("docplanner", "cancel"): ("cmd_docplanner_actions", "cancel"),
    ("docplanner", "confirm"): ("cmd_docplanner_actions", "confirm"),
    ("docplanner", "presence"): ("cmd_docplanner_actions", "presence"),
    ("docplanner", "conflicts"): ("cmd_docplanner_actions", "conflicts"),
    ("docplanner", "actions"): ("cmd_docplanner_actions", "list_queued"),
    ("docplanner", "retry"): ("cmd_docplanner_actions", "retry"),
    ("docplanner", "discard"): ("cmd_docplanner_actions", "discard"),
}


def _command(command: str, action: str | None) -> Command:
    module, function = _COMMANDS[(command, action)]
    found: Command = getattr(importlib.import_module(f"carecal.cli.{module}"), function)
    return found


def run(args: argparse.Namespace) -> int:
    """Run a parsed command line and return its exit status. The main thread; disk I/O."""
    data_dir: Path | None = getattr(args, "data_dir", None)
    try:
        if args.command == "gui":
            return _gui(SessionArgs(data_dir=data_dir, demo=bool(getattr(args, "demo", False))))
        key = (args.command, getattr(args, "action", None))
        command = _command(*key)
        if key in _OPEN_THEMSELVES:
            return command(lambda: open_session(data_dir, actor="cli"), args)
        with open_session(data_dir, actor="cli") as session:
            return command(session, args)
    except UsageError as exc:
        return _fail(f"carecal: error: {exc}", EXIT_USAGE)
    except CarecalError as exc:
        return _fail(f"carecal: error: {exc}", EXIT_ERROR)
    except BrokenPipeError:
        # The reader went away (carecal events list | head): not an error worth a message.
        _silence_stdout()
        return EXIT_ERROR
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"carecal: error: {exc.strerror or exc}{where}", EXIT_ERROR)
    except KeyboardInterrupt:
        return _fail("carecal: interrupted", 130)
    except Exception as exc:
        logged = _log_internal_error(data_dir)
        hint = f" (details in {logged})" if logged else ""
        return _fail(f"carecal: internal error: {type(exc).__name__}: {exc}{hint}", EXIT_ERROR)


def _gui(session_args: SessionArgs) -> int:
    # Imported only here: the command line must never load Qt for the other commands.
    from carecal import app

    result = app.main(session_args)
    return EXIT_OK if result is None else int(result)


def _fail(line: str, code: int) -> int:
    sys.stderr.write(" ".join(line.split()) + "\n")
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _log_internal_error(data_dir: Path | None) -> Path | None:
    """Append the current traceback to carecal.log in the data directory; its path or None."""
    try:
        directory = resolve_data_dir(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / LOG_FILE
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as log_file:
            log_file.write(f"--- {stamp} carecal {' '.join(sys.argv[1:2])}\n")
            log_file.write(traceback.format_exc())
        return path
    except OSError:
        return None
