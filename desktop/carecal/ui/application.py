"""The Qt application around one session: theme, database lane, main window, event loop."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtWidgets import QApplication, QMessageBox

from carecal.domain.errors import CarecalError
from carecal.services.session import Session
from carecal.ui.context import UiContext
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
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
    worker = DbWorker()
    ctx = UiContext(session=session, tasks=worker, events=AppEvents())
    window = MainWindow(ctx)
    window.show()
    try:
        return int(app.exec())
    finally:
        worker.shutdown()
        session.close()
