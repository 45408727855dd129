"""Settings: display, service types, working hours and breaks (GUI thread only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import time
from typing import Any

from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.domain.models import Break, ServiceType, Settings, WorkingHours, new_id
from carecal.ui.context import UiContext
from carecal.ui.kiosk_settings import KioskSettingsPage
from carecal.ui.qtconv import to_time
from carecal.ui.reminder_settings import ReminderSettingsPage
from carecal.ui.settings_services import ServicesPage

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
COMMON_ZONES = (
    "Europe/Warsaw",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


def _qtime(t: time) -> QTime:
    return QTime(t.hour, t.minute)


class SettingsDialog(QDialog):
    """Edits a copy of the settings; ``collect`` returns what to save (raises ValueError)."""

    def __init__(
        self,
        settings: Settings,
        services: Sequence[ServiceType],
        hours: Sequence[WorkingHours],
        breaks: Sequence[Break],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumSize(640, 480)
        self.settings, self.original_services = settings, list(services)
        self.setMinimumSize(720, 560)
        tabs = QTabWidget()
        self.tabs = tabs
        tabs.addTab(self._general(settings), "General")
        tabs.addTab(self._services(services), "Services")
        tabs.addTab(self._hours(hours, breaks), "Working hours")
        self.kiosk_page = KioskSettingsPage(settings)
        tabs.addTab(self.kiosk_page, "Kiosk")
        self.reminder_page = ReminderSettingsPage(settings)
        tabs.addTab(self.reminder_page, "Reminders")
        self.error = QLabel()
        self.error.setObjectName("Error")
        save, cancel = QPushButton("Save"), QPushButton("Cancel")
        save.setDefault(True)
        save.clicked.connect(self._accept)
        cancel.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.error, 1)
        row.addWidget(cancel)
        row.addWidget(save)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 14)
        lay.addWidget(tabs, 1)
        lay.addLayout(row)
        self.result_value: tuple[Any, ...] | None = None

    def _general(self, s: Settings) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(16, 16, 16, 16)
        form.setVerticalSpacing(10)
        self.tz = QComboBox()
        self.tz.setEditable(True)
        self.tz.addItems(sorted({*COMMON_ZONES, s.display_tz}))
        self.tz.setCurrentText(s.display_tz)
        self.week_start = QComboBox()
        self.week_start.addItems(DAYS)
        self.week_start.setCurrentIndex(s.week_start)
        self.day_start, self.day_end = QSpinBox(), QSpinBox()
        self.day_start.setRange(0, 23)
        self.day_end.setRange(1, 24)
        self.day_start.setValue(s.day_start_hour)
        self.day_end.setValue(s.day_end_hour)
        for box in (self.day_start, self.day_end):
            box.setSuffix(":00")
        self.slot = QComboBox()
        for m in (5, 10, 15, 20, 30, 60):
            self.slot.addItem(f"{m} minutes", m)
        self.slot.setCurrentIndex(max(0, self.slot.findData(s.slot_minutes)))
        form.addRow("Display time zone", self.tz)
        form.addRow("Week starts on", self.week_start)
        form.addRow("Day starts at", self.day_start)
        form.addRow("Day ends at", self.day_end)
        form.addRow("Slot size", self.slot)
        return page

    def _services(self, services: Sequence[ServiceType]) -> QWidget:
        self.services_page = ServicesPage(services)
        return self.services_page

    def _hours(self, hours: Sequence[WorkingHours], breaks: Sequence[Break]) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(16, 16, 16, 16)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        for col, title in enumerate(("", "Works", "From", "To", "Breaks")):
            label = QLabel(title)
            label.setObjectName("FieldLabel")
            grid.addWidget(label, 0, col)
        self.day_rows: list[tuple[QCheckBox, QTimeEdit, QTimeEdit]] = []
        self.break_rows: list[list[tuple[QTimeEdit, QTimeEdit, QWidget]]] = []
        self._break_boxes: list[QVBoxLayout] = []
        for d, name in enumerate(DAYS):
            mine = [h for h in hours if h.weekday == d]
            on = QCheckBox()
            on.setChecked(bool(mine))
            a, b = QTimeEdit(), QTimeEdit()
            a.setTime(_qtime(min(h.start for h in mine)) if mine else QTime(9, 0))
            b.setTime(_qtime(max(h.end for h in mine)) if mine else QTime(17, 0))
            for w in (a, b):
                w.setDisplayFormat("HH:mm")
            top = Qt.AlignmentFlag.AlignTop
            grid.addWidget(QLabel(name), d + 1, 0, top)
            grid.addWidget(on, d + 1, 1, top)
            grid.addWidget(a, d + 1, 2, top)
            grid.addWidget(b, d + 1, 3, top)
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(4)
            add = QPushButton("Add break")
            add.setObjectName("Link")
            add.clicked.connect(lambda _=False, day=d: self.add_break(day))
            box.addWidget(add, 0, Qt.AlignmentFlag.AlignLeft)
            grid.addWidget(cell, d + 1, 4)
            self.day_rows.append((on, a, b))
            self.break_rows.append([])
            self._break_boxes.append(box)
            on.toggled.connect(lambda checked, ws=(a, b, cell): [w.setEnabled(checked) for w in ws])
            for widget in (a, b, cell):
                widget.setEnabled(on.isChecked())
            for pause in sorted((x for x in breaks if x.weekday == d), key=lambda x: x.start):
                self.add_break(d, pause.start, pause.end)
        grid.setColumnStretch(4, 1)
        grid.setRowStretch(len(DAYS) + 1, 1)
        return page

    def add_break(self, day: int, start: time | None = None, end: time | None = None) -> None:
        """Add a break row to ``day`` (12:00-12:30, or after the last break, when not given)."""
        rows = self.break_rows[day]
        if start is None or end is None:
            begin = to_time(rows[-1][1].time()) if rows else time(12, 0)
            minutes = min(begin.hour * 60 + begin.minute, 23 * 60)
            start, end = (
                time(minutes // 60, minutes % 60),
                time((minutes + 30) // 60, (minutes + 30) % 60),
            )
        row = QWidget()
        rl = QHBoxLayout(row)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(6)
        a, b = QTimeEdit(_qtime(start)), QTimeEdit(_qtime(end))
        for w in (a, b):
            w.setDisplayFormat("HH:mm")
        remove = QPushButton("Remove")
        remove.setObjectName("Link")
        remove.setToolTip("Remove this break")
        rl.addWidget(a)
        rl.addWidget(QLabel("–"))
        rl.addWidget(b)
        rl.addWidget(remove)
        rl.addStretch(1)
        entry = (a, b, row)
        rows.append(entry)
        box = self._break_boxes[day]
        box.insertWidget(box.count() - 1, row)
        remove.clicked.connect(lambda: self.remove_break(day, entry))

    def remove_break(self, day: int, entry: tuple[QTimeEdit, QTimeEdit, QWidget]) -> None:
        if entry in self.break_rows[day]:
            self.break_rows[day].remove(entry)
            entry[2].setParent(None)
            entry[2].deleteLater()

    def _accept(self) -> None:
        try:
            self.result_value = self.collect()
        except ValueError as err:
            self.error.setText(str(err))
            return
        self.accept()

    def collect(
        self,
    ) -> tuple[Settings, list[ServiceType], list[str], list[WorkingHours], list[Break]]:
        """(settings, services to save, service ids to delete, hours, breaks)."""
        from carecal.services.zones import is_known_zone

        zone = self.tz.currentText().strip()
        if not is_known_zone(zone):
            raise ValueError(f"“{zone}” is not a known time zone (e.g. Europe/Warsaw).")
        if self.day_end.value() <= self.day_start.value():
            raise ValueError("The day must end after it starts.")
        settings = replace(
            self.settings,
            display_tz=zone,
            week_start=self.week_start.currentIndex(),
            day_start_hour=self.day_start.value(),
            day_end_hour=self.day_end.value(),
            slot_minutes=int(self.slot.currentData()),
        )
        settings = self.kiosk_page.apply(settings)
        settings = self.reminder_page.apply(settings)
        services = self.services_page.services()
        kept = {s.id for s in services}
        removed = [s.id for s in self.original_services if s.id not in kept]
        hours: list[WorkingHours] = []
        breaks: list[Break] = []
        for d, (on, a, b) in enumerate(self.day_rows):
            if not on.isChecked():
                continue
            start, end = to_time(a.time()), to_time(b.time())
            if end <= start:
                raise ValueError(f"On {DAYS[d]} the working hours end before they start.")
            hours.append(WorkingHours(id=new_id(), weekday=d, start=start, end=end))
            spans = sorted(
                (to_time(pa.time()), to_time(pb.time())) for pa, pb, _ in self.break_rows[d]
            )
            for n, (ps, pe) in enumerate(spans):
                where = f"{DAYS[d]} {ps:%H:%M}"
                if pe <= ps:
                    raise ValueError(f"The break on {where} must end after it starts.")
                if ps < start or pe > end:
                    raise ValueError(f"The break on {where} is outside the working hours.")
                if n and ps < spans[n - 1][1]:
                    raise ValueError(f"The breaks on {DAYS[d]} overlap.")
                breaks.append(Break(id=new_id(), weekday=d, start=ps, end=pe, label="Break"))
        return settings, services, removed, hours, breaks


def open_settings(ctx: UiContext, parent: QWidget, on_error: Callable[[Exception], None]) -> None:
    """Load the current settings on the db lane, show the dialog, save on accept."""
    repo, actor = ctx.session.repo, ctx.actor

    def load() -> tuple[Any, ...]:
        return repo.settings(), repo.list_services(), repo.working_hours(), repo.breaks()

    def show(loaded: tuple[Any, ...]) -> None:
        settings, services, hours, breaks = loaded
        dialog = SettingsDialog(settings, services, hours, breaks, parent)
        dialog.accepted.connect(lambda: save(dialog))
        parent.setProperty("settingsDialog", dialog)
        dialog.open()

    def save(dialog: SettingsDialog) -> None:
        if dialog.result_value is None:
            return
        settings, services, removed, hours, breaks = dialog.result_value

        def job() -> Changes:
            changes = repo.save_settings(settings, actor=actor)
            for s in services:
                changes |= repo.save_service(s, actor=actor)
            for sid in removed:
                changes |= repo.delete_service(sid, actor=actor)
            changes |= repo.set_working_hours(hours, actor=actor)
            return changes | repo.set_breaks(breaks, actor=actor)

        ctx.tasks.submit(job, ctx.events.changes_applied.emit, on_error)

    ctx.tasks.submit(load, show, on_error)
