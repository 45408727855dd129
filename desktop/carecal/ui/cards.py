"""Painting one appointment card, shared by the time grid, the all-day row and the month view.

GUI thread only (QPainter).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen

from carecal.domain.models import AppointmentStatus, Occurrence, VisitMode
from carecal.ui import theme


def fmt_time(dt: datetime) -> str:
    return f"{dt.hour:02d}:{dt.minute:02d}"


def draw_camera(p: QPainter, x: float, y: float, color: QColor) -> None:
    """A small video-camera glyph 12x8 px with its top-left at (x, y)."""
    p.save()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    p.drawRoundedRect(QRectF(x, y, 8, 8), 1.5, 1.5)
    tri = QPainterPath(QPointF(x + 8.5, y + 4))
    tri.lineTo(x + 12, y + 1.2)
    tri.lineTo(x + 12, y + 6.8)
    tri.closeSubpath()
    p.drawPath(tri)
    p.restore()


def draw_phone(p: QPainter, x: float, y: float, color: QColor) -> None:
    """A small handset glyph (10x10 px)."""
    p.save()
    pen = QPen(color, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(x, y, 10, 10), 200 * 16, 140 * 16)
    p.restore()


def draw_check(p: QPainter, x: float, y: float, color: QColor) -> None:
    """A check mark glyph (10x8 px)."""
    p.save()
    pen = QPen(color, 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    path = QPainterPath(QPointF(x + 0.5, y + 4.5))
    path.lineTo(x + 3.5, y + 7.5)
    path.lineTo(x + 9.5, y + 0.5)
    p.drawPath(path)
    p.restore()


def draw_badge(p: QPainter, center: QPointF) -> None:
    """The red "double-booked" badge: a filled circle with an exclamation mark."""
    p.save()
    p.setPen(QPen(QColor("#ffffff"), 1.5))
    p.setBrush(theme.BADGE)
    p.drawEllipse(center, 7.5, 7.5)
    p.setPen(QPen(QColor("#ffffff"), 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(center.x(), center.y() - 3.5), QPointF(center.x(), center.y() + 0.8))
    p.drawPoint(QPointF(center.x(), center.y() + 3.6))
    p.restore()


def status_glyph_width(occ: Occurrence) -> float:
    ev = occ.event
    w = 0.0
    if ev.mode is not VisitMode.IN_PERSON:
        w += 16
    if ev.status is AppointmentStatus.COMPLETED:
        w += 14
    return w


def draw_glyphs(p: QPainter, right: float, top: float, occ: Occurrence, color: QColor) -> None:
    """Mode and completion glyphs, right-aligned ending at ``right``."""
    ev = occ.event
    x = right
    if ev.status is AppointmentStatus.COMPLETED:
        x -= 12
        draw_check(p, x, top + 1, QColor("#059669"))
        x -= 4
    if ev.mode is VisitMode.VIDEO:
        x -= 13
        draw_camera(p, x, top + 1, color)
    elif ev.mode is VisitMode.PHONE:
        x -= 12
        draw_phone(p, x, top, color)


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
) -> None:
    """Paint a timed appointment card into ``rect``: colour bar, title, time, patient, status."""
    ev = occ.event
    fill, bar, text = theme.card_colors(base_color)
    cancelled = ev.status is AppointmentStatus.CANCELLED
    no_show = ev.status is AppointmentStatus.NO_SHOW
    p.save()
    if cancelled:
        p.setOpacity(0.55)
    path = QPainterPath()
    path.addRoundedRect(rect, 5, 5)
    if selected:
        fill = QColor(bar)
        text = QColor("#ffffff") if bar.lightnessF() < 0.7 else QColor("#111827")
    p.fillPath(path, fill)
    p.save()
    p.setClipPath(path)
    p.fillRect(QRectF(rect.left(), rect.top(), 3.5, rect.height()), bar)
    p.restore()
    if cancelled or no_show:
        pen = QPen(bar if cancelled else theme.BADGE, 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    # Text.
    inner = rect.adjusted(8, 3, -5, -2)
    glyph_w = status_glyph_width(occ)
    bold = QFont(font)
    bold.setWeight(QFont.Weight.DemiBold)
    bold.setStrikeOut(cancelled)
    small = QFont(font)
    small.setPointSizeF(max(7.0, font.pointSizeF() - 1))
    fm_b = QFontMetrics(bold)
    fm_s = QFontMetrics(small)
    time_text = ""
    if start is not None and end is not None:
        time_text = f"{fmt_time(start)} – {fmt_time(end)}"
    line_h = fm_b.height()
    p.setPen(text)
    if inner.height() < line_h * 1.9:
        # One line: "09:00 Title", for short visits.
        p.setFont(small)
        prefix = fmt_time(start) + "  " if start is not None else ""
        pw = fm_s.horizontalAdvance(prefix)
        p.drawText(
            QRectF(inner.left(), inner.top(), pw, inner.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            prefix,
        )
        p.setFont(bold)
        title = fm_b.elidedText(
            ev.title or "(no title)",
            Qt.TextElideMode.ElideRight,
            int(max(0.0, inner.width() - pw - glyph_w)),
        )
        p.drawText(
            QRectF(inner.left() + pw, inner.top() - 1, inner.width() - pw, inner.height() + 1),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            title,
        )
    else:
        p.setFont(bold)
        title = fm_b.elidedText(
            ev.title or "(no title)",
            Qt.TextElideMode.ElideRight,
            int(max(0.0, inner.width() - glyph_w)),
        )
        p.drawText(
            QRectF(inner.left(), inner.top(), inner.width(), line_h),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            title,
        )
        y = inner.top() + line_h
        p.setFont(small)
        lines = [time_text] if time_text else []
        if patient:
            lines.append(patient)
        if no_show:
            lines.insert(0, "No-show")
        elif ev.status is AppointmentStatus.ARRIVED:
            lines.append("Arrived")
        for i, line in enumerate(lines):
            if y + fm_s.height() > inner.bottom() + 2:
                break
            p.setPen(theme.BADGE if (no_show and i == 0) else text)
            shown = fm_s.elidedText(line, Qt.TextElideMode.ElideRight, int(inner.width()))
            p.drawText(
                QRectF(inner.left(), y, inner.width(), fm_s.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                shown,
            )
            y += fm_s.height()
    draw_glyphs(p, inner.right(), inner.top() + 2, occ, text)
    p.restore()
    if double_booked:
        draw_badge(p, QPointF(rect.right() - 3, rect.top() + 3))
