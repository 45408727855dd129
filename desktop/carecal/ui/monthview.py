"""Month view: a 6-week grid of days with event chips and "+N more" (GUI thread only)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QWidget

from carecal.domain.models import AppointmentStatus, Occurrence
from carecal.ui import theme
from carecal.ui.cards import fmt_time
from carecal.ui.loader import ViewData

HEAD_H = 30
CHIP_H = 18
CHIP_GAP = 1
CHIPS_TOP = 27  # below the day number
CELL_PAD = 3  # free pixels at the bottom of a cell


def chips_that_fit(cell_height: float, count: int) -> int:
    """How many of ``count`` chips a cell shows; when some are left out, one row says "+N more".

    Pure arithmetic; any thread.
    """
    rows = max(0, int((cell_height - CHIPS_TOP - CELL_PAD + CHIP_GAP) // (CHIP_H + CHIP_GAP)))
    if count <= rows:
        return count
    return max(0, rows - 1)


def month_grid_start(anchor: date, week_start: int) -> date:
    """First day shown for the month of ``anchor`` (the week start on or before the 1st)."""
    first = anchor.replace(day=1)
    return first - timedelta(days=(first.weekday() - week_start) % 7)


class MonthView(QWidget):
    """Paints 42 days starting at ``first_day``; emits day and appointment activations."""

    day_activated = Signal(object)  # date: the user wants that day in the day view
    create_requested = Signal(object)  # date: a new appointment on that day
    open_requested = Signal(object)  # Occurrence
    selection_changed = Signal(object)
    context_requested = Signal(object, object)  # Occurrence, global QPoint

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MonthView")
        self.first_day = date.today()
        self.month = self.first_day.month
        self.data: ViewData | None = None
        self.today: date | None = None
        self.selected_key: tuple[str, str] | None = None
        self.selected_day: date | None = None
        self.chips: list[tuple[QRectF, Occurrence]] = []
        self.more: list[tuple[QRectF, date]] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_data(self, first_day: date, month: int, data: ViewData, now: datetime) -> None:
        self.first_day, self.month, self.data = first_day, month, data
        self.today = now.astimezone(data.tz).date()
        self.update()

    def cell_rect(self, index: int) -> QRectF:
        w = self.width() / 7
        h = (self.height() - HEAD_H) / 6
        return QRectF((index % 7) * w, HEAD_H + (index // 7) * h, w, h)

    def day_at(self, pos: QPointF) -> date | None:
        for i in range(42):
            if self.cell_rect(i).contains(pos):
                return self.first_day + timedelta(days=i)
        return None

    def _by_day(self) -> dict[date, list[Occurrence]]:
        out: dict[date, list[Occurrence]] = {}
        if self.data is None:
            return out
        tz = self.data.tz
        for occ in self.data.occurrences:
            if isinstance(occ.start, datetime) and isinstance(occ.end, datetime):
                a = occ.start.astimezone(tz)
                b = occ.end.astimezone(tz)
                last = (b - timedelta(microseconds=1)).date() if b > a else a.date()
                d = a.date()
            else:
                d, last = occ.start, max(occ.start, occ.end - timedelta(days=1))
            while d <= last:
                out.setdefault(d, []).append(occ)
                d += timedelta(days=1)
        for items in out.values():
            items.sort(key=lambda o: (isinstance(o.start, datetime), _sort_key(o)))
        return out

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        base = self.font()
        small = QFont(base)
        small.setPointSizeF(max(7.0, base.pointSizeF() - 1))
        head = QFont(small)
        head.setWeight(QFont.Weight.DemiBold)
        fm = QFontMetrics(small)
        w = self.width() / 7
        p.setFont(head)
        p.setPen(theme.TEXT_MUTED)
        for i in range(7):
            d = self.first_day + timedelta(days=i)
            p.drawText(
                QRectF(i * w, 0, w - 10, HEAD_H),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                d.strftime("%a").upper(),
            )
        by_day = self._by_day()
        self.chips, self.more = [], []
        for i in range(42):
            day = self.first_day + timedelta(days=i)
            cell = self.cell_rect(i)
            in_month = day.month == self.month
            if not in_month or day.weekday() >= 5:
                p.fillRect(cell, QColor("#fafafb"))
            self._paint_day_number(p, cell, day, in_month, base)
            if day == self.selected_day:
                p.fillRect(cell.adjusted(1, 1, 0, 0), theme.TODAY_BG)
            items = by_day.get(day, [])
            shown = items[: chips_that_fit(cell.height(), len(items))]
            y = cell.top() + CHIPS_TOP
            for occ in shown:
                r = QRectF(cell.left() + 4, y, cell.width() - 8, CHIP_H)
                self._paint_chip(p, r, occ, small, fm)
                self.chips.append((r, occ))
                y += CHIP_H + CHIP_GAP
            if len(shown) < len(items):
                r = QRectF(cell.left() + 8, y, cell.width() - 12, CHIP_H)
                p.setFont(head)
                p.setPen(theme.TEXT_MUTED)
                p.drawText(
                    r,
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"+{len(items) - len(shown)} more",
                )
                self.more.append((r, day))
        p.setPen(QPen(theme.GRID_LINE, 1))
        for row in range(7):
            y = int(HEAD_H + row * (self.height() - HEAD_H) / 6) + 0.5
            p.drawLine(QPointF(0, y), QPointF(self.width(), y))
        for c in range(1, 7):
            x = int(c * w) + 0.5
            p.drawLine(QPointF(x, HEAD_H), QPointF(x, self.height()))

    def _paint_day_number(
        self, p: QPainter, cell: QRectF, day: date, in_month: bool, base: QFont
    ) -> None:
        f = QFont(base)
        f.setWeight(QFont.Weight.DemiBold if day == self.today else QFont.Weight.Normal)
        p.setFont(f)
        label = day.strftime("%b %-d") if day.day == 1 else str(day.day)
        fm = QFontMetrics(f)
        tw = fm.horizontalAdvance(label)
        r = QRectF(cell.right() - tw - 16, cell.top() + 4, tw + 10, 22)
        if day == self.today:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.ACCENT)
            p.drawRoundedRect(r, 11, 11)
            p.setPen(QColor("#ffffff"))
        else:
            p.setPen(theme.TEXT if in_month else theme.TEXT_FAINT)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_chip(
        self, p: QPainter, r: QRectF, occ: Occurrence, font: QFont, fm: QFontMetrics
    ) -> None:
        assert self.data is not None
        fill, bar, text = theme.card_colors(self.data.color_of(occ))
        selected = occ.key == self.selected_key
        cancelled = occ.event.status is AppointmentStatus.CANCELLED
        p.save()
        if cancelled:
            p.setOpacity(0.5)
        f = QFont(font)
        f.setStrikeOut(cancelled)
        p.setFont(f)
        timed = isinstance(occ.start, datetime)
        if not timed or selected:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(bar if selected else fill)
            p.drawRoundedRect(r, 4, 4)
        x = r.left() + 6
        if timed:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#ffffff") if selected else bar)
            p.drawEllipse(QPointF(x + 3, r.center().y()), 3.5, 3.5)
            x += 11
            assert isinstance(occ.start, datetime) and self.data is not None
            label = f"{fmt_time(occ.start.astimezone(self.data.tz))}  {occ.event.title}"
        else:
            label = occ.event.title
        p.setPen(QColor("#ffffff") if selected else (text if not timed else theme.TEXT))
        shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, int(r.right() - x - 4))
        p.drawText(
            QRectF(x, r.top(), r.right() - x, r.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            shown,
        )
        if self.data is not None and occ.key in self.data.double_booked:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.BADGE)
            p.drawEllipse(QPointF(r.right() - 6, r.center().y()), 3, 3)
        p.restore()

    def chip_at(self, pos: QPointF) -> Occurrence | None:
        return next((occ for r, occ in self.chips if r.contains(pos)), None)

    def more_at(self, pos: QPointF) -> date | None:
        return next((day for r, day in self.more if r.contains(pos)), None)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Click a chip: select it. Click "+N more": open that day. Click a day: select it."""
        pos = event.position()
        self.setFocus()
        occ = self.chip_at(pos)
        if occ is not None:
            self.selected_key, self.selected_day = occ.key, None
            self.selection_changed.emit(occ)
            self.update()
            return
        more = self.more_at(pos)
        if more is not None:
            self.day_activated.emit(more)
            return
        if self.selected_key is not None:
            self.selected_key = None
            self.selection_changed.emit(None)
        self.selected_day = self.day_at(pos)
        self.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right-click a chip: select it and ask for its menu."""
        occ = self.chip_at(QPointF(event.pos()))
        if occ is None:
            return
        if occ.key != self.selected_key:
            self.selected_key, self.selected_day = occ.key, None
            self.selection_changed.emit(occ)
            self.update()
        self.context_requested.emit(occ, event.globalPos())

    def chip_rect(self, key: tuple[str, str]) -> QRectF | None:
        """Where the chip of occurrence ``key`` was last painted."""
        return next((r for r, occ in self.chips if occ.key == key), None)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click a chip: open it. Double-click a day: a new appointment that day."""
        pos = event.position()
        occ = self.chip_at(pos)
        if occ is not None:
            self.open_requested.emit(occ)
            return
        if self.more_at(pos) is not None:
            return
        day = self.day_at(pos)
        if day is not None:
            self.create_requested.emit(day)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter opens the selected chip, or starts a new appointment on the selected day."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            occ = next((o for _, o in self.chips if o.key == self.selected_key), None)
            if occ is not None:
                self.open_requested.emit(occ)
                return
            if self.selected_day is not None:
                self.create_requested.emit(self.selected_day)
                return
        super().keyPressEvent(event)


def _sort_key(occ: Occurrence) -> str:
    return occ.start.isoformat()
