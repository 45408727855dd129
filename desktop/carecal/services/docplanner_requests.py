"""Booking requests on Docplanner too: a request booked onto a calendar mapped to a Docplanner
address is booked there as well (``DocplannerRequestBooking``, an ``ExternalBooking`` of
services.requests).

The address is the one mapped (and published) to the appointment's calendar whose services
include one mapped to the appointment's service type; when several qualify, an online-only
address is preferred for a video visit and an in-person one otherwise. A calendar mapped to
no address is left alone; a mapped calendar whose addresses offer no service mapped to the
appointment's service type is reported as one readable sentence (the local booking stands).

The booking is queued as a Docplanner book action (services.docplanner_actions) carrying the
appointment's id, so Docplanner's answer is LINKED to that appointment rather than becoming a
second one; it goes out at the next sync, which sends actions before it publishes slots, so
the slot published earlier is still offered on Docplanner when the call is made. A time
Docplanner does not offer (never published, taken meanwhile) parks the action with a readable
error; the appointment stays. A retried ``RequestService.book`` (cut off after the
appointment was made) queues nothing twice: an action already queued for the appointment, or
a booking already linked to it, is enough.

Threads: the Repository's thread (the GUI's database lane, or the command line's main
thread); disk I/O only. Raises StoreError, and CarecalError when no mapped service fits.
Nothing here logs patient data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from carecal.domain.errors import CarecalError, NotFound
from carecal.domain.models import Account, Event, VisitMode
from carecal.services import docplanner_actions as acts
from carecal.services.docplanner_client import docplanner_accounts
from carecal.store.docplanner import AddressMapping, DocplannerStore, ServiceMapping
from carecal.store.docplanner_actions import ActionStore
from carecal.store.repo import Repository
from carecal.store.requests import BookingRequest

HISTORY = 1000  # the newest actions of an account searched for one already queued


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NoDocplannerService(CarecalError):
    """The calendar is mapped to Docplanner, but none of its addresses offers the service."""


@dataclass(frozen=True, slots=True)
class QueuedBook:
    """A book action queued for a request's appointment."""

    account: Account
    seq: int
    address: AddressMapping


class DocplannerRequestBooking:
    """Books a request's appointment on Docplanner too (see the module docstring)."""

    def __init__(self, repo: Repository, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.repo = repo
        self.clock = clock
        self.store = DocplannerStore(repo)
        self.queued: list[QueuedBook] = []  # what this object queued, for a caller to send now

    def after_booking(self, request: BookingRequest, event: Event) -> None:
        """Queue the Docplanner booking of ``event`` when its calendar is mapped to an
        address. Raises NoDocplannerService (no mapped service fits), NotFound (the patient is
        gone), StoreError."""
        start, end = event.start, event.end
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            return  # Docplanner books a patient at a time, never a whole day
        if event.patient_id is None:
            return
        for account in docplanner_accounts(self.repo):
            mappings = [
                m
                for m in self.store.addresses(account.id)
                if m.publishable and m.calendar_id == event.calendar_id
            ]
            if not mappings:
                continue
            chosen = _choose(event, mappings, self.store.services(account.id))
            if chosen is None:
                where = (
                    f"the calendar's Docplanner address {mappings[0].name}"
                    if len(mappings) == 1
                    else "none of the calendar's Docplanner addresses ("
                    + "; ".join(m.name for m in mappings)
                    + ")"
                )
                raise NoDocplannerService(
                    f"{where} offers {'a' if len(mappings) > 1 else 'no'} service mapped to "
                    f"{self._service_name(event)}; map one, or book the visit on Docplanner "
                    "yourself"
                )
            if self._already(account, event.id):
                return
            address, service = chosen
            minutes = int((end - start).total_seconds() // 60)
            seq = acts.queue_book(
                self.repo,
                account,
                address_id=address.address_id,
                start=start,
                patient_id=event.patient_id,
                address_service_id=service.address_service_id,
                duration=minutes,
                now=self.clock(),
                event_id=event.id,
            )
            self.queued.append(QueuedBook(account, seq, address))
            return

    def _service_name(self, event: Event) -> str:
        try:
            return self.repo.get_service(event.service_id or "").name
        except NotFound:
            return "this appointment's service"

    def _already(self, account: Account, event_id: str) -> bool:
        if self.store.links_of_event(event_id):
            return True
        return any(
            a.kind == "book" and a.payload.get("event_id") == event_id
            for a in ActionStore(self.repo).actions(account.id, HISTORY)
        )


def _choose(
    event: Event, mappings: list[AddressMapping], services: list[ServiceMapping]
) -> tuple[AddressMapping, ServiceMapping] | None:
    """The address and address service for ``event``: a mapped service of its service type,
    at the online-only address for a video visit and an in-person one otherwise (either when
    only one offers it). Pure."""
    fits: list[tuple[AddressMapping, ServiceMapping]] = []
    for mapping in mappings:
        service = next(
            (
                s
                for s in services
                if s.address_id == mapping.address_id
                and not s.deleted
                and event.service_id is not None
                and s.service_type_id == event.service_id
            ),
            None,
        )
        if service is not None:
            fits.append((mapping, service))
    video = event.mode is VisitMode.VIDEO
    fits.sort(key=lambda pair: pair[0].online_only != video)
    return fits[0] if fits else None
