"""``carecal accounts add caldav`` and ``carecal sync`` import only what their path needs.

Process start-up is most of a small first sync (two processes), so the modules these commands
do not use on a clean CalDAV pull stay unimported: icalendar (only for unusual items, VTIMEZONE
look-ups, DURATIONs, writing), the event service and recurrence code, the Google sign-in stack.
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
)


def test_sync_path_imports_stay_light(tmp_path: Path) -> None:
    code = (
        "import sys; from carecal import cli; "
        f"rc = cli.main(['sync', '--data-dir', {str(tmp_path)!r}]); "
        # What a real CalDAV sync and 'accounts add' import beyond the command itself.
        "import carecal.providers.caldav, carecal.sync.engine, carecal.store.syncbulk; "
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


def test_every_command_resolves() -> None:
    from carecal.cli import run

    for (command, action), _ in run._COMMANDS.items():
        assert callable(run._command(command, action))
