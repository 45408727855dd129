"""The "Services" page of the settings: a list of service types and a form for the chosen one.

GUI thread only. Edits stay in memory until ``services()`` hands them to the dialog's save.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.models import ServiceType, new_id


def swatch(color: str, size: int = 14) -> QIcon:
    """A small filled square of ``color`` for lists and the colour button."""
    pix = QPixmap(size, size)
    pix.fill(QColor(color) if QColor(color).isValid() else QColor("#9ca3af"))
    return QIcon(pix)


class ServicesPage(QWidget):
    """Master list on the left, the chosen service's fields on the right."""

    def __init__(self, services: Sequence[ServiceType], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[ServiceType] = list(services)
        self.list = QListWidget()
        self.list.setMaximumWidth(230)
        self.name = QLineEdit()
        self.duration, self.buffer, self.capacity = QSpinBox(), QSpinBox(), QSpinBox()
        self.duration.setRange(5, 600)
        self.duration.setSingleStep(5)
        self.duration.setSuffix(" min")
        self.buffer.setRange(0, 120)
        self.buffer.setSingleStep(5)
        self.buffer.setSuffix(" min")
        self.buffer.setToolTip("Free time kept after each visit (cleaning, notes)")
        self.capacity.setRange(1, 200)
        self.capacity.setSuffix(" place(s)")
        self.capacity.setToolTip("More than one place makes this a group session")
        self.followup = QSpinBox()
        self.followup.setRange(0, 104)
        self.followup.setSuffix(" weeks")
        self.followup.setSpecialValueText("No follow-up")
        self.followup.setToolTip("Patients are due again this long after a completed visit")
        self.price = QDoubleSpinBox()
        self.price.setRange(0, 1_000_000)
        self.price.setDecimals(2)
        self.price.setSpecialValueText("No price")
        self.color_button = QPushButton()
        self.color_button.setObjectName("ColorButton")
        self.color_button.clicked.connect(self._pick_color)
        self.color = "#10b981"
        self.online = QCheckBox("Held online (video)")
        form = QFormLayout()
        form.setVerticalSpacing(9)
        form.addRow("Name", self.name)
        form.addRow("Duration", self.duration)
        form.addRow("Buffer after", self.buffer)
        form.addRow("Capacity", self.capacity)
        form.addRow("Follow-up after", self.followup)
        form.addRow("Price", self.price)
        form.addRow("Colour", self.color_button)
        form.addRow("", self.online)
        self.form_box = QWidget()
        self.form_box.setLayout(form)
        add, self.remove = QPushButton("Add service"), QPushButton("Remove")
        self.remove.setObjectName("Danger")
        add.clicked.connect(self.add_service)
        self.remove.clicked.connect(self.remove_current)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove)
        left.addLayout(buttons)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 16)
        lay.setSpacing(16)
        lay.addLayout(left)
        lay.addWidget(self.form_box, 1, Qt.AlignmentFlag.AlignTop)
        self._current = -1
        for s in self.items:
            self.list.addItem(self._item(s))
        self.list.currentRowChanged.connect(self._show)
        self.name.textEdited.connect(lambda _: self._store())
        for box in (self.duration, self.buffer, self.capacity, self.followup):
            box.valueChanged.connect(lambda _: self._store())
        self.price.valueChanged.connect(lambda _: self._store())
        self.online.toggled.connect(lambda _: self._store())
        self.list.setCurrentRow(0 if self.items else -1)
        self._sync_enabled()

    @staticmethod
    def _item(s: ServiceType) -> QListWidgetItem:
        item = QListWidgetItem(swatch(s.color), s.name or "(no name)")
        return item

    def _sync_enabled(self) -> None:
        has = 0 <= self._current < len(self.items)
        self.form_box.setEnabled(has)
        self.remove.setEnabled(has)

    def _show(self, row: int) -> None:
        self._current = -1  # no storing while the fields are filled
        if 0 <= row < len(self.items):
            s = self.items[row]
            self.name.setText(s.name)
            self.duration.setValue(s.duration_minutes)
            self.buffer.setValue(s.buffer_minutes)
            self.capacity.setValue(s.capacity)
            self.followup.setValue(s.followup_weeks or 0)
            self.price.setValue(float(s.price) if s.price is not None else 0.0)
            self.online.setChecked(s.online)
            self._set_color(s.color)
        self._current = row
        self._sync_enabled()

    def _set_color(self, color: str) -> None:
        self.color = color
        self.color_button.setIcon(swatch(color, 16))
        self.color_button.setText(f"  {color}")

    def _pick_color(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.color), self, "Service colour")
        if chosen.isValid():
            self.set_color(chosen.name())

    def set_color(self, color: str) -> None:
        """Give the current service ``color`` (what the colour dialog does on OK)."""
        self._set_color(color)
        self._store()

    def _store(self) -> None:
        row = self._current
        if not 0 <= row < len(self.items):
            return
        price = self.price.value()
        self.items[row] = replace(
            self.items[row],
            name=self.name.text().strip(),
            duration_minutes=self.duration.value(),
            buffer_minutes=self.buffer.value(),
            capacity=self.capacity.value(),
            followup_weeks=self.followup.value() or None,
            price=Decimal(f"{price:.2f}") if price > 0 else None,
            online=self.online.isChecked(),
            color=self.color,
        )
        item = self.list.item(row)
        item.setText(self.items[row].name or "(no name)")
        item.setIcon(swatch(self.color))

    def add_service(self) -> None:
        self.items.append(ServiceType(id=new_id(), name="New service"))
        self.list.addItem(self._item(self.items[-1]))
        self.list.setCurrentRow(len(self.items) - 1)
        self.name.setFocus()
        self.name.selectAll()

    def remove_current(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.items):
            self._current = -1
            del self.items[row]
            self.list.takeItem(row)
            self._show(self.list.currentRow())

    def services(self) -> list[ServiceType]:
        """The edited services; raises ValueError with a user-facing message when one is wrong."""
        seen: set[str] = set()
        for n, s in enumerate(self.items):
            if not s.name:
                self.list.setCurrentRow(n)
                raise ValueError(f"Service {n + 1} needs a name.")
            if s.name.casefold() in seen:
                self.list.setCurrentRow(n)
                raise ValueError(f"There are two services called “{s.name}”.")
            seen.add(s.name.casefold())
        return list(self.items)
