"""Outlook sync through the Graph emulator (issue 5, item 8): a first ``carecal sync`` of 5,000
events and no-op re-syncs, whole processes, against tests/fakes' Microsoft Graph emulator.

    .venv/bin/python tests/bench/bench_outlook.py [--events 5000] [--runs 3]

The emulator runs in this process (threaded HTTP on 127.0.0.1); each step is a child
``carecal`` process, timed by wall clock, peak RSS from ``os.wait4``. MSAL's token cache
reaches the children through the test-only file keyring (tests/filekeyring.py). The sign-in is
MSAL's real loopback flow: ``accounts add outlook --no-browser`` prints the address, which this
script follows as a browser would. Requests are counted from the emulator's log (sign-in
requests included: MSAL reads the authority's OpenID document in every process). Prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "desktop"), str(ROOT)]

from tests.bench.bench_google import argv, count_events, timed  # noqa: E402
from tests.fakes.graph_server import GraphEmulator  # noqa: E402
from tests.integration.google_cli import child_env  # noqa: E402
from tests.integration.outlook_cli import outlook_env, sign_in  # noqa: E402

ZONE = "W. Europe Standard Time"
BERLIN = ZoneInfo("Europe/Berlin")


def bodies(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """``n`` events over a year inside the sync window: 10 % weekly series, 5 % all-day, the
    rest timed (Berlin time)."""
    rng = random.Random(seed)
    start = datetime.now(UTC).astimezone(BERLIN).replace(hour=7, minute=0, second=0, microsecond=0)
    start -= timedelta(days=60)
    out: list[dict[str, Any]] = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(365), minutes=15 * rng.randrange(44))
        body: dict[str, Any] = {
            "subject": f"Visit {i}",
            "body": {"contentType": "text", "content": "Follow-up " * 3},
        }
        if i % 20 == 0:
            first = day.date()
            body["isAllDay"] = True
            body["start"] = {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": ZONE}
            body["end"] = {
                "dateTime": f"{(first + timedelta(days=1)).isoformat()}T00:00:00",
                "timeZone": ZONE,
            }
        else:
            end = day + timedelta(minutes=50)
            body["start"] = {"dateTime": day.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": ZONE}
            body["end"] = {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": ZONE}
        if i % 10 == 1:
            weekday = day.strftime("%A").lower()
            body["recurrence"] = {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [weekday]},
                "range": {
                    "type": "numbered",
                    "startDate": day.date().isoformat(),
                    "numberOfOccurrences": rng.randrange(5, 30),
                },
            }
        out.append(body)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    rows: list[str] = []
    with GraphEmulator() as emu:
        t0 = time.perf_counter()
        for body in bodies(opts.events):
            emu.remote_create(body)
        fill = time.perf_counter() - t0
        emu.responses.clear()
        first: list[tuple[float, float, int]] = []
        noop: list[tuple[float, float, int]] = []
        api: list[int] = []
        masters = 0
        for run in range(opts.runs):
            with tempfile.TemporaryDirectory(prefix="carecal-obench-") as tmp:
                data = Path(tmp) / "data"
                env = child_env(outlook_env(emu, Path(tmp) / "keyring.json"))
                sign_in(data, env, "--name", "Bench")
                mark = len(emu.log)
                secs, rss, _out = timed(argv(data, "sync"), env)
                first.append((secs, rss, len(emu.log) - mark))
                api.append(sum(1 for _m, p, _s in emu.log[mark:] if p.startswith("/v1.0/")))
                if run == 0:
                    masters = count_events(data, env)
                for _ in range(opts.runs + 2):
                    mark = len(emu.log)
                    secs, rss, _out = timed(argv(data, "sync"), env)
                    noop.append((secs, rss, len(emu.log) - mark))
                emu.responses.clear()

    def cell(samples: list[tuple[float, float, int]]) -> tuple[str, str, str]:
        secs = [s for s, _r, _n in samples]
        rss = statistics.median(r for _s, r, _n in samples)
        reqs = sorted({n for _s, _r, n in samples})
        return (
            f"{statistics.median(secs):.3f} ({min(secs):.3f}-{max(secs):.3f})",
            f"{rss:.1f}",
            "/".join(map(str, reqs)),
        )

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    rows.append(
        f"Run {stamp} UTC on {platform.machine()}, {os.cpu_count()} cores; {opts.events} events "
        f"created in the emulator in {fill:.1f} s; first sync stored {masters} items "
        f"({'/'.join(map(str, sorted(set(api))))} of its requests to the calendar API)."
    )
    rows.append("")
    rows.append("| step | runs | seconds, median (min-max) | peak RSS MB | requests |")
    rows.append("| --- | --- | --- | --- | --- |")
    for name, samples in (("first sync", first), ("no-op re-sync", noop)):
        s, r, n = cell(samples)
        rows.append(f"| {name} | {len(samples)} | {s} | {r} | {n} |")
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
