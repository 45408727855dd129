"""Showing the practitioner's reminders and alerts: the system tray, or a banner in the window.

``ReminderTray`` asks ``services.reminders`` every 30 s (on the database lane) which notices are
due and shows each once: as a tray notification when the desktop has a system tray, otherwise in
``ReminderBanner``, a strip at the top of the calendar window. Each message carries its own
click action: a video visit's joins the video, a double booking's opens the double-bookings
window (clicking the tray's message does what the message shown last offers). A video can be
joined from an hour before the visit until its end (services.video): the banner's and the tray
menu's "Join video" follow the clock.

After each sync cycle (``watch_sync``) the double bookings newly flagged on Docplanner become a
notification too: times only, never a patient's name (it may show on a shared screen).

Everything works offline; only "Join video" hands a link to the browser. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

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

from carecal.services.docplanner_actions import short_time
from carecal.services.docplanner_panel import display_zone, new_double_bookings
from carecal.services.reminders import Notice, ReminderService
from carecal.services.syncing import CycleResult
from carecal.services.video import can_join, join_hint
from carecal.store.docplanner_actions import Conflict
from carecal.ui.context import UiContext, system_now
from carecal.ui.sync_runner import SyncRunner
from carecal.ui.theme import icon

CHECK_MS = 30_000
JOIN_CHECK_MS = 15_000  # how soon "Join video" follows the clock (an hour before, the end)
OpenUrl = Callable[[str], None]
Click = Callable[[], object]
Clock = Callable[[], datetime]


def open_in_browser(url: str) -> None:
    """Hand ``url`` to the desktop's browser (only http and https links)."""
    link = QUrl(url)
    if link.scheme() in ("http", "https"):
        QDesktopServices.openUrl(link)


def joinable(notice: Notice, now: datetime) -> bool:
    """Whether ``notice``'s video can be joined at ``now`` (no times known: it can)."""
    if not notice.video_url:
        return False
    if notice.start is None or notice.end is None:
        return True
    return can_join(notice.start, notice.end, now)


def _hint(notice: Notice, now: datetime) -> str:
    if notice.start is None or notice.end is None:
        return "Open the video room in the browser."
    return join_hint(notice.start, notice.end, now)


def double_booking_notice(found: Sequence[Conflict], zone: ZoneInfo, count: int) -> Notice:
    """The notification about newly flagged double bookings (``found``; ``count`` new ones in
    all, for when they cannot be named): times only, no patient data. Pure."""
    total = max(count, len(found))
    title = (
        "Double booking on Docplanner" if total == 1 else f"{total} double bookings on Docplanner"
    )
    key = "double-booking:" + ",".join(f"{c.account_id}/{c.booking_id}" for c in found)
    if not found:
        body = "A Docplanner booking overlaps another appointment. Open to move it."
        if total > 1:
            body = "Docplanner bookings overlap other appointments. Open to move them."
        return Notice(key, "double_booking", title, body)
    times = [short_time(c.start, zone) for c in found[:2]]
    if len(found) == 1 and total == 1:
        body = f"The Docplanner booking on {times[0]} overlaps another appointment."
        return Notice(key, "double_booking", title, body + " Open to move it.")
    more = total - len(times)
    named = " and ".join(times) if not more else ", ".join(times) + f" and {more} more"
    body = f"Docplanner bookings on {named} overlap other appointments. Open to move them."
    return Notice(key, "double_booking", title, body)


@dataclass(frozen=True, slots=True)
class Shown:
    """A message on screen and what "Open" does for it (None: nothing to open)."""

    notice: Notice
    on_open: Click | None = None


