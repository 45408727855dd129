"""Showing the practitioner's reminders: the system tray, or a banner in the window.

``ReminderTray`` asks ``services.reminders`` every 30 s (on the database lane) which notices are
due and shows each once: as a tray notification when the desktop has a system tray (clicking a
video visit's notification, or the tray menu's "Join video", opens its link), otherwise in
``ReminderBanner``, a strip at the top of the calendar window with "Join video" and "Dismiss".
Everything works offline; only "Join video" hands a link to the browser.

GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from carecal.services.reminders import Notice, ReminderService
from carecal.ui.context import UiContext
from carecal.ui.theme import icon

CHECK_MS = 30_000
OpenUrl = Callable[[str], None]


def open_in_browser(url: str) -> None:
    """Hand ``url`` to the desktop's browser (only http and https links)."""
    link = QUrl(url)
    if link.scheme() in ("http", "https"):
        QDesktopServices.openUrl(link)


class ReminderBanner(QFrame):
    """The in-window reminder strip (used where there is no system tray). Hidden when empty."""

    def __init__(self, open_url: OpenUrl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReminderBanner")
        self.setStyleSheet(
            "QFrame#ReminderBanner { background: #eff6ff; border-bottom: 1px solid #bfdbfe; }"
            "QLabel#BannerTitle { font-weight: 600; color: #1e3a8a; }"
            "QLabel#BannerBody { color: #1f2937; }"
        )
        self._open_url = open_url
        self.notices: list[Notice] = []
        self.title = QLabel()
        self.title.setObjectName("BannerTitle")
        self.body = QLabel()
        self.body.setObjectName("BannerBody")
        self.body.setWordWrap(True)
        self.more = QLabel()
        self.more.setObjectName("Hint")
        self.join = QPushButton("Join video")
        self.join.setObjectName("Primary")
        self.join.clicked.connect(self._join)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.clicked.connect(self.dismiss_current)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.title)
        text.addWidget(self.body)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 12, 8)
        row.setSpacing(10)
        mark = QLabel()
        mark.setPixmap(icon("carecal").pixmap(24, 24))
        row.addWidget(mark, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addLayout(text, 1)
        row.addWidget(self.more)
        row.addWidget(self.join)
        row.addWidget(self.dismiss)
        self.hide()

    def show_notice(self, notice: Notice) -> None:
        """Add a notice; the newest is shown first."""
        self.notices.insert(0, notice)
        self._render()

    def dismiss_current(self) -> None:
        if self.notices:
            self.notices.pop(0)
        self._render()

    def _join(self) -> None:
        if self.notices and self.notices[0].video_url:
            self._open_url(self.notices[0].video_url)

    def _render(self) -> None:
        if not self.notices:
            self.hide()
            return
        current = self.notices[0]
        self.title.setText(current.title)
        self.body.setText(current.body)
        self.join.setVisible(bool(current.video_url))
        rest = len(self.notices) - 1
        self.more.setText(f"+{rest} more" if rest else "")
        self.more.setVisible(bool(rest))
        self.show()


class ReminderTray(QObject):
    """Polls for due notices and shows them (tray or banner); see the module docstring."""

    def __init__(
        self,
        ctx: UiContext,
        banner: ReminderBanner,
        *,
        use_tray: bool | None = None,
        open_url: OpenUrl = open_in_browser,
    ) -> None:
        super().__init__(banner)
        self.ctx = ctx
        self.banner = banner
        self._open_url = open_url
        self._service: ReminderService | None = None
        self.shown: list[Notice] = []
        self._last_video = ""
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: QSystemTrayIcon | None = None
        self._menu: QMenu | None = None
        self._join_action: QAction | None = None
        if use_tray:
            self._make_tray()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        """Check now and every 30 s."""
        self.check()
        self.timer.start()

    def _make_tray(self) -> None:
        tray = QSystemTrayIcon(icon("carecal"), self)
        tray.setToolTip("Carecal")
        menu = QMenu()
        join = QAction("Join video", menu)
        join.setEnabled(False)
        join.triggered.connect(self._join_last)
        menu.addAction(join)
        tray.setContextMenu(menu)
        tray.messageClicked.connect(self._join_last)
        tray.show()
        self.tray, self._menu, self._join_action = tray, menu, join

    def check(self) -> None:
        """Ask the database lane for due notices; show them when they arrive."""
        session, now = self.ctx.session, self.ctx.clock()

        def job() -> list[Notice]:
            if self._service is None:
                self._service = ReminderService(session.repo, session.db)
            return self._service.take_due(now)

        self.ctx.tasks.submit(job, self._show_all, lambda err: None)

    def _show_all(self, notices: list[Notice]) -> None:
        for notice in notices:
            self.show(notice)

    def show(self, notice: Notice) -> None:
        """Show one notice in the tray, or in the banner without a tray."""
        self.shown.append(notice)
        if notice.video_url:
            self._last_video = notice.video_url
            if self._join_action is not None:
                self._join_action.setText(f"Join video: {notice.title}")
                self._join_action.setEnabled(True)
        if self.tray is None:
            self.banner.show_notice(notice)
            return
        body = notice.body + ("\nClick to join the video." if notice.video_url else "")
        self.tray.showMessage(notice.title, body, QSystemTrayIcon.MessageIcon.Information, 20_000)

    def _join_last(self) -> None:
        if self._last_video:
            self._open_url(self._last_video)

    def stop(self) -> None:
        self.timer.stop()
        if self.tray is not None:
            self.tray.hide()


def install_reminders(ctx: UiContext, window: QMainWindow) -> ReminderTray:
    """Put the banner at the top of ``window``'s central area and start the reminders."""
    banner = ReminderBanner(open_in_browser, window)
    central = window.centralWidget()
    layout = central.layout() if central is not None else None
    if isinstance(layout, QVBoxLayout):
        layout.insertWidget(min(1, layout.count()), banner)  # under the toolbar
    reminders = ReminderTray(ctx, banner)
    reminders.start()
    return reminders
