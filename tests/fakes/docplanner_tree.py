"""The Docplanner emulator's resource tree: facilities -> doctors -> addresses -> address
services, the country domains, the `with=` scopes and the 403/404 rules.

- Unknown ids give 404; ids that exist but do not belong together (a doctor of another
  facility, an address of another doctor, a facility not granted to the API client) give 403,
  as does an address unassigned from the client (`address-unassigned`; guess).
- Only the fields of the vendor types are rendered, and the scoped ones only when `with=` asks:
  `address.online_only` -> `is_online_only`, `address.visit_payment` -> `visit_payment`,
  `address.commercial_type`, `address.insurance_support`, `address.booking_extra_fields`;
  `facility.doctors`, `doctor.addresses`, `doctor.specializations` (rendered as the vendor
  type's `specialization` collection), `doctor.license_numbers`, `doctor.profile_url` (the field
  name `profile_url` is a guess: the references name only the scope); `address_service.custom_name`
  and `address_service.allowed_patients`. Unknown scopes are ignored and remembered in
  `Tree.unknown_scopes` so tests can catch a client's typo.
- A "commercial" address is a premium one (the guide: only premium addresses have a calendar);
  `COMMERCIAL_TYPES` is the knob if saas-only should count too (the references are silent).
- `payment_account` (internal) decides the 422 of a move across payment accounts; `coupled_id`
  links an in-person address with its online-only twin (for `apply_on_coupled_addresses`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_errors import forbidden, not_found

# Country code -> (domain, the zone dates are answered in). The domains are the reference's
# (spec "Fundamentals"); the zones are the countries' main zones (the emulator's choice).
DOMAINS: dict[str, tuple[str, str]] = {
    "ar": ("doctoraliar.com", "America/Argentina/Buenos_Aires"),
    "br": ("doctoralia.com.br", "America/Sao_Paulo"),
    "cl": ("doctoralia.cl", "America/Santiago"),
    "co": ("doctoralia.co", "America/Bogota"),
    "cz": ("znamylekar.cz", "Europe/Prague"),
    "es": ("doctoralia.es", "Europe/Madrid"),
    "it": ("miodottore.it", "Europe/Rome"),
    "mx": ("doctoralia.mx", "America/Mexico_City"),
    "pe": ("doctoralia.pe", "America/Lima"),
    "pt": ("doctoralia.com.pt", "Europe/Lisbon"),
    "tr": ("doktortakvimi.com", "Europe/Istanbul"),
    "pl": ("znanylekarz.pl", "Europe/Warsaw"),
    "de": ("jameda.de", "Europe/Berlin"),
}
ZONES: dict[str, ZoneInfo] = {domain: ZoneInfo(zone) for domain, zone in DOMAINS.values()}
COMMERCIAL_TYPES = frozenset({"premium"})
ADDRESS_SCOPES = frozenset(
    {
        "address.online_only",
        "address.visit_payment",
        "address.commercial_type",
        "address.insurance_support",
        "address.booking_extra_fields",
    }
)
DOCTOR_SCOPES = frozenset(
    {"doctor.profile_url", "doctor.addresses", "doctor.specializations", "doctor.license_numbers"}
)


def domain_of(name: str) -> str | None:
    """The documented domain a host or path segment names (`www.` optional), or None."""
    bare = name.lower().split(":")[0]
    bare = bare.removeprefix("www.")
    return bare if bare in ZONES else None


@dataclass
class AddressService:
    """One service offered at an address (ids may change when a doctor re-adds it)."""

    id: str
    service_id: str
    name: str
    price: int | None = None
    is_price_from: bool = False
    is_default: bool = False
    description: str = ""
    duration: int = 30
    is_visible: bool = True
    custom_name: str | None = None
    allowed_patients: str = "all"

    def render(self, scopes: frozenset[str]) -> dict[str, Any]:
        """The AddressService type (scoped extras only when asked)."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "is_price_from": self.is_price_from,
            "is_default": self.is_default,
            "service_id": self.service_id,
            "description": self.description,
            "duration": self.duration,
            "is_visible": self.is_visible,
        }
        if "address_service.custom_name" in scopes:
            out["custom_name"] = self.custom_name
        if "address_service.allowed_patients" in scopes:
            out["allowed_patients"] = self.allowed_patients
        return out

    def brief(self) -> dict[str, Any]:
        """The AddressServiceNotification form inside a booking event."""
        return {
            "id": self.id,
            "name": self.name,
            "price": self.price,
            "is_price_from": self.is_price_from,
            "is_visible": self.is_visible,
        }


