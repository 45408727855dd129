"""Appointment cards laid out once and painted many times.

Measuring text (font copies, font metrics, eliding) and deriving colours costs far more than
painting, so ``layout_card`` does it once when the data, the geometry or the font changes and
``draw_card`` only paints from the result. The picture is the same as painting from scratch.

GUI thread only (QPainter, QFontMetrics, QPixmap).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap

from carecal.domain.models import AppointmentStatus, Occurrence, VisitMode
from carecal.services.docplanner_info import BookingInfo
from carecal.ui import theme
from carecal.ui.booking_badges import draw_booking_marks, marks_width
from carecal.ui.cards import detail_lines, draw_badge, draw_glyphs, fmt_time, status_glyph_width

_TOP = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
_VCENTER = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_BADGE_STEPS = 4  # sub-pixel positions per pixel a cached badge is drawn for
_BADGE_BOX = 20  # px, the badge (radius 7.5 plus its outline) fits with room for the offset


@dataclass(frozen=True, slots=True)
class CardFonts:
    """The fonts and metrics a card uses, derived from the widget font once."""

    bold: QFont
    bold_struck: QFont
    small: QFont
    fm_b: QFontMetrics
    fm_s: QFontMetrics

    @staticmethod
    def of(font: QFont) -> CardFonts:
        """The card fonts for a widget's ``font`` (built once per distinct font)."""
        key = font.key()
        fonts = _FONTS.get(key)
        if fonts is None:
            if len(_FONTS) > 16:
                _FONTS.clear()
            fonts = _FONTS[key] = _make_fonts(font)
        return fonts


# Keyed by QFont.key(): a font's identity by value (a QFont is no dictionary key itself).
_FONTS: dict[str, CardFonts] = {}


def _make_fonts(font: QFont) -> CardFonts:
    bold = QFont(font)
    bold.setWeight(QFont.Weight.DemiBold)
    struck = QFont(bold)
    struck.setStrikeOut(True)
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    return CardFonts(bold, struck, small, QFontMetrics(bold), QFontMetrics(small))


@dataclass(frozen=True, slots=True)
class CardPalette:
    """A card's colours, plain and selected, for one calendar/service colour."""

    fill: QColor
    bar: QColor
    text: QColor
    selected_fill: QColor
    selected_text: QColor


@lru_cache(maxsize=256)
def card_palette(base: str) -> CardPalette:
    """The (cached) colours of a card of colour ``base``; callers must not modify them."""
    fill, bar, text = theme.card_colors(base)
    sel_text = QColor("#ffffff") if bar.lightnessF() < 0.7 else QColor("#111827")
    return CardPalette(fill, bar, text, QColor(bar), sel_text)


@dataclass(frozen=True, slots=True)
class CardText:
    """One string of a card, already elided, with where and how it is drawn."""

    rect: QRectF
    align: Qt.AlignmentFlag
    text: str
    font: QFont
    warning: bool  # drawn in the badge red ("No-show") rather than the text colour


@dataclass(frozen=True, slots=True)
class CardLayout:
    """Everything ``draw_card`` needs: computed once per data, geometry or font change."""

    occ: Occurrence
    rect: QRectF
    bounds: QRectF  # what painting may touch, badge included: for skipping unexposed cards
    outline: QPainterPath
    bar: QPainterPath  # the colour bar: the bar's strip of the rounded outline
    palette: CardPalette
    texts: tuple[CardText, ...]
    glyph_at: QPointF  # right end and top of the status glyphs
    cancelled: bool
    outline_pen: QPen | None  # the dashed outline of cancelled and no-show cards
    double_booked: bool
    conflict: bool = False  # open in the conflict inbox: a "sync conflict" badge
    booking: BookingInfo | None = None  # a Docplanner booking: its marks in the glyph row


