"""The Docplanner Integrations API's vendor JSON types, read leniently into frozen records.

Docplanner's answers and notifications are JSON with string ids (some examples carry numbers),
ISO-8601 dates with an offset (converted to the country's zone: compare instants, never
strings), optional fields that appear only when ``with=`` asks for them, and values whose
vocabulary differs between sources (visit payment status). The readers here accept all of that:
ids become strings, a date without an offset is read in the country's zone, unknown payment
statuses are kept as they came, and a missing optional field is None. A value that cannot be
read at all raises ``BadPayload`` (a CarecalError) naming the field, never its content (patient
data must not reach a log). Pure; any thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from carecal.domain.errors import RemoteError

# Country code -> the marketplace's domain (reference 1.1: the spec's "Fundamentals").
COUNTRY_DOMAINS: dict[str, str] = {
    "ar": "doctoraliar.com",
    "br": "doctoralia.com.br",
    "cl": "doctoralia.cl",
    "co": "doctoralia.co",
    "cz": "znamylekar.cz",
    "es": "doctoralia.es",
    "it": "miodottore.it",
    "mx": "doctoralia.mx",
    "pe": "doctoralia.pe",
    "pt": "doctoralia.com.pt",
    "tr": "doktortakvimi.com",
    "pl": "znanylekarz.pl",
    "de": "jameda.de",
}
# The zone a country's answers are given in (the country's main zone).
DOMAIN_ZONES: dict[str, str] = {
    "doctoraliar.com": "America/Argentina/Buenos_Aires",
    "doctoralia.com.br": "America/Sao_Paulo",
    "doctoralia.cl": "America/Santiago",
    "doctoralia.co": "America/Bogota",
    "znamylekar.cz": "Europe/Prague",
    "doctoralia.es": "Europe/Madrid",
    "miodottore.it": "Europe/Rome",
    "doctoralia.mx": "America/Mexico_City",
    "doctoralia.pe": "America/Lima",
    "doctoralia.com.pt": "Europe/Lisbon",
    "doktortakvimi.com": "Europe/Istanbul",
    "znanylekarz.pl": "Europe/Warsaw",
    "jameda.de": "Europe/Berlin",
}
# Every documented visit payment status (the sources disagree: reference 1.5), by meaning.
PAID_STATUSES = frozenset({"paid", "successful"})
PENDING_STATUSES = frozenset({"new", "in_progress", "waiting_for_confirmation"})
FAILED_STATUSES = frozenset({"not-paid", "failed", "canceled"})
RETURNED_STATUSES = frozenset({"refunded", "charged_back"})


class BadPayload(RemoteError):
    """A Docplanner answer or notification that cannot be read (the field is named)."""


def normalize_domain(text: str) -> str:
    """The documented domain for a country code (``pl``) or a domain, with or without ``www.``.
    Any thread. Raises BadPayload-free ValueError for anything else (callers turn it into
    their own ValidationError)."""
    value = text.strip().lower().removeprefix("https://").removeprefix("www.").rstrip("/")
    if value in COUNTRY_DOMAINS:
        return COUNTRY_DOMAINS[value]
    if value in DOMAIN_ZONES:
        return value
    known = ", ".join(f"{c} ({d})" for c, d in COUNTRY_DOMAINS.items())
    raise ValueError(f"not a Docplanner country or domain: {text!r} (known: {known})")


def payment_state(status: str | None) -> str:
    """What a visit payment status means: ``paid``, ``pending``, ``failed``, ``returned``,
    ``none`` (no status) or ``unknown`` (a value no source documents). Any thread."""
    if not status:
        return "none"
    value = status.strip().lower()
    if value in PAID_STATUSES:
        return "paid"
    if value in PENDING_STATUSES:
        return "pending"
    if value in FAILED_STATUSES:
        return "failed"
    if value in RETURNED_STATUSES:
        return "returned"
    return "unknown"


# --- lenient field readers ------------------------------------------------------------------


def text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    """A string field; numbers become text (ids, phone numbers sent as integers)."""
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return default


def opt_text(data: Mapping[str, Any], key: str) -> str | None:
    value = text(data, key)
    return value or None


def ident(data: Mapping[str, Any], key: str = "id", where: str = "") -> str:
    """A required id (string or number). Raises BadPayload."""
    value = text(data, key)
    if not value:
        raise BadPayload(f"Docplanner sent {where or 'an item'} without {key}")
    return value


def number(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def instant(data: Mapping[str, Any], key: str, zone: tzinfo, where: str = "") -> datetime:
    """A required date-time; one without an offset is read in ``zone``. Raises BadPayload."""
    found = opt_instant(data, key, zone)
    if found is None:
        raise BadPayload(f"Docplanner sent {where or 'an item'} without a readable {key}")
    return found


def opt_instant(data: Mapping[str, Any], key: str, zone: tzinfo) -> datetime | None:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def items(data: Any, key: str = "_items") -> list[Mapping[str, Any]]:
    """The list of a collection (``{"_items": [...]}``), dropping entries that are not objects."""
    if isinstance(data, Mapping):
        data = data.get(key)
        if isinstance(data, Mapping):  # embedded collections: {"doctors": {"_items": [...]}}
            data = data.get("_items")
    if not isinstance(data, list):
        return []
    return [i for i in data if isinstance(i, Mapping)]


# --- the resource tree ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facility:
    id: str
    name: str

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Facility:
        return cls(ident(data, where="a facility"), text(data, "name"))


@dataclass(frozen=True, slots=True)
class Doctor:
    id: str
    name: str
    surname: str

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.name, self.surname) if p)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Doctor:
        return cls(ident(data, where="a doctor"), text(data, "name"), text(data, "surname"))


@dataclass(frozen=True, slots=True)
class Address:
    """An address; ``is_online_only`` and ``visit_payment`` come with ``with=address.online_only,
    address.visit_payment``; ``commercial_type`` with ``address.commercial_type``."""

    id: str
    name: str
    city: str = ""
    street: str = ""
    is_online_only: bool = False
    visit_payment: bool = False
    commercial_type: str | None = None

    @property
    def label(self) -> str:
        parts = [p for p in (self.name, self.street, self.city) if p]
        return ", ".join(parts) or self.id

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Address:
        return cls(
            id=ident(data, where="an address"),
            name=text(data, "name"),
            city=text(data, "city_name"),
            street=text(data, "street"),
            is_online_only=flag(data, "is_online_only"),
            visit_payment=flag(data, "visit_payment"),
            commercial_type=opt_text(data, "commercial_type"),
        )


@dataclass(frozen=True, slots=True)
class AddressService:
    """A service offered at an address. ``service_id`` (the dictionary id) and ``duration`` are
    missing from notifications (their ``address_service`` is the short form)."""

    id: str
    name: str
    price: int | None = None
    is_price_from: bool = False
    service_id: str | None = None
    duration: int | None = None
    is_visible: bool = True
    is_default: bool = False

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> AddressService:
        return cls(
            id=ident(data, where="an address service"),
            name=text(data, "name"),
            price=number(data, "price"),
            is_price_from=flag(data, "is_price_from"),
            service_id=opt_text(data, "service_id"),
            duration=number(data, "duration"),
            is_visible=data.get("is_visible") is not False,
            is_default=flag(data, "is_default"),
        )


# --- bookings -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingPatient:
    name: str = field(default="", repr=False)
    surname: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    birth_date: str = field(default="", repr=False)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> BookingPatient:
        return cls(
            name=text(data, "name").strip(),
            surname=text(data, "surname").strip(),
            phone=text(data, "phone").strip(),
            email=text(data, "email").strip(),
            birth_date=text(data, "birth_date").strip(),
        )


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking as ``GET bookings``, ``slot-booked`` (``visit_booking``) or ``bookSlot`` give it.
    Fields a given source leaves out are None (``patient``, ``service``, ``presence`` ...)."""

    id: str
    status: str  # booked | canceled
    start: datetime
    end: datetime
    duration: int | None = None
    booked_by: str = ""
    canceled_by: str = ""
    booked_at: datetime | None = None
    canceled_at: datetime | None = None
    patient: BookingPatient | None = None
    service: AddressService | None = None
    comment: str = field(default="", repr=False)
    presence: str | None = None
    visit_payment: bool = False
    payment_status: str | None = None
    videocall_url: str = field(default="", repr=False)
    origin_id: str | None = None  # moving.origin_booking_id, when asked for
    newest_id: str | None = None  # moving.newest_booking_id

    @property
    def booked(self) -> bool:
        return self.status.strip().lower() == "booked"

    @classmethod
    def of(cls, data: Mapping[str, Any], zone: tzinfo) -> Booking:
        """Raises BadPayload without an id, a start or an end."""
        where = "a booking"
        start = instant(data, "start_at", zone, where)
        end = opt_instant(data, "end_at", zone)
        duration = number(data, "duration")
        if end is None:
            if duration is None:
                raise BadPayload("Docplanner sent a booking without an end or a duration")
            from datetime import timedelta

            end = start + timedelta(minutes=duration)
        patient = data.get("patient")
        service = data.get("address_service")
        moving = obj(data, "moving")
        return cls(
            id=ident(data, where=where),
            status=text(data, "status", "booked") or "booked",
            start=start,
            end=end,
            duration=duration,
            booked_by=text(data, "booked_by"),
            canceled_by=text(data, "canceled_by"),
            booked_at=opt_instant(data, "booked_at", zone),
            canceled_at=opt_instant(data, "canceled_at", zone),
            patient=BookingPatient.of(patient) if isinstance(patient, Mapping) else None,
            service=(
                AddressService.of(service)
                if isinstance(service, Mapping) and text(service, "id")
                else None
            ),
            comment=text(data, "comment"),
            presence=opt_text(data, "presence"),
            visit_payment=flag(data, "visit_payment"),
            payment_status=opt_text(data, "visit_payment_status"),
            videocall_url=text(data, "videocall_url"),
            origin_id=opt_text(moving, "origin_booking_id"),
            newest_id=opt_text(moving, "newest_booking_id"),
        )


