"""How the views show a Docplanner booking and a video visit: the source badge, the payment
state in its colour, the small marks painted on cards and month chips, their tooltips, and the
"Join video" button that is enabled only while the visit can be joined.

Every view takes the same pieces from here so a booking or a video visit looks the same in the
editor, the agenda, the time grid and the month view. GUI thread only (QPainter, widgets).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QHelpEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QToolTip, QWidget

from carecal.domain.models import Occurrence, VisitMode
from carecal.services.docplanner_info import BookingInfo
from carecal.services.video import can_join, join_hint, join_link
from carecal.services.zones import is_known_zone
from carecal.ui.cards import draw_camera, fmt_time

OpenUrl = Callable[[str], None]

DOCPLANNER_COLOR = "#0e9384"  # the source badge and the "D" mark
SOURCE_PILL = ("#ccfbf1", "#115e59")  # (background, text) of the "Docplanner" badge

# Payment state (BookingInfo.payment) -> (background, text, mark) colours.
PAYMENT_COLORS: dict[str, tuple[str, str, str]] = {
    "awaiting": ("#fef3c7", "#92400e", "#d97706"),
    "paid": ("#d1fae5", "#065f46", "#059669"),
    "failed": ("#fee2e2", "#b91c1c", "#dc2626"),
    "cancelled": ("#fee2e2", "#991b1b", "#dc2626"),
    "refunded": ("#e0e7ff", "#3730a3", "#4f46e5"),
    "unknown": ("#f3f4f6", "#4b5563", "#6b7280"),
}

# Card and chip marks: only the states a practitioner must notice at a glance get one (the
# tooltip and the agenda tell the others).
MARKED_PAYMENTS = frozenset({"awaiting", "failed", "cancelled"})
MARK = 11.0  # px, the side of one mark
MARK_GAP = 3.0


def booking_summary(info: BookingInfo, now: datetime) -> str:
    """ "Booked on Docplanner by the patient · Awaiting payment: 43 min left"."""
    payment = info.payment_line(now)
    return info.source + (f"  ·  {payment}" if payment else "")


def payment_colors(info: BookingInfo) -> tuple[str, str, str]:
    """(background, text, mark) colours of the booking's payment state."""
    return PAYMENT_COLORS.get(info.payment, PAYMENT_COLORS["unknown"])


PILL_H = 20  # Qt draws square corners when the radius is over half the height


def pill_style(background: str, text: str) -> str:
    """A pill's whole look inline (the theme's ``QLabel#Pill`` does not reach a pill inside a
    widget with a style sheet of its own, such as the editor's booking box)."""
    return (
        f"background:{background}; color:{text}; border:none; border-radius:9px;"
        " padding:2px 9px; font-size:8.5pt; font-weight:600;"
    )


# ---- times ------------------------------------------------------------------------------


