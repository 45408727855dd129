"""A field whitelist for what the Docplanner emulator sends, derived from the reference data so
the emulator cannot drift into inventing fields or types (as the Google emulator is checked
against the discovery document).

The vendor types are read from the PHP SDK's generated model docs
(../shared/reference/data/docplanner/sdk-php/docs/Model/*.md, one `**field** | type` row per
property). On top of them come only the fields the reference names for API versions newer
than the SDK (reference section 1.2): `Address.city_name`, `AddressService.custom_name` and
`.allowed_patients`, `Booking.moving{origin_booking_id,newest_booking_id}`, the response
patient's `is_returning` (the SDK spells it `is_returnting`; both are allowed) and
`insurance_number`; and `Doctor.profile_url`, the emulator's name for what the
`doctor.profile_url` scope adds (the references name only the scope). The
`booking-payment-status-changed` payload, newer than the SDK, comes from notifications.json.
Values are checked where the reference enumerates them (statuses, actors, presence,
commercial types, notification names, payment statuses). Pure functions, any thread.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakes.docplanner_bookings import PAYMENT_VALUES

REFERENCE_ENV = "CARECAL_DOCPLANNER_REFERENCE"
DEFAULT_REFERENCE = (
    Path(__file__).resolve().parents[3] / "shared" / "reference" / "data" / "docplanner"
)
_ROW = re.compile(r"^\*\*(?P<name>\w+)\*\* \| (?P<type>[^|]+?) \|")
_MODEL = re.compile(r"\\DocPlanner\\Client\\Model\\(?P<model>\w+)(?P<array>\[\])?")
DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# Reference 1.2 additions (field -> type text in the SDK's notation).
ADDITIONS: dict[str, dict[str, str]] = {
    "Address": {"city_name": "string"},
    "AddressService": {"custom_name": "string", "allowed_patients": "string"},
    "Booking": {"moving": "Moving"},
    "BookingPatient": {"is_returning": "bool", "insurance_number": "string"},
    "Doctor": {"profile_url": "string"},
}
SYNTHETIC: dict[str, dict[str, str]] = {
    "Moving": {"origin_booking_id": "string", "newest_booking_id": "string"},
    "VisitPaymentStatus": {
        "status_from": "string",
        "status_to": "string",
        "changed_at": "DateTime",
    },
    "PaymentStatusChangedData": {
        "facility": "Facility",
        "doctor": "Doctor",
        "address": "Address",
        "visit_booking": "BookingNotification",
        "visit_payment_status": "VisitPaymentStatus",
    },
    "Token": {
        "access_token": "string",
        "expires_in": "int",
        "token_type": "string",
        "scope": "string",
    },
    "TokenError": {"error": "string", "error_description": "string"},
}
# Fields the emulator may send as null (the reference shows null or an empty value for them).
NULLABLE = frozenset(
    {
        ("Booking", "canceled_at"),
        ("Booking", "comment"),
        ("Booking", "presence"),
        ("BookingNotification", "canceled_at"),
        ("BookingNotification", "comment"),
        ("VisitBookingRequestNotification", "comment"),
        ("AddressService", "price"),
        ("AddressService", "custom_name"),
        ("AddressServiceNotification", "price"),
        ("Token", "scope"),
    }
)
ENUMS: dict[tuple[str, str], frozenset[Any]] = {
    ("Booking", "status"): frozenset({"booked", "canceled"}),
    ("Booking", "booked_by"): frozenset({"user", "doctor", "integration"}),
    ("Booking", "canceled_by"): frozenset({"", "user", "doctor", "integration"}),
    ("Booking", "presence"): frozenset({"present", "absent", None}),
    ("Booking", "visit_payment_status"): PAYMENT_VALUES,
    ("BookingNotification", "status"): frozenset({"booked", "canceled"}),
    ("BookingNotification", "booked_by"): frozenset({"user", "doctor", "integration"}),
    ("BookingNotification", "canceled_by"): frozenset({"", "user", "doctor", "integration"}),
    ("VisitBookingRequestNotification", "booking_by"): frozenset({"user", "doctor", "integration"}),
    ("PresenceMarkedNotificationData", "presence"): frozenset({"PRESENT", "ABSENT"}),
    ("Address", "commercial_type"): frozenset({"premium", "saas-only", "basic"}),
    ("Calendar", "status"): frozenset({"enabled", "disabled"}),
    ("Patient", "gender"): frozenset({"m", "f"}),
    ("BookingPatient", "gender"): frozenset({"m", "f"}),
    ("VisitPaymentStatus", "status_from"): PAYMENT_VALUES,
    ("VisitPaymentStatus", "status_to"): PAYMENT_VALUES,
    ("Token", "token_type"): frozenset({"bearer"}),
}
# Which SDK data model each notification's `data` is (the SDK's *Notification models).
DATA_MODELS = {
    "slot-booking": "SlotBookingNotificationData",
    "slot-booked": "SlotBookedNotificationData",
    "booking-canceled": "SlotBookedNotificationData",
    "booking-confirmed": "SlotBookedNotificationData",
    "booking-moved": "BookingMovedNotificationData",
    "booking-moving": "BookingMovingNotificationData",
    "booking-payment-status-changed": "PaymentStatusChangedData",
    "break-created": "BreakCreatedNotificationData",
    "break-moved": "BreakCreatedNotificationData",
    "break-removed": "BreakCreatedNotificationData",
    "presence-marked": "PresenceMarkedNotificationData",
    "address-service-created": "AddressServiceCreatedNotificationData",
    "address-service-changed": "AddressServiceCreatedNotificationData",
    "address-service-deleted": "AddressServiceCreatedNotificationData",
    "address-commercial-type-changed": "AddressCommercialTypeChangedNotificationData",
    "address-assigned": "AddressCommercialTypeChangedNotificationData",
    "address-unassigned": "AddressCommercialTypeChangedNotificationData",
}
KINDS = {
    "facilities": "Facilities",
    "facility": "Facility",
    "doctors": "Doctors",
    "doctor": "Doctor",
    "addresses": "Addresses",
    "address": "Address",
    "address_services": "AddressServices",
    "address_service": "AddressService",
    "calendar": "Calendar",
    "breaks": "CalendarBreaks",
    "break": "CalendarBreak",
    "slots": "Slots",
    "bookings": "Bookings",
    "booking": "Booking",
    "services": "Services",
    "insurance_providers": "InsuranceProviders",
    "token": "Token",
    "token_error": "TokenError",
}


def reference_dir() -> Path:
    """Where the Docplanner reference data is read from ($CARECAL_DOCPLANNER_REFERENCE wins)."""
    return Path(os.environ.get(REFERENCE_ENV) or DEFAULT_REFERENCE)


def _type_of(text: str) -> str:
    found = _MODEL.search(text)
    if found:
        return found["model"] + (found["array"] or "")
    if "DateTime" in text:
        return "DateTime"
    return text.strip().strip("*")


@cache
def models() -> dict[str, dict[str, str]]:
    """Every vendor type: model name -> {field: type} (`string`, `int`, `bool`, `object`,
    `DateTime`, `string[]`, a model name, or a model name with `[]`), with the additions."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted((reference_dir() / "sdk-php" / "docs" / "Model").glob("*.md")):
        fields: dict[str, str] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            row = _ROW.match(line)
            if row:
                fields[row["name"]] = _type_of(row["type"])
        out[path.stem] = fields
    for name, extra in ADDITIONS.items():
        out[name] = {**out[name], **extra}
    out.update(SYNTHETIC)
    out["BookingPatient"].setdefault("is_returnting", "bool")
    return out


