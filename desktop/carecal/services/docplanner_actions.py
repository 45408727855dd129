"""Docplanner actions out (book, move, cancel, confirm, presence).

Every action is queued durably in ``docplanner_actions`` first (``queue_*``), so it works
offline and goes out at the next sync (``ActionRunner.run``, called from the sync cycle), in
order. None is blindly retried: a call whose answer was lost (a timeout, a dropped
connection, a 5xx or 429: ``TransientError``) is marked ``attempted``, and before the next try
the bookings of the slot's day are listed (GET bookings) to see whether it happened; only
when it did not is the call sent again. A 409 or another 4xx parks the action with a readable
error (``carecal docplanner actions`` shows it). A move gets a NEW booking id back; it is
linked to the same Carecal appointment (services.docplanner_bookings).

``run_actions_and_flag`` then flags double bookings (services.docplanner_conflicts); what the
double-bookings window and ``carecal docplanner actions`` show is in services.docplanner_panel.

Threads: coroutines on the sync worker's loop (or a private one for the command line) using
the Repository of that thread; ``queue_*`` on the Repository's thread.
Raises StoreError, ValidationError and NotFound (queueing), AuthExpired and TransientError
(running: the rest waits for the next cycle). Logs never carry patient data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from carecal.domain.errors import (
    AuthExpired,
    CarecalError,
    NotFound,
    TransientError,
    ValidationError,
)
from carecal.domain.models import Account
from carecal.providers.docplanner_types import Booking, items
from carecal.services.docplanner_bookings import BookingApplier
from carecal.services.docplanner_conflicts import (
    PROPOSAL_DAYS,
    find_conflicts,
    free_starts_from_plans,
)
from carecal.store.docplanner import BookingLink, DocplannerStore
from carecal.store.docplanner_actions import ActionStore, Conflict, QueuedAction
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.providers.docplanner_api import DocplannerApi

log = logging.getLogger(__name__)

LIST_SCOPES = "booking.patient,booking.address_service,booking.presence"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def short_time(when: datetime, zone: ZoneInfo) -> str:
    """ "Tue 24 Nov 10:00" in ``zone``. Pure."""
    return f"{when.astimezone(zone):%a %-d %b %H:%M}"


# --- queueing (the Repository's thread) -------------------------------------------------------


def _current_link(store: DocplannerStore, account_id: str, booking_id: str) -> BookingLink:
    """The newest link of the chain ``booking_id`` belongs to. Raises NotFound."""
    link = store.link(account_id, booking_id)
    if link is None:
        raise NotFound(f"no Docplanner booking {booking_id} is known here (sync first)")
    if not link.current:
        newer = [x for x in store.links_of_event(link.event_id) if x.current]
        if newer:
            link = newer[0]
    return link


def queue_book(
    repo: Repository,
    account: Account,
    *,
    address_id: str,
    start: datetime,
    patient_id: str,
    address_service_id: str | None = None,
    duration: int | None = None,
    comment: str = "",
    now: datetime | None = None,
    event_id: str | None = None,
) -> int:
    """Queue booking the slot at ``start`` of a mapped address for a Carecal patient; the
    action's seq. ``event_id``: the appointment the booking stands for (a booked request), so
    Docplanner's booking is linked to it instead of becoming a second appointment. Raises
    NotFound (address, service or patient), ValidationError."""
    store = DocplannerStore(repo)
    store.require_address(account.id, address_id)
    repo.get_patient(patient_id)  # NotFound
    services = [s for s in store.services(account.id, address_id) if not s.deleted]
    chosen = next((s for s in services if address_service_id in (None, s.address_service_id)), None)
    if chosen is None:
        raise NotFound(f"the address {address_id} has no mapped service {address_service_id}")
    minutes = duration or chosen.duration or 30
    if start.tzinfo is None:
        raise ValidationError("give the start with its time zone")
    payload = {
        "start": start.astimezone(UTC).isoformat(),
        "address_service_id": chosen.address_service_id,
        "duration": int(minutes),
        "patient_id": patient_id,
        "comment": comment,
    }
    if event_id is not None:
        payload["event_id"] = event_id
    return ActionStore(repo).enqueue(
        account.id, "book", None, address_id, payload, now or _utcnow()
    )


def queue_move(
    repo: Repository,
    account: Account,
    booking_id: str,
    to: datetime,
    *,
    now: datetime | None = None,
) -> int:
    """Queue moving a booking (the chain's newest id is used) to ``to``. Raises NotFound,
    ValidationError."""
    if to.tzinfo is None:
        raise ValidationError("give the new start with its time zone")
    store = DocplannerStore(repo)
    link = _current_link(store, account.id, booking_id)
    payload = {"to": to.astimezone(UTC).isoformat()}
    return ActionStore(repo).enqueue(
        account.id, "move", link.booking_id, link.address_id, payload, now or _utcnow()
    )


def queue_simple(
    repo: Repository,
    account: Account,
    kind: str,
    booking_id: str,
    *,
    reason: str = "",
    present: bool = True,
    now: datetime | None = None,
) -> int:
    """Queue ``cancel`` (with ``reason``), ``confirm`` or ``presence`` (``present``). Raises
    NotFound, ValidationError."""
    if kind not in ("cancel", "confirm", "presence"):
        raise ValidationError(f"not a Docplanner action: {kind}")
    store = DocplannerStore(repo)
    link = _current_link(store, account.id, booking_id)
    payload: dict[str, Any] = {"reason": reason} if kind == "cancel" else {}
    if kind == "presence":
        payload["present"] = present
    return ActionStore(repo).enqueue(
        account.id, kind, link.booking_id, link.address_id, payload, now or _utcnow()
    )


# --- sending (the sync loop) ------------------------------------------------------------------


class ActionRunner:
    """Sends one account's queued actions (see the module docstring)."""

    def __init__(
        self,
        repo: Repository,
        account: Account,
        api: DocplannerApi,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.repo = repo
        self.account = account
        self.api = api
        self.clock = clock
        self.store = DocplannerStore(repo)
        self.actions = ActionStore(repo)
        self.applier = BookingApplier(repo, account, clock=clock)
        self.sent = 0
        self.parked: list[str] = []

    async def run(self) -> int:
        """Send the pending actions in order; how many went out (or were found done). Raises
        AuthExpired, TransientError (the action in flight is marked attempted; it and the rest
        wait for the next cycle), StoreError."""
        for action in self.actions.pending(self.account.id):
            try:
                done = await self._one(action)
            except (TransientError, AuthExpired):
                raise
            except CarecalError as exc:
                message = _readable(action, exc)
                self.actions.finish(action.seq, "parked", self.clock(), error=message)
                self.parked.append(message)
                log.info("Docplanner action %s (%s) parked", action.seq, action.kind)
                continue
            self.actions.finish(action.seq, "done", self.clock(), result_id=done)
            self.sent += 1
        return self.sent

    def _path(self, address_id: str) -> str:
        from carecal.providers.docplanner_api import path_of

        mapping = self.store.require_address(self.account.id, address_id)
        return path_of(mapping.facility_id, mapping.doctor_id, mapping.address_id)

    async def _send(self, action: QueuedAction, method: str, path: str, body: Any) -> Any:
        """One write; a lost answer marks the action attempted and re-raises."""
        from carecal.providers.docplanner_api import read_json

        try:
            answer = await self.api.send(method, path, body)
        except TransientError:
            self.actions.mark_attempted(action.seq)
            raise
        return read_json(answer, path)

    async def _day(self, address_id: str, when: datetime) -> list[Booking]:
        """The bookings of ``when``'s local day at an address (GET bookings)."""
        zone = self.api.zone
        local = when.astimezone(zone).date()
        start = datetime.combine(local, time(0), tzinfo=zone)
        end = start + timedelta(days=1)
        data = await self.api.get(
            f"{self._path(address_id)}/bookings",
            {
                "start": start.replace(microsecond=0).isoformat(),
                "end": end.replace(microsecond=0).isoformat(),
                "with": LIST_SCOPES,
            },
        )
        return [Booking.of(raw, zone) for raw in items(data)]

    async def _one(self, action: QueuedAction) -> str | None:
        if action.kind == "book":
            return await self._book(action)
        if action.kind == "move":
            return await self._move(action)
        if action.booking_id is None:
            raise ValidationError("the action names no booking")
        link = _current_link(self.store, self.account.id, action.booking_id)
        path = f"{self._path(link.address_id)}/bookings/{quote(link.booking_id, safe='')}"
        if action.kind == "cancel":
            if action.attempted:
                found = [b for b in await self._day(link.address_id, link.start)]
                same = [b for b in found if b.id == link.booking_id]
                if same and not same[0].booked:
                    self._apply_link(link, status="canceled")
                    return link.booking_id
            await self._send(action, "DELETE", path, {"reason": action.payload.get("reason", "")})
            self._apply_link(link, status="canceled")
            return link.booking_id
        if action.kind == "confirm":
            try:
                await self._send(action, "PUT", f"{path}/confirm", {"confirmed_by": "admin"})
            except CarecalError as exc:
                # After a lost answer, "already confirmed" proves the first call went through.
                if not (action.attempted and "already confirmed" in str(exc).lower()):
                    raise
            self._apply_link(link, confirmed=True)
            return link.booking_id
        if action.kind == "presence":
            present = bool(action.payload.get("present", True))
            mark = "present" if present else "absent"
            if action.attempted:
                same = [
                    b
                    for b in await self._day(link.address_id, link.start)
                    if b.id == link.booking_id
                ]
                if same and (same[0].presence or "").lower() == mark:
                    self._apply_link(link, presence=mark)
                    return link.booking_id
            await self._send(
                action, "POST" if present else "DELETE", f"{path}/presence/patient", None
            )
            self._apply_link(link, presence=mark)
            return link.booking_id
        raise ValidationError(f"not a Docplanner action: {action.kind}")

    def _apply_link(
        self,
        link: BookingLink,
        *,
        status: str | None = None,
        confirmed: bool = False,
        presence: str | None = None,
    ) -> None:
        booking = Booking(
            id=link.booking_id,
            status=status or link.status,
            start=link.start,
            end=link.end,
            booked_by=link.booked_by,
            visit_payment=link.visit_payment,
            payment_status=link.payment_status,
        )
        with self.store.transaction():
            if status == "canceled":
                self.applier.cancel(booking, link.address_id)
            else:
                self.applier.upsert(
                    booking, link.address_id, confirmed=confirmed, presence=presence
                )

    async def _book(self, action: QueuedAction) -> str | None:
        start = datetime.fromisoformat(str(action.payload["start"]))
        address = action.address_id
        event_id = str(action.payload["event_id"]) if action.payload.get("event_id") else None
        if action.attempted:
            for found in await self._day(address, start):
                if not (found.booked and found.start == start and found.booked_by == "integration"):
                    continue
                link = self.store.link(self.account.id, found.id)
                if link is None:
                    return self._apply_new(found, address, event_id=event_id)
                if event_id is not None and link.event_id == event_id:
                    return found.id  # a notification or a listing saw it first and linked it
        patient = self.repo.get_patient(str(action.payload["patient_id"]))
        body: dict[str, Any] = {
            "address_service_id": action.payload["address_service_id"],
            "duration": action.payload["duration"],
            "patient": {
                "name": patient.first_name or "-",
                "surname": patient.last_name,
                "phone": patient.phone or "-",
                "email": patient.email,
            },
        }
        if action.payload.get("comment"):
            body["comment"] = action.payload["comment"]
        slot = quote(start.astimezone(self.api.zone).isoformat(), safe="")
        try:
            data = await self._send(
                action, "POST", f"{self._path(address)}/slots/{slot}/book", body
            )
        except NotFound as exc:
            when = short_time(start, self.api.zone)
            raise NotFound(
                f"Docplanner offers no free slot of this service at {when} (it was never "
                "published there, or was taken meanwhile)"
            ) from exc
        if not isinstance(data, Mapping):
            raise ValidationError("Docplanner answered the booking without the booking")
        return self._apply_new(
            Booking.of(data, self.api.zone), address, patient_id=patient.id, event_id=event_id
        )

    def _apply_new(
        self,
        booking: Booking,
        address_id: str,
        *,
        patient_id: str | None = None,
        event_id: str | None = None,
    ) -> str:
        with self.store.transaction():
            self.applier.upsert(booking, address_id, event_id=event_id)
        return booking.id

    async def _move(self, action: QueuedAction) -> str | None:
        if action.booking_id is None:
            raise ValidationError("the move names no booking")
        link = _current_link(self.store, self.account.id, action.booking_id)
        to = datetime.fromisoformat(str(action.payload["to"]))
        if link.booking_id != action.booking_id:
            return link.booking_id  # already moved (a notification or an earlier try)
        if action.attempted:
            listed = await self._day(link.address_id, to)
            old = [
                b for b in await self._day(link.address_id, link.start) if b.id == link.booking_id
            ]
            if old and not old[0].booked:
                for found in listed:
                    if (
                        found.booked
                        and found.start == to
                        and self.store.link(self.account.id, found.id) is None
                    ):
                        return self._apply_moved(link, found)
        services = self.store.services(self.account.id, link.address_id)
        service_id = next((s.address_service_id for s in services if not s.deleted), None)
        minutes = int((link.end - link.start).total_seconds() // 60)
        current = await self.api.get(
            f"{self._path(link.address_id)}/bookings/{quote(link.booking_id, safe='')}"
        )
        if isinstance(current, Mapping):
            full = Booking.of(current, self.api.zone)
            if full.service is not None:
                service_id = full.service.id
        body = {
            "start": to.astimezone(self.api.zone).isoformat(),
            "address_service_id": service_id,
            "duration": minutes,
        }
        path = f"{self._path(link.address_id)}/bookings/{quote(link.booking_id, safe='')}/move"
        data = await self._send(action, "POST", path, body)
        if not isinstance(data, Mapping):
            raise ValidationError("Docplanner answered the move without the new booking")
        return self._apply_moved(link, Booking.of(data, self.api.zone))

    def _apply_moved(self, link: BookingLink, new: Booking) -> str:
        with self.store.transaction():
            self.applier.upsert(new, link.address_id, origin=link.booking_id)
        return new.id


def _readable(action: QueuedAction, exc: CarecalError) -> str:
    what = {
        "book": "booking the slot",
        "move": "moving the booking",
        "cancel": "cancelling the booking",
        "confirm": "confirming the booking",
        "presence": "marking presence",
    }.get(action.kind, action.kind)
    status = getattr(exc, "status", None)
    code = f" ({status})" if isinstance(status, int) else ""
    return f"action {action.seq}, {what}{code}: Docplanner refused it: {exc}"


async def run_actions_and_flag(
    repo: Repository,
    account: Account,
    api: DocplannerApi,
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> tuple[int, list[str], list[Conflict]]:
    """The sync cycle's part: send the queued actions, then flag double bookings. Returns
    (actions sent, parked errors, the newly flagged double bookings). Raises
    AuthExpired, TransientError (after flagging), StoreError."""
    from carecal.services.docplanner_publish import Publisher

    runner = ActionRunner(repo, account, api, clock=clock)
    try:
        await runner.run()
    finally:
        now = clock()
        plans = Publisher(repo, account, api, clock=clock).plan(PROPOSAL_DAYS)
        _all, new = find_conflicts(
            repo, account, now=now, free_starts=free_starts_from_plans(plans, now)
        )
    return runner.sent, runner.parked, new


def send_now(repo: Repository, account: Account) -> CarecalError | None:
    """Send ``account``'s queued actions at once (the command line's main thread; blocks on the
    network) and flag double bookings; the error that stopped the sending (a TransientError
    when Docplanner cannot be reached, missing credentials ...), None when it ran through.
    Raises StoreError."""
    from carecal.services import docplanner_client as dpc

    try:
        dpc.run_blocking(dpc.api_for(account), lambda api: run_actions_and_flag(repo, account, api))
    except CarecalError as exc:
        return exc
    return None