@dataclass
class Address:
    """One of a doctor's addresses (an online-only calendar is an address of its own)."""

    id: str
    doctor_id: str
    name: str
    city_name: str = "Warszawa"
    post_code: str = "00-001"
    street: str = "Marszałkowska 1"
    is_online_only: bool = False
    visit_payment: bool = False
    commercial_type: str = "premium"
    insurance_support: str = "private"
    booking_extra_fields: dict[str, bool] = field(
        default_factory=lambda: {"gender": False, "nin": False, "birth_date": False}
    )
    calendar: str | None = "enabled"  # None: no calendar (404)
    payment_account: str = "main"
    coupled_id: str | None = None
    assigned: bool = True
    services: dict[str, AddressService] = field(default_factory=dict)

    @property
    def commercial(self) -> bool:
        """Whether the address may have a calendar, slots, breaks and bookings."""
        return self.commercial_type in COMMERCIAL_TYPES

    def render(self, scopes: frozenset[str]) -> dict[str, Any]:
        """The Address type with the scoped fields `with=` asked for."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "city_name": self.city_name,
            "post_code": self.post_code,
            "street": self.street,
        }
        if "address.online_only" in scopes:
            out["is_online_only"] = self.is_online_only
        if "address.visit_payment" in scopes:
            out["visit_payment"] = self.visit_payment
        if "address.booking_extra_fields" in scopes:
            out["booking_extra_fields"] = dict(self.booking_extra_fields)
        if "address.commercial_type" in scopes:
            out["commercial_type"] = self.commercial_type
        if "address.insurance_support" in scopes:
            out["insurance_support"] = self.insurance_support
        return out

    def brief(self) -> dict[str, Any]:
        """The address as notifications carry it."""
        return {
            "id": self.id,
            "name": self.name,
            "city_name": self.city_name,
            "post_code": self.post_code,
            "street": self.street,
        }


@dataclass
class Doctor:
    """A doctor in a facility."""

    id: str
    facility_id: str
    name: str
    surname: str
    specializations: list[tuple[str, str]] = field(default_factory=list)
    license_numbers: list[tuple[str, str]] = field(default_factory=list)
    addresses: dict[str, Address] = field(default_factory=dict)

    def render(self, scopes: frozenset[str], profile_base: str) -> dict[str, Any]:
        """The Doctor type with the scoped fields `with=` asked for."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "surname": self.surname}
        if "doctor.profile_url" in scopes:
            out["profile_url"] = f"{profile_base}/{self.name.lower()}-{self.surname.lower()}"
        if "doctor.specializations" in scopes:
            out["specialization"] = {
                "_items": [{"id": i, "name": n} for i, n in self.specializations]
            }
        if "doctor.license_numbers" in scopes:
            out["license_numbers"] = {
                "_items": [{"id": i, "license_number": n} for i, n in self.license_numbers]
            }
        if "doctor.addresses" in scopes:
            out["addresses"] = {"_items": [a.render(scopes) for a in self.addresses.values()]}
        return out

    def brief(self) -> dict[str, Any]:
        """The doctor as notifications carry it."""
        return {"id": self.id, "name": self.name, "surname": self.surname}


@dataclass
class Facility:
    """A facility (clinic); `granted` says whether the API client may see it."""

    id: str
    name: str
    granted: bool = True
    doctors: dict[str, Doctor] = field(default_factory=dict)

    def brief(self) -> dict[str, Any]:
        """The facility as notifications carry it."""
        return {"id": self.id, "name": self.name}


DICTIONARY_SERVICES = [
    ("45", "Konsultacja psychologiczna"),
    ("46", "Psychoterapia indywidualna"),
    ("47", "Konsultacja online"),
    ("48", "Terapia par"),
]


