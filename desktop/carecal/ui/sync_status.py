"""The status bar's sync indicator: online or offline, last sync, unsent changes, errors,
conflicts, accounts that need sign-in. It tells the truth about what has not reached a server.

The status itself (``SyncStatus``, ``read_status``) comes from services.syncing; the widget lives
on the GUI thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from carecal.services.syncing import SyncStatus


def _when(iso: str, tz: ZoneInfo, now: datetime) -> str:
    try:
        moment = datetime.fromisoformat(iso).astimezone(tz)
    except ValueError:
        return iso
    local_now = now.astimezone(tz)
    if moment.date() == local_now.date():
        return f"{moment:%H:%M}"
    return f"{moment:%-d %b %H:%M}"


def describe(
    status: SyncStatus,
    tz: ZoneInfo,
    now: datetime,
    *,
    busy: bool = False,
    conflicts: bool = True,
) -> str:
    """The indicator's one-line text (``conflicts``: include the conflict count). Any thread."""
    if status.accounts == 0:
        return "Not syncing (this computer only)"
    parts: list[str] = []
    if status.needs_sign_in:
        parts.append("Needs sign-in")
    elif status.offline:
        parts.append("Offline")
    elif busy:
        parts.append("Syncing…")
    elif status.errors:
        parts.append("Sync problem")
    elif status.last_sync_at:
        parts.append(f"Synced {_when(status.last_sync_at, tz, now)}")
    else:
        parts.append("Not synced yet")
    unsent = status.pending + status.docplanner_waiting
    if unsent:
        parts.append(f"{unsent} unsent")
    if status.refused:
        parts.append(f"{status.refused} refused")
    if status.conflicts and conflicts:
        word = "conflict" if status.conflicts == 1 else "conflicts"
        parts.append(f"{status.conflicts} {word}")
    return "  ·  ".join(parts)


def docplanner_text(status: SyncStatus) -> str:
    """The Docplanner link's text: double bookings and refused actions ("" when none). Any
    thread."""
    parts = []
    if status.double_bookings:
        word = "double booking" if status.double_bookings == 1 else "double bookings"
        parts.append(f"{status.double_bookings} {word}")
    if status.docplanner_refused:
        parts.append(f"{status.docplanner_refused} refused by Docplanner")
    return "  ·  ".join(parts)


def tooltip(status: SyncStatus, tz: ZoneInfo, now: datetime) -> str:
    """The indicator's detail: every problem on its own line. Any thread."""
    lines: list[str] = []
    if status.needs_sign_in:
        lines.append("Sign in again: " + ", ".join(status.needs_sign_in) + " (Tools > Accounts)")
    if status.offline:
        lines.append("The server could not be reached; changes are kept and sent later.")
    if status.last_sync_at:
        lines.append(f"Last complete sync: {_when(status.last_sync_at, tz, now)}")
    if status.pending:
        lines.append(f"{status.pending} changes not yet on the server")
    if status.refused:
        lines.append(f"{status.refused} changes refused by the server (see Pending changes)")
    if status.docplanner_waiting:
        lines.append(f"{status.docplanner_waiting} Docplanner actions not yet sent")
    lines.extend(status.errors[:5])
    lines.append("Click for pending changes and conflicts; F5 syncs now.")
    return "\n".join(lines)


class SyncIndicator(QWidget):
    """A dot, a text button and a progress bar for the status bar. GUI thread.

    ``clicked`` opens the pending changes panel; ``conflicts_clicked`` the conflict inbox;
    ``docplanner_clicked`` the Docplanner double-bookings window.
    """

    clicked = Signal()
    conflicts_clicked = Signal()
    docplanner_clicked = Signal()

    COLORS: ClassVar[dict[str, str]] = {
        "ok": "#16a34a",
        "busy": "#2563eb",
        "offline": "#9ca3af",
        "problem": "#dc2626",
    }

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("SyncIndicator")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(6)
        self.dot = QLabel("●")
        self.button = QToolButton()
        self.button.setObjectName("SyncButton")
        self.button.setAutoRaise(True)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.clicked.emit)
        self.conflicts = QToolButton()
        self.conflicts.setAutoRaise(True)
        self.conflicts.setCursor(Qt.CursorShape.PointingHandCursor)
        self.conflicts.setStyleSheet("color: #b91c1c; font-weight: 600;")
        self.conflicts.clicked.connect(self.conflicts_clicked.emit)
        self.conflicts.hide()
        self.docplanner = QToolButton()
        self.docplanner.setAutoRaise(True)
        self.docplanner.setCursor(Qt.CursorShape.PointingHandCursor)
        self.docplanner.setStyleSheet("color: #b91c1c; font-weight: 600;")
        self.docplanner.setToolTip("Open Docplanner double bookings and refused actions")
        self.docplanner.clicked.connect(self.docplanner_clicked.emit)
        self.docplanner.hide()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(90)
        self.bar.setFixedHeight(10)
        self.bar.setTextVisible(False)
        self.bar.hide()
        for w in (self.dot, self.button, self.conflicts, self.docplanner, self.bar):
            lay.addWidget(w)
        self.status = SyncStatus()
        self.busy = False
        self.state = "ok"

    def show_status(self, status: SyncStatus, tz: ZoneInfo, now: datetime) -> None:
        self.status = status
        # The conflict count gets its own red link beside the main text.
        text = describe(status, tz, now, busy=self.busy, conflicts=False)
        if status.conflicts:
            word = "conflict" if status.conflicts == 1 else "conflicts"
            self.conflicts.setText(f"{status.conflicts} {word}")
        self.conflicts.setVisible(bool(status.conflicts))
        self.docplanner.setText(docplanner_text(status))
        self.docplanner.setVisible(bool(self.docplanner.text()))
        self.button.setText(text)
        self.button.setToolTip(tooltip(status, tz, now))
        if status.accounts == 0:
            self.state = "offline"
        elif status.needs_sign_in or status.errors or status.refused or status.docplanner_refused:
            self.state = "problem" if not status.offline else "offline"
        elif status.offline:
            self.state = "offline"
        else:
            self.state = "busy" if self.busy else "ok"
        self.dot.setStyleSheet(f"color: {self.COLORS[self.state]};")

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.bar.setVisible(busy)
        if busy:
            self.bar.setRange(0, 0)

    def set_progress(self, stage: str, done: int, total: int) -> None:
        self.bar.setVisible(True)
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setToolTip(f"{'Sending' if stage == 'push' else 'Receiving'} {done} of {total}")
