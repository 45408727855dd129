"""A grid of free-slot buttons ("Fri 6 Jun" over "12:00"); one click picks a slot.

Shared by the follow-up offer, the recall list and the requests inbox. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QWidget

from carecal.domain.availability import Interval

SLOT_STYLE = """
QPushButton#Slot {
    background: #eff6ff; border: 1px solid #bfdbfe; border-radius: 6px;
    color: #1e3a8a; padding: 6px 10px; min-width: 96px; text-align: center;
}
QPushButton#Slot:hover { background: #dbeafe; border-color: #93c5fd; }
QPushButton#Slot:disabled { background: #f3f4f6; border-color: #e5e7eb; color: #9ca3af; }
"""


def slot_text(start: datetime, zone: ZoneInfo) -> str:
    """Two lines: the day and the time, in ``zone``."""
    local = start.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}\n{local:%H:%M}"


def slot_line(start: datetime, zone: ZoneInfo) -> str:
    """One line: "Fri 6 Jun, 12:00"."""
    local = start.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


class SlotPicker(QWidget):
    """Slot buttons in rows of ``columns``; ``picked`` carries the chosen slot's start."""

    picked = Signal(object)  # datetime

    def __init__(self, columns: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.setStyleSheet(SLOT_STYLE)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(8)
        # Extra width goes to an empty last column: two slots do not stretch across a window.
        self.grid.setColumnStretch(columns, 1)
        self.buttons: list[QPushButton] = []
        self.empty = QLabel()
        self.empty.setObjectName("Hint")
        self.empty.setWordWrap(True)

    def set_slots(self, slots: Sequence[Interval], zone: ZoneInfo, empty: str) -> None:
        """Show ``slots`` (or the ``empty`` sentence when there are none)."""
        for b in self.buttons:
            self.grid.removeWidget(b)
            b.hide()  # deleteLater waits for the event loop; never paint a stale slot
            b.deleteLater()
        self.buttons = []
        self.grid.removeWidget(self.empty)
        self.empty.hide()
        if not slots:
            self.empty.setText(empty)
            self.grid.addWidget(self.empty, 0, 0, 1, self.columns)
            self.empty.show()
            return
        for i, (start, _end) in enumerate(slots):
            button = QPushButton(slot_text(start, zone))
            button.setObjectName("Slot")
            button.setMinimumWidth(118)
            button.setMaximumWidth(160)
            button.setAutoDefault(False)  # Enter never books by accident
            button.setToolTip(f"Book {slot_line(start, zone)}")
            button.clicked.connect(lambda _=False, s=start: self.picked.emit(s))
            self.grid.addWidget(button, i // self.columns, i % self.columns)
            self.buttons.append(button)

    def set_busy(self, busy: bool) -> None:
        """Grey the buttons out while a booking is on its way."""
        for b in self.buttons:
            b.setEnabled(not busy)
