"""Google sync through the emulator (issue 4, item 9): a first ``carecal sync`` of 5,000 events
and no-op re-syncs, whole processes, against tests/fakes' Google Calendar v3 emulator.

    .venv/bin/python tests/bench/bench_google.py [--events 5000] [--runs 3]

The emulator runs in this process (threaded HTTP on 127.0.0.1); each step is a child
``carecal`` process, timed by wall clock, peak RSS from ``os.wait4``. Tokens reach the children
through the test-only file keyring (tests/filekeyring.py). The sign-in is the real loopback
flow: ``accounts add google --no-browser`` prints the address, which this script follows as a
browser would. Requests are counted from the emulator's log. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "desktop"), str(ROOT)]

from tests.integration.google_cli import (  # noqa: E402
    child_env,
    emulator,
    google_env,
    sign_in,
)

ZONE = "Europe/Berlin"


def bodies(n: int, seed: int = 4) -> list[dict[str, Any]]:
    """``n`` events over a year around today: 10 % weekly series, 5 % all-day, the rest timed."""
    rng = random.Random(seed)
    start = datetime(2026, 6, 1, 7, 0, tzinfo=ZoneInfo(ZONE))
    out: list[dict[str, Any]] = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(365), minutes=15 * rng.randrange(44))
        body: dict[str, Any] = {"summary": f"Visit {i}", "description": "Follow-up " * 3}
        if i % 20 == 0:
            body["start"] = {"date": day.date().isoformat()}
            body["end"] = {"date": (day.date() + timedelta(days=1)).isoformat()}
        else:
            end = day + timedelta(minutes=50)
            body["start"] = {"dateTime": day.isoformat(), "timeZone": ZONE}
            body["end"] = {"dateTime": end.isoformat(), "timeZone": ZONE}
        if i % 10 == 1:
            body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={rng.randrange(5, 30)}"]
        out.append(body)
    return out


def argv(data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "carecal", "--data-dir", str(data), *args]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS MB, stdout) of one child run; raises when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd[3:])} failed:\n{out}\n{err}")
    return seconds, usage.ru_maxrss / 1024, out


def count_events(data: Path, env: dict[str, str]) -> int:
    """Series and single events the mirror holds (overrides not counted), from an export."""
    path = data.parent / "export.ics"
    subprocess.run(argv(data, "export", "-o", str(path)), env=env, capture_output=True, check=True)
    text = path.read_text(encoding="utf-8")
    return text.count("BEGIN:VEVENT") - text.count("RECURRENCE-ID")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    opts = parser.parse_args()
    rows: list[str] = []
    with emulator() as emu:
        t0 = time.perf_counter()
        for body in bodies(opts.events):
            emu.remote_insert(body)
        fill = time.perf_counter() - t0
        emu.responses.clear()
        first: list[tuple[float, float, int]] = []
        noop: list[tuple[float, float, int]] = []
        masters = 0
        for run in range(opts.runs):
            with tempfile.TemporaryDirectory(prefix="carecal-gbench-") as tmp:
                data = Path(tmp) / "data"
                env = child_env(google_env(emu, Path(tmp) / "keyring.json"))
                sign_in(data, env, "--name", "Bench")
                mark = len(emu.log)
                secs, rss, _out = timed(argv(data, "sync"), env)
                first.append((secs, rss, len(emu.log) - mark))
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
        f"inserted into the emulator in {fill:.1f} s; first sync stored {masters} items."
    )
    rows.append("")
    rows.append("| step | runs | seconds, median (min-max) | peak RSS MB | API requests |")
    rows.append("| --- | --- | --- | --- | --- |")
    for name, samples in (("first sync", first), ("no-op re-sync", noop)):
        s, r, n = cell(samples)
        rows.append(f"| {name} | {len(samples)} | {s} | {r} | {n} |")
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
