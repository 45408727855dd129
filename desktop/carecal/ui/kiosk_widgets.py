"""Touch-sized building blocks of the kiosk: its style sheet, big buttons, the PIN pad.

GUI thread only. Every tappable control is at least ``TOUCH`` pixels high.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.services.kiosk_rules import PIN_MAX_DIGITS

TOUCH = 56  # px: the smallest height of anything a finger taps (guidelines say 48 or more)

KIOSK_STYLE = """
#Kiosk, #Kiosk QStackedWidget > QWidget, #KioskScroll, #KioskScroll > QWidget > QWidget {
    background: #f4f6f9;
}
#Kiosk QWidget { font-size: 15pt; color: #1f2937; }
#Kiosk QLabel#KioskTitle { font-size: 30pt; font-weight: 600; color: #111827; }
#Kiosk QLabel#KioskClock { font-size: 48pt; font-weight: 300; color: #111827; }
#Kiosk QLabel#KioskSub { font-size: 16pt; color: #4b5563; }
#Kiosk QLabel#KioskHint { font-size: 13pt; color: #6b7280; }
#Kiosk QLabel#KioskError { font-size: 14pt; color: #b91c1c; }
#Kiosk QLabel#KioskOk { font-size: 16pt; color: #047857; font-weight: 600; }
#Kiosk QLabel#KioskSection { font-size: 13pt; font-weight: 600; color: #6b7280; }
#Kiosk QPushButton {
    min-height: 56px; padding: 6px 22px; border-radius: 12px;
    background: #ffffff; border: 1px solid #cfd5dd; font-size: 15pt;
}
#Kiosk QPushButton:pressed { background: #e5e7eb; }
#Kiosk QPushButton:disabled { color: #aab0b8; background: #f3f4f6; border-color: #e5e7eb; }
#Kiosk QPushButton#KioskPrimary { background: #2563eb; border: none; color: #ffffff;
    font-weight: 600; }
#Kiosk QPushButton#KioskPrimary:pressed { background: #1d4ed8; }
#Kiosk QPushButton#KioskPrimary:disabled { background: #bfcdf0; color: #ffffff; }
#Kiosk QPushButton#KioskHero { min-height: 120px; min-width: 420px; max-width: 420px;
    font-size: 22pt; font-weight: 600; border-radius: 18px; }
#Kiosk QPushButton#KioskArrive { background: #059669; border: none; color: #ffffff;
    font-weight: 600; }
#Kiosk QPushButton#KioskArrive:pressed { background: #047857; }
#Kiosk QPushButton#KioskNoShow { color: #b91c1c; }
#Kiosk QPushButton#KioskQuiet { background: transparent; border: none; color: #4b5563;
    font-size: 13pt; }
#Kiosk QPushButton#KioskDay:checked, #Kiosk QPushButton#KioskChoice:checked {
    background: #1e3a8a; color: #ffffff; border: none; font-weight: 600; }
#Kiosk QPushButton#KioskKey { min-height: 72px; min-width: 96px; font-size: 24pt; }
#Kiosk QLineEdit {
    min-height: 56px; font-size: 18pt; padding: 0 14px; border-radius: 10px;
    border: 1px solid #cfd5dd; background: #ffffff;
}
#Kiosk QLineEdit:focus { border: 2px solid #2563eb; }
#Kiosk QFrame#KioskCard { background: #ffffff; border: 1px solid #e3e7ed; border-radius: 14px; }
#Kiosk QLabel#KioskTime { font-size: 20pt; font-weight: 600; color: #111827; }
#Kiosk QLabel#KioskName { font-size: 19pt; font-weight: 600; color: #111827; }
#Kiosk QLabel#KioskService { font-size: 14pt; color: #4b5563; }
#Kiosk QLabel#KioskPill { font-size: 12pt; font-weight: 600; border-radius: 11px;
    padding: 4px 14px; }
#Kiosk QLabel#KioskPill[state="expected"] {
    border-radius: 11px; background: #eef2f7; color: #475569; }
#Kiosk QLabel#KioskPill[state="arrived"] {
    border-radius: 11px; background: #d1fae5; color: #065f46; }
#Kiosk QLabel#KioskPill[state="no_show"] {
    border-radius: 11px; background: #fee2e2; color: #991b1b; }
#Kiosk QLabel#KioskPill[state="done"] {
    border-radius: 11px; background: #e0e7ff; color: #3730a3; }
#Kiosk QLabel#KioskPill[state="cancelled"] {
    border-radius: 11px; background: #f3f4f6; color: #6b7280; }
#Kiosk QLabel#KioskDots { font-size: 30pt; letter-spacing: 8px; color: #111827; }
#KioskHeader { background: #ffffff; border-bottom: 1px solid #e3e7ed; }
"""


def button(text: str, name: str = "", slot: Callable[[], object] | None = None) -> QPushButton:
    """A touch-sized push button (object name ``name`` picks its style)."""
    btn = QPushButton(text)
    if name:
        btn.setObjectName(name)
    btn.setMinimumHeight(TOUCH)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if slot is not None:
        btn.clicked.connect(lambda _=False: slot())
    return btn


def label(text: str = "", name: str = "", *, wrap: bool = False) -> QLabel:
    lab = QLabel(text)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    return lab


def clear_layout(layout: QLayout) -> None:
    """Remove and destroy every widget in ``layout`` (nothing of it stays reachable)."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        inner = item.layout()
        if widget is not None:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        elif inner is not None:
            clear_layout(inner)
            inner.deleteLater()


class PinPad(QWidget):
    """A 3 x 4 keypad showing dots for the digits typed. ``submitted(pin)`` on OK;
    ``cancelled`` on Cancel. ``clear()`` forgets the digits."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._digits = ""
        self.title = label(title, "KioskTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dots = label("", "KioskDots")
        self.dots.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dots.setMinimumHeight(64)
        self.message = label("", "KioskError")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        grid.setSpacing(12)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        self.keys: dict[str, QPushButton] = {}
        for i, key in enumerate(keys):
            name = "KioskPrimary" if key == "OK" else "KioskKey"
            btn = button(key, name, self._presser(key))
            btn.setMinimumSize(120, 76)
            if key == "OK":
                btn.setStyleSheet("font-size: 20pt; min-height: 72px;")
            self.keys[key] = btn
            grid.addWidget(btn, i // 3, i % 3)
        cancel = button("Cancel", "KioskQuiet", self._cancel)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(self.title)
        lay.addWidget(self.dots)
        lay.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(grid)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addWidget(cancel, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(1)
        self._show()

    def _presser(self, key: str) -> Callable[[], None]:
        return lambda: self.press(key)

    def press(self, key: str) -> None:
        """Type a digit, "⌫" (delete one) or "OK" (submit)."""
        if key == "OK":
            if self._digits:
                self.submitted.emit(self._digits)
            return
        if key == "⌫":
            self._digits = self._digits[:-1]
        elif key.isdigit() and len(self._digits) < PIN_MAX_DIGITS:
            self._digits += key
        self.message.setText("")
        self._show()

    def type_pin(self, pin: str) -> None:
        """Press each digit of ``pin`` then OK (keyboard entry and tests)."""
        for key in pin:
            self.press(key)
        self.press("OK")

    def clear(self, message: str = "") -> None:
        self._digits = ""
        self.message.setText(message)
        self._show()

    def _cancel(self) -> None:
        self.clear()
        self.cancelled.emit()

    def _show(self) -> None:
        self.dots.setText("●" * len(self._digits) or "·  ·  ·  ·")
