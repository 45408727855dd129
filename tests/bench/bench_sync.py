"""`carecal sync` against vdirsyncer, side by side in one run against the same Radicale.

Usage (from the project root, after `bash .ci/run` has made .venv):
    .venv/bin/python tests/bench/bench_sync.py [--sizes 1000,5000,20000] [--first-runs 3]
        [--runs 5]

For each size: a first sync (Carecal: ``accounts add``, which syncs the new account at once, and
for comparison ``accounts add --no-sync`` + ``sync`` as two processes; vdirsyncer: ``discover`` +
``sync``, a CalDAV storage paired with a filesystem storage), a no-op re-sync, and a re-sync after
10 remote changes (the same 10 PUTs serve both tools, each syncing once after them). Every run is
a whole process: wall time and peak RSS (``os.wait4``). Radicale's INFO log gives each run's
request count and server time, and the server's own change check (one PROPFIND Depth 0 for
sync-token and getctag) is timed as well, for the no-op goal.

Radicale's REPORT limit (``[reporting] max_expand_occurrence``, default 10,000 VEVENTs) is raised
to 1,000,000 for both tools: vdirsyncer asks for every href in one multiget and fails at 20,000
events otherwise. vdirsyncer lives in its own virtual environment under tests/bench/_work/.
Prints one JSON line per measurement and a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "_work"
sys.path.insert(0, str(HERE))

from benchdata import compile_package  # noqa: E402
from radicale_bench import (  # noqa: E402
    PASSWORD,
    REPORT_LIMIT,
    USER,
    Radicale,
    Requests,
    calendar_slug,
    change_picks,
    serve_copy,
)

CARECAL = str(ROOT / ".venv" / "bin" / "carecal")


def vdirsyncer_bin() -> Path:
    venv = WORK / "vdirsyncer-venv"
    exe = venv / "bin" / "vdirsyncer"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "vdirsyncer>=0.19"], check=True)
    return exe


@dataclass
class Run:
    wall_s: float
    rss_mb: float
    requests: Requests
    out: str


def run_process(
    cmd: list[str], env: dict[str, str], server: Radicale, folder: Path, tag: str
) -> Run:
    """One whole process, timed from spawn to exit; peak RSS from its own rusage."""
    out_path = folder / f"{tag}.out"
    off = server.log_offset()
    with out_path.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{text[-2000:]}")
    return Run(wall, usage.ru_maxrss / 1024, server.requests_since(off), text)


class Carecal:
    def __init__(self, server: Radicale, n: int, folder: Path) -> None:
        self.server, self.n, self.folder = server, n, folder
        self.data = folder / "data"
        self.env = dict(
            os.environ,
            TZ="Europe/Berlin",
            CARECAL_PASSWORD=PASSWORD,
            # The password comes from the environment; never wait on a desktop keyring daemon.
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )

    def add(self, sync: bool) -> Run:
        """``accounts add``: with its first sync (the one command a user types), or only the
        account (``--no-sync``, then ``sync`` brings the events)."""
        cmd = [CARECAL, "--data-dir", str(self.data), "accounts", "add", "caldav"]
        cmd += ["--url", self.server.base_url, "--username", USER, "--no-store-password"]
        cmd += ["--calendars", calendar_slug(self.n), "--name", "bench"]
        cmd += [] if sync else ["--no-sync"]
        return run_process(cmd, self.env, self.server, self.folder, "cc-add")

    def sync(self, tag: str) -> Run:
        cmd = [CARECAL, "--data-dir", str(self.data), "sync"]
        return run_process(cmd, self.env, self.server, self.folder, f"cc-{tag}")

    def export_text(self) -> str:
        path = self.folder / "export.ics"
        cmd = [CARECAL, "--data-dir", str(self.data), "export", "-o", str(path)]
        run_process(cmd, self.env, self.server, self.folder, "cc-export")
        return path.read_text(encoding="utf-8", errors="replace")


class Vdirsyncer:
    def __init__(self, exe: Path, server: Radicale, n: int, folder: Path) -> None:
        self.exe, self.server, self.n, self.folder = exe, server, n, folder
        self.vdir = folder / "vdir"
        # The local collection exists beforehand, so discover never stops to ask.
        (self.vdir / calendar_slug(n)).mkdir(parents=True, exist_ok=True)
        self.config = folder / "vdirsyncer.conf"
        self.config.write_text(
            f"""[general]
status_path = "{folder / "status"}/"

[pair bench]
a = "bench_remote"
b = "bench_local"
collections = ["{calendar_slug(n)}"]
conflict_resolution = "a wins"

[storage bench_remote]
type = "caldav"
url = "{server.base_url}"
username = "{USER}"
password = "{PASSWORD}"

