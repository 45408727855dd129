"""The recall list: patients due for a follow-up, by due date, with one-click booking.

Each row shows when the patient is due, who, the service, the last visit and how to reach them,
and a button with the next free slot ("Book Fri 6 Jun, 12:00"): one click books it. Selecting a
row shows a few more slots to choose from. Bookings go through ``FollowupService`` (EventService)
on the database lane. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.availability import Interval
from carecal.domain.changes import Changes
from carecal.domain.models import Event
from carecal.services.followups import FollowupService, Recall
from carecal.ui.context import UiContext
from carecal.ui.operations import error_text
from carecal.ui.slot_picker import SLOT_STYLE, SlotPicker, slot_line

SLOTS_PER_ROW = 6
ROWS_WITH_SLOTS = 60  # further rows get their slots when selected
_OVERDUE = QColor("#b91c1c")
_SOON = QColor("#92400e")


@dataclass(frozen=True, slots=True)
class RecallRow:
    recall: Recall
    slots: tuple[Interval, ...]


def _due_text(recall: Recall, today: date) -> str:
    days = recall.overdue_days(today)
    stamp = f"{recall.due:%a} {recall.due.day} {recall.due:%b}"
    if days > 0:
        return f"{stamp} · {days} day{'s' if days != 1 else ''} overdue"
    if days == 0:
        return f"{stamp} · today"
    return f"{stamp} · in {-days} day{'s' if days != -1 else ''}"


class RecallWindow(QWidget):
    """The recall list window. ``ctx`` carries the session, the lanes and the clock."""

    COLUMNS = ("Due", "Patient", "Service", "Last visit", "Contact", "")

    def __init__(self, ctx: UiContext, on_error: Callable[[Exception], None]) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.ctx, self.on_error = ctx, on_error
        self.setObjectName("Recalls")
        self.setWindowTitle("Recall list — Carecal")
        self.setStyleSheet(SLOT_STYLE)
        self.resize(1020, 620)
        self.zone = ctx.session.events.display_zone()
        self.rows: list[RecallRow] = []
        title = QLabel("Due for a follow-up")
        title.setObjectName("DialogTitle")
        self.count = QLabel()
        self.count.setObjectName("Hint")
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addSpacing(10)
        head.addWidget(self.count, 1)
        head.addWidget(refresh)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.currentCellChanged.connect(lambda row, *_: self._selected(row))
        self.choice_title = QLabel("Select a patient to see more times.")
        self.choice_title.setObjectName("FieldLabel")
        self.choices = SlotPicker(columns=6)
        self.choices.picked.connect(lambda start: self.book(self._current_row(), start))
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 16)
        lay.setSpacing(10)
        lay.addLayout(head)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.choice_title)
        lay.addWidget(self.choices)
        lay.addWidget(self.error)
        self._stale = False
        ctx.events.refresh_needed.connect(self._changes)
        self.refresh()

    def _service(self) -> FollowupService:
        return FollowupService(self.ctx.session.events, clock=self.ctx.clock)

    def _changes(self, changes: Changes) -> None:
        if changes.events or changes.patients or changes.services:
            if self.isVisible():
                self.refresh()
            else:
                self._stale = True  # a closed window loads again when it is shown

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()

    def refresh(self) -> None:
        """Load the recalls (and the first rows' next slots) on the database lane."""
        svc = self._service()

        def job() -> tuple[list[RecallRow], date]:
            recalls = svc.recalls()
            rows = [
                RecallRow(
                    r,
                    tuple(svc.recall_slots(r, SLOTS_PER_ROW)) if i < ROWS_WITH_SLOTS else (),
                )
                for i, r in enumerate(recalls)
            ]
            return rows, svc.today()

        self.ctx.tasks.submit(job, lambda result: self._show(*result), self.on_error)

    def _show(self, rows: list[RecallRow], today: date) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            r = row.recall
            due = QTableWidgetItem(_due_text(r, today))
            days = r.overdue_days(today)
            if days > 0:
                due.setForeground(_OVERDUE)
            elif days > -7:
                due.setForeground(_SOON)
            cells = (
                due,
                QTableWidgetItem(r.patient.full_name),
                QTableWidgetItem(r.service.name),
                QTableWidgetItem(f"{r.last_visit:%a} {r.last_visit.day} {r.last_visit:%b %Y}"),
                QTableWidgetItem(r.patient.phone or r.patient.email or "—"),
            )
            for col, cell in enumerate(cells):
                self.table.setItem(i, col, cell)
            self.table.setCellWidget(i, 5, self._book_button(i, row))
        self.table.resizeRowsToContents()
        n = len(rows)
        self.count.setText(f"{n} patient{'s' if n != 1 else ''}" if n else "Nobody is due.")
        if rows:
            self.table.selectRow(0)
            self._selected(0)
        else:
            self.choice_title.setText("Nobody is due for a follow-up.")
            self.choices.set_slots([], self.zone, "")

    def _book_button(self, index: int, row: RecallRow) -> QWidget:
        holder = QWidget()
        lay = QHBoxLayout(holder)
        lay.setContentsMargins(4, 2, 4, 2)
        if row.slots:
            start = row.slots[0][0]
            button = QPushButton(f"Book {slot_line(start, self.zone)}")
            button.setObjectName("Primary")
            button.setToolTip("Book the next free time for this patient")
            button.clicked.connect(lambda _=False: self.book(index, start))
        else:
            button = QPushButton("Choose a time…")
            button.clicked.connect(lambda _=False: self.table.selectRow(index))
        lay.addWidget(button)
        return holder

    def _current_row(self) -> int:
        return self.table.currentRow()

    def _selected(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        name = row.recall.patient.full_name
        if row.slots:
            self._show_choices(index, row.slots)
            return
        svc = self._service()
        self.choice_title.setText(f"Looking for free times for {name}…")
        self.ctx.tasks.submit(
            lambda: tuple(svc.recall_slots(row.recall, SLOTS_PER_ROW)),
            lambda slots: self._loaded_slots(index, slots),
            self.on_error,
        )

    def _loaded_slots(self, index: int, slots: tuple[Interval, ...]) -> None:
        if 0 <= index < len(self.rows):
            self.rows[index] = RecallRow(self.rows[index].recall, slots)
            self.table.setCellWidget(index, 5, self._book_button(index, self.rows[index]))
            if self._current_row() == index:
                self._show_choices(index, slots)

    def _show_choices(self, index: int, slots: tuple[Interval, ...]) -> None:
        r = self.rows[index].recall
        self.choice_title.setText(f"Other times for {r.patient.full_name} ({r.service.name}):")
        self.choices.set_slots(
            slots, self.zone, "No free time in the next six weeks. Check the working hours."
        )

    def book(self, index: int, start: datetime) -> None:
        """Book ``start`` for the recall in row ``index``."""
        if not 0 <= index < len(self.rows):
            return
        recall = self.rows[index].recall
        svc = self._service()
        self.error.clear()

        def done(result: tuple[Event, Changes]) -> None:
            _event, changes = result
            # The list loads again from refresh_needed, which these changes fire.
            self.ctx.events.changes_applied.emit(changes)
            self.ctx.events.status_message.emit(
                f"Follow-up booked for {slot_line(start, self.zone)}."
            )

        def failed(err: Exception) -> None:
            self.error.setText(error_text(err))
            self.refresh()

        self.ctx.tasks.submit(lambda: svc.book_recall(recall, start), done, failed)
