"""In-process and cold-start benchmarks over the 100,000-event database (2,000 recurring).

Usage (from the project root): .venv/bin/python tests/bench/bench_core.py [--runs N]
Prints one JSON object per line: {"name", "median", "min", "max", "unit", ...}. run_all.py
turns them into the README table. Qt runs offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from benchdata import ROOT, WEEK, compile_package, data_dir, ics_file  # noqa: E402

N_EVENTS = 100_000
BERLIN = ZoneInfo("Europe/Berlin")
PY = str(ROOT / ".venv" / "bin" / "python")
CARECAL = str(ROOT / ".venv" / "bin" / "carecal")


def emit(name: str, samples: list[float], unit: str = "ms", **extra: Any) -> dict[str, Any]:
    row = {
        "name": name,
        "median": round(statistics.median(samples), 3),
        "min": round(min(samples), 3),
        "max": round(max(samples), 3),
        "runs": len(samples),
        "unit": unit,
        **extra,
    }
    sys.stdout.write(json.dumps(row) + "\n")
    sys.stdout.flush()
    return row


def timeit_ms(fn: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _own_rss_mb() -> float:
    """This process's peak RSS so far (the floor of any child's ru_maxrss, see main())."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def week_window() -> tuple[datetime, datetime]:
    start = datetime.combine(WEEK, dtime(), BERLIN)
    return start, datetime.combine(WEEK + timedelta(days=7), dtime(), BERLIN)


def bench_cold_start(folder: Path, runs: int) -> None:
    """Spawn the child runs times; wall time from spawn to the first painted week (and month)."""
    child = str(HERE / "cold_start_child.py")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TZ="Europe/Berlin")
    rows: list[dict[str, float]] = []
    for _ in range(runs):
        t_spawn = time.time()
        proc = subprocess.run(
            [PY, child, str(folder)], capture_output=True, text=True, env=env, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"cold-start child failed: {proc.stderr.strip()[-800:]}")
        stamps = json.loads(proc.stdout.strip().splitlines()[-1])
        if "week_painted" not in stamps:
            raise RuntimeError(f"the week was never painted: {stamps}")
        rows.append({**stamps, "spawn": t_spawn})

    def rel(key: str, base: str = "spawn") -> list[float]:
        return [(r[key] - r[base]) * 1000 for r in rows if key in r and r[key] > 0]

    emit(
        "cold start to first painted week",
        rel("week_painted"),
        budget="<= 1500 ms",
        budget_ms=1500,
        occurrences=rows[0].get("week_occurrences"),
    )
    emit("  of which interpreter start (spawn to script)", rel("script_start"))
    emit(
        "  of which imports (PySide6 + carecal.ui)",
        [(r["imports_done"] - r["script_start"]) * 1000 for r in rows],
    )
    emit(
        "  of which PySide6 imports alone",
        [(r["qt_imported"] - r["script_start"]) * 1000 for r in rows],
    )
    emit(
        "  of which QApplication + theme",
        [(r["app_ready"] - r["imports_done"]) * 1000 for r in rows],
    )
    emit("  of which open session", [(r["session_open"] - r["app_ready"]) * 1000 for r in rows])
    emit(
        "  of which build + show MainWindow",
        [(r["window_shown"] - r["session_open"]) * 1000 for r in rows],
    )
    emit(
        "  of which query + first data paint",
        [(r["week_painted"] - r["window_shown"]) * 1000 for r in rows],
    )
    emit(
        "cold start to first painted month (after the week)",
        rel("month_painted"),
        occurrences=rows[0].get("month_occurrences"),
    )
    emit(
        "peak RSS, GUI (week painted)",
        [r["rss_week_mb"] for r in rows],
        unit="MB",
        budget="<= 300 MB",
        budget_mb=300,
        floor=f"spawning process {_own_rss_mb():.0f} MB",
    )
    emit(
        "peak RSS, GUI (week, then month painted)",
        [r["rss_peak_mb"] for r in rows],
        unit="MB",
        budget="<= 300 MB",
        budget_mb=300,
    )


def bench_queries(folder: Path, runs: int) -> None:
    from carecal.services.session import open_session

    start, end = week_window()
    with open_session(folder, actor="cli") as s:
        n_rows = len(s.repo.events_in_window(start, end))
        emit(
            "one-week query: store events_in_window",
            timeit_ms(lambda: s.repo.events_in_window(start, end), runs),
            budget="<= 5 ms",
            budget_ms=5,
            rows=n_rows,
        )
        n_occ = len(s.events.occurrences(start, end))
        emit(
            "one-week query: EventService.occurrences (expanded)",
            timeit_ms(lambda: s.events.occurrences(start, end), runs),
            budget="<= 5 ms",
            budget_ms=5,
            occurrences=n_occ,
        )


