"""The editor's list of a group session's participants, each with their attendance (GUI thread).

The table holds ``Participant`` values, not bare patient ids, so opening and saving a session
never resets what the practitioner recorded about who came.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from carecal.domain.models import Attendance, Participant

ATTENDANCE_LABELS = {
    Attendance.EXPECTED: "Expected",
    Attendance.ARRIVED: "Arrived",
    Attendance.ATTENDED: "Attended",
    Attendance.NO_SHOW: "No-show",
    Attendance.CANCELLED: "Cancelled",
}

ROW_HEIGHT = 32


class ParticipantsTable(QTableWidget):
    """Rows of (patient name, attendance combo). ``name_of(patient_id)`` names a row."""

    def __init__(self, name_of: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setObjectName("Participants")
        self.name_of = name_of
        self._rows: list[Participant] = []
        self.setHorizontalHeaderLabels(["Patient", "Attendance"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, 150)
        header.setHighlightSections(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.setShowGrid(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFixedHeight(self._height_for(3))

    # ---- contents -----------------------------------------------------------------------
    def participants(self) -> tuple[Participant, ...]:
        """The rows as stored values, in order, with each row's chosen attendance."""
        return tuple(self._rows)

    def patient_ids(self) -> list[str]:
        return [p.patient_id for p in self._rows]

    def set_participants(self, participants: tuple[Participant, ...] | list[Participant]) -> None:
        self._rows = list(participants)
        self.refresh()

    def add(self, patient_id: str) -> bool:
        """Add a patient as expected; False when they are already in the list."""
        if patient_id in self.patient_ids():
            return False
        self._rows.append(Participant(patient_id))
        self.refresh()
        self.selectRow(len(self._rows) - 1)
        return True

    def remove_current(self) -> None:
        row = self.currentRow()
        if 0 <= row < len(self._rows):
            del self._rows[row]
            self.refresh()

    def set_attendance(self, row: int, attendance: Attendance) -> None:
        """Change one row's attendance (what its combo does). GUI thread."""
        combo = self.attendance_combo(row)
        combo.setCurrentIndex(combo.findData(attendance))

    def attendance_combo(self, row: int) -> QComboBox:
        widget = self.cellWidget(row, 1)
        assert isinstance(widget, QComboBox)
        return widget

    def names(self) -> list[str]:
        """The names the rows show, in order (what a person reads)."""
        out = []
        for row in range(self.rowCount()):
            item = self.item(row, 0)
            out.append(item.text() if item is not None else "")
        return out

    def refresh(self) -> None:
        """Rebuild the rows, e.g. after a patient's name became known."""
        self.setRowCount(len(self._rows))
        for row, part in enumerate(self._rows):
            self.setItem(row, 0, self._name_item(part.patient_id))
            combo = QComboBox()
            for value, label in ATTENDANCE_LABELS.items():
                combo.addItem(label, value)
            combo.setCurrentIndex(combo.findData(part.attendance))
            combo.currentIndexChanged.connect(
                lambda _i, r=row, c=combo: self._attendance_chosen(r, c)
            )
            self.setCellWidget(row, 1, combo)
        self.setFixedHeight(self._height_for(max(3, min(len(self._rows), 6))))

    def _name_item(self, patient_id: str) -> QTableWidgetItem:
        item = QTableWidgetItem(self.name_of(patient_id))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        return item

    def _attendance_chosen(self, row: int, combo: QComboBox) -> None:
        if 0 <= row < len(self._rows):
            # Qt hands enum data back as plain strings.
            chosen = Attendance(combo.currentData())
            self._rows[row] = Participant(self._rows[row].patient_id, chosen)

    def _height_for(self, rows: int) -> int:
        return self.horizontalHeader().sizeHint().height() + rows * ROW_HEIGHT + 4
