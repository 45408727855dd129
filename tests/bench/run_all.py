"""Run every Carecal benchmark and print the Markdown results table (for tests/bench/README.md).

Usage (from the project root, after `bash .ci/run` has made .venv):
    .venv/bin/python tests/bench/run_all.py [--runs 30] [--cold-runs 5] [--khal-runs 5]

Databases, .ics files and khal's venv are cached under tests/bench/_work/ (git-ignored), so a
re-run takes a few minutes; the first run builds the 100k database (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
sys.path.insert(0, str(HERE))

from benchdata import compile_package  # noqa: E402


def run_json_lines(cmd: list[str]) -> list[dict[str, Any]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TZ="Europe/Berlin")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{Path(cmd[1]).name} failed:\n{proc.stderr[-2000:]}")
    return [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]


def versions() -> str:
    code = (
        "import sqlite3, PySide6, peewee, icalendar, dateutil;"
        'print(f\'Python {__import__("platform").python_version()}, PySide6-Essentials '
        "{PySide6.__version__}, peewee {peewee.__version__}, SQLite {sqlite3.sqlite_version}, "
        "icalendar {icalendar.__version__}, python-dateutil {dateutil.__version__}')"
    )
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    khal = HERE / "_work" / "khal-venv" / "bin" / "khal"
    kv = subprocess.run([str(khal), "--version"], capture_output=True, text=True, check=False)
    return f"{out.stdout.strip()}, {kv.stdout.strip() or 'khal not installed'}"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores (shared), {cpu}"


def verdict(value: float, limit: float) -> str:
    return "pass" if value <= limit else "**miss**"


def fmt(r: dict[str, Any]) -> str:
    u = r["unit"]
    return f"{r['median']:g} {u} ({r['min']:g}-{r['max']:g})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--khal-runs", type=int, default=5)
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--shapes", default="anchors,spread", help="data shapes for the CLI run")
    ap.add_argument(
        "--no-khal-cold",
        action="store_true",
        help="skip khal's cold run (about 2.5 min at 20,000 events here)",
    )
    args = ap.parse_args()
    t0 = time.time()
    compile_package()
    core = run_json_lines(
        [
            PY,
            str(HERE / "bench_core.py"),
            "--runs",
            str(args.runs),
            "--cold-runs",
            str(args.cold_runs),
        ]
    )
    cli = run_json_lines(
        [
            PY,
            str(HERE / "bench_cli_vs_khal.py"),
            "--sizes",
            args.sizes,
            "--shapes",
            args.shapes,
            "--runs",
            str(args.khal_runs),
            *(["--no-cold"] if args.no_khal_cold else []),
        ]
    )
    out = [
        f"Run {date.today().isoformat()} on {machine()}.",
        f"Versions: {versions()}.",
        "",
        "| measurement | median (min-max) | runs | budget | verdict | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in core:
        budget, verdict_s = r.get("budget", ""), ""
        if "budget_ms" in r:
            verdict_s = verdict(r["median"], r["budget_ms"])
        elif "budget_mb" in r:
            verdict_s = verdict(r["max"], r["budget_mb"])  # peak: the worst run counts
        keys = ("rows", "occurrences", "appointments", "canvas", "floor")
        notes = ", ".join(f"{k}={r[k]}" for k in keys if k in r)
        out.append(f"| {r['name']} | {fmt(r)} | {r['runs']} | {budget} | {verdict_s} | {notes} |")
    for r in cli:
        ratio = r["ratio_carecal_to_khal_warm"]
        budget = "<= 0.1 x khal warm" if r["n"] == 20000 else ""
        v = verdict(ratio, 0.1) if r["n"] == 20000 else ""
        same = "same events" if r["same_events"] else "**different events**"
        out.append(
            f"| `carecal events list` vs warm `khal list`, one week, {r['n']:,} events "
            f"({r['shape']} shape) "
            f"| {r['carecal_list_median_s']} s ({r['carecal_list_min_s']}-"
            f"{r['carecal_list_max_s']}) vs {r['khal_warm_median_s']} s "
            f"({r['khal_warm_min_s']}-{r['khal_warm_max_s']}); ratio {ratio} "
            f"| {args.khal_runs} | {budget} | {v} "
            f"| {r['carecal_events']} / {r['khal_events']} listed, {same}; "
            f"khal cold {r['khal_cold_s'] if r['khal_cold_s'] is not None else 'not run'} s |"
        )
    out.append("")
    out.append(f"Total bench time {time.time() - t0:.0f} s.")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