def occurrence_span(occ: Occurrence, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """The occurrence as aware datetimes in ``tz`` (an all-day entry from midnight to midnight
    there); ``tz`` None: the visit's own zone, else UTC. The join hint names times in it."""
    zone = tz or visit_zone(occ)

    def instant(value: datetime | date) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(zone)
        return datetime.combine(value, time(), zone)

    a, b = instant(occ.start), instant(occ.end)
    return a, b


def visit_zone(occ: Occurrence) -> tzinfo:
    """The zone the appointment was made in (UTC when it names none Carecal knows)."""
    name = occ.event.tzid or ""
    if name and is_known_zone(name):
        return ZoneInfo(name)
    return UTC


def occurrence_tooltip(
    occ: Occurrence, info: BookingInfo | None, now: datetime, tz: tzinfo | None = None
) -> str:
    """The tooltip of a card or a chip: title, time, video visit and Docplanner booking."""
    ev = occ.event
    lines = [ev.title or "(no title)"]
    if isinstance(occ.start, datetime) and isinstance(occ.end, datetime):
        a, b = occ.start.astimezone(tz), occ.end.astimezone(tz)
        lines.append(f"{fmt_time(a)} – {fmt_time(b)}")
    if ev.mode is VisitMode.VIDEO:
        if join_link(ev):
            start, end = occurrence_span(occ, tz)
            lines.append("Video visit: " + join_hint(start, end, now))
        else:
            lines.append("Video visit (no link yet)")
    if info is not None:
        lines.append(info.source)
        payment = info.payment_line(now)
        if payment:
            lines.append(payment)
    return "\n".join(lines)


def show_tooltip(widget: QWidget, event: QEvent, text_at: Callable[[QPointF], str]) -> bool:
    """Answer a tooltip request on a painted view with ``text_at``'s text for the pointer's
    position (hidden where it gives ""). True when ``event`` was such a request."""
    if event.type() != QEvent.Type.ToolTip or not isinstance(event, QHelpEvent):
        return False
    text = text_at(QPointF(event.pos()))
    if text:
        QToolTip.showText(event.globalPos(), text, widget)
    else:
        QToolTip.hideText()
        event.ignore()
    return True


# ---- painted marks ----------------------------------------------------------------------


def marks_width(info: BookingInfo | None) -> float:
    """The width the booking marks of ``info`` take in a glyph row (0 without a booking)."""
    if info is None:
        return 0.0
    count = 2 if info.payment in MARKED_PAYMENTS else 1
    return count * (MARK + MARK_GAP)


def draw_booking_marks(p: QPainter, right: float, top: float, info: BookingInfo) -> float:
    """Paint the payment mark (when it needs one) and the Docplanner mark right-aligned so the
    row ends at ``right``; returns where the row now starts."""
    x = right
    if info.payment in MARKED_PAYMENTS:
        x -= MARK
        draw_payment_mark(p, x, top, info.payment)
        x -= MARK_GAP
    x -= MARK
    draw_docplanner_mark(p, x, top)
    return x - MARK_GAP


def draw_docplanner_mark(p: QPainter, x: float, y: float) -> None:
    """A teal rounded square with a white "D" (Docplanner), MARK px, top-left at (x, y)."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(DOCPLANNER_COLOR))
    box = QRectF(x, y, MARK, MARK)
    p.drawRoundedRect(box, 2.5, 2.5)
    font = QFont(p.font())
    font.setPixelSize(9)
    font.setWeight(QFont.Weight.Bold)
    font.setStrikeOut(False)
    p.setFont(font)
    p.setPen(QColor("#ffffff"))
    p.drawText(box.adjusted(0, 0, 0, 0.5), Qt.AlignmentFlag.AlignCenter, "D")
    p.restore()


def draw_payment_mark(p: QPainter, x: float, y: float, state: str) -> None:
    """A filled circle in the payment state's colour, MARK px: a clock while the payment is
    awaited, a cross when it failed or the booking was cancelled unpaid."""
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(PAYMENT_COLORS.get(state, PAYMENT_COLORS["unknown"])[2]))
    c = QPointF(x + MARK / 2, y + MARK / 2)
    p.drawEllipse(c, MARK / 2, MARK / 2)
    pen = QPen(QColor("#ffffff"), 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    if state == "awaiting":
        p.drawLine(c, QPointF(c.x(), c.y() - 3.2))
        p.drawLine(c, QPointF(c.x() + 2.4, c.y() + 1.2))
    else:
        d = 2.3
        p.drawLine(QPointF(c.x() - d, c.y() - d), QPointF(c.x() + d, c.y() + d))
        p.drawLine(QPointF(c.x() - d, c.y() + d), QPointF(c.x() + d, c.y() - d))
    p.restore()


def camera_pixmap(color: str = "#374151", dpr: float = 2.0) -> QPixmap:
    """The cards' video-camera glyph as a 14x10 pixmap, for labels (agenda, editor)."""
    pix = QPixmap(round(14 * dpr), round(10 * dpr))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    draw_camera(p, 1, 1, QColor(color))
    p.end()
    return pix


def docplanner_pixmap(dpr: float = 2.0) -> QPixmap:
    """The "D" mark as a pixmap, for labels."""
    side = round((MARK + 1) * dpr)
    pix = QPixmap(side, side)
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    draw_docplanner_mark(p, 0.5, 0.5)
    p.end()
    return pix


# ---- widgets ----------------------------------------------------------------------------


def source_badge(info: BookingInfo, parent: QWidget | None = None) -> QLabel:
    """The small "Docplanner" badge (tooltip: who booked)."""
    badge = QLabel("Docplanner", parent)
    badge.setObjectName("Pill")
    badge.setProperty("role", "docplanner")
    badge.setStyleSheet(pill_style(*SOURCE_PILL))
    badge.setMinimumHeight(PILL_H)
    badge.setToolTip(info.source)
    return badge


class PaymentPill(QLabel):
    """The payment state in its colour ("Awaiting payment: 43 min left", "Paid online", ...);
    hidden for a booking without a visit payment. ``refresh(now)`` recounts the minutes;
    ``tz`` is the zone the deadline is named in."""

    def __init__(self, info: BookingInfo, tz: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Pill")
        self.info = info
        self.tz = tz
        self.setProperty("payment", info.payment)
        bg, fg, _ = payment_colors(info)
        self.setStyleSheet(pill_style(bg, fg))
        self.setMinimumHeight(PILL_H)

    def refresh(self, now: datetime) -> None:
        line = self.info.payment_line(now)
        self.setText(line)
        self.setVisible(bool(line))
        deadline = self.info.deadline()
        if deadline is not None:
            local = deadline.astimezone(self.tz)
            self.setToolTip(
                f"Docplanner cancels the booking if the patient has not paid by {fmt_time(local)}."
            )


JOIN_COLOR = "#1d4ed8"
# Enabled it reads as the one thing to do now; disabled it must not look clickable.
JOIN_STYLE = (
    "QPushButton#JoinVideo { color: #1d4ed8; background: #eff6ff; border: 1px solid #93c5fd;"
    " font-weight: 600; padding: 5px 12px; }"
    "QPushButton#JoinVideo:hover { background: #dbeafe; }"
    "QPushButton#JoinVideo:disabled { color: #9ca3af; background: #f9fafb;"
    " border: 1px solid #e5e7eb; font-weight: 400; }"
)


class JoinVideoButton(QPushButton):
    """ "Join video": enabled from an hour before the visit until its end, and only when there
    is a link; the tooltip says why not. Clicking hands the link to ``open_url``."""

    def __init__(self, open_url: OpenUrl, parent: QWidget | None = None) -> None:
        super().__init__("Join video", parent)
        self.setObjectName("JoinVideo")
        self.setIcon(camera_pixmap(JOIN_COLOR))
        self.setStyleSheet(JOIN_STYLE)
        self.setAutoDefault(False)
        self.open_url = open_url
        self.link = ""
        self.span: tuple[datetime, datetime] | None = None
        self.clicked.connect(self._join)

    def set_visit(self, link: str, span: tuple[datetime, datetime] | None, now: datetime) -> None:
        """What to join and when it runs (None: no time known); refreshes at once."""
        self.link, self.span = link, span
        self.refresh(now)

    def refresh(self, now: datetime) -> None:
        """Enable or disable for ``now`` and say why in the tooltip."""
        if not self.link:
            self.setEnabled(False)
            self.setToolTip("Add the video link first.")
            return
        if self.span is None:
            self.setEnabled(False)
            self.setToolTip("Set the visit's time first.")
            return
        start, end = self.span
        self.setEnabled(can_join(start, end, now))
        self.setToolTip(join_hint(start, end, now))

    def _join(self) -> None:
        if self.link and self.isEnabled():
            self.open_url(self.link)