@cache
def notification_reference() -> dict[str, Any]:
    """notifications.json: the 17 names and their payload keys."""
    with (reference_dir() / "notifications.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def problems(value: Any, type_name: str, where: str = "$", owner: str = "") -> list[str]:
    """Every way `value` departs from the vendor type `type_name` (fields of `owner`)."""
    if type_name.endswith("[]"):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        inner = type_name[:-2]
        return [p for i, v in enumerate(value) for p in problems(v, inner, f"{where}[{i}]")]
    if type_name == "string":
        return [] if isinstance(value, str) else [f"{where}: expected a string, got {value!r}"]
    if type_name == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer, got {value!r}"]
    if type_name == "bool":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean, got {value!r}"]
    if type_name == "DateTime":
        ok = isinstance(value, str) and DATE_TIME.match(value) is not None
        return [] if ok else [f"{where}: {value!r} is not a date-time with an offset"]
    if type_name == "object":
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    spec = models().get(type_name)
    if spec is None:
        return [f"{where}: unknown vendor type {type_name}"]
    if not isinstance(value, dict):
        return [f"{where}: expected a {type_name} object, got {type(value).__name__}"]
    found: list[str] = []
    for key, item in value.items():
        at = f"{where}.{key}"
        if key not in spec:
            found.append(f"{where}: field {key!r} is not in the vendor type {type_name}")
            continue
        allowed = ENUMS.get((type_name, key))
        if allowed is not None and item not in allowed:
            found.append(f"{at}: {item!r} is not one of the documented values")
            continue
        if item is None and ((type_name, key) in NULLABLE or allowed is not None):
            continue
        found += problems(item, spec[key], at, type_name)
    return found


def _error(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) - {"errors", "message"}:
        return [f"$: an error has only errors and message: {body!r}"]
    found = [] if isinstance(body.get("message"), str) else ["$.message: expected a string"]
    errors = body.get("errors", [])
    if isinstance(errors, list):
        return found + problems(errors, "string[]", "$.errors")
    if isinstance(errors, dict):  # validation errors keyed by field path
        for key, messages in errors.items():
            found += problems(messages, "string[]", f"$.errors[{key!r}]")
        return found
    return [*found, "$.errors: expected a list or an object keyed by field path"]


def _notification(body: Any, where: str = "$") -> list[str]:
    found = problems(body, "Notification", where)
    if found or not isinstance(body, dict):
        return found
    name = body.get("name")
    if name not in DATA_MODELS:
        return [f"{where}.name: {name!r} is not one of the 17 notification names"]
    return problems(body.get("data"), DATA_MODELS[name], f"{where}.data")


def check_response(kind: str, body: Any) -> list[str]:
    """Problems of one emulator response body of `kind`."""
    if kind == "error":
        return _error(body)
    if kind == "notification":
        return _notification(body)
    if kind == "notifications":
        if not isinstance(body, dict):
            return ["$: expected an object"]
        key = "_items" if "_items" in body else "notifications"
        found = [] if set(body) <= {key, "remaining"} else [f"$: unexpected keys {sorted(body)}"]
        found += problems(body.get("remaining"), "int", "$.remaining")
        for i, item in enumerate(body.get(key) or []):
            found += _notification(item, f"$.{key}[{i}]")
        return found
    if kind == "public_ips":
        return problems(body, "string[]")
    if kind in KINDS:
        return problems(body, KINDS[kind])
    return [f"unknown response kind {kind!r}"]
