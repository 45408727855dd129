"""`carecal events list` for one week against `khal list`, same events, same machine, one run.

Usage (from the project root, after `bash .ci/run` has made .venv):
    .venv/bin/python tests/bench/bench_cli_vs_khal.py [--sizes 1000,5000,20000] [--runs 5]

khal is installed into its own virtual environment under tests/bench/_work/ (git-ignored) so it
cannot change Carecal's dependencies. Prints one JSON line per measurement and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "_work"
sys.path.insert(0, str(HERE))

from gen import generate, write_single_file, write_vdir  # noqa: E402

WEEK = date(2026, 11, 23)  # a Monday
CARECAL = [str(ROOT / ".venv" / "bin" / "carecal")]


def khal_bin() -> Path:
    venv = WORK / "khal-venv"
    exe = venv / "bin" / "khal"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "khal>=0.14"], check=True)
    return exe


def khal_config(folder: Path, vdir: Path) -> Path:
    cfg = folder / "khal.conf"
    cfg.write_text(
        f"""[calendars]
[[bench]]
path = {vdir}
type = calendar
[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = Europe/Berlin
local_timezone = Europe/Berlin
[sqlite]
path = {folder / "khal.db"}
""",
        encoding="utf-8",
    )
    return cfg


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[:400]}")
    return elapsed, proc.stdout


def bench_size(n: int, runs: int, khal: Path) -> dict[str, object]:
    folder = WORK / f"cli-{n}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    events = generate(n, week_start=WEEK)
    ics = write_single_file(events, folder / "all.ics")
    vdir = write_vdir(events, folder / "vdir")
    data = folder / "carecal-data"
    env = dict(os.environ, CARECAL_DATA_DIR=str(data), TZ="Europe/Berlin")
    import_s, _ = timed([*CARECAL, "import", str(ics)], env)
    week_end = WEEK + timedelta(days=6)
    cc_cmd = [*CARECAL, "events", "list", "--from", WEEK.isoformat(), "--to", week_end.isoformat()]
    cc_times = []
    cc_out = ""
    for _ in range(runs):
        t, cc_out = timed(cc_cmd, env)
        cc_times.append(t)
    cfg = khal_config(folder, vdir)
    kh_cmd = [str(khal), "-c", str(cfg), "list", "--format", "{start} {title}",
              WEEK.isoformat(), (week_end + timedelta(days=1)).isoformat()]
    kh_cold, kh_out = timed(kh_cmd, env)  # builds khal's sqlite cache
    kh_times = []
    for _ in range(runs):
        t, kh_out = timed(kh_cmd, env)
        kh_times.append(t)
    result = {
        "n": n,
        "carecal_import_s": round(import_s, 3),
        "carecal_list_median_s": round(statistics.median(cc_times), 4),
        "carecal_list_lines": len(cc_out.splitlines()),
        "khal_cold_s": round(kh_cold, 3),
        "khal_warm_median_s": round(statistics.median(kh_times), 4),
        "khal_lines": len(kh_out.splitlines()),
    }
    result["ratio_carecal_to_khal_warm"] = round(
        result["carecal_list_median_s"] / result["khal_warm_median_s"], 3  # type: ignore[operator]
    )
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    khal = khal_bin()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        r = bench_size(n, args.runs, khal)
        sys.stdout.write(json.dumps(r) + "\n")
        sys.stdout.flush()
        rows.append(r)
    sys.stdout.write(
        "\n| events | carecal list (median s) | khal warm (median s) | khal cold (s) | ratio |"
        "\n| --- | --- | --- | --- | --- |\n"
    )
    for r in rows:
        sys.stdout.write(
            f"| {r['n']:,} | {r['carecal_list_median_s']} | {r['khal_warm_median_s']} "
            f"| {r['khal_cold_s']} | {r['ratio_carecal_to_khal_warm']} |\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