@dataclass(frozen=True, slots=True)
class CalendarBreak:
    id: str
    since: datetime
    till: datetime
    description: str = ""

    @classmethod
    def of(cls, data: Mapping[str, Any], zone: tzinfo) -> CalendarBreak:
        where = "a calendar break"
        return cls(
            id=ident(data, where=where),
            since=instant(data, "since", zone, where),
            till=instant(data, "till", zone, where),
            description=text(data, "description"),
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification envelope: ``name``, ``data`` (kept as sent), ``created_at`` and the ids
    of the facility, doctor and address it is about."""

    name: str
    data: Mapping[str, Any] = field(repr=False)
    created_at: datetime | None
    facility_id: str
    doctor_id: str
    address_id: str

    @classmethod
    def of(cls, envelope: Mapping[str, Any], zone: tzinfo) -> Notification:
        """Raises BadPayload without a name."""
        name = text(envelope, "name")
        if not name:
            raise BadPayload("Docplanner sent a notification without a name")
        data = obj(envelope, "data")
        return cls(
            name=name,
            data=data,
            created_at=opt_instant(envelope, "created_at", zone),
            facility_id=text(obj(data, "facility"), "id"),
            doctor_id=text(obj(data, "doctor"), "id"),
            address_id=text(obj(data, "address"), "id"),
        )


def notifications_of(data: Any) -> tuple[list[Mapping[str, Any]], int | None]:
    """The envelopes of a ``/notifications/multiple`` answer (``notifications``, or ``_items``
    as one client reads it) and ``remaining`` when given."""
    if not isinstance(data, Mapping):
        return [], None
    key = "notifications" if "notifications" in data else "_items"
    found = data.get(key)
    listed = [i for i in found if isinstance(i, Mapping)] if isinstance(found, list) else []
    return listed, number(data, "remaining")
