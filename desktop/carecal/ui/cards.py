"""The glyphs and text rules of an appointment card (status glyphs, badge, detail lines).

``card_layout`` lays cards out once and paints them from that layout. GUI thread only (QPainter).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPen

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
    """A small handset glyph (10x10 px): earpiece top-left, mouthpiece bottom-right."""
    p.save()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    path = QPainterPath(QPointF(x + 0.6, y + 2.2))
    path.cubicTo(x + 0.2, y + 6.4, x + 3.6, y + 9.8, x + 7.8, y + 9.4)
    path.lineTo(x + 9.6, y + 7.4)
    path.lineTo(x + 7.4, y + 5.4)
    path.lineTo(x + 6.0, y + 6.6)
    path.cubicTo(x + 4.8, y + 6.2, x + 3.8, y + 5.2, x + 3.4, y + 4.0)
    path.lineTo(x + 4.6, y + 2.6)
    path.lineTo(x + 2.6, y + 0.4)
    path.closeSubpath()
    p.drawPath(path)
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


def detail_lines(
    time_text: str,
    start: datetime | None,
    patient: str,
    location: str,
    fm: QFontMetrics,
    width: float,
) -> list[str]:
    """The lines under a card's title, most important first.

    The patient matters most to a practitioner, so it shares the time line whenever it fits
    (with the full range, else with the start only, elided when even that is too wide); a wide
    card also shows the location there.
    """
    sep = "  ·  "
    lines: list[str] = []
    if patient and time_text:
        candidates = [time_text + sep + patient]
        if start is not None:
            candidates.append(fmt_time(start) + sep + patient)
        fitting = [c for c in candidates if fm.horizontalAdvance(c) <= width]
        # When nothing fits, the start and the patient still go first; the painter elides.
        lines.append(fitting[0] if fitting else candidates[-1])
    elif time_text or patient:
        lines.append(time_text or patient)
    if location and lines:
        wide = lines[0] + sep + location
        if fm.horizontalAdvance(wide) <= width:
            lines[0] = wide
        else:
            lines.append(location)
    return lines
