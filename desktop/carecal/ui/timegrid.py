"""The custom-painted time grid of the day, work-week and week views (GUI thread only).

``TimeGridCanvas`` paints hour rows, working-hour shading, breaks, the current-time line and the
appointment cards, and turns mouse drags into requests (create / move / resize / open). It never
touches the database: the main window answers the requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from carecal.domain.models import Occurrence
from carecal.ui import theme
from carecal.ui.booking_badges import occurrence_tooltip, show_tooltip
from carecal.ui.card_layout import CardFonts, CardLayout, draw_card, layout_card
from carecal.ui.cards import fmt_time
from carecal.ui.layout import layout_columns
from carecal.ui.loader import ViewData

GUTTER = 60
TOP_PAD = 10
EDGE = 6  # px at a card's bottom that start a resize
DRAG_THRESHOLD = 4
MIN_VISUAL_MINUTES = 20


@dataclass(slots=True)
class CardHit:
    """One painted card segment (an appointment may span two days: one segment per day)."""

    occ: Occurrence
    day: int  # column index
    rect: QRectF
    start: datetime  # local, in the display zone
    end: datetime
    is_end_segment: bool
    card: CardLayout | None = None  # what paintEvent draws, laid out with the hits


def wall(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The aware local datetime ``minutes`` after midnight of ``day`` (may roll into next day)."""
    d = day + timedelta(days=minutes // 1440)
    m = minutes % 1440
    return datetime.combine(d, time(m // 60, m % 60), tz)


class TimeGridCanvas(QWidget):
    """Paints the days in ``days``; emits requests for the main window to carry out."""

    create_requested = Signal(object, object)  # start, end (aware, display zone)
    move_requested = Signal(object, object, object)  # Occurrence, new start, new end
    open_requested = Signal(object)  # Occurrence
    selection_changed = Signal(object)  # Occurrence | None
    context_requested = Signal(object, object)  # Occurrence, global QPoint

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TimeGrid")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.hour_height = 52
        self.days: list[date] = []
        self.data: ViewData | None = None
        self.now: datetime | None = None
        self.first_hour = 7
        self.last_hour = 20
        self.slot_minutes = 15
        self.default_minutes = 50
        self.selected_key: tuple[str, str] | None = None
        self.hits: list[CardHit] = []
        self._drag: _Drag | None = None

    # ---- data ---------------------------------------------------------------------------
    def set_data(self, days: list[date], data: ViewData, now: datetime) -> None:
        """Show ``days`` from ``data``; lays out cards and resizes to fit the visible hours."""
        self.days, self.data, self.now = days, data, now
        s = data.settings
        self.slot_minutes = max(5, s.slot_minutes)
        self.default_minutes = max(self.slot_minutes, s.default_duration_minutes)
        first, last = s.day_start_hour, max(s.day_start_hour + 1, s.day_end_hour)
        for occ in self._timed():
            a, b = self._local(occ)
            if a.date() in days:
                first = min(first, a.hour)
            if b.date() in days:
                last = max(last, b.hour + (1 if b.minute else 0))
        self.first_hour, self.last_hour = max(0, first), min(24, last)
        self.setMinimumHeight(self.y_of(self.last_hour * 60) + TOP_PAD)
        self._relayout()
        self.update()

    def _timed(self) -> list[Occurrence]:
        if self.data is None:
            return []
        return [o for o in self.data.occurrences if isinstance(o.start, datetime)]

    def _local(self, occ: Occurrence) -> tuple[datetime, datetime]:
        assert self.data is not None and isinstance(occ.start, datetime)
        assert isinstance(occ.end, datetime)
        return occ.start.astimezone(self.data.tz), occ.end.astimezone(self.data.tz)

    # ---- geometry -----------------------------------------------------------------------
    def column_x(self, index: int) -> float:
        """Left edge of day column ``index``."""
        if not self.days:
            return GUTTER
        return GUTTER + (self.width() - GUTTER) * index / len(self.days)

    def column_width(self) -> float:
        return (self.width() - GUTTER) / max(1, len(self.days))

    def y_of(self, minutes: float) -> int:
        return int(TOP_PAD + (minutes - self.first_hour * 60) * self.hour_height / 60)

    def minutes_at(self, y: float) -> float:
        return self.first_hour * 60 + (y - TOP_PAD) * 60 / self.hour_height

    def day_index_at(self, x: float) -> int:
        w = self.column_width()
        return max(0, min(len(self.days) - 1, int((x - GUTTER) // w))) if self.days else 0

    def snap(self, minutes: float, *, floor: bool = False) -> int:
        step = self.slot_minutes
        n = minutes // step if floor else round(minutes / step)
        return int(max(0, min(24 * 60, n * step)))

    def point_for(self, day: date, minutes: int) -> QPoint:
        """The canvas point at ``minutes`` after midnight in the middle of ``day``'s column."""
        i = self.days.index(day)
        return QPoint(int(self.column_x(i) + self.column_width() / 2), self.y_of(minutes) + 1)

    def card_rect(self, key: tuple[str, str]) -> QRectF | None:
        """The painted rect of the first segment of the card with occurrence ``key``."""
        return next((h.rect for h in self.hits if h.occ.key == key), None)

    def hit_at(self, pos: QPointF) -> CardHit | None:
        for hit in reversed(self.hits):
            if hit.rect.contains(pos):
                return hit
        return None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._relayout()

    def event(self, event: QEvent) -> bool:
        """A card's tooltip: its title and time, the video visit and the Docplanner booking
        (the payment's minutes counted when the tooltip opens)."""
        return show_tooltip(self, event, self.tooltip_at) or super().event(event)

    def tooltip_at(self, pos: QPointF) -> str:
        """The tooltip of the card at ``pos`` ("" over empty grid)."""
        hit = self.hit_at(pos)
        if hit is None or self.data is None:
            return ""
        now = self.now if self.now is not None else datetime.now(self.data.tz)
        return occurrence_tooltip(hit.occ, self.data.booking_of(hit.occ), now, self.data.tz)

    def _relayout(self) -> None:
        self.hits = []
        if self.data is None:
            return
        tz = self.data.tz
        per_day: list[list[tuple[Occurrence, datetime, datetime]]] = [[] for _ in self.days]
        for occ in self._timed():
            a, b = self._local(occ)
            for i, day in enumerate(self.days):
                d0, d1 = wall(day, 0, tz), wall(day, 1440, tz)
                s, e = max(a, d0), min(b, d1)
                if s < e or (a == b and d0 <= a < d1):
                    per_day[i].append((occ, s, e))
        w = self.column_width()
        fonts = CardFonts.of(self.font())
        data = self.data
        for i, items in enumerate(per_day):
            keyed = {(occ.key, n): (occ, s, e) for n, (occ, s, e) in enumerate(items)}
            place = layout_columns(
                [
                    (k, s, max(e, s + timedelta(minutes=MIN_VISUAL_MINUTES)))
                    for k, (_, s, e) in keyed.items()
                ]
            )
            x0 = self.column_x(i) + 1
            for k, (occ, s, e) in keyed.items():
                pl = place[k]
                top = self.y_of(s.hour * 60 + s.minute)
                end_min = (e - wall(self.days[i], 0, tz)).total_seconds() / 60
                bottom = max(self.y_of(end_min), top + self.hour_height * MIN_VISUAL_MINUTES / 60)
                avail = w - 8
                rect = QRectF(x0 + avail * pl.left, top + 1, avail * pl.width - 2, bottom - top - 2)
                a, b = self._local(occ)
                card = layout_card(
                    rect,
                    occ,
                    data.color_of(occ),
                    data.patient_label(occ),
                    fonts,
                    double_booked=occ.key in data.double_booked,
                    conflict=(occ.event.calendar_id, occ.event.uid) in data.conflicted,
                    start=a,
                    end=b,
                    booking=data.booking_of(occ),
                )
                self.hits.append(CardHit(occ, i, rect, s, e, is_end_segment=(e == b), card=card))

    # ---- painting -----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        if self.data is None or not self.days:
            return
        self._paint_background(p)
        # Only the cards in the exposed area; each from the layout made when data or size changed.
        exposed = QRectF(event.rect())
        dragged = self._drag.hit if self._drag is not None and self._drag.active else None
        for hit in self.hits:
            card = hit.card
            if card is None or not card.bounds.intersects(exposed):
                continue
            if hit is dragged:
                p.setOpacity(0.35)
            draw_card(p, card, selected=hit.occ.key == self.selected_key)
            p.setOpacity(1.0)
        self._paint_drag(p)
        self._paint_now(p)

    def _paint_background(self, p: QPainter) -> None:
        assert self.data is not None
        h_top, h_bot = self.y_of(self.first_hour * 60), self.y_of(self.last_hour * 60)
        w = self.column_width()
        hatch = QBrush(QColor("#e3e6ea"), Qt.BrushStyle.BDiagPattern)
        for i, day in enumerate(self.days):
            x = self.column_x(i)
            p.fillRect(QRectF(x, h_top, w, h_bot - h_top), theme.OFF_HOURS)
            for a, b in self.data.working.get(day, []):
                p.fillRect(
                    QRectF(x, self.y_of(a), w, self.y_of(b) - self.y_of(a)), QColor("#ffffff")
                )
            for a, b in self.data.breaks.get(day, []):
                r = QRectF(x, self.y_of(a), w, self.y_of(b) - self.y_of(a))
                p.fillRect(r, theme.BREAK_FILL)
                p.fillRect(r, hatch)
        label_font = self.font()
        label_font.setPointSizeF(max(7.0, label_font.pointSizeF() - 1.5))
        p.setFont(label_font)
        for hour in range(self.first_hour, self.last_hour + 1):
            y = self.y_of(hour * 60)
            p.setPen(QPen(theme.GRID_LINE, 1))
            p.drawLine(QPointF(GUTTER - 6, y + 0.5), QPointF(self.width(), y + 0.5))
            if hour < self.last_hour:
                yh = self.y_of(hour * 60 + 30)
                p.setPen(QPen(theme.GRID_LINE_SOFT, 1, Qt.PenStyle.DotLine))
                p.drawLine(QPointF(GUTTER, yh + 0.5), QPointF(self.width(), yh + 0.5))
            if hour < 24:
                p.setPen(theme.TEXT_MUTED)
                p.drawText(
                    QRectF(0, y - 8, GUTTER - 12, 16),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    f"{hour:02d}:00",
                )
        p.setPen(QPen(theme.GRID_LINE, 1))
        for i in range(len(self.days) + 1):
            x = int(self.column_x(i)) + 0.5
            p.drawLine(QPointF(x, h_top), QPointF(x, h_bot))

    def _paint_now(self, p: QPainter) -> None:
        if self.now is None or self.data is None:
            return
        now = self.now.astimezone(self.data.tz)
        if now.date() not in self.days:
            return
        minutes = now.hour * 60 + now.minute
        if not self.first_hour * 60 <= minutes <= self.last_hour * 60:
            return
        i = self.days.index(now.date())
        y = self.y_of(minutes) + 0.5
        x0, x1 = self.column_x(i), self.column_x(i + 1)
        p.setPen(QPen(theme.NOW_LINE, 2))
        p.drawLine(QPointF(x0, y), QPointF(x1, y))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(theme.NOW_LINE)
        p.drawEllipse(QPointF(x0, y), 4.5, 4.5)
        f = self.font()
        f.setPointSizeF(max(7.0, f.pointSizeF() - 1.5))
        f.setBold(True)
        p.setFont(f)
        label = QRectF(2, y - 8, GUTTER - 10, 16)
        p.fillRect(label, QColor("#ffffff"))
        p.setPen(theme.NOW_LINE)
        p.drawText(
            label, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, fmt_time(now)
        )

    def _paint_drag(self, p: QPainter) -> None:
        d = self._drag
        if d is None or not d.active or self.data is None:
            return
        preview = d.preview(self)
        if preview is None:
            return
        i, s_min, e_min = preview
        x = self.column_x(i) + 1
        rect = QRectF(
            x,
            self.y_of(s_min) + 1,
            self.column_width() - 8,
            self.y_of(e_min) - self.y_of(s_min) - 2,
        )
        color = QColor(theme.ACCENT) if d.hit is None else QColor(self.data.color_of(d.hit.occ))
        fill = QColor(color)
        fill.setAlphaF(0.18)
        p.setPen(QPen(color, 1.5))
        p.setBrush(fill)
        p.drawRoundedRect(rect, 5, 5)
        f = self.font()
        f.setBold(True)
        p.setFont(f)
        p.setPen(color.darker(150))
        text = f"{_hm(s_min)} – {_hm(e_min)}"
        p.drawText(rect.adjusted(8, 3, -4, -2), Qt.AlignmentFlag.AlignLeft, text)

    # ---- mouse --------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.days:
            return super().mousePressEvent(event)
        self.setFocus()
        pos = event.position()
        hit = self.hit_at(pos)
        if hit is None:
            self._select(None)
            if pos.x() >= GUTTER:
                self._drag = _Drag("create", pos, None)
        else:
            self._select(hit.occ)
            near_bottom = hit.is_end_segment and hit.rect.bottom() - pos.y() <= EDGE
            self._drag = _Drag("resize" if near_bottom else "move", pos, hit)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        d = self._drag
        if d is None:
            hit = self.hit_at(pos)
            resize = hit is not None and hit.is_end_segment and hit.rect.bottom() - pos.y() <= EDGE
            self.setCursor(Qt.CursorShape.SizeVerCursor if resize else Qt.CursorShape.ArrowCursor)
            return
        if not d.active and (pos - d.origin).manhattanLength() >= DRAG_THRESHOLD:
            d.active = True
        d.pos = pos
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        d, self._drag = self._drag, None
        if d is None or event.button() != Qt.MouseButton.LeftButton:
            return
        d.pos = event.position()
        preview = d.preview(self) if d.active else None
        self.update()
        if preview is None or self.data is None:
            return
        i, s_min, e_min = preview
        start, end = (
            wall(self.days[i], s_min, self.data.tz),
            wall(self.days[i], e_min, self.data.tz),
        )
        if d.kind == "create":
            self.create_requested.emit(start, end)
            return
        assert d.hit is not None
        occ = d.hit.occ
        old_s, old_e = self._local(occ)
        if d.kind == "move":
            # Keep the real duration (a card segment may be clipped at midnight).
            offset = d.hit.start - old_s
            new_s = start - offset
            new_e = new_s + (old_e - old_s)
        else:
            new_s, new_e = old_s, end
        if (new_s, new_e) != (old_s, old_e):
            self.move_requested.emit(occ, new_s, new_e)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        if self.data is None or not self.days:
            return
        pos = event.position()
        hit = self.hit_at(pos)
        if hit is not None:
            self.open_requested.emit(hit.occ)
            return
        if pos.x() < GUTTER:
            return
        i = self.day_index_at(pos.x())
        s = self.snap(self.minutes_at(pos.y()), floor=True)
        tz = self.data.tz
        self.create_requested.emit(
            wall(self.days[i], s, tz), wall(self.days[i], s + self.default_minutes, tz)
        )

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right-click on a card: select it and ask for its menu (emptiness has none)."""
        hit = self.hit_at(QPointF(event.pos()))
        if hit is None or self._drag is not None:
            return
        self._select(hit.occ)
        self.context_requested.emit(hit.occ, event.globalPos())

    def select(self, occ: Occurrence | None) -> None:
        """Select ``occ`` (or nothing), announcing a change. GUI thread."""
        self._select(occ)

    def _select(self, occ: Occurrence | None) -> None:
        key = None if occ is None else occ.key
        if key != self.selected_key:
            self.selected_key = key
            self.selection_changed.emit(occ)
            self.update()


def _hm(minutes: int) -> str:
    m = minutes % 1440 if minutes != 1440 else 1440
    return f"{m // 60:02d}:{m % 60:02d}"


@dataclass(slots=True)
class _Drag:
    kind: str  # create | move | resize
    origin: QPointF
    hit: CardHit | None
    pos: QPointF | None = None
    active: bool = False

    def preview(self, c: TimeGridCanvas) -> tuple[int, int, int] | None:
        """(column, start minutes, end minutes) of the ghost, snapped to the slot size."""
        pos = self.pos or self.origin
        if self.kind == "create":
            i = c.day_index_at(self.origin.x())
            a = c.snap(c.minutes_at(self.origin.y()), floor=True)
            b = c.snap(c.minutes_at(pos.y()), floor=True)
            lo, hi = min(a, b), max(a, b) + c.slot_minutes
            return i, lo, min(hi, 1440)
        assert self.hit is not None
        hit = self.hit
        s = hit.start.hour * 60 + hit.start.minute
        e = s + int((hit.end - hit.start).total_seconds() // 60)
        if self.kind == "resize":
            new_e = max(s + c.slot_minutes, c.snap(c.minutes_at(pos.y())))
            return hit.day, s, min(new_e, 1440)
        delta_raw = c.minutes_at(pos.y()) - c.minutes_at(self.origin.y())
        delta = int(round(delta_raw / c.slot_minutes) * c.slot_minutes)
        new_s = s + delta
        # Snap the new start itself to the grid, so an off-grid visit lands on a slot.
        new_s = int(round(new_s / c.slot_minutes) * c.slot_minutes)
        new_s = max(0, min(1440 - (e - s), new_s))
        return c.day_index_at(pos.x()), new_s, new_s + (e - s)
