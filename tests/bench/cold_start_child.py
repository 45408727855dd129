"""Child process of the cold-start benchmark: open the 100k database, build the real MainWindow,
stop at the first paint of the week grid that shows data, then at the first painted month.

Usage: python cold_start_child.py DATA_DIR
Prints one JSON line of wall-clock stamps (time.time(), comparable with the parent's spawn
stamp) and peak RSS. Wired like carecal.ui.application.run, except that the clock is pinned to
the benchmark week so every run paints the same, dense week.
"""

from __future__ import annotations

import time

T_SCRIPT = time.time()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))


from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

T_QT = time.time()

from carecal.services.session import open_session  # noqa: E402
from carecal.ui.context import UiContext  # noqa: E402
from carecal.ui.events import AppEvents  # noqa: E402
from carecal.ui.main_window import MainWindow  # noqa: E402
from carecal.ui.navigation import ViewMode  # noqa: E402
from carecal.ui.tasks import DbWorker  # noqa: E402
from carecal.ui.theme import apply_theme  # noqa: E402

T_IMPORTS = time.time()

PINNED_NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday of the benchmark week


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


class _PaintWatch(QObject):
    """Notes paints of the watched widgets; acts once the event loop is back (paint done)."""

    def __init__(self, window: MainWindow, app: QApplication) -> None:
        super().__init__()
        self.window, self.app = window, app
        self.stamps: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            w = self.window
            if obj is w.week.canvas:
                self.stamps.setdefault("first_paint_any", time.time())
                if w.week.canvas.data is not None and "week_painted" not in self.stamps:
                    self.stamps["week_painted"] = -1.0
                    self.counts["week_occurrences"] = len(w.week.canvas.data.occurrences)
                    QTimer.singleShot(0, self._week_done)
            elif (
                obj is w.month
                and "month_painted" not in self.stamps
                and w.data is not None
                and (w.data.last_day - w.data.first_day).days > 7
            ):
                self.stamps["month_painted"] = -1.0
                self.counts["month_occurrences"] = len(w.data.occurrences)
                QTimer.singleShot(0, self._month_done)
        return False

    def _week_done(self) -> None:
        self.stamps["week_painted"] = time.time()
        self.counts["rss_week_mb"] = round(_rss_mb(), 1)  # type: ignore[assignment]
        self.window.set_mode(ViewMode.MONTH)

    def _month_done(self) -> None:
        self.stamps["month_painted"] = time.time()
        self.app.quit()


def main() -> int:
    data_dir = Path(sys.argv[1])
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Carecal")
    apply_theme(app)
    t_app = time.time()
    session = open_session(data_dir, actor="user")
    t_session = time.time()
    worker = DbWorker()
    ctx = UiContext(session=session, tasks=worker, events=AppEvents(), clock=lambda: PINNED_NOW)
    window = MainWindow(ctx)
    watch = _PaintWatch(window, app)
    window.week.canvas.installEventFilter(watch)
    window.month.installEventFilter(watch)
    window.show()
    t_shown = time.time()
    QTimer.singleShot(60_000, app.quit)  # never hang the benchmark
    app.exec()
    worker.shutdown()
    session.close()
    out = {
        "script_start": T_SCRIPT,
        "qt_imported": T_QT,
        "imports_done": T_IMPORTS,
        "app_ready": t_app,
        "session_open": t_session,
        "window_shown": t_shown,
        **watch.stamps,
        **watch.counts,
        "rss_peak_mb": round(_rss_mb(), 1),
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