def bench_paint(folder: Path, runs: int) -> None:
    from PySide6.QtWidgets import QApplication

    from carecal.services.session import open_session
    from carecal.ui.context import UiContext
    from carecal.ui.events import AppEvents
    from carecal.ui.loader import load_view_data
    from carecal.ui.monthview import MonthView, month_grid_start
    from carecal.ui.tasks import InlineRunner
    from carecal.ui.theme import apply_theme
    from carecal.ui.weekview import WeekView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_theme(app)
    now = datetime.combine(WEEK + timedelta(days=2), dtime(9), BERLIN)
    with open_session(folder, actor="user") as s:
        ctx = UiContext(session=s, tasks=InlineRunner(), events=AppEvents(), clock=lambda: now)
        days = [WEEK + timedelta(days=i) for i in range(7)]
        full = load_view_data(ctx, days[0], days[-1])
        timed = [o for o in full.occurrences if isinstance(o.start, datetime)]
        # 200 appointments spread over the whole week (every k-th by start time).
        step = max(1, len(timed) // 200)
        chosen = timed[::step][:200]
        data = load_view_data(ctx, days[0], days[-1])
        data.occurrences = chosen
        data.double_booked = set(s.events.double_bookings(chosen))
        view = WeekView()
        view.resize(1400, 900)
        view.show()
        view.set_data(days, data, now)
        app.processEvents()
        canvas = view.canvas
        emit(
            "week set_data (layout of 200 appointments)",
            timeit_ms(lambda: view.set_data(days, data, now), runs),
        )
        app.processEvents()
        emit(
            "week repaint, 200 appointments (canvas.repaint)",
            timeit_ms(canvas.repaint, runs),
            budget="<= 16 ms",
            budget_ms=16,
            appointments=len(chosen),
            canvas=f"{canvas.width()}x{canvas.height()}",
        )
        emit("week grab, 200 appointments (canvas.grab)", timeit_ms(canvas.grab, runs))
        view.set_data(days, full, now)
        app.processEvents()
        emit(
            "week repaint, whole dense week (canvas.repaint)",
            timeit_ms(canvas.repaint, runs),
            appointments=len(full.occurrences),
        )
        view.close()

        first = month_grid_start(WEEK, 0)
        last = first + timedelta(days=41)
        month_q = timeit_ms(lambda: load_view_data(ctx, first, last), max(3, runs // 4))
        mdata = load_view_data(ctx, first, last)
        emit(
            "month load_view_data (6-week grid query + expansion)",
            month_q,
            occurrences=len(mdata.occurrences),
        )
        month = MonthView()
        month.resize(1400, 900)
        month.show()
        month.set_data(first, WEEK.month, mdata, now)
        app.processEvents()
        emit(
            "month repaint, 100k database's month (repaint)",
            timeit_ms(month.repaint, runs),
            budget="<= 16 ms (week's budget)",
            budget_ms=16,
            occurrences=len(mdata.occurrences),
        )
        month.close()


def bench_import(runs: int) -> None:
    from carecal.services import ics_io
    from carecal.services.session import open_session

    src = ics_file(5_000)
    samples = []
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp(prefix="carecal-bench-import-"))
        try:
            with open_session(tmp, actor="cli") as s:
                cal = s.repo.list_calendars()[0].id
                t0 = time.perf_counter()
                report = ics_io.import_file(s.repo, src, cal, actor="import")
                samples.append(time.perf_counter() - t0)
                assert report.added == 5_000, report
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    emit("import 5,000 events (ics_io.import_file, one .ics)", samples, unit="s")


def bench_cli_rss(folder: Path, runs: int) -> None:
    """`carecal events list` for the week on the 100k database: wall time and the child's own
    peak RSS (os.wait4 gives the rusage of that one child)."""
    env = dict(os.environ, TZ="Europe/Berlin")
    cmd = [
        CARECAL,
        "--data-dir",
        str(folder),
        "events",
        "list",
        "--from",
        WEEK.isoformat(),
        "--to",
        (WEEK + timedelta(days=6)).isoformat(),
    ]
    walls, rss = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append((time.perf_counter() - t0) * 1000)
        if status != 0:
            raise RuntimeError(f"carecal events list failed: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        proc.returncode = 0
        rss.append(usage.ru_maxrss / 1024)
    emit("`carecal events list` one week, 100k database", walls)
    emit(
        "peak RSS, CLI `events list` (100k database)",
        rss,
        unit="MB",
        budget="<= 300 MB",
        budget_mb=300,
        floor=f"spawning process {_own_rss_mb():.0f} MB",
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30, help="runs of the in-process timings")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--only", default="", help="comma list: cold,query,paint,import,cli")
    args = ap.parse_args()
    compile_package()
    only = set(filter(None, args.only.split(",")))
    folder = data_dir(N_EVENTS)
    # The spawning benchmarks run first, while this process is small: Linux carries the
    # parent's peak RSS into a child's ru_maxrss across fork and exec, so a child spawned from a
    # process that has painted 11,000 occurrences would report the parent's peak, not its own.
    if not only or "cli" in only:
        bench_cli_rss(folder, args.cold_runs)
    if not only or "cold" in only:
        bench_cold_start(folder, args.cold_runs)
    if not only or "query" in only:
        bench_queries(folder, args.runs)
    if not only or "paint" in only:
        bench_paint(folder, args.runs)
    if not only or "import" in only:
        bench_import(3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