[storage bench_local]
type = "filesystem"
path = "{self.vdir}/"
fileext = ".ics"
""",
            encoding="utf-8",
        )
        self.env = dict(os.environ, TZ="Europe/Berlin")

    def discover(self) -> Run:
        cmd = [str(self.exe), "-c", str(self.config), "discover"]
        return run_process(cmd, self.env, self.server, self.folder, "vd-discover")

    def sync(self, tag: str) -> Run:
        cmd = [str(self.exe), "-c", str(self.config), "sync"]
        return run_process(cmd, self.env, self.server, self.folder, f"vd-{tag}")

    def files(self) -> list[Path]:
        return sorted((self.vdir / calendar_slug(self.n)).glob("*.ics"))


def stats(values: list[float], digits: int = 3) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def phase_record(
    n: int, phase: str, cc: list[Run], vd: list[Run], extra: dict[str, object]
) -> dict[str, object]:
    cc_t, vd_t = [r.wall_s for r in cc], [r.wall_s for r in vd]
    rec: dict[str, object] = {
        "n": n,
        "phase": phase,
        "runs": len(cc),
        "carecal_s": stats(cc_t),
        "vdirsyncer_s": stats(vd_t),
        "ratio": round(statistics.median(cc_t) / statistics.median(vd_t), 3),
        "carecal_rss_mb": round(max(r.rss_mb for r in cc), 1),
        "vdirsyncer_rss_mb": round(max(r.rss_mb for r in vd), 1),
        "carecal_requests": sorted({r.requests.label() for r in cc}),
        "vdirsyncer_requests": sorted({r.requests.label() for r in vd}),
        "carecal_server_s": round(statistics.median(r.requests.server_s for r in cc), 3),
        "vdirsyncer_server_s": round(statistics.median(r.requests.server_s for r in vd), 3),
    }
    rec.update(extra)
    return rec


def combine(a: Run, b: Run) -> Run:
    """Two processes that make one step (add + sync, discover + sync)."""
    req = Requests()
    for part in (a.requests, b.requests):
        req.by_method.update(part.by_method)
        req.statuses.update(part.statuses)
        req.server_s += part.server_s
    return Run(a.wall_s + b.wall_s, max(a.rss_mb, b.rss_mb), req, a.out + b.out)


def bench_size(
    server: Radicale, storage: Path, exe: Path, n: int, first_runs: int, runs: int, root: Path
) -> list[dict[str, object]]:
    records: list[dict[str, object]] = []
    cc_first: list[Run] = []
    vd_first: list[Run] = []
    cc_parts: list[tuple[float, float]] = []
    cc_two: list[Run] = []
    vd_parts: list[tuple[float, float]] = []
    cc_labels: list[tuple[str, str]] = []
    vd_labels: list[tuple[str, str]] = []
    cc = vd = None
    for r in range(first_runs):
        two = Carecal(server, n, fresh(root / f"cc2-{n}-{r}"))
        add, first = two.add(sync=False), two.sync("first")
        cc_two.append(combine(add, first))
        cc_parts.append((add.wall_s, first.wall_s))
        cc_labels.append((add.requests.label(), first.requests.label()))
        cc = Carecal(server, n, fresh(root / f"cc-{n}-{r}"))
        cc_first.append(cc.add(sync=True))
        vd = Vdirsyncer(exe, server, n, fresh(root / f"vd-{n}-{r}"))
        disc, vfirst = vd.discover(), vd.sync("first")
        vd_first.append(combine(disc, vfirst))
        vd_parts.append((disc.wall_s, vfirst.wall_s))
        vd_labels.append((disc.requests.label(), vfirst.requests.label()))
    assert cc is not None and vd is not None
    if len(vd.files()) != n:
        raise RuntimeError(f"vdirsyncer holds {len(vd.files())} files, expected {n}")
    records.append(
        phase_record(
            n,
            "first sync",
            cc_first,
            vd_first,
            {
                "carecal_two_commands_s": stats([r.wall_s for r in cc_two]),
                "two_commands_ratio": round(
                    statistics.median(r.wall_s for r in cc_two)
                    / statistics.median(r.wall_s for r in vd_first),
                    3,
                ),
                "carecal_add_s": stats([a for a, _ in cc_parts]),
                "carecal_sync_s": stats([s for _, s in cc_parts]),
                "vdirsyncer_discover_s": stats([d for d, _ in vd_parts]),
                "vdirsyncer_sync_s": stats([s for _, s in vd_parts]),
                "carecal_add_requests": sorted({lbl for lbl, _ in cc_labels}),
                "carecal_sync_requests": sorted({lbl for _, lbl in cc_labels}),
                "vdirsyncer_discover_requests": sorted({lbl for lbl, _ in vd_labels}),
                "vdirsyncer_sync_requests": sorted({lbl for _, lbl in vd_labels}),
            },
        )
    )
    checks = [server.change_check(n) for _ in range(5)]
    check_server = statistics.median(s for _, s in checks)
    check_wall = statistics.median(w for w, _ in checks)
    noop_cc = [cc.sync("noop") for _ in range(runs)]
    noop_vd = [vd.sync("noop") for _ in range(runs)]
    noop = phase_record(
        n,
        "no-op re-sync",
        noop_cc,
        noop_vd,
        {
            "change_check_server_s": round(check_server, 3),
            "change_check_wall_s": round(check_wall, 3),
            "goal_s": round(check_server + 0.3, 3),
        },
    )
    noop["goal_met"] = statistics.median(r.wall_s for r in noop_cc) <= check_server + 0.3
    records.append(noop)
    picks = change_picks(storage, n)
    ch_cc: list[Run] = []
    ch_vd: list[Run] = []
    for r in range(runs):
        # Alternate which tool goes first after the PUTs, so neither always meets a cold cache.
        server.change_events(n, picks, r)
        order: list[tuple[str, Carecal | Vdirsyncer]] = [("cc", cc), ("vd", vd)]
        if r % 2:
            order.reverse()
        for name, tool in order:
            (ch_cc if name == "cc" else ch_vd).append(tool.sync("change"))
    last = runs - 1
    exported = cc.export_text()
    changed_cc = sum(f"Changed {last} {name}" in exported for name, _ in picks)
    vd_text = "".join(p.read_text(errors="replace") for p in vd.files())
    changed_vd = sum(f"Changed {last} {name}" in vd_text for name, _ in picks)
    change = phase_record(
        n,
        "re-sync after 10 changes",
        ch_cc,
        ch_vd,
        {
            "carecal_events_exported": exported.count("BEGIN:VEVENT"),
            "changes_seen_carecal": changed_cc,
            "changes_seen_vdirsyncer": changed_vd,
        },
    )
    change["constant_requests"] = len({r.requests.total for r in ch_cc}) == 1 and all(
        r.requests.total <= 4 for r in ch_cc
    )
    records.append(change)
    return records


def fmt(s: dict[str, float]) -> str:
    return f"{s['median']} ({s['min']}-{s['max']})"


def table(records: list[dict[str, object]]) -> str:
    lines = [
        "| events | step | runs | carecal s | vdirsyncer s | carecal / vdirsyncer "
        "| requests carecal / vdirsyncer | server s carecal / vdirsyncer "
        "| peak RSS MB carecal / vdirsyncer | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in records:
        note = ""
        if r["phase"] == "first sync":
            note = (
                "carecal as two commands: "
                f"{r['carecal_two_commands_s']['median']} s "  # type: ignore[index]
                f"({r['two_commands_ratio']} x), add --no-sync "
                f"{r['carecal_add_s']['median']} + sync "  # type: ignore[index]
                f"{r['carecal_sync_s']['median']}; vdirsyncer discover "  # type: ignore[index]
                f"{r['vdirsyncer_discover_s']['median']} + sync "  # type: ignore[index]
                f"{r['vdirsyncer_sync_s']['median']}"  # type: ignore[index]
            )
        elif r["phase"] == "no-op re-sync":
            note = (
                f"server change check {r['change_check_server_s']} s "
                f"(client {r['change_check_wall_s']} s); goal <= {r['goal_s']} s"
            )
        else:
            note = (
                f"changes seen {r['changes_seen_carecal']}/10 / {r['changes_seen_vdirsyncer']}/10; "
                f"carecal exported {r['carecal_events_exported']} events"
            )
        lines.append(
            f"| {r['n']:,} | {r['phase']} | {r['runs']} | {fmt(r['carecal_s'])} "  # type: ignore[arg-type]
            f"| {fmt(r['vdirsyncer_s'])} | {r['ratio']} "  # type: ignore[arg-type]
            f"| {'; '.join(r['carecal_requests'])} / {'; '.join(r['vdirsyncer_requests'])} "  # type: ignore[arg-type]
            f"| {r['carecal_server_s']} / {r['vdirsyncer_server_s']} "
            f"| {r['carecal_rss_mb']} / {r['vdirsyncer_rss_mb']} | {note} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--first-runs", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5, help="no-op and change runs (3 at >= 20,000)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.time()
    WORK.mkdir(exist_ok=True)
    compile_package()
    exe = vdirsyncer_bin()
    # Build the storage in a child: the generator's memory would otherwise count in every
    # spawned tool's peak RSS (Linux carries the parent's peak across fork and exec).
    prep = subprocess.run(
        [sys.executable, str(HERE / "radicale_bench.py"), *map(str, sizes)],
        capture_output=True,
        text=True,
        check=True,
    )
    storage = Path(prep.stdout.strip().splitlines()[-1])
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    root = fresh(WORK / "sync-run")
    server = serve_copy(storage, root)
    records: list[dict[str, object]] = []
    try:
        for n in sizes:
            runs = min(args.runs, 3) if n >= 20_000 else args.runs
            for rec in bench_size(server, storage, exe, n, args.first_runs, runs, root):
                sys.stdout.write(json.dumps(rec) + "\n")
                sys.stdout.flush()
                records.append(rec)
    finally:
        server.stop()
    sys.stdout.write(
        f"\nRun {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, "
        f"{os.cpu_count()} cores; Radicale max_expand_occurrence={REPORT_LIMIT}; "
        f"floor RSS {floor:.0f} MB; total {time.time() - started:.0f} s\n\n"
    )
    sys.stdout.write(table(records))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