def layout_card(
    rect: QRectF,
    occ: Occurrence,
    base_color: str,
    patient: str,
    fonts: CardFonts,
    *,
    double_booked: bool = False,
    conflict: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    booking: BookingInfo | None = None,
) -> CardLayout:
    """Lay out a timed appointment card in ``rect``: colour bar, title, time, patient, status
    (and the Docplanner marks of ``booking``)."""
    ev = occ.event
    pal = card_palette(base_color)
    cancelled = ev.status is AppointmentStatus.CANCELLED
    no_show = ev.status is AppointmentStatus.NO_SHOW
    outline = QPainterPath()
    outline.addRoundedRect(rect, 5, 5)
    pen = None
    if cancelled or no_show:
        pen = QPen(pal.bar if cancelled else theme.BADGE, 1, Qt.PenStyle.DashLine)
    inner = rect.adjusted(8, 3, -5, -2)
    glyph_w = status_glyph_width(occ) + marks_width(booking)
    bold = fonts.bold_struck if cancelled else fonts.bold
    small = fonts.small
    fm_b, fm_s = fonts.fm_b, fonts.fm_s
    time_text = ""
    if start is not None and end is not None:
        time_text = f"{fmt_time(start)} – {fmt_time(end)}"
    if time_text and start is not None and fm_s.horizontalAdvance(time_text) > inner.width():
        time_text = fmt_time(start)  # a narrow card in a double-booked column: the start only
    line_h = fm_b.height()
    texts: list[CardText] = []
    if inner.height() < line_h * 1.9:
        # One line: "09:00 Title", for short visits.
        prefix = fmt_time(start) + "  " if start is not None else ""
        pw = fm_s.horizontalAdvance(prefix)
        if prefix:
            box = QRectF(inner.left(), inner.top(), pw, inner.height())
            texts.append(CardText(box, _TOP, prefix, small, False))
        room = max(0.0, inner.width() - pw - glyph_w)
        title = fm_b.elidedText(ev.title or "(no title)", Qt.TextElideMode.ElideRight, int(room))
        box = QRectF(inner.left() + pw, inner.top() - 1, inner.width() - pw, inner.height() + 1)
        texts.append(CardText(box, _TOP, title, bold, False))
        left = room - fm_b.horizontalAdvance(title)
        if patient and left > fm_s.horizontalAdvance("  ·  Ab."):
            # The patient after the title when the card has room for it.
            who = fm_s.elidedText("  ·  " + patient, Qt.TextElideMode.ElideRight, int(left))
            box = QRectF(inner.right() - glyph_w - left, inner.top(), left, inner.height())
            texts.append(CardText(box, _TOP, who, small, False))
    else:
        title = fm_b.elidedText(
            ev.title or "(no title)",
            Qt.TextElideMode.ElideRight,
            int(max(0.0, inner.width() - glyph_w)),
        )
        box = QRectF(inner.left(), inner.top(), inner.width(), line_h)
        texts.append(CardText(box, _VCENTER, title, bold, False))
        y = inner.top() + line_h
        lines = detail_lines(time_text, start, patient, ev.location, fm_s, inner.width())
        if no_show:
            lines.insert(0, "No-show")
        elif ev.status is AppointmentStatus.ARRIVED:
            lines.append("Arrived")
        for i, line in enumerate(lines):
            if y + fm_s.height() > inner.bottom() + 2:
                break
            shown = fm_s.elidedText(line, Qt.TextElideMode.ElideRight, int(inner.width()))
            box = QRectF(inner.left(), y, inner.width(), fm_s.height())
            texts.append(CardText(box, _VCENTER, shown, small, no_show and i == 0))
            y += fm_s.height()
    bounds = QRectF(rect)
    for t in texts:
        bounds = bounds.united(t.rect)
    bounds = bounds.adjusted(-2, -10, 10, 2)  # pens, the badge over the top-right corner
    return CardLayout(
        occ=occ,
        rect=QRectF(rect),
        bounds=bounds,
        outline=outline,
        bar=_bar_path(outline, rect),
        palette=pal,
        texts=tuple(texts),
        glyph_at=QPointF(inner.right(), inner.top() + 2),
        cancelled=cancelled,
        outline_pen=pen,
        double_booked=double_booked,
        conflict=conflict,
        booking=booking,
    )


def _bar_path(outline: QPainterPath, rect: QRectF) -> QPainterPath:
    strip = QPainterPath()
    strip.addRect(QRectF(rect.left(), rect.top(), 3.5, rect.height()))
    return outline.intersected(strip)


