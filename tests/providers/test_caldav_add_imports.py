"""Adding a CalDAV account never reads an item, so its process does not load the item reader
(the reader comes with the first ``to_events``)."""

from __future__ import annotations

import subprocess
import sys


def test_the_provider_loads_the_item_reader_only_when_reading() -> None:
    code = (
        "import sys; import carecal.providers.caldav as c; "
        "from carecal.cli import run; run._command('accounts', 'add'); "
        "assert 'carecal.ical.reader' not in sys.modules, 'loaded at import'; "
        "from carecal.providers.base import RemoteItem, RemoteRef; "
        "p = c.CalDAVProvider('http://127.0.0.1:9/', 'u', 'p'); "
        "item = 'BEGIN:VCALENDAR\\r\\nBEGIN:VEVENT\\r\\nUID:a\\r\\nDTSTART:20260105T090000Z\\r\\n"
        "END:VEVENT\\r\\nEND:VCALENDAR\\r\\n'; "
        "events = p.to_events(RemoteItem(RemoteRef('/c/a.ics', None), 'a', item), 'cal'); "
        "assert [e.uid for e in events] == ['a']; "
        "assert 'carecal.ical.reader' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
