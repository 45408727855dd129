""" "Book a follow-up in N weeks": the panel offered after a visit is marked completed.

``offer_followup`` asks ``FollowupService`` for the offer on the database lane and, when there is
one (a visit with one patient), shows ``FollowupDialog``: who and what, the weeks (changeable),
and the next free slots of the same service around that date. One click on a slot books it for
the same patient through EventService and closes the panel. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.domain.errors import CarecalError
from carecal.domain.models import Event, Occurrence
from carecal.services.followups import FollowupOffer, FollowupService
from carecal.ui.context import UiContext
from carecal.ui.operations import error_text
from carecal.ui.slot_picker import SlotPicker, slot_line

SLOTS_SHOWN = 8


class FollowupDialog(QDialog):
    """The offer for one completed visit (non-modal; closes after booking)."""

    def __init__(
        self,
        ctx: UiContext,
        offer: FollowupOffer,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.offer = offer
        self.booked: Event | None = None
        self.setObjectName("FollowupOffer")
        self.setWindowTitle("Follow-up — Carecal")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        zone = ctx.session.events.display_zone()
        self.zone = zone
        title = QLabel(f"Book a follow-up for {offer.patient.full_name}?")
        title.setObjectName("DialogTitle")
        title.setWordWrap(True)
        last = offer.source.start
        when = slot_line(last, zone) if isinstance(last, datetime) else str(last)
        detail = QLabel(f"{offer.service.name} · completed visit {when}")
        detail.setObjectName("Hint")
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 104)
        self.weeks.setValue(offer.weeks)
        self.weeks.setSuffix(" weeks")
        self.weeks.setMinimumWidth(90)
        self.weeks.valueChanged.connect(self._reload)
        self.around = QLabel()
        self.around.setObjectName("FieldLabel")
        weeks_row = QHBoxLayout()
        weeks_row.addWidget(QLabel("Follow-up in"))
        weeks_row.addWidget(self.weeks)
        weeks_row.addSpacing(12)
        weeks_row.addWidget(self.around, 1)
        self.slots = SlotPicker(columns=4)
        self.slots.picked.connect(self.book)
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        self.later = QPushButton("Not now")
        self.later.setAutoDefault(False)  # Enter must not dismiss the offer by accident
        self.later.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.error, 1)
        buttons.addWidget(self.later)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(22, 20, 22, 18)
        lay.setSpacing(12)
        lay.addWidget(title)
        lay.addWidget(detail)
        lay.addLayout(weeks_row)
        lay.addWidget(self.slots)
        lay.addLayout(buttons)
        self._show_offer(offer)

    def _show_offer(self, offer: FollowupOffer) -> None:
        self.offer = offer
        self.around.setText(f"around {offer.target:%a} {offer.target.day} {offer.target:%b %Y}")
        self.slots.set_slots(
            offer.slots,
            self.zone,
            "No free time for this service in the six weeks from that date. "
            "Check the working hours, or try another number of weeks.",
        )

    def _reload(self, weeks: int) -> None:
        svc = FollowupService(self.ctx.session.events, clock=self.ctx.clock)
        occ = Occurrence(self.offer.source, self.offer.source.start, self.offer.source.end)

        def job() -> FollowupOffer | None:
            return svc.offer(occ, weeks, SLOTS_SHOWN)

        def done(offer: FollowupOffer | None) -> None:
            if offer is not None and weeks == self.weeks.value():
                self._show_offer(offer)

        self.ctx.tasks.submit(job, done, self._failed)

    def book(self, start: datetime) -> None:
        """Book the follow-up at ``start`` (one of the offered slots)."""
        svc = FollowupService(self.ctx.session.events, clock=self.ctx.clock)
        offer = self.offer
        self.slots.set_busy(True)
        self.error.clear()

        def done(result: tuple[Event, Changes]) -> None:
            event, changes = result
            self.booked = event
            self.ctx.events.changes_applied.emit(changes)
            self.ctx.events.status_message.emit(
                f"Follow-up booked for {slot_line(start, self.zone)}."
            )
            self.accept()

        self.ctx.tasks.submit(lambda: svc.book_offer(offer, start), done, self._failed)

    def _failed(self, err: Exception) -> None:
        self.slots.set_busy(False)
        self.error.setText(error_text(err))
        if isinstance(err, CarecalError):
            self._reload(self.weeks.value())  # the slot was taken: show what is free now


def offer_followup(
    ctx: UiContext,
    occ: Occurrence,
    parent: QWidget | None,
    on_error: Callable[[Exception], None],
    shown: Callable[[FollowupDialog], None] | None = None,
) -> None:
    """Look for a follow-up offer for the completed ``occ`` and show it when there is one."""
    svc = FollowupService(ctx.session.events, clock=ctx.clock)

    def show(offer: FollowupOffer | None) -> None:
        if offer is None:
            return
        dialog = FollowupDialog(ctx, offer, parent)
        dialog.open()
        if shown is not None:
            shown(dialog)

    ctx.tasks.submit(lambda: svc.offer(occ, None, SLOTS_SHOWN), show, on_error)
