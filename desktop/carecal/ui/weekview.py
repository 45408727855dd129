"""Day / work-week / week view: day header, all-day row and the scrolling time grid.

GUI thread only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QFont, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget

from carecal.domain.models import Occurrence
from carecal.ui import theme
from carecal.ui.card_layout import CardFonts, CardLayout, draw_card, layout_card
from carecal.ui.loader import ViewData
from carecal.ui.timegrid import GUTTER, TimeGridCanvas

CHIP_H = 22


class _DayHeader(QWidget):
    """Weekday names and dates over the columns; today's date in an accent circle."""

    day_clicked = Signal(object)

    def __init__(self, canvas: TimeGridCanvas) -> None:
        super().__init__()
        self.canvas = canvas
        self.today: date | None = None
        self.setFixedHeight(54)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        c = self.canvas
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        small.setWeight(QFont.Weight.DemiBold)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() + 5)
        for i, day in enumerate(c.days):
            x, w = c.column_x(i), c.column_width()
            is_today = day == self.today
            p.setFont(small)
            p.setPen(theme.ACCENT if is_today else theme.TEXT_MUTED)
            p.drawText(
                QRectF(x, 6, w, 16), Qt.AlignmentFlag.AlignHCenter, day.strftime("%a").upper()
            )
            p.setFont(big)
            num_rect = QRectF(x + w / 2 - 15, 22, 30, 28)
            if is_today:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(theme.ACCENT)
                p.drawEllipse(num_rect.center(), 15, 14)
                p.setPen(QColor("#ffffff"))
            else:
                p.setPen(theme.TEXT if day.weekday() < 5 else theme.TEXT_MUTED)
            p.drawText(num_rect, Qt.AlignmentFlag.AlignCenter, str(day.day))
        p.setPen(QPen(theme.GRID_LINE, 1))
        for i in range(1, len(c.days)):
            x = int(c.column_x(i)) + 0.5
            p.drawLine(QPointF(x, 30), QPointF(x, self.height()))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.canvas.days:
            self.day_clicked.emit(self.canvas.days[self.canvas.day_index_at(event.position().x())])


def all_day_spans(
    occurrences: list[Occurrence], days: list[date]
) -> list[tuple[Occurrence, int, int, int]]:
    """(occurrence, first column, last column, lane) for each all-day entry touching ``days``.

    A multi-day entry is one bar; lanes are assigned greedily, longest bars first, so a bar never
    overlaps another. Pure logic; any thread.
    """
    if not days:
        return []
    first_day, last_day = days[0], days[-1]
    items: list[tuple[Occurrence, int, int]] = []
    for occ in occurrences:
        if isinstance(occ.start, datetime) or isinstance(occ.end, datetime):
            continue
        end = max(occ.end, occ.start + timedelta(days=1))  # exclusive
        if occ.start > last_day or end <= first_day:
            continue
        cols = [i for i, d in enumerate(days) if occ.start <= d < end]
        if cols:
            items.append((occ, cols[0], cols[-1]))
    items.sort(key=lambda it: (it[1], -(it[2] - it[1]), it[0].event.title))
    lane_ends: list[int] = []  # last column used in each lane
    out: list[tuple[Occurrence, int, int, int]] = []
    for occ, a, b in items:
        lane = next((n for n, end_col in enumerate(lane_ends) if end_col < a), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(b)
        else:
            lane_ends[lane] = b
        out.append((occ, a, b, lane))
    return out


class _AllDayRow(QWidget):
    """All-day entries as chips above the grid."""

    open_requested = Signal(object)
    context_requested = Signal(object, object)  # Occurrence, global QPoint

    def __init__(self, canvas: TimeGridCanvas) -> None:
        super().__init__()
        self.canvas = canvas
        self.rows: list[tuple[QRectF, Occurrence]] = []
        self._cards: list[CardLayout] = []
        self.setFixedHeight(CHIP_H + 8)

    def refresh(self) -> None:
        """Lay out one bar per all-day entry, spanning every visible day it covers."""
        c, data = self.canvas, self.canvas.data
        self.rows, self._cards = [], []
        lanes = 0
        fonts = CardFonts.of(self.font())
        if data is not None and c.days:
            spans = all_day_spans(data.occurrences, c.days)
            for occ, first, last, lane in spans:
                r = QRectF(
                    c.column_x(first) + 2,
                    4 + lane * (CHIP_H + 2),
                    c.column_x(last + 1) - c.column_x(first) - 6,
                    CHIP_H,
                )
                self.rows.append((r, occ))
                self._cards.append(
                    layout_card(r, occ, data.color_of(occ), "", fonts, booking=data.booking_of(occ))
                )
                lanes = max(lanes, lane + 1)
        self.setFixedHeight(max(1, lanes) * (CHIP_H + 2) + 8)
        self.update()

    def resizeEvent(self, event: object) -> None:
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.refresh()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        p.setFont(small)
        p.setPen(theme.TEXT_MUTED)
        p.drawText(
            QRectF(0, 4, GUTTER - 10, CHIP_H),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            "all-day",
        )
        for card in self._cards:
            draw_card(p, card, selected=card.occ.key == self.canvas.selected_key)
        p.setPen(QPen(theme.GRID_LINE, 1))
        y = self.height() - 0.5
        p.drawLine(QPointF(0, y), QPointF(self.width(), y))
        for i in range(1, len(self.canvas.days)):
            x = int(self.canvas.column_x(i)) + 0.5
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = next((occ for rect, occ in self.rows if rect.contains(event.position())), None)
        self.canvas.select(hit)
        self.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        hit = next((occ for rect, occ in self.rows if rect.contains(QPointF(event.pos()))), None)
        if hit is not None:
            self.canvas.select(hit)
            self.update()
            self.context_requested.emit(hit, event.globalPos())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        for rect, occ in self.rows:
            if rect.contains(event.position()):
                self.open_requested.emit(occ)
                return


class WeekView(QFrame):
    """A day header, the all-day row and a scrollable ``TimeGridCanvas`` for 1-7 days."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WeekView")
        self.canvas = TimeGridCanvas()
        self.header = _DayHeader(self.canvas)
        self.all_day = _AllDayRow(self.canvas)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.canvas)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        # Always reserve the scrollbar so header columns line up with the grid's.
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        for w in (self.header, self.all_day):
            w.setContentsMargins(0, 0, 0, 0)
        self._header_box = QWidget()
        hl = QVBoxLayout(self._header_box)
        hl.setContentsMargins(0, 0, self.scroll_area.verticalScrollBar().sizeHint().width(), 0)
        hl.setSpacing(0)
        hl.addWidget(self.header)
        hl.addWidget(self.all_day)
        lay.addWidget(self._header_box)
        lay.addWidget(self.scroll_area, 1)
        self._scrolled_for: tuple[date, ...] | None = None

    def sizeHint(self) -> QSize:
        return QSize(900, 700)

    def set_data(self, days: list[date], data: ViewData, now: datetime) -> None:
        """Show ``days``; on a new range, scroll so working hours (or now) are in sight."""
        self.canvas.set_data(days, data, now)
        self.header.today = now.astimezone(data.tz).date()
        self.header.update()
        self.all_day.refresh()
        if self._scrolled_for != tuple(days):
            self._scrolled_for = tuple(days)
            QTimer.singleShot(0, self._scroll_to_start)

    def _scroll_to_start(self) -> None:
        c = self.canvas
        if c.data is None:
            return
        target = max(c.first_hour, c.data.settings.day_start_hour) * 60
        self.scroll_area.verticalScrollBar().setValue(max(0, c.y_of(target) - 12))
