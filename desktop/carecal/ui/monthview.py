"""Month view: a 6-week grid of days with event chips and "+N more" (GUI thread only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
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
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from carecal.domain.models import AppointmentStatus, Occurrence, VisitMode
from carecal.services.docplanner_info import BookingInfo
from carecal.ui import theme
from carecal.ui.booking_badges import (
    MARK,
    draw_booking_marks,
    marks_width,
    occurrence_tooltip,
    show_tooltip,
)
from carecal.ui.card_layout import CardPalette, card_palette
from carecal.ui.cards import draw_camera, fmt_time
from carecal.ui.loader import ViewData

HEAD_H = 30
CHIP_H = 18
CHIP_GAP = 1
CHIPS_TOP = 27  # below the day number
CELL_PAD = 3  # free pixels at the bottom of a cell
CAMERA_W = 16  # the video glyph (12 px) and its gap
DOT_W = 10  # the double-booked dot at a chip's right end


def chips_that_fit(cell_height: float, count: int) -> int:
    """How many of ``count`` chips a cell shows; when some are left out, one row says "+N more".

    Pure arithmetic; any thread.
    """
    rows = max(0, int((cell_height - CHIPS_TOP - CELL_PAD + CHIP_GAP) // (CHIP_H + CHIP_GAP)))
    if count <= rows:
        return count
    return max(0, rows - 1)


@dataclass(frozen=True, slots=True)
class _Chip:
    """One chip laid out: its rect, elided label and colours (selection is applied in paint)."""

    rect: QRectF
    occ: Occurrence
    text_rect: QRectF
    label: str
    timed: bool
    cancelled: bool
    double_booked: bool
    palette: CardPalette
    video: bool = False  # a video visit: the cards' camera glyph
    booking: BookingInfo | None = None  # a Docplanner booking: its marks


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

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        """``clock``: the session's clock, for tooltips that count minutes (without one they
        count from the last data load)."""
        super().__init__(parent)
        self.setObjectName("MonthView")
        self.clock = clock
        self.first_day = date.today()
        self.month = self.first_day.month
        self.data: ViewData | None = None
        self.today: date | None = None
        self.now: datetime | None = None
        self.selected_key: tuple[str, str] | None = None
        self.selected_day: date | None = None
        self.chips: list[tuple[QRectF, Occurrence]] = []
        self.more: list[tuple[QRectF, date]] = []
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Bucketed once per data load; chips laid out once per data, size or font change.
        self._by_day_cache: dict[date, list[Occurrence]] = {}
        self._chip_layout: list[_Chip] | None = None
        self._more_counts: list[int] = []  # hidden chips of each entry of ``more``

    def set_data(self, first_day: date, month: int, data: ViewData, now: datetime) -> None:
        """Show the 42 days from ``first_day``; buckets ``data`` by day once. GUI thread."""
        self.first_day, self.month, self.data = first_day, month, data
        self.today = now.astimezone(data.tz).date()
        self.now = now
        self._by_day_cache = self._by_day()
        self._chip_layout = None
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._chip_layout = None

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._chip_layout = None

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
        keys = {id(o): (isinstance(o.start, datetime), _sort_key(o)) for o in self.data.occurrences}
        for items in out.values():
            items.sort(key=lambda o: keys[id(o)])
        return out

    def _layout_chips(self, fm: QFontMetrics) -> list[_Chip]:
        """Chips and "+N more" rows of every cell for the current size (fills chips/more)."""
        chips: list[_Chip] = []
        self.chips, self.more, self._more_counts = [], [], []
        for i in range(42):
            day = self.first_day + timedelta(days=i)
            cell = self.cell_rect(i)
            items = self._by_day_cache.get(day, [])
            shown = items[: chips_that_fit(cell.height(), len(items))]
            y = cell.top() + CHIPS_TOP
            for occ in shown:
                r = QRectF(cell.left() + 4, y, cell.width() - 8, CHIP_H)
                chips.append(self._layout_chip(r, occ, fm))
                self.chips.append((r, occ))
                y += CHIP_H + CHIP_GAP
            if len(shown) < len(items):
                r = QRectF(cell.left() + 8, y, cell.width() - 12, CHIP_H)
                self.more.append((r, day))
                self._more_counts.append(len(items) - len(shown))
        return chips

    def _layout_chip(self, r: QRectF, occ: Occurrence, fm: QFontMetrics) -> _Chip:
        assert self.data is not None
        x = r.left() + 6
        timed = isinstance(occ.start, datetime)
        if timed:
            x += 11
            assert isinstance(occ.start, datetime)
            label = f"{fmt_time(occ.start.astimezone(self.data.tz))}  {occ.event.title}"
        else:
            label = occ.event.title
        video = occ.event.mode is VisitMode.VIDEO
        booking = self.data.booking_of(occ)
        double_booked = occ.key in self.data.double_booked
        glyphs = marks_width(booking) + (CAMERA_W if video else 0) + (DOT_W if double_booked else 0)
        room = int(r.right() - x - 4 - glyphs)
        shown = fm.elidedText(label, Qt.TextElideMode.ElideRight, max(0, room))
        return _Chip(
            rect=r,
            occ=occ,
            text_rect=QRectF(x, r.top(), r.right() - x, r.height()),
            label=shown,
            timed=timed,
            cancelled=occ.event.status is AppointmentStatus.CANCELLED,
            double_booked=double_booked,
            palette=card_palette(self.data.color_of(occ)),
            video=video,
            booking=booking,
        )

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
        if self.data is not None and self._chip_layout is None:
            self._chip_layout = self._layout_chips(fm)
        exposed = QRectF(event.rect())
        for i in range(42):
            day = self.first_day + timedelta(days=i)
            cell = self.cell_rect(i)
            if not cell.intersects(exposed):
                continue
            in_month = day.month == self.month
            if not in_month or day.weekday() >= 5:
                p.fillRect(cell, QColor("#fafafb"))
            self._paint_day_number(p, cell, day, in_month, base)
            if day == self.selected_day:
                p.fillRect(cell.adjusted(1, 1, 0, 0), theme.TODAY_BG)
        struck = QFont(small)
        struck.setStrikeOut(True)
        for chip in self._chip_layout or ():
            if chip.rect.intersects(exposed):
                self._paint_chip(p, chip, struck if chip.cancelled else small)
        p.setFont(head)
        p.setPen(theme.TEXT_MUTED)
        for (r, _), hidden in zip(self.more, self._more_counts, strict=True):
            if r.intersects(exposed):
                p.drawText(
                    r,
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    f"+{hidden} more",
                )
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

    def _paint_chip(self, p: QPainter, chip: _Chip, font: QFont) -> None:
        pal = chip.palette
        selected = chip.occ.key == self.selected_key
        if chip.cancelled:
            p.setOpacity(0.5)
        p.setFont(font)
        r = chip.rect
        if not chip.timed or selected:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.bar if selected else pal.fill)
            p.drawRoundedRect(r, 4, 4)
        if chip.timed:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(_WHITE if selected else pal.bar)
            p.drawEllipse(QPointF(r.left() + 9, r.center().y()), 3.5, 3.5)
        p.setPen(_WHITE if selected else (pal.text if not chip.timed else theme.TEXT))
        p.drawText(
            chip.text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, chip.label
        )
        right = r.right() - 4
        if chip.double_booked:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(theme.BADGE)
            p.drawEllipse(QPointF(r.right() - 6, r.center().y()), 3, 3)
            right = r.right() - DOT_W - 2
        if chip.video:
            right -= 12
            glyph = _WHITE if selected else (pal.text if not chip.timed else theme.TEXT_MUTED)
            draw_camera(p, right, r.center().y() - 4, glyph)
            right -= CAMERA_W - 12
        if chip.booking is not None:
            draw_booking_marks(p, right, r.center().y() - MARK / 2, chip.booking)
        if chip.cancelled:
            p.setOpacity(1.0)

    def event(self, event: QEvent) -> bool:
        """A chip's tooltip (title, time, video visit, Docplanner booking)."""
        return show_tooltip(self, event, self.tooltip_at) or super().event(event)

    def tooltip_at(self, pos: QPointF) -> str:
        """The tooltip of the chip at ``pos`` ("" elsewhere)."""
        occ = self.chip_at(pos)
        if occ is None or self.data is None:
            return ""
        now = self.clock() if self.clock is not None else self.now
        if now is None:
            now = datetime.now(self.data.tz)
        return occurrence_tooltip(occ, self.data.booking_of(occ), now, self.data.tz)

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


_WHITE = QColor("#ffffff")


def _sort_key(occ: Occurrence) -> str:
    return occ.start.isoformat()
