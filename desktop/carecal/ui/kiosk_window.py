"""The front-desk kiosk window: start screen, day list, self check-in, walk-ins, PIN to leave.

GUI thread only. Every read and write runs through ``services.kiosk.KioskService`` on the
database lane (``ctx.tasks``); results come back on the GUI thread. The window has no menu, no
actions and no shortcuts: from here there is no way to settings, accounts, exports, the audit log
or past days. After ``idle`` milliseconds without input it returns to the start screen and drops
every widget that showed a patient. Closing it (Alt+F4 included) asks for the exit PIN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from carecal.domain.changes import Changes
from carecal.domain.models import Event, Settings
from carecal.services.kiosk import (
    KioskService,
    SelfMatch,
    Visit,
    VisitKey,
    WalkInPatient,
    idle_seconds,
)
from carecal.ui.context import UiContext
from carecal.ui.kiosk_self import SelfCheckInPage
from carecal.ui.kiosk_staff import StaffPage
from carecal.ui.kiosk_walkin import WalkInPage, slot_caption
from carecal.ui.kiosk_widgets import KIOSK_STYLE, PinPad, button, label
from carecal.ui.operations import error_text

log = logging.getLogger(__name__)

_INPUT_EVENTS = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.KeyPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.Wheel,
}
THANKS_MS = 6000  # how long "You are checked in" stays before the start screen comes back


class StartPage(QWidget):
    """The neutral screen: clock, welcome, and the way in (no patient data, ever)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.clock = label("", "KioskClock")
        self.date = label("", "KioskSub")
        for lab in (self.clock, self.date):
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome = label("Welcome", "KioskTitle")
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.self_check_in = button("I have an appointment\nCheck in", "KioskHero")
        self.self_check_in.setStyleSheet("background: #2563eb; color: #ffffff; border: none;")
        self.front_desk = button("Front desk", "KioskHero")
        self.exit = button("Exit kiosk", "KioskQuiet")
        self.hint = label("", "KioskHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heroes = QHBoxLayout()
        heroes.setSpacing(28)
        heroes.addStretch(1)
        heroes.addWidget(self.self_check_in)
        heroes.addWidget(self.front_desk)
        heroes.addStretch(1)
        corner = QHBoxLayout()
        corner.addStretch(1)
        corner.addWidget(self.exit)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 20, 32, 20)
        lay.addLayout(corner)
        lay.addStretch(2)
        lay.addWidget(self.clock)
        lay.addWidget(self.date)
        lay.addSpacing(36)
        lay.addWidget(self.welcome)
        lay.addSpacing(36)
        lay.addLayout(heroes)
        lay.addSpacing(16)
        lay.addWidget(self.hint)
        lay.addStretch(3)

    def set_now(self, now: datetime) -> None:
        self.clock.setText(f"{now:%H:%M}")
        self.date.setText(f"{now:%A}, {now.day} {now:%B %Y}")

    def set_mode(self, self_checkin: bool) -> None:
        self.self_check_in.setVisible(self_checkin)
        self.hint.setText(
            "Staff: the front desk asks for the kiosk PIN." if self_checkin else "Tap to start."
        )


