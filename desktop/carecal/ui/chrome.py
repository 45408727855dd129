"""The main window's toolbar and sidebar (GUI thread only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from PySide6.QtCore import QDate, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QTextCharFormat
from PySide6.QtWidgets import (
    QButtonGroup,
    QCalendarWidget,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.models import Calendar
from carecal.ui import theme
from carecal.ui.navigation import ViewMode
from carecal.ui.qtconv import to_date


def swatch(color: str, size: int = 12) -> QIcon:
    """A round colour swatch icon."""
    pm = QPixmap(size * 2, size * 2)
    pm.setDevicePixelRatio(2)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    p.end()
    return QIcon(pm)


class Toolbar(QFrame):
    """Today, back/forward, the period title, the view switch and the search field."""

    today_clicked = Signal()
    step_clicked = Signal(int)
    mode_chosen = Signal(object)  # ViewMode
    search_changed = Signal(str)
    search_submitted = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Toolbar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(8)
        self.today = QPushButton("Today")
        self.today.setToolTip("Go to today (T)")
        self.today.clicked.connect(self.today_clicked.emit)
        self.back, self.forward = QToolButton(), QToolButton()
        for button, name, direction, tip in (
            (self.back, "chevron-left", -1, "Previous (← or K)"),
            (self.forward, "chevron-right", 1, "Next (→ or J)"),
        ):
            button.setObjectName("NavButton")
            button.setIcon(theme.icon(name))
            button.setIconSize(QSize(16, 16))
            button.setToolTip(tip)
            button.clicked.connect(lambda _=False, d=direction: self.step_clicked.emit(d))
        self.period = QLabel()
        self.period.setObjectName("PeriodLabel")
        lay.addWidget(self.today)
        lay.addWidget(self.back)
        lay.addWidget(self.forward)
        lay.addWidget(self.period)
        lay.addStretch(1)
        switch = QFrame()
        switch.setObjectName("ViewSwitch")
        sl = QHBoxLayout(switch)
        sl.setContentsMargins(3, 3, 3, 3)
        sl.setSpacing(2)
        self.mode_buttons: dict[ViewMode, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        keys = {ViewMode.DAY: "D", ViewMode.WEEK: "W", ViewMode.MONTH: "M", ViewMode.AGENDA: "A"}
        for mode in ViewMode:
            b = QToolButton()
            b.setText(mode.label)
            b.setCheckable(True)
            b.setToolTip(f"{mode.label} ({keys[mode]})" if mode in keys else mode.label)
            b.clicked.connect(lambda _=False, m=mode: self.mode_chosen.emit(m))
            group.addButton(b)
            sl.addWidget(b)
            self.mode_buttons[mode] = b
        lay.addWidget(switch)
        lay.addSpacing(8)
        self.search = QLineEdit()
        self.search.setObjectName("SearchField")
        self.search.setPlaceholderText("Search  (Ctrl+F)")
        self.search.addAction(theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed.emit)
        self.search.returnPressed.connect(lambda: self.search_submitted.emit(self.search.text()))
        lay.addWidget(self.search)

    def show_mode(self, mode: ViewMode, title: str) -> None:
        self.mode_buttons[mode].setChecked(True)
        self.period.setText(title)


class Sidebar(QFrame):
    """New button, mini-month navigator, calendar list with show/hide, search results."""

    new_clicked = Signal()
    date_picked = Signal(object)  # date
    visibility_changed = Signal(str, bool)  # calendar id, visible

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Sidebar")
        self.setFixedWidth(264)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(14, 14, 14, 12)
        lay.setSpacing(6)
        self.new_button = QPushButton("  New appointment")
        self.new_button.setObjectName("NewButton")
        self.new_button.setIcon(theme.icon("plus"))
        self.new_button.setToolTip("New appointment (N)")
        self.new_button.clicked.connect(self.new_clicked.emit)
        lay.addWidget(self.new_button)
        lay.addSpacing(6)
        self.mini = QCalendarWidget()
        self.mini.setObjectName("MiniMonth")
        self.mini.setGridVisible(False)
        self.mini.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.mini.setHorizontalHeaderFormat(
            QCalendarWidget.HorizontalHeaderFormat.SingleLetterDayNames
        )
        self.mini.setFixedHeight(210)
        weekend = QTextCharFormat()
        weekend.setForeground(theme.TEXT_MUTED)
        for day in (Qt.DayOfWeek.Saturday, Qt.DayOfWeek.Sunday):
            self.mini.setWeekdayTextFormat(day, weekend)
        header = QTextCharFormat()
        header.setForeground(theme.TEXT_FAINT)
        self.mini.setHeaderTextFormat(header)
        self.mini.clicked.connect(lambda qd: self.date_picked.emit(to_date(qd)))
        lay.addWidget(self.mini)
        title = QLabel("CALENDARS")
        title.setObjectName("SectionTitle")
        lay.addWidget(title)
        self.calendar_box = QVBoxLayout()
        self.calendar_box.setSpacing(0)
        lay.addLayout(self.calendar_box)
        self.results_title = QLabel("SEARCH RESULTS")
        self.results_title.setObjectName("SectionTitle")
        self.results = QListWidget()
        self.results.setObjectName("SearchResults")
        self.results.setWordWrap(True)
        lay.addWidget(self.results_title)
        lay.addWidget(self.results, 1)
        self.show_results(False)
        self.stretch = QWidget()
        lay.addWidget(self.stretch, 1)
        self.calendar_checks: dict[str, QCheckBox] = {}

    def set_calendars(self, calendars: Sequence[Calendar], hidden: set[str]) -> None:
        while self.calendar_box.count():
            item = self.calendar_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.calendar_checks = {}
        for cal in calendars:
            box = QCheckBox(cal.name + ("  (read-only)" if cal.read_only else ""))
            box.setIcon(swatch(cal.color))
            box.setChecked(cal.id not in hidden)
            box.toggled.connect(lambda on, cid=cal.id: self.visibility_changed.emit(cid, on))
            self.calendar_box.addWidget(box)
            self.calendar_checks[cal.id] = box

    def show_results(self, on: bool) -> None:
        self.results_title.setVisible(on)
        self.results.setVisible(on)
        if hasattr(self, "stretch"):
            self.stretch.setVisible(not on)

    def set_date(self, day: date, week_start: int) -> None:
        self.mini.setFirstDayOfWeek(Qt.DayOfWeek(week_start + 1))
        self.mini.setSelectedDate(QDate(day.year, day.month, day.day))