class Tree:
    """All facilities and the lookups with Docplanner's 403/404 rules."""

    def __init__(self, ids: itertools.count[int]) -> None:
        self._ids = ids
        self.facilities: dict[str, Facility] = {}
        self.unknown_scopes: list[str] = []

    def next_id(self) -> str:
        """A fresh numeric string id (ids are strings on the wire)."""
        return str(next(self._ids))

    # ----- building -------------------------------------------------------------------
    def add_facility(self, name: str, *, granted: bool = True) -> Facility:
        """A new facility."""
        fac = Facility(self.next_id(), name, granted)
        self.facilities[fac.id] = fac
        return fac

    def add_doctor(self, facility_id: str, name: str, surname: str) -> Doctor:
        """A new doctor in a facility."""
        doc = Doctor(self.next_id(), facility_id, name, surname)
        doc.specializations.append(("77", "psycholog"))
        doc.license_numbers.append(("1", f"PWZ-{doc.id}"))
        self.facilities[facility_id].doctors[doc.id] = doc
        return doc

    def add_address(self, doctor_id: str, name: str, **fields: Any) -> Address:
        """A new address of a doctor (fields: any Address attribute)."""
        doc = self.doctor_by_id(doctor_id)
        addr = Address(self.next_id(), doctor_id, name, **fields)
        doc.addresses[addr.id] = addr
        return addr

    def add_service(self, address_id: str, service_id: str, **fields: Any) -> AddressService:
        """A new address service; `name` defaults to the dictionary service's name."""
        names = dict(DICTIONARY_SERVICES)
        fields.setdefault("name", names.get(service_id, f"Service {service_id}"))
        svc = AddressService(self.next_id(), service_id, **fields)
        self.address_by_id(address_id).services[svc.id] = svc
        return svc

    # ----- admin lookups (no access rules) ---------------------------------------------
    def doctor_by_id(self, doctor_id: str) -> Doctor:
        """A doctor anywhere (KeyError when unknown)."""
        for fac in self.facilities.values():
            if doctor_id in fac.doctors:
                return fac.doctors[doctor_id]
        raise KeyError(doctor_id)

    def address_by_id(self, address_id: str) -> Address:
        """An address anywhere (KeyError when unknown)."""
        for fac in self.facilities.values():
            for doc in fac.doctors.values():
                if address_id in doc.addresses:
                    return doc.addresses[address_id]
        raise KeyError(address_id)

    def context(self, address_id: str) -> tuple[Facility, Doctor, Address]:
        """The facility and doctor above an address."""
        addr = self.address_by_id(address_id)
        doc = self.doctor_by_id(addr.doctor_id)
        return self.facilities[doc.facility_id], doc, addr

    def all_addresses(self) -> list[Address]:
        """Every address, in creation order."""
        return [
            a
            for f in self.facilities.values()
            for d in f.doctors.values()
            for a in d.addresses.values()
        ]

    # ----- API lookups with the 403/404 rules -------------------------------------------
    def facility(self, facility_id: str) -> Facility:
        """404 for an unknown facility, 403 for one not granted to the client."""
        fac = self.facilities.get(facility_id)
        if fac is None:
            raise not_found("Facility not found.")
        if not fac.granted:
            raise forbidden("You are not authorized to access this facility.")
        return fac

    def doctor(self, facility_id: str, doctor_id: str) -> Doctor:
        """404 for an unknown doctor, 403 for one of another facility."""
        fac = self.facility(facility_id)
        if doctor_id in fac.doctors:
            return fac.doctors[doctor_id]
        try:
            self.doctor_by_id(doctor_id)
        except KeyError:
            raise not_found("Doctor not found.") from None
        raise forbidden("The doctor does not belong to this facility.")

    def address(self, facility_id: str, doctor_id: str, address_id: str) -> Address:
        """404 for an unknown address, 403 for one of another doctor."""
        doc = self.doctor(facility_id, doctor_id)
        if address_id in doc.addresses:
            found = doc.addresses[address_id]
            if not found.assigned:
                raise forbidden("The address is not assigned to this client.")
            return found
        try:
            self.address_by_id(address_id)
        except KeyError:
            raise not_found("Address not found.") from None
        raise forbidden("The address does not belong to this doctor.")

    def service(self, addr: Address, service_id: str) -> AddressService:
        """404 for an unknown address service, 403 for one of another address."""
        if service_id in addr.services:
            return addr.services[service_id]
        if any(service_id in a.services for a in self.all_addresses()):
            raise forbidden("The address service does not belong to this address.")
        raise not_found("Address service not found.")

    def scopes(self, query: dict[str, list[str]], allowed: frozenset[str]) -> frozenset[str]:
        """The `with=` scopes (comma lists, repeated or `with[]=`) this endpoint knows."""
        asked = {
            part.strip()
            for key in ("with", "with[]")
            for value in query.get(key, [])
            for part in value.split(",")
            if part.strip()
        }
        self.unknown_scopes += sorted(asked - allowed)
        return frozenset(asked & allowed)
