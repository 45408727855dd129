"""The Docplanner double-bookings window: bookings over time busy in another calendar, each
with the next free starts as one-click moves, and the actions Docplanner did not accept, with
Retry and Discard.

A move is queued durably (services.docplanner_actions) and the sync lane is asked to run at
once, so it reaches Docplanner within seconds when online and at the next sync otherwise.
This window is the practitioner's own: it names the patient (the notification does not).

Widgets: GUI thread; loading, queueing, retrying and discarding run on the database lane
(``ctx.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.errors import CarecalError
from carecal.services.docplanner_actions import short_time
from carecal.services.docplanner_panel import (
    ActionRow,
    DoubleBookingRow,
    discard_action,
    load_double_bookings,
    move_to_proposal,
    retry_action,
)
from carecal.ui.context import UiContext

QUEUED = "Move queued; it goes to Docplanner at once when online."
_STYLE = (
    "QScrollArea, QWidget#DoubleBookingsBody { background: transparent; }"
    "QLabel#Empty { color: #4b5563; font-size: 10.5pt; padding: 12px 2px; }"
    "QFrame#DoubleBooking, QFrame#Refused { background: #ffffff; border: 1px solid #e5e7eb;"
    " border-radius: 8px; }"
    "QFrame#DoubleBooking { border-left: 4px solid #dc2626; }"
    "QFrame#Refused { border-left: 4px solid #d97706; }"
    "QLabel#CardTitle { font-weight: 600; color: #111827; }"
    "QLabel#SectionTitle { font-weight: 600; color: #374151; font-size: 10.5pt; }"
    "QLabel#Reason { color: #b91c1c; }"
    "QLabel#Queued, QLabel#Message { color: #15803d; }"
)


class DoubleBookingsWindow(QDialog):
    """The list of double bookings and refused actions. ``sync_now`` asks the sync lane for a
    cycle now (after a move or a retry); ``on_error`` shows a failure the usual way."""

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        sync_now: Callable[[], object] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._sync_now = sync_now
        self._on_error = on_error
        self.rows: list[DoubleBookingRow] = []
        self.refused: list[ActionRow] = []
        self.move_buttons: list[tuple[DoubleBookingRow, datetime, QPushButton]] = []
        self.retry_buttons: dict[int, QPushButton] = {}
        self.discard_buttons: dict[int, QPushButton] = {}
        self.setWindowTitle("Docplanner double bookings")
        self.setStyleSheet(_STYLE)
        self.resize(760, 480)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(10)
        title = QLabel("Double bookings")
        title.setObjectName("DialogTitle")
        intro = QLabel(
            "Docplanner bookings at a time that is busy in another calendar. Move one to a "
            "free start with one click; Carecal proposes the next free starts of its address."
        )
        intro.setObjectName("Hint")
        intro.setWordWrap(True)
        lay.addWidget(title)
        lay.addWidget(intro)
        self.content = QWidget()
        self.content.setObjectName("DoubleBookingsBody")
        self.body = QVBoxLayout(self.content)
        self.body.setContentsMargins(0, 4, 6, 4)
        self.body.setSpacing(8)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.content)
        scroll.viewport().setAutoFillBackground(False)
        lay.addWidget(scroll, 1)
        self.message = QLabel()
        self.message.setObjectName("Message")
        self.message.setWordWrap(True)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(close)
        lay.addLayout(bottom)
        self.empty = QLabel()
        self.reload()

    # --- data ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the flags and the refused actions on the database lane, then redraw."""
        repo = self.ctx.session.repo
        self.ctx.tasks.submit(lambda: load_double_bookings(repo), self._show, self._fail)

    def _fail(self, err: Exception) -> None:
        """A failed load: shown the window's usual way."""
        self.message.setStyleSheet("color: #b91c1c;")
        self.message.setText(str(err) or "The double bookings could not be read.")
        if self._on_error is not None:
            self._on_error(err)

    def _refused_here(self, err: Exception) -> None:
        """A failed move, retry or discard: one sentence in the window, then the list again."""
        text = str(err) if isinstance(err, CarecalError) else ""
        self.message.setStyleSheet("color: #b91c1c;")
        self.message.setText(text[:1].upper() + text[1:] if text else "That did not work.")
        self.reload()

    def _say(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _tz(self) -> ZoneInfo:
        return self.ctx.session.events.display_zone()

    def _clear(self) -> None:
        while self.body.count():
            item = self.body.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setParent(None)  # out of the window now, not at the next event loop pass
                widget.deleteLater()
        self.move_buttons.clear()
        self.retry_buttons.clear()
        self.discard_buttons.clear()

    def _show(self, data: tuple[list[DoubleBookingRow], list[ActionRow]]) -> None:
        self.rows, self.refused = data
        zone = self._tz()
        self._clear()
        if not self.rows:
            self.empty = QLabel("No double bookings.")
            self.empty.setObjectName("Empty")
            self.body.addWidget(self.empty)
        for row in self.rows:
            self.body.addWidget(self._conflict_card(row, zone))
        if self.refused:
            section = QLabel("Not accepted by Docplanner")
            section.setObjectName("SectionTitle")
            self.body.addSpacing(8)
            self.body.addWidget(section)
            for action in self.refused:
                self.body.addWidget(self._refused_card(action, zone))
        self.body.addStretch(1)

    def _conflict_card(self, row: DoubleBookingRow, zone: ZoneInfo) -> QFrame:
        c = row.conflict
        card = QFrame()
        card.setObjectName("DoubleBooking")
        lay = QVBoxLayout(card)
        lay.setContentsMargins(14, 10, 12, 10)
        lay.setSpacing(4)
        who = row.patient or row.title or "Docplanner booking"
        head = QLabel(f"{short_time(c.start, zone)}–{c.end.astimezone(zone):%H:%M}  ·  {who}")
        head.setObjectName("CardTitle")
        detail = QLabel(f"Overlaps another appointment or busy time  ·  {row.account}")
        detail.setObjectName("Hint")
        detail.setWordWrap(True)
        lay.addWidget(head)
        lay.addWidget(detail)
        if row.queued_move is not None:
            queued = QLabel(f"Move to {short_time(row.queued_move, zone)} queued.")
            queued.setObjectName("Queued")
            queued.setWordWrap(True)
            lay.addWidget(queued)
            return card
        if not c.proposals:
            none = QLabel(
                "No free start in the next two weeks: move it in Docplanner, or free the time "
                "in the other calendar."
            )
            none.setObjectName("Hint")
            none.setWordWrap(True)
            lay.addWidget(none)
            return card
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for i, start in enumerate(c.proposals):
            button = QPushButton(f"Move to {short_time(start, zone)}")
            button.setAutoDefault(False)
            if i == 0:
                button.setObjectName("Primary")
            button.clicked.connect(lambda _=False, r=row, s=start: self.move_booking(r, s))
            self.move_buttons.append((row, start, button))
            buttons.addWidget(button)
        buttons.addStretch(1)
        lay.addSpacing(4)
        lay.addLayout(buttons)
        return card

    def _refused_card(self, row: ActionRow, zone: ZoneInfo) -> QFrame:
        action = row.action
        card = QFrame()
        card.setObjectName("Refused")
        outer = QHBoxLayout(card)
        outer.setContentsMargins(14, 10, 12, 10)
        outer.setSpacing(10)
        text = QVBoxLayout()
        text.setSpacing(3)
        head = QLabel(row.what)
        head.setObjectName("CardTitle")
        when = action.done_at or action.created_at
        stamp = f"Refused {short_time(when, zone)}" if when is not None else "Refused"
        meta = QLabel(f"{stamp}  ·  {row.account}  ·  action {action.seq}")
        meta.setObjectName("Hint")
        reason = QLabel(row.reason or "Docplanner gave no reason.")
        reason.setObjectName("Reason")
        reason.setWordWrap(True)
        reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (head, meta, reason):
            text.addWidget(label)
        outer.addLayout(text, 1)
        retry = QPushButton("Retry")
        retry.setToolTip("Send it to Docplanner again")
        retry.setAutoDefault(False)
        retry.clicked.connect(lambda _=False, seq=action.seq: self.retry(seq))
        discard = QPushButton("Discard")
        discard.setObjectName("Danger")
        discard.setToolTip("Give it up: it is kept for the record and never sent")
        discard.setAutoDefault(False)
        discard.clicked.connect(lambda _=False, seq=action.seq: self.discard(seq))
        self.retry_buttons[action.seq] = retry
        self.discard_buttons[action.seq] = discard
        outer.addWidget(retry, 0, Qt.AlignmentFlag.AlignVCenter)
        outer.addWidget(discard, 0, Qt.AlignmentFlag.AlignVCenter)
        return card

    # --- actions -------------------------------------------------------------------------

    def _sync(self) -> None:
        if self._sync_now is not None:
            self._sync_now()

    def _busy(self, buttons: list[QPushButton]) -> None:
        for button in buttons:
            button.setEnabled(False)

    def move_booking(self, row: DoubleBookingRow, to: datetime) -> None:
        """Queue moving ``row``'s booking to ``to`` and sync now."""
        self._busy([b for r, _s, b in self.move_buttons if r is row])
        repo, c = self.ctx.session.repo, row.conflict

        def done(_seq: int) -> None:
            self._sync()
            self._say(QUEUED)
            self.reload()

        self.ctx.tasks.submit(
            lambda: move_to_proposal(repo, c.account_id, c.booking_id, to),
            done,
            self._refused_here,
        )

    def retry(self, seq: int) -> None:
        """Send a refused action again (queued, then the sync lane runs now)."""
        self._busy([self.retry_buttons[seq], self.discard_buttons[seq]])
        repo = self.ctx.session.repo

        def done(_: object) -> None:
            self._sync()
            self._say("Queued again; it goes to Docplanner at once when online.")
            self.reload()

        self.ctx.tasks.submit(lambda: retry_action(repo, seq), done, self._refused_here)

    def discard(self, seq: int) -> None:
        """Give up a refused action (kept for the record, never sent)."""
        self._busy([self.retry_buttons[seq], self.discard_buttons[seq]])
        repo = self.ctx.session.repo

        def done(_: object) -> None:
            self._say("Discarded; it will not be sent to Docplanner.")
            self.reload()

        self.ctx.tasks.submit(
            lambda: discard_action(repo, seq, now=self.ctx.clock()), done, self._refused_here
        )


__all__ = ["QUEUED", "DoubleBookingsWindow"]
