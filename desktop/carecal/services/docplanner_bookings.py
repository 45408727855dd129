"""Docplanner bookings as Carecal appointments: one booking (or one chain of moved bookings)
is one appointment in the calendar its address is mapped to, with one stable Carecal id.

``BookingApplier.upsert`` is idempotent: a booking seen again changes nothing unless its
fields changed, and its appointment is written only then (no outbox churn towards Google or
Outlook). A move links the new booking id to the same appointment (``docplanner_bookings``
keeps every id of the chain; ``current`` marks the newest); a cancelled booking never becomes
booked again, and a cancellation of an id that is no longer the chain's newest (the old half
of a move) changes nothing. The patient is matched by e-mail, else phone (last nine digits),
else created. What the appointment has no field for (booked_by, visit payment, presence) is
kept on the link; the description names the source, the patient's comment and the payment.

Threads: the Repository's thread; disk I/O; raises StoreError, ValidationError (an event
that cannot be stored), BadPayload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from carecal.domain.errors import NotFound
from carecal.domain.models import (
    Account,
    AppointmentStatus,
    Event,
    Patient,
    VisitMode,
    new_id,
)
from carecal.providers.docplanner_types import Booking, BookingPatient, payment_state
from carecal.services.events import EventService
from carecal.services.patients import match_patient
from carecal.store.docplanner import AddressMapping, BookingLink, DocplannerStore
from carecal.store.docplanner_actions import ActionStore
from carecal.store.repo import Repository

ACTOR = "docplanner"
_BY = {"user": "the patient", "doctor": "the practice", "integration": "Carecal"}
_PAYMENT_TEXT = {
    "paid": "paid",
    "pending": "awaiting payment",
    "failed": "not paid",
    "returned": "refunded",
    "unknown": "status {status}",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BookingApplier:
    """Turns bookings of one Docplanner account into appointments. See the module docstring."""

    def __init__(
        self, repo: Repository, account: Account, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.repo = repo
        self.account = account
        self.clock = clock
        self.store = DocplannerStore(repo)
        self.events = EventService(repo, actor=ACTOR)
        self.zone = self.events.display_zone()
        self.changed: set[str] = set()  # event ids written

    # --- patients -----------------------------------------------------------------------------

    def patient_for(self, who: BookingPatient) -> Patient:
        """The patient with this e-mail, else phone, else a new one (stored)."""
        found = match_patient(
            self.repo.list_patients(),
            email=who.email,
            phone=who.phone,
            full_name=f"{who.name} {who.surname}",
        )
        if found is not None:
            return found
        patient = Patient(
            id=new_id(),
            first_name=who.name or "Docplanner patient",
            last_name=who.surname,
            phone=who.phone,
            email=who.email,
        )
        self.repo.add_patient(patient, actor=ACTOR)
        return patient

    # --- bookings -----------------------------------------------------------------------------

    def upsert(
        self,
        booking: Booking,
        address_id: str,
        *,
        origin: str | None = None,
        payment_status: str | None = None,
        presence: str | None = None,
        confirmed: bool = False,
        event_id: str | None = None,
    ) -> str | None:
        """Apply one booking as Docplanner describes it now; the appointment's id, or None when
        the address is not mapped (the booking is then left to a later reconciliation) or the
        appointment was deleted in Carecal. ``origin``: the id this booking was moved from.
        ``event_id``: the appointment a booking Carecal made stands for (a booked request); a
        booking not linked yet adopts it instead of becoming a new appointment. A booking made
        by Carecal (``booked_by`` integration) that a notification or a listing shows before
        its book call's answer was seen adopts the appointment its queued action names."""
        mapping = self.store.address(self.account.id, address_id)
        if mapping is None or mapping.calendar_id is None:
            return None
        link = self.store.link(self.account.id, booking.id)
        if link is None:
            chain_start = booking.origin_id or origin
            if chain_start:
                chain = self.store.links_of_origin(self.account.id, chain_start)
                if origin:
                    chain += [x for x in [self.store.link(self.account.id, origin)] if x]
                link = next((x for x in chain if x.current), chain[0] if chain else None)
                if link is not None:
                    # A move: the new id joins the chain and becomes its newest.
                    link = replace(link, booking_id=booking.id, current=True)
        if link is not None and not link.current:
            return link.event_id  # the old half of a move: nothing to change
        if link is not None and link.status == "canceled" and booking.booked:
            return link.event_id  # a stale "booked" after the cancellation
        existing: Event | None = None
        if link is not None:
            try:
                existing = self.repo.get_event(link.event_id)
            except NotFound:
                return None  # deleted in Carecal: respected
        elif booking.booked:
            existing = self._adopted(booking, address_id, event_id)
        payment = (
            payment_status or booking.payment_status or (link.payment_status if link else None)
        )
        presence = presence or booking.presence or (link.presence if link else None)
        event = self._event(mapping, booking, existing, payment, presence, confirmed)
        if existing is None:
            self.events.create(event)
            self.changed.add(event.id)
        elif _differs(existing, event):
            self.events.update(event)
            self.changed.add(event.id)
        self.store.save_link(
            BookingLink(
                account_id=self.account.id,
                booking_id=booking.id,
                event_id=event.id,
                address_id=address_id,
                origin_id=(link.origin_id if link and link.origin_id else None)
                or booking.origin_id
                or origin
                or booking.id,
                current=True,
                status="booked" if booking.booked else "canceled",
                start=booking.start,
                end=booking.end,
                booked_by=booking.booked_by or (link.booked_by if link else ""),
                visit_payment=booking.visit_payment or bool(link and link.visit_payment),
                payment_status=payment,
                presence=presence,
                # The 90-minute payment window runs from the first booking of a chain.
                booked_at=(link.booked_at if link and link.booked_at else None)
                or booking.booked_at,
            ),
            self.clock(),
        )
        return event.id

    def _adopted(self, booking: Booking, address_id: str, event_id: str | None) -> Event | None:
        """The existing appointment a new booking stands for: ``event_id``, else the one named
        by a pending book action of this address and start; None when there is none, it is
        gone, or another current booking is linked to it already."""
        wanted = event_id
        if wanted is None and booking.booked_by == "integration":
            for action in ActionStore(self.repo).pending(self.account.id):
                named = action.payload.get("event_id")
                if (
                    action.kind == "book"
                    and action.address_id == address_id
                    and named
                    and datetime.fromisoformat(str(action.payload["start"])) == booking.start
                ):
                    wanted = str(named)
                    break
        if wanted is None:
            return None
        if any(x.current and x.status == "booked" for x in self.store.links_of_event(wanted)):
            return None
        try:
            return self.repo.get_event(wanted)
        except NotFound:
            return None

    def _event(
        self,
        mapping: AddressMapping,
        booking: Booking,
        existing: Event | None,
        payment: str | None,
        presence: str | None,
        confirmed: bool,
    ) -> Event:
        service_type = None
        price: Decimal | None = existing.price if existing else None
        title = existing.title if existing else "Docplanner visit"
        if booking.service is not None:
            title = booking.service.name or title
            if booking.service.price is not None:
                price = Decimal(booking.service.price)
            for svc in self.store.services(self.account.id, mapping.address_id):
                if svc.address_service_id == booking.service.id and svc.service_type_id:
                    try:
                        service_type = self.repo.get_service(svc.service_type_id)
                    except NotFound:
                        service_type = None
        if service_type is not None:
            title = service_type.name
        patient_id = existing.patient_id if existing else None
        if booking.patient is not None and (patient_id is None or existing is None):
            patient_id = self.patient_for(booking.patient).id
        status = self._status(booking, existing, presence, confirmed)
        video = booking.videocall_url or (existing.video_url if existing else "")
        online = mapping.online_only or bool(video)
        comment = booking.comment or (_comment_of(existing) if existing else "")
        fields: dict[str, object] = {
            "title": title,
            "start": booking.start.astimezone(self.zone),
            "end": booking.end.astimezone(self.zone),
            "tzid": self.zone.key,
            "status": status,
            "patient_id": patient_id,
            "service_id": service_type.id
            if service_type
            else (existing.service_id if existing else None),
            "price": price,
            "mode": VisitMode.VIDEO if online else VisitMode.IN_PERSON,
            "video_url": video,
            "description": _description(booking, comment, mapping.visit_payment, payment),
        }
        if existing is not None:
            return existing.with_changes(**fields)
        return Event(
            id=new_id(),
            calendar_id=mapping.calendar_id or "",
            uid="",
            **fields,  # type: ignore[arg-type]
        )

    @staticmethod
    def _status(
        booking: Booking, existing: Event | None, presence: str | None, confirmed: bool
    ) -> AppointmentStatus:
        if not booking.booked:
            return AppointmentStatus.CANCELLED
        mark = (presence or "").strip().lower()
        if mark == "present":
            # A checked-in patient is already "present" (the visit may still be going on).
            if existing is not None and existing.status is AppointmentStatus.ARRIVED:
                return AppointmentStatus.ARRIVED
            return AppointmentStatus.COMPLETED
        if mark == "absent":
            return AppointmentStatus.NO_SHOW
        current = existing.status if existing else AppointmentStatus.SCHEDULED
        if current is AppointmentStatus.CANCELLED:
            current = AppointmentStatus.SCHEDULED
        if confirmed and current is AppointmentStatus.SCHEDULED:
            return AppointmentStatus.CONFIRMED
        return current

    def cancel(self, booking: Booking, address_id: str) -> str | None:
        """A cancellation: applied only when ``booking`` is the newest of its chain (or new)."""
        link = self.store.link(self.account.id, booking.id)
        if link is not None and not link.current:
            return link.event_id
        cancelled = booking if not booking.booked else replace(booking, status="canceled")
        return self.upsert(cancelled, address_id)

    def move(self, old: Booking, new: Booking, address_id: str) -> str | None:
        """``booking-moved``: the new booking (a new id) continues the old one's appointment."""
        return self.upsert(new, address_id, origin=old.id)


_SOURCE = "Booked on Docplanner"


def _comment_of(event: Event) -> str:
    for line in event.description.splitlines():
        if line.startswith("Patient's comment: "):
            return line.removeprefix("Patient's comment: ")
    return ""


def _description(booking: Booking, comment: str, visit_payment: bool, payment: str | None) -> str:
    by = _BY.get(booking.booked_by, "")
    lines = [f"{_SOURCE}{f' by {by}' if by else ''}."]
    if booking.visit_payment or visit_payment:
        state = payment_state(payment)
        text = _PAYMENT_TEXT.get(state, "awaiting payment").format(status=payment or "")
        lines.append(f"Visit payment: {text}.")
    if comment:
        lines.append(f"Patient's comment: {' '.join(comment.split())}")
    return "\n".join(lines)


_COMPARED = (
    "title",
    "start",
    "end",
    "status",
    "patient_id",
    "service_id",
    "price",
    "mode",
    "video_url",
    "description",
    "tzid",
)


def _differs(before: Event, after: Event) -> bool:
    return any(getattr(before, f) != getattr(after, f) for f in _COMPARED)
