"""The calendar window: toolbar, sidebar, the day/week/month/agenda views, menus, status bar.

GUI thread only. Data comes from the database lane (``ctx.tasks``) for the visible window only.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.domain.models import Event, Occurrence, Settings
from carecal.ui.agendaview import AgendaView
from carecal.ui.appointment_menu import AppointmentMenu
from carecal.ui.chrome import Sidebar, Toolbar
from carecal.ui.context import UiContext
from carecal.ui.front_desk import FrontDeskWindows
from carecal.ui.ics_actions import IcsActions
from carecal.ui.loader import ViewData, load_view_data
from carecal.ui.monthview import MonthView
from carecal.ui.navigation import ViewMode, period_label, step, visible_days
from carecal.ui.operations import Operations, undo_button
from carecal.ui.sync_controls import SyncControls
from carecal.ui.weekview import WeekView

if TYPE_CHECKING:
    from carecal.ui.double_bookings import DoubleBookingsWindow

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """The practitioner's calendar. ``ctx`` carries the session, the lanes and the clock."""

    def __init__(self, ctx: UiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle("Carecal")
        self.setObjectName("MainWindow")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.mode = ViewMode.WEEK
        self.settings = Settings()
        self.anchor = self._today()
        self.hidden: set[str] = set()
        self.data: ViewData | None = None
        self.selected: Occurrence | None = None
        self._generation = 0
        self.ops = Operations(ctx, self)
        self.ics = IcsActions(ctx, self, self.ops)
        self.appointment_menu = AppointmentMenu(
            self.ops, self, on_delete=self.delete_occurrence, read_only=self._read_only
        )
        self.patients_window: QWidget | None = None
        self.double_bookings: DoubleBookingsWindow | None = None
        self.front_desk = FrontDeskWindows(ctx, self, self.ops)

        self.toolbar = Toolbar()
        self.sidebar = Sidebar()
        self.week = WeekView()
        self.month = MonthView(clock=ctx.clock)
        self.agenda = AgendaView(clock=ctx.clock)
        self.stack = QStackedWidget()
        for w in (self.week, self.month, self.agenda):
            self.stack.addWidget(w)
        body = QWidget()
        bl = QHBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(0)
        bl.addWidget(self.sidebar)
        bl.addWidget(self.stack, 1)
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.toolbar)
        cl.addWidget(body, 1)
        self.setCentralWidget(central)

        self.status_label = QLabel()
        self.summary_label = QLabel()
        self.undo_link = undo_button(self, self.ops.undo)
        self.undo_link.hide()
        sb = self.statusBar()
        sb.addWidget(self.status_label)
        sb.addWidget(self.undo_link)
        sb.addPermanentWidget(self.summary_label)
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.timeout.connect(self._clear_status)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(lambda: self.search(self.toolbar.search.text()))
        self._now_timer = QTimer(self)
        self._now_timer.timeout.connect(self._tick)
        self._now_timer.start(60_000)

        self._connect()
        self._build_menus()
        self.reload()

    # ---- wiring -------------------------------------------------------------------------
    def _connect(self) -> None:
        t, s, c = self.toolbar, self.sidebar, self.week.canvas
        t.today_clicked.connect(self.go_today)
        t.step_clicked.connect(self.go_step)
        t.mode_chosen.connect(self.set_mode)
        t.search_changed.connect(lambda _: self._search_timer.start())
        t.search_submitted.connect(self.search)
        s.new_clicked.connect(lambda: self.new_appointment())
        s.date_picked.connect(self.go_to)
        s.visibility_changed.connect(self._toggle_calendar)
        s.results.itemActivated.connect(self._result_activated)
        s.results.itemClicked.connect(self._result_activated)
        c.create_requested.connect(lambda a, b: self.ops.open_editor(None, a, b))
        c.move_requested.connect(self.ops.move)
        c.open_requested.connect(self.ops.open_editor)
        for view in (c, self.month, self.agenda):
            view.selection_changed.connect(self._selected)
        for source in (c, self.week.all_day, self.month, self.agenda):
            source.context_requested.connect(self.appointment_menu.popup)
        self.week.all_day.open_requested.connect(self.ops.open_editor)
        self.month.open_requested.connect(self.ops.open_editor)
        self.month.day_activated.connect(self._open_day)
        self.month.create_requested.connect(self.new_appointment_on)
        self.agenda.open_requested.connect(self.ops.open_editor)
        ev = self.ctx.events
        ev.refresh_needed.connect(self._changes)
        ev.changes_applied.connect(lambda _: self.undo_link.setVisible(bool(self.ops.undo_stack)))
        ev.status_message.connect(self.show_status)

    def _action(
        self, text: str, keys: list[str] | str | None, slot: object, menu: object = None
    ) -> QAction:
        action = QAction(text, self)
        if keys:
            seqs = [QKeySequence(k) for k in ([keys] if isinstance(keys, str) else keys)]
            action.setShortcuts(seqs)
        action.triggered.connect(slot)
        self.addAction(action)
        if menu is not None:
            menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        f = bar.addMenu("&File")
        self._action("&Import .ics…", "Ctrl+I", self.ics.import_dialog, f)
        self._action("&Export .ics…", "Ctrl+E", self.ics.export_dialog, f)
        f.addSeparator()
        self._action("&Print day sheet…", "Ctrl+Shift+P", self.open_day_sheet, f)
        f.addSeparator()
        self._action(
            "&Quit",
            QKeySequence(QKeySequence.StandardKey.Quit).toString() or "Ctrl+Q",
            self.close,
            f,
        )
        e = bar.addMenu("&Edit")
        self._action("&New appointment", "N", lambda: self.new_appointment(), e)
        self._action("&Undo", "Ctrl+Z", self.ops.undo, e)
        self._action("&Delete", ["Del", "Backspace"], self.delete_selected, e)
        self._action("Appointment &menu", ["Shift+F10", "Menu"], self.menu_for_selected, e)
        self._action("&Find…", "Ctrl+F", self.focus_search, e)
        v = bar.addMenu("&View")
        self._action("&Today", "T", self.go_today, v)
        self._action("&Previous", ["Left", "K"], lambda: self.go_step(-1), v)
        self._action("&Next", ["Right", "J"], lambda: self.go_step(1), v)
        v.addSeparator()
        keys = {ViewMode.DAY: "D", ViewMode.WEEK: "W", ViewMode.MONTH: "M", ViewMode.AGENDA: "A"}
        for mode in ViewMode:
            self._action(mode.label, keys.get(mode), lambda _=False, m=mode: self.set_mode(m), v)
        tools = bar.addMenu("&Tools")
        self._action("&Patients…", "Ctrl+P", self.open_patients, tools)
        self._action("&Settings…", "Ctrl+,", self.open_settings, tools)
        self._action("Front desk &kiosk…", None, self.open_kiosk, tools)
        self.front_desk.add_menu_items(tools)
        tools.addSeparator()
        self.sync = SyncControls(self.ctx, self, tools, self.ops.fail)
        self._action("Docplanner &double bookings…", None, self.open_double_bookings, tools)
        self.sync.indicator.docplanner_clicked.connect(self.open_double_bookings)
        if self.ctx.sync is not None:
            self.ctx.sync.finished.connect(self._reload_double_bookings)

    # ---- navigation ---------------------------------------------------------------------
    def _today(self) -> date:
        try:
            return self.ctx.clock().astimezone(ZoneInfo(self.settings.display_tz)).date()
        except (KeyError, ValueError):
            return self.ctx.clock().date()

    def set_mode(self, mode: ViewMode) -> None:
        self.mode = mode
        self.reload()

    def go_today(self) -> None:
        self.go_to(self._today())

    def go_step(self, direction: int) -> None:
        self.go_to(step(self.mode, self.anchor, direction))

    def go_to(self, day: date) -> None:
        self.anchor = day
        self.reload()

    def _open_day(self, day: date) -> None:
        self.anchor, self.mode = day, ViewMode.DAY
        self.reload()

    def visible_days(self) -> list[date]:
        return visible_days(self.mode, self.anchor, self.settings.week_start)

    def reload(self) -> None:
        """Query the visible window on the database lane and repaint when it arrives."""
        self._generation += 1
        generation, mode, anchor = self._generation, self.mode, self.anchor
        hidden = set(self.hidden)
        self.toolbar.show_mode(mode, period_label(mode, anchor, self.settings.week_start))
        page = {ViewMode.MONTH: self.month, ViewMode.AGENDA: self.agenda}.get(mode, self.week)
        self.stack.setCurrentWidget(page)
        days = self.visible_days()
        ctx = self.ctx

        def job() -> ViewData:
            return load_view_data(ctx, days[0], days[-1], hidden)

        def done(data: ViewData) -> None:
            if generation == self._generation:
                self._show(mode, anchor, days, data)

        ctx.tasks.submit(job, done, self.ops.fail)

    def _show(self, mode: ViewMode, anchor: date, days: list[date], data: ViewData) -> None:
        settings_changed = data.settings != self.settings
        self.data, self.settings = data, data.settings
        if settings_changed and visible_days(mode, anchor, self.settings.week_start) != days:
            self.reload()  # the week start changed: query the right window
            return
        now = self.ctx.clock()
        if mode is ViewMode.MONTH:
            self.month.set_data(days[0], anchor.month, data, now)
        elif mode is ViewMode.AGENDA:
            self.agenda.set_data(days[0], len(days), data, now)
        else:
            self.week.set_data(days, data, now)
        self.sidebar.set_date(anchor, self.settings.week_start)
        if set(self.sidebar.calendar_checks) != set(data.calendars):
            self.sidebar.set_calendars(list(data.calendars.values()), self.hidden)
        self.toolbar.show_mode(mode, period_label(mode, anchor, self.settings.week_start))
        count = sum(1 for o in data.occurrences if o.event.status.value != "cancelled")
        clashes = len(data.double_booked)
        text = f"{count} appointment{'s' if count != 1 else ''} in view"
        if clashes:
            text += f"  ·  {clashes} double-booked"
        self.summary_label.setText(text)

    def _changes(self, changes: Changes) -> None:
        if changes.calendars:
            self.sidebar.calendar_checks = {}
        self.reload()

    def _tick(self) -> None:
        if self.data is not None and self.mode not in (ViewMode.MONTH, ViewMode.AGENDA):
            self.week.canvas.now = self.ctx.clock()
            self.week.canvas.update()

    def _toggle_calendar(self, calendar_id: str, visible: bool) -> None:
        (self.hidden.discard if visible else self.hidden.add)(calendar_id)
        self.reload()

    # ---- selection and edits -------------------------------------------------------------
    def _selected(self, occ: Occurrence | None) -> None:
        self.selected = occ

    def new_appointment(self, start: datetime | None = None) -> None:
        if start is None:
            tz = ZoneInfo(self.settings.display_tz)
            now = self.ctx.clock().astimezone(tz)
            day = self.anchor
            hour = now.hour + 1 if day == now.date() else 9
            start = datetime.combine(day, time(min(hour, 23)), tz)
        end = start + timedelta(minutes=self.settings.default_duration_minutes)
        self.ops.open_editor(None, start, end)

    def new_appointment_on(self, day: date) -> None:
        """Open the editor for a new appointment on ``day``, at the start of its working hours."""
        tz = ZoneInfo(self.settings.display_tz)
        working = self.data.working.get(day) if self.data is not None else None
        minutes = working[0][0] if working else max(self.settings.day_start_hour, 9) * 60
        self.new_appointment(datetime.combine(day, time(minutes // 60, minutes % 60), tz))

    def delete_selected(self) -> None:
        if self.selected is None:
            self.show_status("Select an appointment to delete.")
            return
        occ, self.selected = self.selected, None
        self.week.canvas.selected_key = None
        self.ops.delete(occ)

    def delete_occurrence(self, occ: Occurrence) -> None:
        """Delete ``occ`` (from its menu), dropping the selection if it was selected."""
        if self.selected is not None and self.selected.key == occ.key:
            self.selected = None
            self.week.canvas.selected_key = None
        self.ops.delete(occ)

    def _read_only(self, occ: Occurrence) -> bool:
        cal = self.data.calendars.get(occ.event.calendar_id) if self.data is not None else None
        return cal is not None and cal.read_only

    def menu_for_selected(self) -> None:
        """Open the selected appointment's menu beside it (Shift+F10 or the menu key)."""
        occ = self.selected
        if occ is None:
            self.show_status("Select an appointment first.")
            return
        self.appointment_menu.popup(occ, self._anchor_of(occ))

    def _anchor_of(self, occ: Occurrence) -> QPoint:
        """A global point on the selected appointment in the current view (its centre)."""
        if self.mode is ViewMode.MONTH:
            chip = self.month.chip_rect(occ.key)
            if chip is not None:
                return self.month.mapToGlobal(chip.center().toPoint())
        elif self.mode is ViewMode.AGENDA:
            row = self.agenda.row_for(occ.key)
            if row is not None:
                return row.mapToGlobal(row.rect().center())
        else:
            card = self.week.canvas.card_rect(occ.key)
            if card is not None:
                return self.week.canvas.mapToGlobal(card.center().toPoint())
        return self.stack.mapToGlobal(self.stack.rect().center())

    def show_status(self, message: str) -> None:
        self.status_label.setText(message)
        self.undo_link.setVisible(bool(self.ops.undo_stack) and bool(message))
        self._status_timer.start(12_000)

    def _clear_status(self) -> None:
        self.status_label.setText("")
        self.undo_link.hide()

    # ---- search -------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.toolbar.search.setFocus()
        self.toolbar.search.selectAll()

    def search(self, text: str) -> None:
        """Search titles, notes, locations and patients on the database lane."""
        self._search_timer.stop()
        text = text.strip()
        if not text:
            self.sidebar.show_results(False)
            return
        svc = self.ctx.session.events
        self.ctx.tasks.submit(lambda: svc.search(text), self._show_results, self.ops.fail)

    def _show_results(self, events: list[Event]) -> None:
        tz = ZoneInfo(self.settings.display_tz)
        results = self.sidebar.results
        results.clear()
        for ev in events:
            when = ev.start.astimezone(tz) if isinstance(ev.start, datetime) else ev.start
            stamp = (
                f"{when:%a %-d %b %Y, %H:%M}"
                if isinstance(when, datetime)
                else f"{when:%a %-d %b %Y}"
            )
            item = QListWidgetItem(f"{ev.title}\n{stamp}")
            item.setData(Qt.ItemDataRole.UserRole, ev)
            results.addItem(item)
        if not events:
            results.addItem(QListWidgetItem("No matches"))
        self.sidebar.show_results(True)

    def _result_activated(self, item: QListWidgetItem) -> None:
        ev = item.data(Qt.ItemDataRole.UserRole)
        if not isinstance(ev, Event):
            return
        day = (
            ev.start.astimezone(ZoneInfo(self.settings.display_tz)).date()
            if isinstance(ev.start, datetime)
            else ev.start
        )
        if self.mode in (ViewMode.MONTH, ViewMode.AGENDA):
            self.mode = ViewMode.WEEK
        self.week.canvas.selected_key = (ev.master_id or ev.id, "")
        self.selected = Occurrence(ev, ev.start, ev.end)
        self.go_to(day)

    # ---- other windows ------------------------------------------------------------------
    def open_patients(self) -> None:
        from carecal.ui.patients import PatientsWindow

        if self.patients_window is None:
            self.patients_window = PatientsWindow(self.ctx, self.ops.fail)
        self.patients_window.show()
        self.patients_window.raise_()

    def open_double_bookings(self) -> DoubleBookingsWindow:
        """The Docplanner double bookings and refused actions (Tools menu, or a notification)."""
        from carecal.ui.double_bookings import DoubleBookingsWindow

        if self.double_bookings is None:
            self.double_bookings = DoubleBookingsWindow(
                self.ctx, self, sync_now=self.sync.sync_now, on_error=self.ops.fail
            )
        else:
            self.double_bookings.reload()
        self.double_bookings.show()
        self.double_bookings.raise_()
        self.double_bookings.activateWindow()
        return self.double_bookings

    def _reload_double_bookings(self, _result: object = None) -> None:
        if self.double_bookings is not None and self.double_bookings.isVisible():
            self.double_bookings.reload()

    def open_settings(self) -> None:
        from carecal.ui.settings_dialog import open_settings

        open_settings(self.ctx, self, self.ops.fail)

    def open_day_sheet(self) -> None:
        from carecal.ui.daysheet import open_day_sheet

        open_day_sheet(self.ctx, self.anchor, self, self.ops.fail)

    def open_kiosk(self) -> None:
        from carecal.ui.kiosk_launch import open_kiosk

        open_kiosk(self.ctx, self)

    # ---- drag and drop of .ics files --------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.toLocalFile().lower().endswith(".ics") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [
            Path(u.toLocalFile())
            for u in event.mimeData().urls()
            if u.toLocalFile().lower().endswith(".ics")
        ]
        if paths:
            event.acceptProposedAction()
            self.ics.import_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ctx.events.flush()
        if self.patients_window is not None:
            self.patients_window.close()
        self.front_desk.close()
        if self.double_bookings is not None:
            self.double_bookings.close()
        super().closeEvent(event)
