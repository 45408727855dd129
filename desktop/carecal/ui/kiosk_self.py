"""Self check-in: a patient finds their own visit of today by date of birth and initials.

GUI thread only. The page shows nothing about anyone until the patient's own details match, and
then only their first name, the service and the time. A miss shows the same neutral sentence
whatever the reason.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIntValidator, QRegularExpressionValidator
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from carecal.services.kiosk import SelfMatch
from carecal.ui.kiosk_widgets import button, label

NOT_FOUND = (
    "We could not find an appointment for today with these details. "
    "Please check them, or ask at the front desk."
)


def _field(placeholder: str, width: int, max_length: int) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setFixedWidth(width)
    edit.setMaxLength(max_length)
    edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return edit


class SelfCheckInPage(QWidget):
    """Date of birth + initials -> "Hello Anna, Therapy session at 11:00" -> checked in."""

    find_requested = Signal(object, str)  # date of birth, initials
    confirm_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.match: SelfMatch | None = None
        title = label("Check in for your appointment", "KioskTitle")
        sub = label("Enter your date of birth and your initials.", "KioskSub")
        self.day = _field("DD", 96, 2)
        self.month = _field("MM", 96, 2)
        self.year = _field("YYYY", 140, 4)
        self.day.setValidator(QIntValidator(1, 31, self))
        self.month.setValidator(QIntValidator(1, 12, self))
        self.year.setValidator(QIntValidator(1900, 2100, self))
        self.initials = _field("e.g. AN", 160, 4)
        self.initials.setValidator(QRegularExpressionValidator(r"[^\d\s]{0,4}", self))
        form = QGridLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(6)
        form.addWidget(label("Date of birth", "KioskSection"), 0, 0, 1, 3)
        form.addWidget(label("Initials", "KioskSection"), 0, 4)
        form.addWidget(self.day, 1, 0)
        form.addWidget(self.month, 1, 1)
        form.addWidget(self.year, 1, 2)
        form.setColumnMinimumWidth(3, 36)
        form.addWidget(self.initials, 1, 4)
        hint = label("First letter of your first name and of your last name.", "KioskHint")
        form.addWidget(hint, 2, 4, Qt.AlignmentFlag.AlignTop)
        self.find_button = button("Find my appointment", "KioskPrimary", self._find)
        self.find_button.setMinimumWidth(320)
        self.message = label("", "KioskError", wrap=True)

        self.result = QFrame()
        self.result.setObjectName("KioskCard")
        rl = QVBoxLayout(self.result)
        rl.setContentsMargins(28, 22, 28, 22)
        self.greeting = label("", "KioskName", wrap=True)
        self.details = label("", "KioskSub", wrap=True)
        self.confirm = button("Check me in", "KioskArrive", self.confirm_requested.emit)
        self.confirm.setMinimumWidth(280)
        rl.addWidget(self.greeting)
        rl.addWidget(self.details)
        rl.addSpacing(10)
        rl.addWidget(self.confirm, 0, Qt.AlignmentFlag.AlignLeft)
        self.result.hide()
        self.done = label("", "KioskOk", wrap=True)

        back = button("‹  Back", "KioskQuiet", self.back_requested.emit)
        column = QVBoxLayout()
        column.setSpacing(18)
        column.addWidget(back, 0, Qt.AlignmentFlag.AlignLeft)
        column.addSpacing(20)
        column.addWidget(title)
        column.addWidget(sub)
        column.addSpacing(12)
        column.addLayout(form)
        column.addWidget(self.find_button, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.message)
        column.addWidget(self.result)
        column.addWidget(self.done)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(48, 28, 48, 28)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)
        for edit in (self.day, self.month, self.year, self.initials):
            edit.returnPressed.connect(self._find)
        self.initials.textEdited.connect(self._upper)

    def _upper(self, text: str) -> None:
        if text != text.upper():
            self.initials.setText(text.upper())

    def entered_birth_date(self) -> date | None:
        """The typed date of birth, or None when it is not a real date."""
        try:
            return date(int(self.year.text()), int(self.month.text()), int(self.day.text()))
        except ValueError:
            return None

    def _find(self) -> None:
        born = self.entered_birth_date()
        if born is None or not self.initials.text().strip():
            self.show_not_found("Please enter your full date of birth and your initials.")
            return
        self.find_requested.emit(born, self.initials.text())

    def enter(self, born: date, initials: str) -> None:
        """Fill the form as a patient would type it (tests and screenshots)."""
        self.day.setText(f"{born.day:02d}")
        self.month.setText(f"{born.month:02d}")
        self.year.setText(str(born.year))
        self.initials.setText(initials)

    def show_match(self, match: SelfMatch) -> None:
        self.match = match
        self.message.setText("")
        self.greeting.setText(f"Hello, {match.first_name}!")
        self.details.setText(f"{match.service} today at {match.start:%H:%M}.")
        self.result.show()
        self.confirm.setEnabled(True)

    def show_not_found(self, text: str = NOT_FOUND) -> None:
        self.match = None
        self.greeting.setText("")
        self.details.setText("")
        self.result.hide()
        self.message.setText(text)

    def show_checked_in(self) -> None:
        self.result.hide()
        self.greeting.setText("")
        self.details.setText("")
        self.done.setText("You are checked in. Please take a seat; we will call you.")
        self.match = None

    def clear(self) -> None:
        """Forget everything typed and shown (the idle reset and every new patient)."""
        self.match = None
        for edit in (self.day, self.month, self.year, self.initials):
            edit.clear()
        for lab in (self.message, self.greeting, self.details, self.done):
            lab.setText("")
        self.result.hide()
