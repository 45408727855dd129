"""Bookings in the Docplanner emulator: the Booking record, the patient it carries, how it is
rendered as the `Booking` resource and as the `visit_booking` of a notification, and the
visit-payment vocabulary.

Visit payment status: the sources disagree (reference 1.5), so the value is an open string
and the emulator can produce every documented variant. Internally a payment is one of
`awaiting, processing, paid, failed, expired, refunded, charged_back`; `PAYMENT_DIALECTS` maps
that to what the Booking resource's `visit_payment_status` says:
- "event" (default): the event's vocabulary `waiting_for_confirmation, paid, not-paid,
  refunded, charged_back`;
- "guide": the online-features guide's `new, in_progress, successful, failed, canceled`;
- "spec": the spec examples' `paid`/`successful`, the rest as the guide.
`booking-payment-status-changed` events always use the event's vocabulary (the only list
documented for it). A hook may also set any raw string.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_clock import render
from tests.fakes.docplanner_errors import FieldErrors
from tests.fakes.docplanner_tree import Address, AddressService

EVENT_PAYMENT = {
    "awaiting": "waiting_for_confirmation",
    "processing": "waiting_for_confirmation",
    "paid": "paid",
    "failed": "not-paid",
    "expired": "not-paid",
    "refunded": "refunded",
    "charged_back": "charged_back",
}
PAYMENT_DIALECTS: dict[str, dict[str, str]] = {
    "event": EVENT_PAYMENT,
    "guide": {
        "awaiting": "new",
        "processing": "in_progress",
        "paid": "successful",
        "failed": "failed",
        "expired": "canceled",
        "refunded": "canceled",
        "charged_back": "canceled",
    },
    "spec": {
        "awaiting": "new",
        "processing": "in_progress",
        "paid": "paid",
        "failed": "failed",
        "expired": "canceled",
        "refunded": "canceled",
        "charged_back": "canceled",
    },
}
# Every documented visit payment status value (reference 1.5 and notifications.json).
PAYMENT_VALUES = frozenset(v for d in PAYMENT_DIALECTS.values() for v in d.values()) | {
    "successful",
    "new",
    "canceled",
    "failed",
    "in_progress",
}
MOVING_SINCE = datetime(2025, 4, 2, tzinfo=UTC)  # `moving` exists for bookings booked after it
PATIENT_FIELDS = ("name", "surname", "email", "phone", "birth_date", "nin", "gender")


@dataclass
class Booking:
    """One booking; a move makes a new Booking and cancels this one."""

    id: str
    address_id: str
    start: datetime
    duration: int
    service: AddressService
    patient: dict[str, Any]
    booked_by: str
    booked_at: datetime
    status: str = "booked"
    canceled_by: str = ""
    canceled_at: datetime | None = None
    cancel_reason: str | None = None
    comment: str | None = None
    presence: str | None = None
    insurance: dict[str, str] | None = None
    visit_payment: bool = False
    payment: str | None = None  # internal state (see the module docstring)
    payment_raw: str | None = None  # a raw status a hook set, overriding the dialect
    videocall_url: str | None = None
    signature: str = field(default_factory=lambda: str(uuid.uuid4()))
    confirmed_by: str | None = None
    origin_id: str = ""
    moved_to: str | None = None
    label: str | None = None
    is_recurring: bool = False

    @property
    def end(self) -> datetime:
        """When the visit ends."""
        return self.start + timedelta(minutes=self.duration)

    def payment_status(self, dialect: str) -> str | None:
        """`visit_payment_status` as the Booking resource says it."""
        if not self.visit_payment or self.payment is None:
            return None
        return self.payment_raw or PAYMENT_DIALECTS[dialect][self.payment]

    def resource(
        self,
        zone: ZoneInfo,
        *,
        scopes: frozenset[str] = frozenset(),
        full: bool = True,
        dialect: str = "event",
        newest_id: str | None = None,
        video_on_lists: bool = True,
    ) -> dict[str, Any]:
        """The Booking type. A single booking (`full`) carries patient, service and presence;
        a list item carries them only for `booking.patient`/`.address_service`/`.presence`."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "start_at": render(self.start, zone),
            "end_at": render(self.end, zone),
            "duration": self.duration,
            "booked_by": self.booked_by,
            "canceled_by": self.canceled_by,
            "booked_at": render(self.booked_at, zone),
            "canceled_at": render(self.canceled_at, zone) if self.canceled_at else None,
            "comment": self.comment,
        }
        if full or "booking.patient" in scopes:
            out["patient"] = self.patient_resource()
        if full or "booking.address_service" in scopes:
            out["address_service"] = self.service.render(frozenset())
        if full or "booking.presence" in scopes:
            out["presence"] = self.presence
        if self.insurance is not None:
            out["insurance"] = dict(self.insurance)
        out["visit_payment"] = self.visit_payment
        status = self.payment_status(dialect)
        if status is not None:
            out["visit_payment_status"] = status
        if self.videocall_url and (full or video_on_lists):
            out["videocall_url"] = self.videocall_url
        if "booking.moving" in scopes and self.booked_at >= MOVING_SINCE:
            out["moving"] = {
                "origin_booking_id": self.origin_id or self.id,
                "newest_booking_id": newest_id or self.id,
            }
        return out

    def patient_resource(self) -> dict[str, Any]:
        """The patient as a Booking resource carries it (adds is_returning and
        insurance_number)."""
        out = {k: self.patient[k] for k in PATIENT_FIELDS if self.patient.get(k) is not None}
        out["is_returning"] = bool(self.patient.get("is_returning", False))
        if self.patient.get("insurance_number"):
            out["insurance_number"] = self.patient["insurance_number"]
        return out

    def notification(self, zone: ZoneInfo) -> dict[str, Any]:
        """The `visit_booking` (BookingNotification) form of this booking."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "start_at": render(self.start, zone),
            "end_at": render(self.end, zone),
            "duration": self.duration,
            "booked_by": self.booked_by,
            "canceled_by": self.canceled_by,
            "booked_at": render(self.booked_at, zone),
            "canceled_at": render(self.canceled_at, zone) if self.canceled_at else None,
            "address_service": self.service.brief(),
            "patient": {
                k: self.patient[k] for k in PATIENT_FIELDS if self.patient.get(k) is not None
            },
            "signature": self.signature,
            "comment": self.comment,
            "visit_payment": self.visit_payment,
        }
        if self.insurance is not None:
            out["insurance"] = {
                "insurance_provider_id": self.insurance.get("id", ""),
                "name": self.insurance.get("name", ""),
                "plan": self.insurance.get("plan", ""),
                "plan_id": self.insurance.get("plan_id", ""),
            }
        if self.videocall_url:
            out["videocall_url"] = self.videocall_url
        return out

    def request(self, zone: ZoneInfo) -> dict[str, Any]:
        """The `visit_booking_request` / `creating_booking` form (before a booking exists)."""
        return {
            "booking_at": render(self.booked_at, zone),
            "booking_by": self.booked_by,
            "duration": self.duration,
            "start_at": render(self.start, zone),
            "end_at": render(self.end, zone),
            "address_service": self.service.brief(),
            "patient": {
                k: self.patient[k] for k in PATIENT_FIELDS if self.patient.get(k) is not None
            },
            "signature": self.signature,
            "comment": self.comment,
            "visit_payment": self.visit_payment,
        }


def parse_patient(raw: Any, addr: Address, where: str = "patient") -> dict[str, Any]:
    """A request's patient, leniently (a phone sent as a number is kept as text); 400 keyed by
    field path when name or phone is missing, the gender is not m|f, or a field the address's
    `booking_extra_fields` requires is missing."""
    errors = FieldErrors()
    if not isinstance(raw, dict):
        errors.add(where, "This value should not be blank.")
        errors.raise_if_any()
        return {}
    out: dict[str, Any] = {}
    for key in (*PATIENT_FIELDS, "marketing_consent", "data_privacy_consent"):
        value = raw.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and key == "phone":
            value = str(int(value))
        if value is not None:
            out[key] = value
    for key in ("name", "phone"):
        if not isinstance(out.get(key), str) or not out[key].strip():
            errors.add(f"{where}.{key}", "This value should not be blank.")
    if "gender" in out and out["gender"] not in ("m", "f"):
        errors.add(f"{where}.gender", "The value you selected is not a valid choice.")
    for key, required in addr.booking_extra_fields.items():
        if required and not out.get(key):
            errors.add(f"{where}.{key}", "This value is required at this address.")
    errors.raise_if_any()
    return out
