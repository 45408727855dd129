"""``carecal accounts add caldav`` and ``carecal sync`` import only what their path needs.

Process start-up is a large part of a small first sync, so the modules these commands
do not use on a clean CalDAV pull stay unimported: icalendar (only for unusual items, VTIMEZONE
look-ups, DURATIONs, writing), the event service and recurrence code, the Google sign-in stack,
and what building the command tree used to drag in: the other commands' modules (kiosk,
reminders, requests), the date parsers (timeparse, services.zones), Docplanner's action store,
the csv writer and getpass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NOT_ON_THE_PATH = (
    "icalendar",
    "carecal.services.events",
    "carecal.domain.recurrence",
    "carecal.services.google_accounts",
    "carecal.ical.writer",
    "caldav",
    "niquests",
    "carecal.cli.cmd_kiosk",
    "carecal.cli.cmd_reminders",
    "carecal.cli.cmd_requests",
    "carecal.cli.timeparse",
    "carecal.services.zones",
    "carecal.store.docplanner_actions",
    "csv",
    "getpass",
)


def test_sync_path_imports_stay_light(tmp_path: Path) -> None:
    code = (
        "import sys; from carecal import cli; "
        f"rc = cli.main(['sync', '--data-dir', {str(tmp_path)!r}]); "
        # What a real CalDAV sync and 'accounts add' import beyond the command itself.
        "import carecal.providers.caldav, carecal.sync.engine, carecal.store.syncbulk, "
        "carecal.services.syncing; "
        "from carecal.cli import run; run._command('accounts', 'add'); "
        "from carecal.ical.reader import read_item; "
        "item = 'BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\nBEGIN:VEVENT\\r\\nUID:a\\r\\n"
        "DTSTART;TZID=Europe/Berlin:20260105T090000\\r\\nDTEND;TZID=Europe/Berlin:"
        "20260105T093000\\r\\nRRULE:FREQ=WEEKLY;COUNT=3\\r\\nSUMMARY:x\\r\\nEND:VEVENT\\r\\n"
        "END:VCALENDAR\\r\\n'; "
        "assert len(read_item(item, source='s', calendar_id='c')) == 1; "
        f"heavy = [m for m in {NOT_ON_THE_PATH!r} if m in sys.modules]; "
        "print(heavy); sys.exit(rc if not heavy else 3)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sync_without_accounts_starts_no_event_loop(tmp_path: Path) -> None:
    code = (
        "import sys; from carecal import cli; "
        f"rc = cli.main(['sync', '--data-dir', {str(tmp_path)!r}]); "
        "sys.exit(rc if 'asyncio' not in sys.modules else 3)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_command_resolves() -> None:
    from carecal.cli import run

    for (command, action), _ in run._COMMANDS.items():
        assert callable(run._command(command, action))


def test_lazy_converters_convert_as_timeparse_does() -> None:
    import argparse

    from carecal.cli import argtypes, timeparse

    samples = {
        "parse_clock": ("8:30", "25:00"),
        "parse_date": ("2026-01-05", "today", "5.1.2026"),
        "parse_datetime_text": ("2026-01-05T09:00", "2026-01-05", "noon"),
        "parse_minutes": ("45", "-1"),
        "parse_weekdays": ("mon-fri", "funday"),
        "parse_zone": ("Europe/Berlin", "Mars/Base"),
    }
    for name, texts in samples.items():
        lazy, real = getattr(argtypes, name), getattr(timeparse, name)
        assert lazy.__name__ == real.__name__
        for text in texts:
            try:
                expected: object = real(text)
            except argparse.ArgumentTypeError as exc:
                expected = str(exc)
            try:
                got: object = lazy(text)
            except argparse.ArgumentTypeError as exc:
                got = str(exc)
            assert got == expected, (name, text)
