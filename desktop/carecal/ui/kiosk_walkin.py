"""Walk-in booking at the kiosk: a service, one of its next free times, a quick patient record.

GUI thread only. The page asks for slots and the booking through its signals; the window runs
them through ``services.kiosk.KioskService`` on the database lane.
"""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.availability import Interval
from carecal.domain.models import ServiceType
from carecal.services.kiosk import WalkInPatient
from carecal.ui.kiosk_widgets import button, clear_layout, label


def slot_caption(start: datetime, today: date) -> str:
    if start.date() == today:
        return f"Today {start:%H:%M}"
    return f"{start:%a} {start:%H:%M}"


def parse_birth_date(text: str) -> date | None:
    """DD.MM.YYYY (or with / or -) -> date. Raises ValueError for something else."""
    text = text.strip()
    if not text:
        return None
    for sep in "./-":
        text = text.replace(sep, " ")
    parts = text.split()
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError("Enter the date of birth as DD.MM.YYYY.")
    day, month, year = (int(p) for p in parts)
    return date(year, month, day)


class WalkInPage(QWidget):
    """Three columns: service, next free times, patient. ``book_requested`` when complete."""

    service_chosen = Signal(str)  # service id
    book_requested = Signal(str, object, object)  # service id, start, WalkInPatient
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service_id: str | None = None
        self.start: datetime | None = None
        self.service_group = QButtonGroup(self)
        self.slot_group = QButtonGroup(self)
        self.slot_buttons: dict[datetime, QPushButton] = {}
        self.services_box = QVBoxLayout()
        self.services_box.setSpacing(10)
        self.slots_grid = QGridLayout()
        self.slots_grid.setSpacing(10)
        self.slots_hint = label("Choose a service first.", "KioskHint", wrap=True)

        self.first = QLineEdit()
        self.last = QLineEdit()
        self.birth = QLineEdit()
        self.birth.setPlaceholderText("DD.MM.YYYY")
        self.phone = QLineEdit()
        self.book = button("Book", "KioskPrimary", self._book)
        self.message = label("", "KioskError", wrap=True)
        self.confirmation = label("", "KioskOk", wrap=True)

        columns = QHBoxLayout()
        columns.setSpacing(20)
        columns.addWidget(self._column("1  Service", self.services_box), 3)
        slots = QVBoxLayout()
        slots.addWidget(self.slots_hint)
        slots.addLayout(self.slots_grid)
        columns.addWidget(self._column("2  Next free time", slots), 4)
        patient = QVBoxLayout()
        patient.setSpacing(4)
        for caption, edit in (
            ("First name", self.first),
            ("Last name", self.last),
            ("Date of birth (optional)", self.birth),
            ("Phone (optional)", self.phone),
        ):
            patient.addWidget(label(caption, "KioskHint"))
            patient.addWidget(edit)
        patient.addSpacing(12)
        patient.addWidget(self.book)
        patient.addWidget(self.message)
        columns.addWidget(self._column("3  Patient", patient), 4)

        top = QHBoxLayout()
        top.addWidget(button("‹  Back to the list", "KioskQuiet", self.back_requested.emit))
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 16, 32, 24)
        lay.setSpacing(12)
        lay.addLayout(top)
        lay.addWidget(label("Walk-in", "KioskTitle"))
        lay.addWidget(self.confirmation)
        lay.addLayout(columns, 1)

    @staticmethod
    def _column(title: str, content: QVBoxLayout | QGridLayout) -> QFrame:
        frame = QFrame()
        frame.setObjectName("KioskCard")
        lay = QVBoxLayout(frame)
        lay.setContentsMargins(20, 16, 20, 16)
        lay.setSpacing(12)
        lay.addWidget(label(title, "KioskSection"))
        lay.addLayout(content)
        lay.addStretch(1)
        return frame

    # ---- filling ---------------------------------------------------------------------------
    def set_services(self, services: list[ServiceType]) -> None:
        clear_layout(self.services_box)
        for b in self.service_group.buttons():
            self.service_group.removeButton(b)
        for service in services:
            b = button(f"{service.name}\n{service.duration_minutes} min", "KioskChoice")
            b.setCheckable(True)
            b.setMinimumHeight(76)
            b.setStyleSheet("text-align: left; padding-left: 18px;")
            b.clicked.connect(lambda _=False, sid=service.id: self.choose_service(sid))
            self.service_group.addButton(b)
            self.services_box.addWidget(b)
            b.show()
        if not services:
            self.services_box.addWidget(label("No services are set up yet.", "KioskHint"))

    def choose_service(self, service_id: str) -> None:
        self.service_id, self.start = service_id, None
        self.message.setText("")
        self.service_chosen.emit(service_id)

    def set_slots(self, slots: list[Interval], today: date) -> None:
        clear_layout(self.slots_grid)
        for b in self.slot_group.buttons():
            self.slot_group.removeButton(b)
        self.slot_buttons.clear()
        self.start = None
        self.slots_hint.setText("" if slots else "No free time in the next days.")
        self.slots_hint.setVisible(not slots)
        for i, (start, _end) in enumerate(slots):
            b = button(slot_caption(start, today), "KioskChoice")
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, s=start: self.choose_slot(s))
            self.slot_group.addButton(b)
            self.slot_buttons[start] = b
            self.slots_grid.addWidget(b, i // 2, i % 2)
            b.show()

    def choose_slot(self, start: datetime) -> None:
        self.start = start
        b = self.slot_buttons.get(start)
        if b is not None:
            b.setChecked(True)

    def _book(self) -> None:
        self.confirmation.setText("")
        if self.service_id is None or self.start is None:
            self.message.setText("Choose a service and a time first.")
            return
        if not self.first.text().strip():
            self.message.setText("Enter the patient's first name.")
            return
        try:
            born = parse_birth_date(self.birth.text())
        except ValueError:
            self.message.setText("Enter the date of birth as DD.MM.YYYY.")
            return
        who = WalkInPatient(self.first.text(), self.last.text(), born, self.phone.text())
        self.message.setText("")
        self.book_requested.emit(self.service_id, self.start, who)

    def booked(self, text: str) -> None:
        """After a booking: say so and empty the patient fields."""
        self.confirmation.setText(text)
        for edit in (self.first, self.last, self.birth, self.phone):
            edit.clear()

    def clear(self) -> None:
        """Forget the patient typed and the choices (the idle reset)."""
        self.service_id, self.start = None, None
        for edit in (self.first, self.last, self.birth, self.phone):
            edit.clear()
        self.message.setText("")
        self.confirmation.setText("")
        self.set_slots([], date.min)
        self.slots_hint.setText("Choose a service first.")
        self.slots_hint.show()
        self.service_group.setExclusive(False)
        for b in self.service_group.buttons():
            b.setChecked(False)
        self.service_group.setExclusive(True)
