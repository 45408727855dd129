"""Opening the kiosk: from the calendar window's menu, or on its own (``carecal kiosk``).

GUI thread only. Neither way opens a kiosk without an exit PIN: the user gets one sentence saying
where to set it. From the calendar window, the window hides and every one of its actions (and so
its shortcuts: settings, accounts, export ...) is disabled until the kiosk is left with the PIN.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox
from shiboken6 import isValid

from carecal.domain.errors import CarecalError
from carecal.domain.models import Settings
from carecal.services.kiosk import KioskNotReady, KioskService, require_pin
from carecal.services.session import Session
from carecal.ui.context import UiContext
from carecal.ui.kiosk_window import KioskWindow
from carecal.ui.tasks import DbWorker
from carecal.ui.theme import apply_theme

KIOSK_ACTOR = "kiosk"
_WINDOW_PROPERTY = "kioskWindow"


def kiosk_context(ctx: UiContext) -> KioskService:
    """A kiosk service on the session's repository, with the window's clock."""
    return KioskService(ctx.session.repo, clock=ctx.clock, actor=KIOSK_ACTOR)


def open_kiosk(ctx: UiContext, window: QMainWindow, *, full_screen: bool = True) -> None:
    """Menu "Front desk kiosk…": check the PIN is set (on the database lane), then swap the
    calendar window for the kiosk. A missing PIN shows a message and opens nothing."""
    kiosk = kiosk_context(ctx)

    def loaded(settings: Settings) -> None:
        try:
            require_pin(settings)
        except KioskNotReady as err:
            window.setProperty("kioskMessage", str(err))
            box = QMessageBox(
                QMessageBox.Icon.Information,
                "Front desk kiosk",
                str(err),
                QMessageBox.StandardButton.Ok,
                window,
            )
            box.open()
            return
        _swap_in(ctx, window, kiosk, settings, full_screen)

    def failed(err: Exception) -> None:
        window.setProperty("kioskMessage", str(err))

    ctx.tasks.submit(kiosk.settings, loaded, failed)


def _swap_in(
    ctx: UiContext,
    window: QMainWindow,
    kiosk: KioskService,
    settings: Settings,
    full_screen: bool,
) -> KioskWindow:
    actions = [a for a in window.findChildren(QAction) if a.isEnabled()]
    for action in actions:
        action.setEnabled(False)
    window.menuBar().setEnabled(False)
    # Patients, accounts, conflicts ...: every other open window goes away with the calendar.
    others = [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and w is not window and not isinstance(w, KioskWindow)
    ]
    for other in others:
        other.hide()
    kiosk_window = KioskWindow(ctx, kiosk, settings)
    window.setProperty(_WINDOW_PROPERTY, kiosk_window)

    def back() -> None:
        for action in actions:
            action.setEnabled(True)
        window.menuBar().setEnabled(True)
        window.setProperty(_WINDOW_PROPERTY, None)
        window.show()
        for other in others:
            if isValid(other):  # it may have been deleted meanwhile
                other.show()
        kiosk_window.deleteLater()

    kiosk_window.exited.connect(back)
    window.hide()
    if full_screen:
        kiosk_window.showFullScreen()
    else:
        kiosk_window.show()
    return kiosk_window


def run_kiosk(start_session: Callable[[], Session]) -> int:
    """``carecal kiosk``: the kiosk as the only window, with the sync lane running so arrivals
    go out when the network is there. Main thread; returns the exit code (1 without a PIN)."""
    from carecal.services.logfile import log_to_file, stop_logging
    from carecal.ui.events import AppEvents
    from carecal.ui.network_watch import NetworkWatch
    from carecal.ui.sync_runner import SyncRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Carecal")
    app.setDesktopFileName("carecal")
    apply_theme(app)
    try:
        session = start_session()
        settings = session.repo.settings()
        require_pin(settings)
    except CarecalError as err:
        QMessageBox.critical(None, "Carecal front desk", f"The kiosk cannot start: {err}")
        return 1
    try:
        handler = log_to_file(session.log_path)
    except OSError:
        handler = None
    worker = DbWorker()
    sync = SyncRunner(session.db)
    ctx = UiContext(session=session, tasks=worker, events=AppEvents(), sync=sync, actor=KIOSK_ACTOR)
    sync.attach(ctx.events)
    network = NetworkWatch(sync.network_back)
    window = KioskWindow(ctx, kiosk_context(ctx), settings)
    window.exited.connect(app.quit)
    window.showFullScreen()
    sync.start()
    try:
        return int(app.exec())
    finally:
        network.deleteLater()
        sync.stop()
        worker.shutdown()
        session.close()
        if handler is not None:
            stop_logging(handler)