def draw_card(p: QPainter, lay: CardLayout, *, selected: bool = False) -> None:
    """Paint a laid-out card. Leaves pen, brush and font changed; restores the opacity."""
    pal = lay.palette
    fill, text = (pal.selected_fill, pal.selected_text) if selected else (pal.fill, pal.text)
    opacity = p.opacity()
    if lay.cancelled:
        p.setOpacity(0.55)
    p.fillPath(lay.outline, fill)
    # The bar's shape is computed once per layout: clipping every card to its outline on every
    # paint cost about a fifth of a week repaint.
    p.fillPath(lay.bar, pal.bar)
    if lay.outline_pen is not None:
        p.setPen(lay.outline_pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(lay.outline)
    font: QFont | None = None
    for t in lay.texts:
        if t.font is not font:
            font = t.font
            p.setFont(font)
        p.setPen(theme.BADGE if t.warning else text)
        p.drawText(t.rect, t.align, t.text)
    ev = lay.occ.event
    if ev.status is AppointmentStatus.COMPLETED or ev.mode is not VisitMode.IN_PERSON:
        draw_glyphs(p, lay.glyph_at.x(), lay.glyph_at.y(), lay.occ, text)
    if lay.booking is not None:
        right = lay.glyph_at.x() - status_glyph_width(lay.occ)
        draw_booking_marks(p, right, lay.glyph_at.y() - 0.5, lay.booking)
    p.setOpacity(opacity)
    if lay.double_booked:
        draw_badge_cached(p, QPointF(lay.rect.right() - 3, lay.rect.top() + 3))
    if lay.conflict:
        shift = 18 if lay.double_booked else 0
        draw_conflict_badge(p, QPointF(lay.rect.right() - 3 - shift, lay.rect.top() + 3))


def draw_conflict_badge(p: QPainter, center: QPointF) -> None:
    """The amber "sync conflict" badge: a filled circle with a question mark."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor("#ffffff"), 1.5))
    p.setBrush(QColor(CONFLICT_COLOR))
    p.drawEllipse(center, 7.5, 7.5)
    font = QFont(p.font())
    font.setBold(True)
    font.setPixelSize(11)
    p.setFont(font)
    p.drawText(
        QRectF(center.x() - 7.5, center.y() - 7.5, 15, 15), Qt.AlignmentFlag.AlignCenter, "?"
    )
    p.restore()


CONFLICT_COLOR = "#d97706"


def draw_badge_cached(p: QPainter, center: QPointF) -> None:
    """The double-booked badge from a cached picture drawn at the nearest quarter pixel.

    Painting the badge's anti-aliased circle and strokes was a third of a busy week's repaint.
    """
    dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
    if not p.transform().isIdentity() or dpr <= 0:
        draw_badge(p, center)
        return
    x0, y0 = math.floor(center.x()), math.floor(center.y())
    fx = round((center.x() - x0) * _BADGE_STEPS)
    fy = round((center.y() - y0) * _BADGE_STEPS)
    pix = _badge_pixmap(dpr, fx, fy)
    half = _BADGE_BOX // 2
    p.drawPixmap(QPointF(x0 - half, y0 - half), pix)


@lru_cache(maxsize=128)
def _badge_pixmap(dpr: float, fx: int, fy: int) -> QPixmap:
    size = math.ceil(_BADGE_BOX * dpr)
    pix = QPixmap(size, size)
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    q = QPainter(pix)
    q.setRenderHint(QPainter.RenderHint.Antialiasing)
    half = _BADGE_BOX // 2
    draw_badge(q, QPointF(half + fx / _BADGE_STEPS, half + fy / _BADGE_STEPS))
    q.end()
    return pix


def paint_card(
    p: QPainter,
    rect: QRectF,
    occ: Occurrence,
    base_color: str,
    patient: str,
    *,
    selected: bool = False,
    double_booked: bool = False,
    start: datetime | None = None,
    end: datetime | None = None,
    font: QFont,
    booking: BookingInfo | None = None,
) -> None:
    """Lay out and paint one card at once (for the few cards not worth keeping a layout of)."""
    lay = layout_card(
        rect,
        occ,
        base_color,
        patient,
        CardFonts.of(font),
        double_booked=double_booked,
        start=start,
        end=end,
        booking=booking,
    )
    draw_card(p, lay, selected=selected)