class KioskWindow(QWidget):
    """See the module docstring. ``exited`` fires once the right PIN was given to leave."""

    exited = Signal()

    def __init__(
        self, ctx: UiContext, kiosk: KioskService, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx, self.kiosk, self.settings = ctx, kiosk, settings
        self.setObjectName("Kiosk")
        self.setWindowTitle("Carecal · Front desk")
        self.setStyleSheet(KIOSK_STYLE)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._may_close = False
        self._pin_purpose = "exit"
        self._staff_open = False  # the PIN was given for the front desk since the last reset
        self.last_error: str | None = None

        self.start = StartPage()
        self.staff = StaffPage()
        self.self_page = SelfCheckInPage()
        self.walk_in = WalkInPage()
        self.pin = PinPad("Kiosk PIN")
        self.stack = QStackedWidget()
        for page in (self.start, self.staff, self.self_page, self.walk_in, self.pin):
            self.stack.addWidget(page)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        self._connect()

        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.setInterval(idle_seconds(settings) * 1000)
        self.idle.timeout.connect(self.reset)
        self._thanks = QTimer(self)
        self._thanks.setSingleShot(True)
        self._thanks.setInterval(THANKS_MS)
        self._thanks.timeout.connect(self.reset)
        self._tick = QTimer(self)
        self._tick.timeout.connect(self._minute)
        self._tick.start(30_000)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.start.set_mode(settings.kiosk_self_checkin)
        self.reset()

    def _connect(self) -> None:
        s = self.start
        s.self_check_in.clicked.connect(lambda: self._show_page(self.self_page))
        s.front_desk.clicked.connect(self.open_front_desk)
        s.exit.clicked.connect(self.ask_exit)
        st = self.staff
        st.day_chosen.connect(self.show_day)
        st.arrive_requested.connect(self.arrive)
        st.no_show_requested.connect(self.no_show)
        st.walk_in_requested.connect(self.open_walk_in)
        st.lock_requested.connect(self.reset)
        st.exit_requested.connect(self.ask_exit)
        sp = self.self_page
        sp.find_requested.connect(self.find_own_visit)
        sp.confirm_requested.connect(self.confirm_self_check_in)
        sp.back_requested.connect(self.reset)
        w = self.walk_in
        w.service_chosen.connect(self.load_slots)
        w.book_requested.connect(self.book_walk_in)
        w.back_requested.connect(lambda: self.show_day(self.kiosk_today()))
        self.pin.submitted.connect(self._pin_given)
        self.pin.cancelled.connect(self.reset)
        self.ctx.events.refresh_needed.connect(self._external_change)

    # ---- lanes --------------------------------------------------------------------------------
    def _run(
        self, job: Callable[[], Any], done: Callable[[Any], None], show: Callable[[str], None]
    ) -> None:
        def failed(err: Exception) -> None:
            self.last_error = error_text(err)
            show(self.last_error)

        self.ctx.tasks.submit(job, done, failed)

    def kiosk_today(self) -> date:
        return self.ctx.clock().astimezone(self.kiosk.zone()).date()

    # ---- screens ------------------------------------------------------------------------------
    def _show_page(self, page: QWidget) -> None:
        self.stack.setCurrentWidget(page)
        if page is self.start:
            self.idle.stop()
        else:
            self.idle.start()

    def reset(self) -> None:
        """Back to the start screen; every patient name, date of birth and typed field is gone."""
        self._thanks.stop()
        self._staff_open = False
        self.staff.clear()
        self.self_page.clear()
        self.walk_in.clear()
        self.pin.clear()
        self.start.set_now(self.ctx.clock().astimezone(self.kiosk.zone()))
        self._show_page(self.start)
        # Widgets of the dropped rows are deleted now, not at the next turn of the event loop.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def open_front_desk(self) -> None:
        if self.settings.kiosk_self_checkin and not self._staff_open:
            self._ask_pin("staff", "Staff PIN")
            return
        self.show_day(self.kiosk_today())

    def show_day(self, day: date, message: str = "") -> None:
        """Load and show the visits of ``day`` (today or one of the next days)."""
        kiosk = self.kiosk

        def job() -> tuple[list[date], date, list[Visit]]:
            return kiosk.days(), kiosk.today(), kiosk.visits(day)

        def done(result: tuple[list[date], date, list[Visit]]) -> None:
            days, today, visits = result
            self.staff.set_days(days, today, day)
            self.staff.show_visits(day, today, visits)
            self.staff.message.setText(message)
            self._show_page(self.staff)

        self._run(job, done, self.staff.message.setText)

    def _refresh_day(self, message: str = "") -> None:
        day = self.staff.day
        if day is not None and self.stack.currentWidget() is self.staff:
            self.show_day(day, message)

    def _external_change(self, _changes: Changes) -> None:
        """Another device or window changed data: redraw the list on screen."""
        self._refresh_day(self.staff.message.text())

    def _minute(self) -> None:
        self.start.set_now(self.ctx.clock().astimezone(self.kiosk.zone()))
        if self.stack.currentWidget() is self.staff:
            if self.staff.day is not None and self.staff.day < self.kiosk_today():
                self.reset()  # midnight passed: yesterday is not the kiosk's to show
            else:
                self._refresh_day()

    # ---- staff actions ------------------------------------------------------------------------
    def arrive(self, key: VisitKey, day: date, patient_id: str) -> None:
        kiosk = self.kiosk
        self._run(
            lambda: kiosk.check_in(key, day, patient_id),
            lambda changes: self._changed(changes, "Marked as arrived."),
            self.staff.message.setText,
        )

    def no_show(self, key: VisitKey, day: date, patient_id: str) -> None:
        kiosk = self.kiosk
        self._run(
            lambda: kiosk.no_show(key, day, patient_id),
            lambda changes: self._changed(changes, "Marked as no-show."),
            self.staff.message.setText,
        )

    def _changed(self, changes: Changes, message: str) -> None:
        self.ctx.events.changes_applied.emit(changes)
        self._refresh_day(message)

    # ---- self check-in ------------------------------------------------------------------------
    def find_own_visit(self, born: date, initials: str) -> None:
        kiosk = self.kiosk

        def done(match: SelfMatch | None) -> None:
            if match is None:
                self.self_page.show_not_found()
            else:
                self.self_page.show_match(match)

        self._run(lambda: kiosk.find_own_visit(born, initials), done, self._self_failed)

    def _self_failed(self, text: str) -> None:
        self.self_page.show_not_found(text)

    def confirm_self_check_in(self) -> None:
        match = self.self_page.match
        if match is None:
            return
        kiosk = self.kiosk

        def done(changes: Changes) -> None:
            self.ctx.events.changes_applied.emit(changes)
            self.self_page.show_checked_in()
            self._thanks.start()

        self._run(lambda: kiosk.self_check_in(match), done, self._self_failed)

    # ---- walk-ins -----------------------------------------------------------------------------
    def open_walk_in(self) -> None:
        kiosk = self.kiosk

        def done(services: list[Any]) -> None:
            self.walk_in.clear()
            self.walk_in.set_services(services)
            self._show_page(self.walk_in)

        self._run(kiosk.services, done, self.staff.message.setText)

    def load_slots(self, service_id: str) -> None:
        kiosk = self.kiosk

        def job() -> tuple[list[Any], date]:
            return kiosk.walk_in_slots(service_id), kiosk.today()

        def done(result: tuple[list[Any], date]) -> None:
            slots, today = result
            if self.walk_in.service_id == service_id:
                self.walk_in.set_slots(slots, today)

        self._run(job, done, self.walk_in.message.setText)

    def book_walk_in(self, service_id: str, start: datetime, who: WalkInPatient) -> None:
        kiosk = self.kiosk

        def done(result: tuple[Event, Changes]) -> None:
            event, changes = result
            self.ctx.events.changes_applied.emit(changes)
            when = slot_caption(start.astimezone(kiosk.zone()), self.kiosk_today())
            self.walk_in.booked(f"Booked: {event.title}, {when}. It is on today's list.")
            self.load_slots(service_id)

        self._run(lambda: kiosk.book_walk_in(service_id, start, who), done, self._walk_in_failed)

    def _walk_in_failed(self, text: str) -> None:
        self.walk_in.message.setText(text)
        if self.walk_in.service_id is not None:
            self.load_slots(self.walk_in.service_id)

    # ---- PIN ----------------------------------------------------------------------------------
    def ask_exit(self) -> None:
        self._ask_pin("exit", "Enter the kiosk PIN to leave")

    def _ask_pin(self, purpose: str, title: str) -> None:
        self._pin_purpose = purpose
        self.pin.title.setText(title)
        self.pin.clear()
        self._show_page(self.pin)

    def _pin_given(self, pin: str) -> None:
        kiosk, purpose = self.kiosk, self._pin_purpose

        def done(ok: bool) -> None:
            if not ok:
                self.pin.clear("Wrong PIN. Please try again.")
                return
            self.pin.clear()
            if purpose == "exit":
                self.leave()
            else:
                self._staff_open = True
                self.show_day(self.kiosk_today())

        self._run(lambda: kiosk.check_exit_pin(pin), done, self.pin.clear)

    def leave(self) -> None:
        """Close the kiosk for good (the PIN was right). GUI thread."""
        self.reset()
        self.shutdown()
        self.close()
        self.exited.emit()

    def shutdown(self) -> None:
        """Stop the timers and the input watch, and let the window close. GUI thread."""
        self._may_close = True
        self.idle.stop()
        self._thanks.stop()
        self._tick.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    # ---- Qt -----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self.isVisible() and self.idle.isActive():
            self.idle.start()
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Escape and friends do nothing here: the only way out is the PIN.
        if self.stack.currentWidget() is self.pin:
            text = event.text()
            if text.isdigit():
                self.pin.press(text)
            elif event.key() == Qt.Key.Key_Backspace:
                self.pin.press("⌫")
            elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.pin.press("OK")
        event.accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._may_close:
            super().closeEvent(event)
            return
        event.ignore()
        self.ask_exit()
