"""The Qt application around one session: theme, database lane, main window, event loop."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox

from carecal.domain.errors import CarecalError
from carecal.services.logfile import log_to_file, stop_logging
from carecal.services.session import Session
from carecal.ui.context import UiContext
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.network_watch import NetworkWatch
from carecal.ui.sync_runner import SyncRunner
from carecal.ui.tasks import DbWorker
from carecal.ui.theme import apply_theme


def run(start_session: Callable[[], Session]) -> int:
    """Open the session with ``start_session`` and run the window until it closes. Main thread.

    Returns the process exit code; a ``CarecalError`` while starting is shown in a message box
    (exit code 1) rather than as a traceback.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Carecal")
    app.setDesktopFileName("carecal")
    apply_theme(app)
    try:
        session = start_session()
    except CarecalError as err:
        QMessageBox.critical(None, "Carecal", f"Carecal cannot start: {err}")
        return 1
    try:
        handler: logging.Handler | None = log_to_file(session.log_path)
    except OSError:
        handler = None  # a read-only data folder must not stop the calendar from opening
    worker = DbWorker()
    sync = SyncRunner(session.db)
    ctx = UiContext(session=session, tasks=worker, events=AppEvents(), sync=sync)
    sync.attach(ctx.events)
    network = NetworkWatch(sync.network_back)  # kept alive for the life of the window
    window = MainWindow(ctx)
    restore_hook = install_error_hook(window)
    from carecal.ui.email_runner import EmailReminderRunner
    from carecal.ui.tray import install_reminders

    reminders = install_reminders(ctx, window)
    mailer = EmailReminderRunner(ctx)
    mailer.start()
    window.show()
    # What start-up built (Qt wrappers, imported modules, the first week's data) lives as long
    # as the window: moved out of the collector's reach, a full collection on the sync thread
    # no longer walks it while holding the GIL (that pause froze the window during big pulls).
    gc.collect()
    gc.freeze()
    sync.start()
    try:
        return int(app.exec())
    finally:
        restore_hook()
        reminders.stop()
        mailer.stop()
        network.deleteLater()
        sync.stop()
        worker.shutdown()
        session.close()
        if handler is not None:
            stop_logging(handler)


def install_error_hook(window: MainWindow) -> Callable[[], None]:
    """Route exceptions nobody caught (in a slot, a paint event ...) to the log and the window.

    The user sees one readable sentence (the window's usual error display) instead of a traceback
    on a terminal they never look at; the traceback goes to carecal.log. Returns a function that
    puts the previous hook back. GUI thread.
    """
    previous = sys.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not ours to hide
            previous(exc_type, exc, tb)
            return
        window.ops.fail(exc.with_traceback(tb))

    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous

    return restore
