"""What Carecal knows about an appointment's Docplanner booking, for the views: where it came
from, who booked it, and the state of its visit payment with the time left of the 90-minute
window in which the patient must pay (Docplanner cancels an unpaid booking after that).

Threads: ``booking_infos`` runs on the Repository's thread (one query); ``BookingInfo``'s
methods are pure and run anywhere. Raises StoreError.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from carecal.providers.docplanner_types import payment_state
from carecal.store.docplanner import BookingLink, DocplannerStore
from carecal.store.repo import Repository

PAYMENT_WINDOW = timedelta(minutes=90)
_BY = {"user": "the patient", "doctor": "the practice", "integration": "Carecal"}


@dataclass(frozen=True, slots=True)
class BookingInfo:
    """One appointment's current Docplanner booking."""

    booking_id: str
    status: str  # "booked" or "canceled"
    booked_by: str  # user, doctor, integration or ""
    visit_payment: bool
    payment_status: str | None  # as Docplanner sent it (an open string)
    booked_at: datetime | None

    @property
    def source(self) -> str:
        """ "Booked on Docplanner by the patient" (or the practice, or Carecal)."""
        by = _BY.get(self.booked_by, "")
        return "Booked on Docplanner" + (f" by {by}" if by else "")

    @property
    def payment(self) -> str:
        """``none`` (no visit payment), ``paid``, ``awaiting``, ``failed``, ``refunded``,
        ``cancelled`` (not paid, and the booking was cancelled) or ``unknown``."""
        if not self.visit_payment:
            return "none"
        state = payment_state(self.payment_status)
        if state == "paid":
            return "paid"
        if state == "returned":
            return "refunded"
        if self.status == "canceled":
            return "cancelled"
        if state == "failed":
            return "failed"
        if state in ("pending", "none"):
            return "awaiting"
        return "unknown"

    def deadline(self) -> datetime | None:
        """When an awaiting payment's window closes (None: not awaiting, or no booking time)."""
        if self.payment != "awaiting" or self.booked_at is None:
            return None
        return self.booked_at + PAYMENT_WINDOW

    def time_left(self, now: datetime) -> timedelta | None:
        """What is left of the payment window at ``now`` (never negative); None as above."""
        end = self.deadline()
        return None if end is None else max(end - now, timedelta(0))

    def payment_line(self, now: datetime) -> str:
        """A short sentence for the views ("" when the booking has no visit payment)."""
        state = self.payment
        if state == "none":
            return ""
        if state == "awaiting":
            left = self.time_left(now)
            if left is None:
                return "Awaiting payment"
            if left <= timedelta(0):
                return "Awaiting payment (the 90 minutes are over)"
            minutes = max(1, int(left.total_seconds() + 59) // 60)
            return f"Awaiting payment: {minutes} min left"
        return {
            "paid": "Paid online",
            "refunded": "Payment refunded",
            "cancelled": "Cancelled: not paid in time",
            "failed": "Payment failed",
        }.get(state, f"Payment status: {self.payment_status}")


def _info(link: BookingLink) -> BookingInfo:
    return BookingInfo(
        booking_id=link.booking_id,
        status=link.status,
        booked_by=link.booked_by,
        visit_payment=link.visit_payment,
        payment_status=link.payment_status,
        booked_at=link.booked_at,
    )


def booking_infos(repo: Repository, event_ids: Iterable[str]) -> dict[str, BookingInfo]:
    """Event id -> its current Docplanner booking, for those of ``event_ids`` that have one."""
    links = DocplannerStore(repo).current_links_of_events(list(event_ids))
    return {event_id: _info(link) for event_id, link in links.items()}
