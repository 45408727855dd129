"""`carecal events list` for one week against `khal list`, same events, same machine, one run.

Usage (from the project root, after `bash .ci/run` has made .venv):
    .venv/bin/python tests/bench/bench_cli_vs_khal.py [--sizes 1000,5000,20000] [--runs 5]
        [--shapes anchors,spread]

Two shapes of data (gen.SHAPES): ``anchors``, the shape the issue's khal figures were measured on
(about 1,000-2,000 entries in the week at 20,000 events), and ``spread`` (singles over two years,
a sparse week). Both tools read the same events in each.

khal is installed into its own virtual environment under tests/bench/_work/ (git-ignored) so it
cannot change Carecal's dependencies. Prints one JSON line per measurement and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "_work"
sys.path.insert(0, str(HERE))

from benchdata import SEED, WEEK, compile_package, gen_digest, ics_file  # noqa: E402
from gen import generate, write_vdir  # noqa: E402

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


# "2026-11-23 09:30 Title" for timed entries, "2026-11-23 Title" for all-day ones; day headings
# ("Monday, 2026-11-23") do not match.
KHAL_EVENT_LINE = re.compile(r"^(\d{4}-\d\d-\d\d(?: \d\d:\d\d)?) (.*)$")


def carecal_keys(json_text: str) -> list[tuple[str, str]]:
    """(local start "YYYY-MM-DD HH:MM", or the date of an all-day entry, and the title) of every
    occurrence ``--format json`` listed."""
    rows = json.loads(json_text)
    return sorted(
        (
            r["start"]  # an all-day entry's start is a date, as khal prints it
            if r["all_day"]
            else datetime.fromisoformat(r["start"]).strftime("%Y-%m-%d %H:%M"),
            r["title"],
        )
        for r in rows
    )


def khal_keys(text: str) -> list[tuple[str, str]]:
    """The same keys from khal's ``{start} {title}`` lines (day headings are skipped)."""
    return sorted(
        (m.group(1), m.group(2)) for m in map(KHAL_EVENT_LINE.match, text.splitlines()) if m
    )


def prepare(n: int, shape: str) -> tuple[Path, Path]:
    """Carecal data dir (imported once) and khal vdir for n events of a shape, cached by size,
    shape, seed and generator digest."""
    folder = WORK / f"cli-{n}-{shape}-s{SEED}-{gen_digest()}"
    data, vdir = folder / "carecal-data", folder / "vdir"
    if not (folder / "done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_vdir(generate(n, week_start=WEEK, seed=SEED, shape=shape), vdir)
        env = dict(os.environ, TZ="Europe/Berlin")
        timed([*CARECAL, "--data-dir", str(data), "import", str(ics_file(n, shape=shape))], env)
        (folder / "done").write_text("ok\n", encoding="utf-8")
    return data, vdir


def bench_size(
    n: int, runs: int, khal: Path, cold: bool = True, shape: str = "anchors"
) -> dict[str, object]:
    data, vdir = prepare(n, shape)
    folder = data.parent
    # Both tools see the events in Europe/Berlin, the generator's zone: carecal takes its display
    # zone from TZ on first run, khal from its config.
    env = dict(os.environ, TZ="Europe/Berlin")
    week_end = WEEK + timedelta(days=6)
    cc_cmd = [
        *CARECAL,
        "--data-dir",
        str(data),
        "events",
        "list",
        "--from",
        WEEK.isoformat(),
        "--to",
        week_end.isoformat(),
    ]
    cc_times = []
    for _ in range(runs):
        t, _out = timed(cc_cmd, env)
        cc_times.append(t)
    _, cc_json = timed([*cc_cmd, "--format", "json"], env)
    cfg = khal_config(folder, vdir)
    # khal's END date is inclusive (``khal list 2026-11-23 2026-11-29`` lists Sunday the 29th
    # and stops there), the same seven days as carecal's --from/--to.
    kh_cmd = [
        str(khal),
        "-c",
        str(cfg),
        "list",
        "--format",
        "{start} {title}",
        WEEK.isoformat(),
        week_end.isoformat(),
    ]
    if cold:
        (folder / "khal.db").unlink(missing_ok=True)
    # With cold, this first call builds khal's sqlite cache from the vdir; without, it is a
    # warm-up on the cache a previous run left.
    kh_first, kh_out = timed(kh_cmd, env)
    kh_cold: float | None = kh_first if cold or not (folder / "khal.db").exists() else None
    kh_times = []
    for _ in range(runs):
        t, kh_out = timed(kh_cmd, env)
        kh_times.append(t)
    cc_keys, kh_keys = carecal_keys(cc_json), khal_keys(kh_out)
    result: dict[str, object] = {
        "n": n,
        "shape": shape,
        "carecal_list_median_s": round(statistics.median(cc_times), 4),
        "carecal_list_min_s": round(min(cc_times), 4),
        "carecal_list_max_s": round(max(cc_times), 4),
        "carecal_events": len(cc_keys),
        "khal_cold_s": None if kh_cold is None else round(kh_cold, 3),
        "khal_warm_median_s": round(statistics.median(kh_times), 4),
        "khal_warm_min_s": round(min(kh_times), 4),
        "khal_warm_max_s": round(max(kh_times), 4),
        "khal_events": len(kh_keys),
        "same_events": cc_keys == kh_keys,
    }
    if cc_keys != kh_keys:
        only_cc = sorted(set(cc_keys) - set(kh_keys))[:3]
        only_kh = sorted(set(kh_keys) - set(cc_keys))[:3]
        result["diff_sample"] = {"only_carecal": only_cc, "only_khal": only_kh}
    result["ratio_carecal_to_khal_warm"] = round(
        statistics.median(cc_times) / statistics.median(kh_times), 3
    )
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-cold", action="store_true", help="reuse khal's cache (quicker re-run)")
    ap.add_argument("--shapes", default="anchors,spread", help="data shapes (gen.SHAPES)")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    compile_package()
    khal = khal_bin()
    rows = []
    for shape in args.shapes.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            r = bench_size(n, args.runs, khal, cold=not args.no_cold, shape=shape)
            sys.stdout.write(json.dumps(r) + "\n")
            sys.stdout.flush()
            rows.append(r)
    sys.stdout.write(
        "\n| shape | events | listed (carecal / khal, same?) | carecal list median (min-max) s "
        "| khal warm median (min-max) s | khal cold s | carecal / khal warm |"
        "\n| --- | --- | --- | --- | --- | --- | --- |\n"
    )
    for r in rows:
        sys.stdout.write(
            f"| {r['shape']} | {r['n']:,} | {r['carecal_events']} / {r['khal_events']}, "
            f"{'yes' if r['same_events'] else 'NO'} "
            f"| {r['carecal_list_median_s']} ({r['carecal_list_min_s']}-{r['carecal_list_max_s']}) "
            f"| {r['khal_warm_median_s']} ({r['khal_warm_min_s']}-{r['khal_warm_max_s']}) "
            f"| {r['khal_cold_s']} | {r['ratio_carecal_to_khal_warm']} |\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
