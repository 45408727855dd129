"""The kiosk's day list for the front desk: today and the next days, check-in and no-show.

GUI thread only. The page shows what ``services.kiosk.KioskService.visits`` hands it (names only
for today) and asks for changes through its signals; it never touches the store itself.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from carecal.services.kiosk import Attendee, Visit, VisitKey
from carecal.ui.kiosk_widgets import TOUCH, button, clear_layout, label


def day_caption(day: date, today: date) -> str:
    """ "Today", "Tomorrow", or "Fri 16 May"."""
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return f"{day:%a} {day.day} {day:%b}"


class StaffPage(QWidget):
    """The header (days, walk-in, lock, exit) and the list of visits of the chosen day."""

    day_chosen = Signal(object)  # date
    arrive_requested = Signal(object, object, str)  # VisitKey, date, patient id
    no_show_requested = Signal(object, object, str)
    walk_in_requested = Signal()
    lock_requested = Signal()
    exit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.day: date | None = None
        self.buttons: dict[tuple[VisitKey, str], tuple[QPushButton, QPushButton]] = {}
        header = QFrame()
        header.setObjectName("KioskHeader")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(24, 12, 24, 12)
        hl.setSpacing(10)
        self.days_row = QHBoxLayout()
        self.days_row.setSpacing(8)
        self.day_group = QButtonGroup(self)
        self.day_group.setExclusive(True)
        hl.addLayout(self.days_row)
        hl.addStretch(1)
        self.walk_in = button("+  Walk-in", "KioskPrimary", self.walk_in_requested.emit)
        self.lock = button("Lock screen", "", self.lock_requested.emit)
        self.exit = button("Exit kiosk", "KioskQuiet", self.exit_requested.emit)
        for b in (self.walk_in, self.lock, self.exit):
            hl.addWidget(b)
            b.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)

        self.message = label("", "KioskHint")
        self.list_box = QVBoxLayout()
        self.list_box.setSpacing(12)
        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(32, 20, 32, 24)
        bl.addLayout(self.list_box)
        bl.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("KioskScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        self.scroll_area = scroll

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(header)
        self.heading = label("", "KioskName")
        msg_row = QHBoxLayout()
        msg_row.setContentsMargins(32, 16, 32, 0)
        msg_row.setSpacing(24)
        msg_row.addWidget(self.heading)
        msg_row.addWidget(self.message, 1)
        lay.addLayout(msg_row)
        lay.addWidget(scroll, 1)

    # ---- filling ---------------------------------------------------------------------------
    def set_days(self, days: list[date], today: date, current: date) -> None:
        """The day buttons (today first); ``current`` is checked."""
        clear_layout(self.days_row)
        for b in self.day_group.buttons():
            self.day_group.removeButton(b)
        for day in days:
            b = button(day_caption(day, today), "KioskDay")
            b.setCheckable(True)
            b.setChecked(day == current)
            b.clicked.connect(lambda _=False, d=day: self.day_chosen.emit(d))
            self.day_group.addButton(b)
            self.days_row.addWidget(b)
            b.ensurePolished()  # the style sheet's font (inside #Kiosk), bold when checked
            bold = b.font()
            bold.setBold(True)
            b.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(b.text()) + 48)
            b.show()  # at once, not on the next turn of the event loop

    def show_visits(self, day: date, today: date, visits: list[Visit]) -> None:
        """Replace the list with ``visits`` of ``day``."""
        self.day = day
        self.heading.setText(f"{day:%A}, {day.day} {day:%B}")
        self.buttons.clear()
        clear_layout(self.list_box)
        if day != today:
            note = "Other days show times only. Check-in opens on the day of the visit."
            self.list_box.addWidget(label(note, "KioskHint"))
        if not visits:
            empty = label("No appointments on this day.", "KioskSub")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            empty.setMinimumHeight(160)
            self.list_box.addWidget(empty)
        for visit in visits:
            self.list_box.addWidget(self._card(visit, day == today))
        for i in range(self.list_box.count()):
            item = self.list_box.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.show()

    def clear(self) -> None:
        """Drop every visit row and message (the idle reset)."""
        self.day = None
        self.heading.setText("")
        self.buttons.clear()
        clear_layout(self.list_box)
        self.message.setText("")

    # ---- one visit -------------------------------------------------------------------------
    def _card(self, visit: Visit, is_today: bool) -> QFrame:
        card = QFrame()
        card.setObjectName("KioskCard")
        row = QHBoxLayout(card)
        row.setContentsMargins(20, 14, 20, 14)
        row.setSpacing(18)
        times = QVBoxLayout()
        times.setSpacing(0)
        times.addWidget(label(f"{visit.start:%H:%M}", "KioskTime"))
        times.addWidget(label(f"to {visit.end:%H:%M}", "KioskService"))
        times.addStretch(1)
        time_box = QWidget()
        time_box.setLayout(times)
        time_box.setFixedWidth(110)
        row.addWidget(time_box, 0, Qt.AlignmentFlag.AlignTop)
        people = QVBoxLayout()
        people.setSpacing(6)
        if visit.group:
            people.addWidget(
                label(f"{visit.service} · group of {len(visit.attendees)}", "KioskService")
            )
        for attendee in visit.attendees:
            people.addWidget(self._attendee_row(visit, attendee, is_today))
        row.addLayout(people, 1)
        return card

    def _attendee_row(self, visit: Visit, who: Attendee, is_today: bool) -> QWidget:
        line = QWidget()
        line.setMinimumHeight(TOUCH)
        hl = QHBoxLayout(line)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(12)
        texts = QVBoxLayout()
        texts.setSpacing(0)
        texts.addWidget(label(who.label or "Booked", "KioskName"))
        if not visit.group:
            texts.addWidget(label(visit.service, "KioskService"))
        hl.addLayout(texts, 1)
        pill = QLabel(who.state.label)
        pill.setObjectName("KioskPill")
        pill.setProperty("state", who.state.value)
        hl.addWidget(pill, 0, Qt.AlignmentFlag.AlignVCenter)
        if is_today:
            key, day, pid = visit.key, visit.day, who.patient_id
            arrive = self._action("Arrived", "KioskArrive", who.can_arrive)
            arrive.clicked.connect(lambda: self.arrive_requested.emit(key, day, pid))
            arrive.setVisible(who.can_arrive)
            no_show = self._action("No-show", "KioskNoShow", who.can_no_show)
            no_show.clicked.connect(lambda: self.no_show_requested.emit(key, day, pid))
            no_show.setVisible(who.state.value == "expected")
            if not who.can_no_show:
                no_show.setToolTip("Possible once the visit's start time has passed.")
            hl.addWidget(arrive)
            hl.addWidget(no_show)
            self.buttons[(key, pid)] = (arrive, no_show)
        return line

    @staticmethod
    def _action(text: str, name: str, enabled: bool) -> QPushButton:
        b = button(text, name)
        b.setMinimumWidth(150)
        b.setEnabled(enabled)
        return b

    def buttons_for(self, key: VisitKey, patient_id: str) -> tuple[QPushButton, QPushButton]:
        """The (Arrived, No-show) buttons of one patient of one visit on today's list.
        Raises KeyError when that row is not shown."""
        return self.buttons[(key, patient_id)]
