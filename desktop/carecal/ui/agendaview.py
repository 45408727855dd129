"""Agenda view: the coming days as a readable list (GUI thread only).

A row shows a video visit's camera glyph and its "Join video" button, and a Docplanner
booking's source badge and payment state; the view recounts the payment minutes and the join
window every 30 s from its clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from carecal.domain.models import AppointmentStatus, Occurrence, VisitMode
from carecal.services.video import join_link
from carecal.ui.booking_badges import (
    JoinVideoButton,
    OpenUrl,
    PaymentPill,
    camera_pixmap,
    occurrence_span,
    source_badge,
)
from carecal.ui.cards import fmt_time
from carecal.ui.context import system_now
from carecal.ui.loader import ViewData
from carecal.ui.tray import open_in_browser

REFRESH_MS = 30_000

_STATUS_COLORS = {
    AppointmentStatus.SCHEDULED: ("#f3f4f6", "#4b5563"),
    AppointmentStatus.CONFIRMED: ("#dbeafe", "#1e40af"),
    AppointmentStatus.ARRIVED: ("#fef3c7", "#92400e"),
    AppointmentStatus.COMPLETED: ("#d1fae5", "#065f46"),
    AppointmentStatus.NO_SHOW: ("#fee2e2", "#991b1b"),
    AppointmentStatus.CANCELLED: ("#f3f4f6", "#9ca3af"),
}


def is_appointment(occ: Occurrence) -> bool:
    """An appointment has a patient or a service; anything else is a personal entry."""
    ev = occ.event
    return bool(ev.patient_ids() or ev.service_id)


def shows_status(occ: Occurrence) -> bool:
    """Appointments always show their status; personal entries only when cancelled."""
    return is_appointment(occ) or occ.event.status is AppointmentStatus.CANCELLED


def agenda_details(occ: Occurrence, data: ViewData) -> list[str]:
    """The grey line under a title: patient, service, mode, location, calendar (no repeats)."""
    ev = occ.event
    details = [data.patient_label(occ)]
    if ev.service_id and ev.service_id in data.services:
        details.append(data.services[ev.service_id].name)
    if ev.mode is not VisitMode.IN_PERSON:
        details.append(ev.mode.label)
    if ev.location:
        details.append(ev.location)
    cal = data.calendars.get(ev.calendar_id)
    if cal is not None and len(data.calendars) > 1:
        details.append(cal.name)
    seen: set[str] = set()
    out: list[str] = []
    for d in details:
        key = d.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(d.strip())
    return out


class AgendaRow(QFrame):
    """One appointment line; click selects, double-click opens."""

    clicked = Signal(object)
    activated = Signal(object)
    context_requested = Signal(object, object)  # Occurrence, global QPoint

    def __init__(
        self,
        occ: Occurrence,
        data: ViewData,
        now: datetime | None = None,
        open_url: OpenUrl = open_in_browser,
    ) -> None:
        super().__init__()
        self.occ = occ
        self.setObjectName("AgendaRow")
        self.setProperty("selected", False)
        ev = occ.event
        lay = QHBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        lay.setSpacing(12)
        if isinstance(occ.start, datetime) and isinstance(occ.end, datetime):
            when = (
                f"{fmt_time(occ.start.astimezone(data.tz))} – "
                f"{fmt_time(occ.end.astimezone(data.tz))}"
            )
        else:
            when = "All day"
        time_label = QLabel(when)
        time_label.setObjectName("AgendaTime")
        time_label.setFixedWidth(110)
        bar = QFrame()
        bar.setFixedSize(4, 34)
        bar.setStyleSheet(f"background: {data.color_of(occ)}; border-radius: 2px;")
        text = QVBoxLayout()
        text.setSpacing(1)
        title = QLabel(ev.title or "(no title)")
        title.setObjectName("AgendaTitle")
        if ev.status is AppointmentStatus.CANCELLED:
            f = title.font()
            f.setStrikeOut(True)
            title.setFont(f)
        sub = QLabel("  ·  ".join(agenda_details(occ, data)))
        sub.setObjectName("AgendaDetails")
        self.video_mark: QLabel | None = None
        title_row = QHBoxLayout()
        title_row.setSpacing(6)
        title_row.setContentsMargins(0, 0, 0, 0)
        if ev.mode is VisitMode.VIDEO:
            self.video_mark = QLabel()
            self.video_mark.setObjectName("VideoMark")
            self.video_mark.setPixmap(camera_pixmap("#4b5563"))
            self.video_mark.setToolTip("Video visit")
            title_row.addWidget(self.video_mark)
        title_row.addWidget(title)
        title_row.addStretch(1)
        text.addLayout(title_row)
        text.addWidget(sub)
        lay.addWidget(time_label)
        lay.addWidget(bar)
        lay.addLayout(text, 1)
        if occ.key in data.double_booked:
            warn = QLabel("Double-booked")
            warn.setObjectName("Pill")
            warn.setStyleSheet("background:#fee2e2; color:#b91c1c;")
            lay.addWidget(warn)
        if (ev.calendar_id, ev.uid) in data.conflicted:
            clash = QLabel("Sync conflict")
            clash.setObjectName("Pill")
            clash.setToolTip("Changed here and on the server: open Tools > Conflicts")
            clash.setStyleSheet("background:#fef3c7; color:#b45309;")
            lay.addWidget(clash)
        info = data.booking_of(occ)
        self.source: QLabel | None = None
        self.payment: PaymentPill | None = None
        if info is not None:
            self.source = source_badge(info)
            lay.addWidget(self.source)
            if info.payment != "none":
                self.payment = PaymentPill(info, data.tz)
                lay.addWidget(self.payment)
        self.pill: QLabel | None = None
        if shows_status(occ):
            bg, fg = _STATUS_COLORS[ev.status]
            self.pill = QLabel(ev.status.label)
            self.pill.setObjectName("Pill")
            border = "1px solid #fca5a5" if ev.status is AppointmentStatus.NO_SHOW else "none"
            self.pill.setStyleSheet(f"background:{bg}; color:{fg}; border:{border};")
            lay.addWidget(self.pill)
        self.join: JoinVideoButton | None = None
        link = join_link(ev)
        if link and ev.status is not AppointmentStatus.CANCELLED:
            self.join = JoinVideoButton(open_url)
            self.join.link, self.join.span = link, occurrence_span(occ, data.tz)
            lay.addWidget(self.join)
        self.refresh(now or system_now())
        if ev.status is AppointmentStatus.CANCELLED:
            # Faded as a whole, so a cancelled visit never reads as a booked one.
            for label in (time_label, title, sub):
                label.setStyleSheet("color: #9ca3af;")

    def refresh(self, now: datetime) -> None:
        """Recount the payment minutes and the join window for ``now``."""
        if self.payment is not None:
            self.payment.refresh(now)
        if self.join is not None:
            self.join.refresh(now)

    def set_selected(self, on: bool) -> None:
        self.setProperty("selected", on)
        self.style().unpolish(self)
        self.style().polish(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit(self.occ)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.activated.emit(self.occ)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.context_requested.emit(self.occ, event.globalPos())


class AgendaView(QScrollArea):
    """The appointments of a range of days, grouped under day headings."""

    open_requested = Signal(object)
    selection_changed = Signal(object)
    context_requested = Signal(object, object)  # Occurrence, global QPoint

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], datetime] = system_now,
        open_url: OpenUrl = open_in_browser,
    ) -> None:
        """``clock``: the session's clock; ``open_url``: hands a video link to the browser
        (tests put a recorder there)."""
        super().__init__(parent)
        self.setObjectName("AgendaView")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.rows: list[AgendaRow] = []
        self.selected_key: tuple[str, str] | None = None
        self.clock = clock
        self.open_url = open_url
        self.setWidget(QWidget())
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    def tick(self) -> None:
        """Recount every row's payment minutes and join window from the clock. GUI thread."""
        now = self.clock()
        for row in self.rows:
            row.refresh(now)

    def set_data(self, first_day: date, days: int, data: ViewData, now: datetime) -> None:
        body = QWidget()
        body.setObjectName("AgendaBody")
        lay = QVBoxLayout(body)
        lay.setContentsMargins(32, 16, 32, 24)
        lay.setSpacing(2)
        today = now.astimezone(data.tz).date()
        by_day: dict[date, list[Occurrence]] = {}
        for occ in data.occurrences:
            d = (
                occ.start.astimezone(data.tz).date()
                if isinstance(occ.start, datetime)
                else occ.start
            )
            by_day.setdefault(d, []).append(occ)
        self.rows = []
        for i in range(days):
            day = first_day + timedelta(days=i)
            items = sorted(
                by_day.get(day, []),
                key=lambda o: (isinstance(o.start, datetime), o.start.isoformat()),
            )
            if not items:
                continue
            head = QLabel(_day_heading(day, today))
            head.setObjectName("AgendaDay")
            head.setProperty("today", day == today)
            lay.addWidget(head)
            for occ in items:
                row = AgendaRow(occ, data, now, self.open_url)
                row.clicked.connect(self._on_click)
                row.activated.connect(self.open_requested.emit)
                row.context_requested.connect(self._on_context)
                row.set_selected(occ.key == self.selected_key)
                self.rows.append(row)
                lay.addWidget(row)
        if not self.rows:
            empty = QLabel("Nothing scheduled in the coming days.")
            empty.setObjectName("Hint")
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lay.addWidget(empty)
        lay.addStretch(1)
        self.setWidget(body)

    def _on_click(self, occ: Occurrence) -> None:
        self.selected_key = occ.key
        for row in self.rows:
            row.set_selected(row.occ.key == occ.key)
        self.selection_changed.emit(occ)

    def _on_context(self, occ: Occurrence, global_pos: object) -> None:
        if occ.key != self.selected_key:
            self._on_click(occ)
        self.context_requested.emit(occ, global_pos)

    def row_for(self, key: tuple[str, str]) -> AgendaRow | None:
        return next((row for row in self.rows if row.occ.key == key), None)


def _day_heading(day: date, today: date) -> str:
    label = day.strftime("%A, %-d %B")
    if day == today:
        return f"Today  ·  {label}"
    if day == today + timedelta(days=1):
        return f"Tomorrow  ·  {label}"
    return label
