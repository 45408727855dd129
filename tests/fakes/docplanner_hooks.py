"""Admin hooks of the Docplanner emulator for the other parties: a patient on the marketplace
and the doctor in the Docplanner panel, plus read-only checks. Mixed into
`docplanner_server.DocplannerEmulator`; every hook takes the emulator's lock, applies the time
rules first, enqueues the notifications the action makes, and delivers due pushes after.

A patient books only free published slots; the doctor may book or move anywhere. Bookings come
back rendered as the API renders a single booking (with `moving`). A hook the API would refuse
raises the same DocplannerError (e.g. 404 "Slot not found." for a patient booking a taken time,
409 for moving a booking twice); unknown ids raise KeyError.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tests.fakes.docplanner_bookings import Booking
from tests.fakes.docplanner_clock import Clock, day_bounds
from tests.fakes.docplanner_practice import Practice
from tests.fakes.docplanner_slots import free_starts
from tests.fakes.docplanner_tree import Address


class PartyHooks:
    """The patient's and the doctor's actions and the checks (see the module docstring)."""

    lock: threading.RLock
    state: Practice
    clock: Clock
    payment_dialect: str

    def now(self) -> datetime:
        """The emulator clock's instant."""
        return self.clock.now()

    def _deliver_pushes(self) -> None:  # provided by the emulator
        raise NotImplementedError

    def _push_blocking(self, envelope: dict[str, Any]) -> bool:  # provided by the emulator
        raise NotImplementedError

    # ----- the other parties: a patient -----------------------------------------------------
    def _addr(self, address_id: str) -> Address:
        return self.state.tree.address_by_id(address_id)

    def _booking(self, booking_id: str) -> Booking:
        return self.state.bookings[booking_id]

    def _render(self, booking: Booking) -> dict[str, Any]:
        return booking.resource(
            self.state.zone,
            scopes=frozenset({"booking.moving"}),
            dialect=self.payment_dialect,
            newest_id=self.state.newest(booking),
        )

    def _as(self, work: Callable[[], Any]) -> Any:
        with self.lock:
            self.state.tick()
            result = work()
        self._deliver_pushes()
        return result

    def _book_as(
        self,
        actor: str,
        address_id: str,
        start: datetime,
        service_id: str | None,
        patient: dict[str, Any] | None,
        comment: str | None,
        duration: int | None,
        anywhere: bool,
    ) -> dict[str, Any] | None:
        with self.lock:
            self.state.tick()
            addr = self._addr(address_id)
            svc_id = service_id or next(iter(addr.services))
            length = duration or addr.services[svc_id].duration
            who = patient or {"name": "Jan", "surname": "Wiśniewski", "phone": "+48500100200"}
            draft = self.state.draft(
                addr, start, svc_id, length, who, actor, comment=comment, anywhere=anywhere
            )
            request = None
            if self.state.outbox.real_time:
                request = self.state.real_time_request(
                    "slot-booking", addr, visit_booking_request=draft.request(self.state.zone)
                )
        if request is not None and not self._push_blocking(request):
            return None
        result = self._as(lambda: self._render(self.state.store(draft)))
        return dict(result)

    def patient_books(
        self,
        address_id: str,
        start: datetime,
        *,
        service_id: str | None = None,
        patient: dict[str, Any] | None = None,
        comment: str | None = None,
        duration: int | None = None,
    ) -> dict[str, Any] | None:
        """A patient books a free published slot on the marketplace (`slot-booked`,
        booked_by user; visit-payment addresses start the 90-minute payment window). With
        `outbox.real_time` and a push URL, a non-2xx answer to `slot-booking` stops it: None."""
        return self._book_as(
            "user", address_id, start, service_id, patient, comment, duration, False
        )

    def patient_cancels(self, booking_id: str) -> None:
        """The patient cancels (`booking-canceled`, canceled_by user)."""
        self._as(lambda: self.state.cancel(self._booking(booking_id), "user", None))

    def _move_as(
        self,
        actor: str,
        booking_id: str,
        start: datetime,
        service_id: str | None,
        address_id: str | None,
        anywhere: bool,
    ) -> dict[str, Any] | None:
        with self.lock:
            self.state.tick()
            old = self._booking(booking_id)
            target = self._addr(address_id or old.address_id)
            svc_id = service_id or (
                old.service.id if old.service.id in target.services else next(iter(target.services))
            )
            request = None
            if self.state.outbox.real_time:
                creating = dataclasses.replace(old, start=start, booked_at=self.now())
                request = self.state.real_time_request(
                    "booking-moving",
                    self._addr(old.address_id),
                    canceling_booking=old.notification(self.state.zone),
                    creating_booking=creating.request(self.state.zone),
                )
        if request is not None and not self._push_blocking(request):
            return None

        def work() -> dict[str, Any]:
            new = self.state.move(
                self._booking(booking_id), target, start, svc_id, None, actor, anywhere=anywhere
            )
            return self._render(new)

        return dict(self._as(work))

    def patient_moves(
        self,
        booking_id: str,
        start: datetime,
        *,
        service_id: str | None = None,
        address_id: str | None = None,
    ) -> dict[str, Any] | None:
        """The patient reschedules to a free slot: `booking-moved` with the old and the NEW
        booking (new id); None when a real-time `booking-moving` was refused."""
        return self._move_as("user", booking_id, start, service_id, address_id, False)

    def patient_pays(self, booking_id: str, *, status: str | None = None) -> None:
        """The patient pays (`booking-payment-status-changed` to paid; `status` overrides the
        resource's raw `visit_payment_status`)."""
        self._as(lambda: self.state.set_payment(self._booking(booking_id), "paid", status))

    def patient_payment_pending(self, booking_id: str) -> None:
        """The patient's payment is being confirmed (waiting_for_confirmation/in_progress)."""
        self._as(lambda: self.state.set_payment(self._booking(booking_id), "processing"))

    def patient_does_not_pay(self, booking_id: str) -> None:
        """The patient's payment fails (`not-paid`); the booking stands until the 90-minute
        window ends, then Docplanner cancels it."""
        self._as(lambda: self.state.set_payment(self._booking(booking_id), "failed"))

    def refund(self, booking_id: str) -> None:
        """The payment is refunded (`refunded`)."""
        self._as(lambda: self.state.set_payment(self._booking(booking_id), "refunded"))

    def charge_back(self, booking_id: str) -> None:
        """The payment is charged back (`charged_back`)."""
        self._as(lambda: self.state.set_payment(self._booking(booking_id), "charged_back"))

    def patient_confirms(self, booking_id: str) -> None:
        """The patient confirms the visit (`booking-confirmed`)."""
        self._as(lambda: self.state.confirm(self._booking(booking_id), "user", "user"))

    # ----- the other parties: the doctor in the Docplanner panel ----------------------------
    def doctor_books(
        self,
        address_id: str,
        start: datetime,
        *,
        service_id: str | None = None,
        patient: dict[str, Any] | None = None,
        comment: str | None = None,
        duration: int | None = None,
    ) -> dict[str, Any]:
        """The doctor books a visit in the panel, slot or not (`slot-booked`, booked_by
        doctor)."""
        result = self._book_as(
            "doctor", address_id, start, service_id, patient, comment, duration, True
        )
        assert result is not None
        return result

    def doctor_cancels(self, booking_id: str) -> None:
        """The doctor cancels (`booking-canceled`, canceled_by doctor)."""
        self._as(lambda: self.state.cancel(self._booking(booking_id), "doctor", None))

    def doctor_moves(
        self,
        booking_id: str,
        start: datetime,
        *,
        service_id: str | None = None,
        address_id: str | None = None,
    ) -> dict[str, Any]:
        """The doctor moves a visit anywhere (`booking-moved`, new id)."""
        result = self._move_as("doctor", booking_id, start, service_id, address_id, True)
        assert result is not None
        return result

    def doctor_confirms(self, booking_id: str) -> None:
        """The practice confirms the visit in the panel (`booking-confirmed`)."""
        self._as(lambda: self.state.confirm(self._booking(booking_id), "admin", "doctor"))

    def doctor_marks_presence(self, booking_id: str, present: bool = True) -> None:
        """The doctor marks presence or a no-show (`presence-marked`)."""
        self._as(lambda: self.state.mark_presence(self._booking(booking_id), present, "doctor"))

    def doctor_adds_break(
        self,
        address_id: str,
        since: datetime,
        till: datetime,
        description: str = "",
        *,
        coupled: bool = False,
    ) -> str:
        """The doctor blocks time (`break-created`); returns the break id."""
        return str(
            self._as(
                lambda: (
                    self.state.add_break(
                        self._addr(address_id), since, till, description, "doctor", coupled=coupled
                    ).id
                )
            )
        )

    def doctor_moves_break(self, break_id: str, since: datetime, till: datetime) -> None:
        """The doctor moves a break (`break-moved`)."""
        self._as(lambda: self.state.move_break(self.state.breaks[break_id], since, till, "doctor"))

    def doctor_removes_break(self, break_id: str) -> None:
        """The doctor removes a break (`break-removed`)."""
        self._as(lambda: self.state.remove_break(self.state.breaks[break_id], "doctor"))

    def doctor_adds_service(self, address_id: str, service_id: str, **fields: Any) -> str:
        """The doctor adds a service (`address-service-created`); returns its id."""
        return str(
            self._as(
                lambda: (
                    self.state.add_service(
                        self._addr(address_id), service_id, "doctor", **fields
                    ).id
                )
            )
        )

    def doctor_changes_service(
        self, address_id: str, address_service_id: str, **fields: Any
    ) -> None:
        """The doctor edits a service (`address-service-changed`)."""

        def work() -> None:
            addr = self._addr(address_id)
            self.state.change_service(addr, addr.services[address_service_id], "doctor", **fields)

        self._as(work)

    def doctor_deletes_service(self, address_id: str, address_service_id: str) -> None:
        """The doctor deletes a service (`address-service-deleted`)."""

        def work() -> None:
            addr = self._addr(address_id)
            self.state.delete_service(addr, addr.services[address_service_id], "doctor")

        self._as(work)

    def doctor_readds_service(self, address_id: str, address_service_id: str) -> str:
        """The doctor deletes a service and adds an identical one: its id changes (reference
        1.2); returns the new id."""

        def work() -> str:
            addr = self._addr(address_id)
            old = addr.services[address_service_id]
            self.state.delete_service(addr, old, "doctor")
            fields = {
                k: getattr(old, k)
                for k in ("name", "price", "is_price_from", "is_default", "description", "duration")
            }
            return str(self.state.add_service(addr, old.service_id, "doctor", **fields).id)

        return str(self._as(work))

    def set_commercial_type(self, address_id: str, value: str) -> None:
        """The address's plan changes (`address-commercial-type-changed`)."""
        self._as(lambda: self.state.set_commercial_type(self._addr(address_id), value))

    def assign_address(self, address_id: str) -> None:
        """The address is assigned to the client (`address-assigned`)."""
        self._as(lambda: self.state.set_assigned(self._addr(address_id), True))

    def unassign_address(self, address_id: str) -> None:
        """The address is unassigned from the client (`address-unassigned`)."""
        self._as(lambda: self.state.set_assigned(self._addr(address_id), False))

    def set_calendar(self, address_id: str, status: str | None) -> None:
        """An address's calendar: "enabled", "disabled" or None (none exists)."""
        with self.lock:
            self._addr(address_id).calendar = status

    # ----- checks -----------------------------------------------------------------------------
    def booking(self, booking_id: str) -> dict[str, Any]:
        """A booking as the API renders it (full, with `moving`)."""
        with self.lock:
            return self._render(self._booking(booking_id))

    def bookings_at(self, address_id: str) -> list[dict[str, Any]]:
        """Every booking of an address, canceled ones included, by start."""
        with self.lock:
            found = [b for b in self.state.bookings.values() if b.address_id == address_id]
            return [self._render(b) for b in sorted(found, key=lambda b: (b.start, b.id))]

    def free_starts_on(self, address_id: str, day: str) -> list[datetime]:
        """The free starts a patient sees on a local day."""
        with self.lock:
            since, till = day_bounds(day, self.state.zone)
            ranges = self.state.slots.get(address_id, [])
            busy = self.state.busy(address_id)
            return [s for s, _ in free_starts(ranges, busy, since, till, self.clock.now())]

    def queue_names(self) -> list[str]:
        """The names of the notifications waiting to be pulled, oldest first."""
        with self.lock:
            return [q.envelope["name"] for q in self.state.outbox.queue]

    @property
    def outbox(self) -> Any:
        """The notification outbox (knobs and records, see docplanner_notifications)."""
        return self.state.outbox

    def enable_push(
        self, url: str, *, retry_policy: str = "once", headers: dict[str, str] | None = None
    ) -> None:
        """Push every notification to `url` as well (pull keeps working)."""
        with self.lock:
            self.state.outbox.push_url = url
            self.state.outbox.retry_policy = retry_policy
            self.state.outbox.push_headers = dict(headers or {})