class ReminderBanner(QFrame):
    """The in-window message strip (used where there is no system tray). Hidden when empty.

    ``clock`` decides when "Join video" is enabled (ReminderTray hands it the context's)."""

    def __init__(
        self, open_url: OpenUrl, parent: QWidget | None = None, *, clock: Clock = system_now
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ReminderBanner")
        self.setStyleSheet(
            "QFrame#ReminderBanner { background: #eff6ff; border-bottom: 1px solid #bfdbfe; }"
            'QFrame#ReminderBanner[alert="true"] { background: #fef2f2;'
            " border-bottom: 1px solid #fecaca; }"
            "QLabel#BannerTitle { font-weight: 600; color: #1e3a8a; }"
            'QFrame#ReminderBanner[alert="true"] QLabel#BannerTitle { color: #991b1b; }'
            "QLabel#BannerBody { color: #1f2937; }"
        )
        self._open_url = open_url
        self.clock = clock
        self.entries: list[Shown] = []
        self.title = QLabel()
        self.title.setObjectName("BannerTitle")
        self.body = QLabel()
        self.body.setObjectName("BannerBody")
        self.body.setWordWrap(True)
        self.more = QLabel()
        self.more.setObjectName("Hint")
        self.open = QPushButton("Open")
        self.open.setObjectName("Primary")
        self.open.clicked.connect(self._open)
        self.join = QPushButton("Join video")
        self.join.setObjectName("Primary")
        self.join.clicked.connect(self._join)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.clicked.connect(self.dismiss_current)
        for button in (self.open, self.join, self.dismiss):
            button.setAutoDefault(False)
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
        row.addWidget(self.open)
        row.addWidget(self.join)
        row.addWidget(self.dismiss)
        self.timer = QTimer(self)
        self.timer.setInterval(JOIN_CHECK_MS)
        self.timer.timeout.connect(self.refresh)
        self.hide()

    @property
    def notices(self) -> list[Notice]:
        """The notices on the banner, newest (shown) first."""
        return [e.notice for e in self.entries]

    def show_notice(self, notice: Notice, on_open: Click | None = None) -> None:
        """Add a message (``on_open``: what its "Open" button does); the newest is shown first."""
        self.entries.insert(0, Shown(notice, on_open))
        self._render()

    def dismiss_current(self) -> None:
        if self.entries:
            self.entries.pop(0)
        self._render()

    def _open(self) -> None:
        if self.entries and self.entries[0].on_open is not None:
            action = self.entries[0].on_open
            self.dismiss_current()
            action()

    def _join(self) -> None:
        # Checked again: the button may have been enabled a few seconds too long.
        if self.entries and joinable(self.entries[0].notice, self.clock()):
            self._open_url(self.entries[0].notice.video_url)

    def refresh(self) -> None:
        """Enable "Join video" only from an hour before the visit until its end."""
        current = self.entries[0].notice if self.entries else None
        if current is None or not current.video_url:
            self.timer.stop()
            return
        now = self.clock()
        self.join.setEnabled(joinable(current, now))
        self.join.setToolTip(_hint(current, now))
        if not self.timer.isActive():
            self.timer.start()

    def _render(self) -> None:
        if not self.entries:
            self.timer.stop()
            self.hide()
            return
        current = self.entries[0]
        self.setProperty("alert", current.notice.kind == "double_booking")
        self.style().unpolish(self)
        self.style().polish(self)
        self.title.setText(current.notice.title)
        self.body.setText(current.notice.body)
        self.open.setVisible(current.on_open is not None)
        self.join.setVisible(bool(current.notice.video_url))
        rest = len(self.entries) - 1
        self.more.setText(f"+{rest} more" if rest else "")
        self.more.setVisible(bool(rest))
        self.refresh()
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
        banner.clock = ctx.clock  # one clock for the banner, the tray menu and the checks
        self._open_url = open_url
        self._service: ReminderService | None = None
        self.shown: list[Notice] = []
        self._video: Notice | None = None  # the last video visit announced (the tray menu's)
        self._click: Click | None = None  # what clicking the last tray message does
        self._open_double_bookings: Click | None = None
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        self.tray: QSystemTrayIcon | None = None
        self._menu: QMenu | None = None
        self.join_action: QAction | None = None
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
        menu.aboutToShow.connect(self.refresh_join)
        tray.setContextMenu(menu)
        tray.messageClicked.connect(self._message_clicked)
        tray.show()
        self.tray, self._menu, self.join_action = tray, menu, join

    def check(self) -> None:
        """Ask the database lane for due notices; show them when they arrive."""
        session, now = self.ctx.session, self.ctx.clock()
        self.refresh_join()

        def job() -> list[Notice]:
            if self._service is None:
                self._service = ReminderService(session.repo, session.db)
            return self._service.take_due(now)

        self.ctx.tasks.submit(job, self._show_all, lambda err: None)

    def _show_all(self, notices: list[Notice]) -> None:
        for notice in notices:
            self.show(notice)

    def show(self, notice: Notice, on_click: Click | None = None) -> None:
        """Show one message in the tray, or in the banner without a tray. Clicking it (or its
        "Open" on the banner) runs ``on_click``; a video visit's joins the video."""
        self.shown.append(notice)
        if notice.video_url:
            self._video = notice
            if self.join_action is not None:
                self.join_action.setText(f"Join video: {notice.title}")
            self.refresh_join()
        if self.tray is None:
            self.banner.show_notice(notice, on_click)
            return
        body = notice.body
        if on_click is not None:
            self._click = on_click
        elif notice.video_url:
            self._click = lambda: self._join(notice)
            now = self.ctx.clock()
            body += (
                "\nClick to join the video." if joinable(notice, now) else "\n" + _hint(notice, now)
            )
        else:
            self._click = None
        self.tray.showMessage(notice.title, body, QSystemTrayIcon.MessageIcon.Information, 20_000)

    def _message_clicked(self) -> None:
        if self._click is not None:
            self._click()

    def _join(self, notice: Notice) -> None:
        if joinable(notice, self.ctx.clock()):
            self._open_url(notice.video_url)

    def _join_last(self) -> None:
        if self._video is not None:
            self._join(self._video)

    def refresh_join(self) -> None:
        """The tray menu's "Join video": enabled from an hour before the visit until its end."""
        if self.join_action is None:
            return
        video, now = self._video, self.ctx.clock()
        self.join_action.setEnabled(video is not None and joinable(video, now))
        self.join_action.setToolTip(_hint(video, now) if video is not None else "")

    # --- double bookings after a sync cycle ---------------------------------------------------

    def watch_sync(self, runner: SyncRunner, open_window: Click) -> None:
        """After each cycle, announce the double bookings it newly flagged; opening the message
        runs ``open_window`` (the double-bookings window)."""
        self._open_double_bookings = open_window
        # A bound method of this QObject: the worker thread's signal is queued to the GUI thread.
        runner.finished.connect(self._cycle_finished)

    def _cycle_finished(self, result: CycleResult) -> None:
        if self._open_double_bookings is not None:
            self.announce(result, self._open_double_bookings)

    def announce(self, result: CycleResult, open_window: Click) -> None:
        """Show one message about ``result``'s new double bookings (none: nothing)."""
        ids = list(result.double_booking_ids)
        if not ids:
            return
        repo = self.ctx.session.repo

        def job() -> tuple[list[Conflict], ZoneInfo]:
            return new_double_bookings(repo, ids), display_zone(repo)

        def done(found: tuple[list[Conflict], ZoneInfo]) -> None:
            conflicts, zone = found
            self.show(double_booking_notice(conflicts, zone, len(ids)), open_window)

        self.ctx.tasks.submit(job, done, lambda err: None)

    def stop(self) -> None:
        self.timer.stop()
        self.banner.timer.stop()
        if self.tray is not None:
            self.tray.hide()


def install_reminders(
    ctx: UiContext, window: QMainWindow, *, use_tray: bool | None = None
) -> ReminderTray:
    """Put the banner at the top of ``window``'s central area and start the reminders; with a
    sync lane, announce new double bookings too (opening the window's
    ``open_double_bookings`` when it has one)."""
    banner = ReminderBanner(open_in_browser, window, clock=ctx.clock)
    central = window.centralWidget()
    layout = central.layout() if central is not None else None
    if isinstance(layout, QVBoxLayout):
        layout.insertWidget(min(1, layout.count()), banner)  # under the toolbar
    reminders = ReminderTray(ctx, banner, use_tray=use_tray)
    opener = getattr(window, "open_double_bookings", None)
    if ctx.sync is not None and callable(opener):
        reminders.watch_sync(ctx.sync, opener)
    reminders.start()
    return reminders
