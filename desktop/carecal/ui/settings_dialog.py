"""Settings: display, service types, working hours and breaks (GUI thread only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from PySide6.QtCore import QTime
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
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.domain.models import Break, ServiceType, Settings, WorkingHours, new_id
from carecal.ui.context import UiContext
from carecal.ui.qtconv import to_time

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
        tabs = QTabWidget()
        tabs.addTab(self._general(settings), "General")
        tabs.addTab(self._services(services), "Services")
        tabs.addTab(self._hours(hours, breaks), "Working hours")
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
        page = QWidget()
        lay = QVBoxLayout(page)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Name", "Minutes", "Price", "Colour", "Online"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 220)
        self.table.verticalHeader().hide()
        for s in services:
            self._add_service_row(s)
        add, remove = QPushButton("Add service"), QPushButton("Remove")
        remove.setObjectName("Danger")
        add.clicked.connect(lambda: self._add_service_row(None))
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        return page

    def _add_service_row(self, s: ServiceType | None) -> None:
        s = s or ServiceType(id=new_id(), name="New service")
        r = self.table.rowCount()
        self.table.insertRow(r)
        name = QTableWidgetItem(s.name)
        name.setData(256, s)
        self.table.setItem(r, 0, name)
        self.table.setItem(r, 1, QTableWidgetItem(str(s.duration_minutes)))
        self.table.setItem(r, 2, QTableWidgetItem("" if s.price is None else f"{s.price:.2f}"))
        self.table.setItem(r, 3, QTableWidgetItem(s.color))
        self.table.setItem(r, 4, QTableWidgetItem("yes" if s.online else "no"))

    def _hours(self, hours: Sequence[WorkingHours], breaks: Sequence[Break]) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(16, 16, 16, 16)
        grid.setVerticalSpacing(8)
        for col, title in enumerate(("", "Works", "From", "To", "Break from", "Break to")):
            label = QLabel(title)
            label.setObjectName("FieldLabel")
            grid.addWidget(label, 0, col)
        self.day_rows: list[tuple[QCheckBox, QTimeEdit, QTimeEdit, QTimeEdit, QTimeEdit]] = []
        for d, name in enumerate(DAYS):
            mine = [h for h in hours if h.weekday == d]
            pause = next((b for b in breaks if b.weekday == d), None)
            on = QCheckBox()
            on.setChecked(bool(mine))
            a, b = QTimeEdit(), QTimeEdit()
            a.setTime(_qtime(min(h.start for h in mine)) if mine else QTime(9, 0))
            b.setTime(_qtime(max(h.end for h in mine)) if mine else QTime(17, 0))
            pa, pb = QTimeEdit(), QTimeEdit()
            pa.setTime(_qtime(pause.start) if pause else QTime(0, 0))
            pb.setTime(_qtime(pause.end) if pause else QTime(0, 0))
            for i, w in enumerate((QLabel(name), on, a, b, pa, pb)):
                if isinstance(w, QTimeEdit):
                    w.setDisplayFormat("HH:mm")
                grid.addWidget(w, d + 1, i)
            self.day_rows.append((on, a, b, pa, pb))
        hint = QLabel("A break of 00:00 – 00:00 means no break that day.")
        hint.setObjectName("Hint")
        grid.addWidget(hint, 8, 0, 1, 6)
        grid.setRowStretch(9, 1)
        return page

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
        services: list[ServiceType] = []
        for r in range(self.table.rowCount()):
            cells = [self.table.item(r, c) for c in range(5)]
            texts = [c.text().strip() if c else "" for c in cells]
            base = cells[0].data(256) if cells[0] else None
            if not texts[0]:
                raise ValueError(f"Service in row {r + 1} needs a name.")
            try:
                minutes = int(texts[1])
                price = Decimal(texts[2].replace(",", ".")) if texts[2] else None
            except (ValueError, InvalidOperation):
                raise ValueError(f"Check the minutes and price of “{texts[0]}”.") from None
            if minutes <= 0:
                raise ValueError(f"“{texts[0]}” must last at least one minute.")
            svc = base if isinstance(base, ServiceType) else ServiceType(id=new_id(), name="")
            services.append(
                replace(
                    svc,
                    name=texts[0],
                    duration_minutes=minutes,
                    price=price,
                    color=texts[3] or svc.color,
                    online=texts[4].lower() in ("yes", "y", "true", "1"),
                )
            )
        kept = {s.id for s in services}
        removed = [s.id for s in self.original_services if s.id not in kept]
        hours: list[WorkingHours] = []
        breaks: list[Break] = []
        for d, (on, a, b, pa, pb) in enumerate(self.day_rows):
            if not on.isChecked():
                continue
            start, end = to_time(a.time()), to_time(b.time())
            if end <= start:
                raise ValueError(f"On {DAYS[d]} the working hours end before they start.")
            hours.append(WorkingHours(id=new_id(), weekday=d, start=start, end=end))
            ps, pe = to_time(pa.time()), to_time(pb.time())
            if pe > ps:
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
