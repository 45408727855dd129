"""The Docplanner emulator's state and the actions every party can take on it: the API client
("integration"), a patient ("user") and the doctor in the Docplanner panel ("doctor").

Each action that Docplanner reports enqueues its notification (reference 1.3), with the
envelope `{"name", "data": {facility, doctor, address, ...}, "created_at"}`. Actions taken
through the API also enqueue theirs (`echo_integration`, on by default: the references show
`booked_by: integration` in `slot-booked`; whether breaks and services made through the API
are echoed is not documented: guess).

Time rules run in `tick()` (called before every request and after every clock move): unpulled
notifications expire after 72 hours, and a patient's visit-payment booking still unpaid 90
minutes after it was booked is cancelled (`booking-payment-status-changed` to `not-paid` and
then `booking-canceled`; `canceled_by` is `auto_cancel_by`, "" by default: the references do
not say who Docplanner names, guess). Bookings made by the doctor or through the API carry no
visit payment (guess: the patient pays online only when booking on the marketplace).

Online-only addresses give each booking a `videocall_url`; it survives moves (reference 1.5).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_bookings import EVENT_PAYMENT, Booking, parse_patient
from tests.fakes.docplanner_breaks import CalendarBreak
from tests.fakes.docplanner_clock import Clock, render
from tests.fakes.docplanner_errors import (
    DocplannerError,
    bad_request,
    conflict,
    forbidden,
    not_found,
    unprocessable,
)
from tests.fakes.docplanner_notifications import Outbox
from tests.fakes.docplanner_slots import SlotRange, bookable
from tests.fakes.docplanner_tree import Address, AddressService, Tree

PAYMENT_WINDOW = timedelta(minutes=90)
ACTORS = frozenset({"user", "doctor", "integration"})


class Practice:
    """Everything the emulator stores; every method runs under the emulator's lock."""

    def __init__(self, clock: Clock, zone: ZoneInfo, video_host: str) -> None:
        self.clock = clock
        self.zone = zone
        self.video_host = video_host
        self.tree = Tree(itertools.count(1001))
        self.slots: dict[str, list[SlotRange]] = {}
        self.breaks: dict[str, CalendarBreak] = {}
        self.bookings: dict[str, Booking] = {}
        self.outbox = Outbox()
        self.echo_integration = True
        self.auto_cancel_by = ""
        self.payment_window = PAYMENT_WINDOW
        self.move_requires_slot = True
        self.naive_dates: list[str] = []  # dates a client sent without an offset

    # ----- notifications ----------------------------------------------------------------
    def context_data(self, addr: Address) -> dict[str, Any]:
        """The common `data` keys: facility, doctor, address."""
        fac, doc, _ = self.tree.context(addr.id)
        return {"facility": fac.brief(), "doctor": doc.brief(), "address": addr.brief()}

    def emit(self, name: str, addr: Address, actor: str, **extra: Any) -> None:
        """Enqueue one notification about `addr` (not for the client's own writes when
        `echo_integration` is off)."""
        if actor == "integration" and not self.echo_integration:
            return
        now = self.clock.now()
        data = {**self.context_data(addr), **extra}
        self.outbox.emit(name, data, render(now, self.zone), now)

    # ----- time -------------------------------------------------------------------------
    def tick(self) -> None:
        """Apply every time rule up to the clock's now."""
        now = self.clock.now()
        for booking in list(self.bookings.values()):
            unpaid = booking.payment in ("awaiting", "processing", "failed")
            late = now >= booking.booked_at + self.payment_window
            if booking.status == "booked" and booking.visit_payment and unpaid and late:
                self.set_payment(booking, "expired")
                self.cancel(booking, self.auto_cancel_by or "user", None, by=self.auto_cancel_by)
        self.outbox.expire(now)

    # ----- availability ------------------------------------------------------------------
    def busy(self, address_id: str, ignore: str | None = None) -> list[tuple[datetime, datetime]]:
        """Booked visits and breaks at an address (`ignore`: a booking being moved)."""
        out = [
            (b.start, b.end)
            for b in self.bookings.values()
            if b.address_id == address_id and b.status == "booked" and b.id != ignore
        ]
        out += [(k.since, k.till) for k in self.breaks.values() if k.address_id == address_id]
        return out

    def require_commercial(self, addr: Address) -> None:
        """422 for an address that cannot have a calendar."""
        if not addr.commercial:
            raise unprocessable("The address is not commercial.")

    # ----- bookings ----------------------------------------------------------------------
    def booking(self, addr: Address, booking_id: str) -> Booking:
        """404 for an unknown booking, 403 for one of another address."""
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise not_found("Booking not found.")
        if booking.address_id != addr.id:
            raise forbidden("The booking does not belong to this address.")
        return booking

    def newest(self, booking: Booking) -> str:
        """The id at the end of a booking's move chain."""
        while booking.moved_to is not None:
            booking = self.bookings[booking.moved_to]
        return booking.id

    def draft(
        self,
        addr: Address,
        start: datetime,
        service_id: str,
        duration: int,
        patient_raw: Any,
        actor: str,
        *,
        comment: str | None = None,
        anywhere: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> Booking:
        """A booking as it would be made, not stored yet (404 when no free slot there holds
        the service, unless `anywhere`: the doctor may book outside published slots)."""
        self.require_commercial(addr)
        svc = addr.services.get(service_id)
        if svc is None:
            raise not_found("Address service not found.")
        patient = parse_patient(patient_raw, addr)
        now = self.clock.now()
        busy = self.busy(addr.id)
        free = bookable(self.slots.get(addr.id, []), busy, start, service_id, duration, now)
        if not free and not anywhere:
            raise not_found("Slot not found.")
        extra = extra or {}
        pays = addr.visit_payment and actor == "user"
        booking = Booking(
            id=self.tree.next_id(),
            address_id=addr.id,
            start=start,
            duration=duration,
            service=svc,
            patient=patient,
            booked_by=actor,
            booked_at=now,
            comment=comment,
            visit_payment=pays,
            payment="awaiting" if pays else None,
            videocall_url=self.video_url() if addr.is_online_only else None,
            label=extra.get("label"),
            is_recurring=bool(extra.get("is_recurring", False)),
        )
        if extra.get("is_returning") is not None:
            booking.patient["is_returning"] = bool(extra["is_returning"])
        if extra.get("insurance_provider_id"):
            booking.insurance = {
                "id": str(extra["insurance_provider_id"]),
                "name": "Insurance " + str(extra["insurance_provider_id"]),
                "plan": "",
                "plan_id": str(extra.get("insurance_plan_id") or ""),
            }
        booking.origin_id = booking.id
        return booking

    def store(self, booking: Booking) -> Booking:
        """Keep a drafted booking and report `slot-booked`."""
        self.bookings[booking.id] = booking
        addr = self.tree.address_by_id(booking.address_id)
        self.emit(
            "slot-booked", addr, booking.booked_by, visit_booking=booking.notification(self.zone)
        )
        return booking

    def video_url(self) -> str:
        """A fresh video-visit room URL (the host is the emulator's guess)."""
        return f"{self.video_host}/{uuid.uuid4().hex}"

    def cancel(
        self, booking: Booking, actor: str, reason: str | None, *, by: str | None = None
    ) -> None:
        """Cancel a booked visit (400 when it is not booked); frees its time."""
        if booking.status != "booked":
            raise bad_request("The booking is not booked.")
        booking.status = "canceled"
        booking.canceled_by = actor if by is None else by
        booking.canceled_at = self.clock.now()
        booking.cancel_reason = reason
        addr = self.tree.address_by_id(booking.address_id)
        self.emit("booking-canceled", addr, actor, visit_booking=booking.notification(self.zone))

    def move(
        self,
        booking: Booking,
        target: Address,
        start: datetime,
        service_id: str,
        duration: int | None,
        actor: str,
        *,
        anywhere: bool = False,
    ) -> Booking:
        """Move a booking: a NEW booking at `start` on `target`, the old one canceled (409 when
        it was moved or canceled already; 422 when it holds a payment and `target` bills through
        another payment account; 404 when no free slot there holds the service)."""
        if booking.status != "booked" or booking.moved_to is not None:
            raise conflict("The booking was already moved or canceled.")
        self.require_commercial(target)
        svc = target.services.get(service_id)
        if svc is None:
            raise not_found("Address service not found.")
        old_addr = self.tree.address_by_id(booking.address_id)
        if booking.payment == "paid" and target.payment_account != old_addr.payment_account:
            raise unprocessable("The target address uses another payment account.")
        length = duration or booking.duration
        now = self.clock.now()
        busy = self.busy(target.id, ignore=booking.id)
        ranges = self.slots.get(target.id, [])
        free = bookable(ranges, busy, start, service_id, length, now)
        if not anywhere and self.move_requires_slot and not free:
            raise not_found("Slot not found.")
        new = Booking(
            id=self.tree.next_id(),
            address_id=target.id,
            start=start,
            duration=length,
            service=svc,
            patient=dict(booking.patient),
            booked_by=booking.booked_by,
            booked_at=now,
            comment=booking.comment,
            insurance=booking.insurance,
            visit_payment=booking.visit_payment,
            payment=booking.payment,
            payment_raw=booking.payment_raw,
            videocall_url=booking.videocall_url
            or (self.video_url() if target.is_online_only else None),
            origin_id=booking.origin_id or booking.id,
            label=booking.label,
        )
        booking.status = "canceled"
        booking.canceled_by = actor
        booking.canceled_at = now
        booking.moved_to = new.id
        self.bookings[new.id] = new
        self.emit(
            "booking-moved",
            old_addr,
            actor,
            old_visit_booking=booking.notification(self.zone),
            new_visit_booking=new.notification(self.zone),
        )
        return new

    def confirm(self, booking: Booking, confirmed_by: Any, actor: str) -> None:
        """Confirm a visit (400 for a bad `confirmed_by`; 409 when it is confirmed already,
        canceled, moved away or in the past)."""
        if confirmed_by not in ("user", "admin"):
            raise DocplannerError(
                400, "Validation failed", {"confirmed_by": ["The value is not a valid choice."]}
            )
        if booking.confirmed_by is not None:
            raise conflict("The booking is already confirmed.")
        if booking.status != "booked":
            raise conflict("The booking is canceled.")
        if booking.start < self.clock.now():
            raise conflict("The booking is in the past.")
        booking.confirmed_by = confirmed_by
        addr = self.tree.address_by_id(booking.address_id)
        self.emit("booking-confirmed", addr, actor, visit_booking=booking.notification(self.zone))

    def mark_presence(self, booking: Booking, present: bool, actor: str) -> None:
        """Mark the patient present or absent (409 when the visit is canceled)."""
        if booking.status != "booked":
            raise conflict("The visit is canceled.")
        booking.presence = "present" if present else "absent"
        addr = self.tree.address_by_id(booking.address_id)
        self.emit(
            "presence-marked",
            addr,
            actor,
            visit_booking=booking.notification(self.zone),
            presence="PRESENT" if present else "ABSENT",
        )

    def set_payment(self, booking: Booking, state: str, raw: str | None = None) -> None:
        """A visit payment changes state (see docplanner_bookings); reports the event."""
        if not booking.visit_payment:
            raise ValueError(f"booking {booking.id} has no visit payment")
        before = EVENT_PAYMENT.get(booking.payment or "awaiting", "waiting_for_confirmation")
        booking.payment = state
        booking.payment_raw = raw
        addr = self.tree.address_by_id(booking.address_id)
        now = self.clock.now()
        self.emit(
            "booking-payment-status-changed",
            addr,
            "user",
            visit_booking=booking.notification(self.zone),
            visit_payment_status={
                "status_from": before,
                "status_to": EVENT_PAYMENT[state],
                "changed_at": render(now, self.zone),
            },
        )

    # ----- breaks --------------------------------------------------------------------------
    def add_break(
        self,
        addr: Address,
        since: datetime,
        till: datetime,
        description: str,
        actor: str,
        *,
        coupled: bool = False,
    ) -> CalendarBreak:
        """A new break (422 for a bad range; 409 for a duplicate range and description)."""
        self.require_commercial(addr)
        if till <= since:
            raise unprocessable("The break's till must be later than its since.")
        for other in self.breaks.values():
            same = (other.since, other.till, other.description) == (since, till, description)
            if other.address_id == addr.id and same:
                raise conflict("The same break already exists.")
        made = CalendarBreak(self.tree.next_id(), addr.id, since, till, description)
        self.breaks[made.id] = made
        self.emit("break-created", addr, actor, **{"break": made.notification(self.zone)})
        if coupled and addr.coupled_id is not None:
            twin = self.tree.address_by_id(addr.coupled_id)
            mirror = CalendarBreak(
                self.tree.next_id(), twin.id, since, till, description, mirror_of=made.id
            )
            self.breaks[mirror.id] = mirror
            self.emit("break-created", twin, actor, **{"break": mirror.notification(self.zone)})
        return made

    def calendar_break(self, addr: Address, break_id: str) -> CalendarBreak:
        """404 for an unknown break, 403 for one of another address."""
        found = self.breaks.get(break_id)
        if found is None:
            raise not_found("Calendar break not found.")
        if found.address_id != addr.id:
            raise forbidden("The break does not belong to this address.")
        return found

    def move_break(self, item: CalendarBreak, since: datetime, till: datetime, actor: str) -> None:
        """Move a break (422 for the same range or till not after since)."""
        if till <= since or (since, till) == (item.since, item.till):
            raise unprocessable("The new range is invalid or unchanged.")
        item.since, item.till = since, till
        addr = self.tree.address_by_id(item.address_id)
        self.emit("break-moved", addr, actor, **{"break": item.notification(self.zone)})

    def remove_break(self, item: CalendarBreak, actor: str) -> None:
        """Remove a break."""
        del self.breaks[item.id]
        addr = self.tree.address_by_id(item.address_id)
        self.emit("break-removed", addr, actor, **{"break": item.notification(self.zone)})

    # ----- address services and addresses -------------------------------------------------
    def add_service(self, addr: Address, service_id: str, actor: str, **fields: Any) -> Any:
        """A new address service (409 when the address has that dictionary service)."""
        if any(s.service_id == service_id for s in addr.services.values()):
            raise conflict("The address service already exists.")
        svc = self.tree.add_service(addr.id, service_id, **fields)
        self.emit("address-service-created", addr, actor, address_service=svc.render(frozenset()))
        return svc

    def change_service(self, addr: Address, svc: AddressService, actor: str, **fields: Any) -> None:
        """Change an address service's price, description, duration or visibility."""
        for key, value in fields.items():
            setattr(svc, key, value)
        self.emit("address-service-changed", addr, actor, address_service=svc.render(frozenset()))

    def delete_service(self, addr: Address, svc: AddressService, actor: str) -> None:
        """Delete an address service (slots lose it)."""
        del addr.services[svc.id]
        for rng in self.slots.get(addr.id, []):
            rng.services = [(i, d) for i, d in rng.services if i != svc.id]
        self.emit("address-service-deleted", addr, actor, address_service=svc.render(frozenset()))

    def set_commercial_type(self, addr: Address, value: str) -> None:
        """The address's plan changes (premium|saas-only|basic)."""
        if value not in ("premium", "saas-only", "basic"):
            raise ValueError(value)
        addr.commercial_type = value
        data_address = {**addr.brief(), "commercial_type": value}
        fac, doc, _ = self.tree.context(addr.id)
        now = self.clock.now()
        data = {"facility": fac.brief(), "doctor": doc.brief(), "address": data_address}
        self.outbox.emit("address-commercial-type-changed", data, render(now, self.zone), now)

    def set_assigned(self, addr: Address, assigned: bool) -> None:
        """The address is assigned to (or unassigned from) the client (Docplanner PMS)."""
        addr.assigned = assigned
        self.emit("address-assigned" if assigned else "address-unassigned", addr, "doctor")

    def real_time_request(self, name: str, addr: Address, **payload: Any) -> dict[str, Any]:
        """The envelope of a blocking real-time request (`slot-booking`/`booking-moving`),
        queued for pull as well when `outbox.real_time` is on."""
        now = self.clock.now()
        data = {**self.context_data(addr), **payload}
        return self.outbox.emit(name, data, render(now, self.zone), now)

    def check_actor(self, actor: str) -> None:
        """Guard for hooks."""
        if actor not in ACTORS:
            raise ValueError(actor)
