"""The recurrence part of the appointment editor (GUI thread only)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from carecal.ui.qtconv import to_date
from carecal.ui.rrule_parts import RuleParts, from_rrule, to_rrule

_FREQ_ITEMS = (
    ("Does not repeat", None),
    ("Daily", "DAILY"),
    ("Weekly", "WEEKLY"),
    ("Monthly", "MONTHLY"),
)
_UNITS = {"DAILY": "day(s)", "WEEKLY": "week(s)", "MONTHLY": "month(s)"}


class RecurrenceEditor(QWidget):
    """None / daily / weekly on chosen weekdays / monthly, an interval, and an end."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kept_rule: str | None = None  # a rule this editor cannot show, kept as is
        self.freq = QComboBox()
        for label, value in _FREQ_ITEMS:
            self.freq.addItem(label, value)
        self.interval = QSpinBox()
        self.interval.setRange(1, 99)
        self.interval.setPrefix("every ")
        self.unit = QLabel()
        self.weekday_boxes = [QCheckBox(n) for n in ("M", "T", "W", "T", "F", "S", "S")]
        self.ends = QComboBox()
        self.ends.addItems(["never", "on date", "after"])
        self.until = QDateEdit()
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("d MMM yyyy")
        self.count = QSpinBox()
        self.count.setRange(1, 999)
        self.count.setValue(10)
        self.count.setSuffix(" times")
        self.custom = QLabel()
        self.custom.setObjectName("Hint")

        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.addWidget(self.freq)
        row1.addWidget(self.interval)
        row1.addWidget(self.unit)
        row1.addStretch(1)
        self.days_row = QWidget()
        dl = QHBoxLayout(self.days_row)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(QLabel("on"))
        for box in self.weekday_boxes:
            dl.addWidget(box)
        dl.addStretch(1)
        self.end_row = QWidget()
        el = QHBoxLayout(self.end_row)
        el.setContentsMargins(0, 0, 0, 0)
        el.addWidget(QLabel("ends"))
        el.addWidget(self.ends)
        el.addWidget(self.until)
        el.addWidget(self.count)
        el.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(row1)
        lay.addWidget(self.days_row)
        lay.addWidget(self.end_row)
        lay.addWidget(self.custom)
        for sig in (self.freq.currentIndexChanged, self.ends.currentIndexChanged):
            sig.connect(self._sync)
        self._sync()

    def set_rule(self, rule: str | None, start_day: date, tz: ZoneInfo) -> None:
        """Show ``rule``; one this editor cannot express is shown as "custom" and kept."""
        parts = from_rrule(rule, tz=tz)
        self.until.setDate(QDate(start_day.year, start_day.month, start_day.day).addMonths(3))
        if parts is None:
            self._kept_rule = rule
            self.custom.setText(f"Custom rule kept as is: {rule}")
            parts = RuleParts()
        else:
            self._kept_rule = None
            self.custom.setText("")
        self.freq.setCurrentIndex([v for _, v in _FREQ_ITEMS].index(parts.freq))
        self.interval.setValue(parts.interval)
        for i, box in enumerate(self.weekday_boxes):
            box.setChecked(i in parts.weekdays or (not parts.weekdays and i == start_day.weekday()))
        if parts.until is not None:
            self.ends.setCurrentIndex(1)
            self.until.setDate(QDate(parts.until.year, parts.until.month, parts.until.day))
        elif parts.count is not None:
            self.ends.setCurrentIndex(2)
            self.count.setValue(parts.count)
        else:
            self.ends.setCurrentIndex(0)
        self._sync()

    def parts(self) -> RuleParts:
        freq = self.freq.currentData()
        if freq is None:
            return RuleParts()
        weekdays = tuple(i for i, b in enumerate(self.weekday_boxes) if b.isChecked())
        end = self.ends.currentIndex()
        until = to_date(self.until.date()) if end == 1 else None
        return RuleParts(
            freq,
            self.interval.value(),
            weekdays if freq == "WEEKLY" else (),
            until,
            self.count.value() if end == 2 else None,
        )

    def rule(self, *, all_day: bool, tz: ZoneInfo) -> str | None:
        """The RRULE text to store (the kept custom rule when the user did not touch it)."""
        if self._kept_rule is not None and self.freq.currentData() is None:
            return self._kept_rule
        return to_rrule(self.parts(), all_day=all_day, tz=tz)

    def _sync(self) -> None:
        freq = self.freq.currentData()
        if freq is not None:
            self._kept_rule = None
            self.custom.setText("")
        repeating = freq is not None
        self.interval.setVisible(repeating)
        self.unit.setVisible(repeating)
        self.unit.setText(_UNITS.get(freq or "", ""))
        self.days_row.setVisible(freq == "WEEKLY")
        self.end_row.setVisible(repeating)
        self.custom.setVisible(bool(self.custom.text()))
        self.until.setVisible(self.ends.currentIndex() == 1)
        self.count.setVisible(self.ends.currentIndex() == 2)
        self.changed.emit()
