"""Docplanner actions out (book, move, cancel, confirm, presence) and double bookings.

Every action is queued durably in ``docplanner_actions`` first (``queue_*``), so it works
offline and goes out at the next sync (``ActionRunner.run``, called from the sync cycle), in
order. None is blindly retried: a call whose answer was lost (a timeout, a dropped
connection, a 5xx or 429: ``TransientError``) is marked ``attempted``, and before the next try
the bookings of the slot's day are listed (GET bookings) to see whether it happened; only
when it did not is the call sent again. A 409 or another 4xx parks the action with a readable
error (``carecal docplanner actions`` shows it). A move gets a NEW booking id back; it is
linked to the same Carecal appointment (services.docplanner_bookings).

Double bookings: ``find_conflicts`` flags every current, future Docplanner booking whose time
overlaps busy time in any calendar (another appointment, a Google or Outlook event ...;
transparent and cancelled events ignored) and proposes the next free starts of its address;
``carecal docplanner move BOOKING --to DATETIME`` resolves one in one step.

Threads: coroutines on the sync worker's loop (or a private one for the command line) using
the Repository of that thread; ``queue_*`` and ``find_conflicts`` on the Repository's thread.
Raises StoreError, ValidationError and NotFound (queueing), AuthExpired and TransientError
(running: the rest waits for the next cycle). Logs never carry patient data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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
from carecal.domain.overlap import busy_intervals
from carecal.domain.recurrence import occurrences_in_window
from carecal.providers.docplanner_types import Booking, items
from carecal.services import accounts as svc
from carecal.services.docplanner_bookings import BookingApplier
from carecal.services.zones import is_known_zone
from carecal.store.docplanner import BookingLink, DocplannerStore
from carecal.store.docplanner_actions import ActionStore, Conflict, QueuedAction
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.providers.docplanner_api import DocplannerApi

log = logging.getLogger(__name__)

KINDS = ("book", "move", "cancel", "confirm", "presence")
LIST_SCOPES = "booking.patient,booking.address_service,booking.presence"
PROPOSALS = 3
PROPOSAL_DAYS = 14


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


# --- double bookings (the Repository's thread) ------------------------------------------------


def find_conflicts(
    repo: Repository,
    account: Account,
    *,
    now: datetime | None = None,
    free_starts: Callable[[str, int], list[datetime]] | None = None,
) -> tuple[list[Conflict], list[Conflict]]:
    """Flag every current, future Docplanner booking overlapping busy time in any calendar;
    stores the flags (exactly the current set) and returns (all flagged, newly flagged).
    ``free_starts(address_id, minutes)`` proposes the next free starts (none without it)."""
    store = DocplannerStore(repo)
    actions = ActionStore(repo)
    now = now or _utcnow()
    before = {c.booking_id for c in actions.conflicts(account.id)}
    links = [x for x in store.current_links(account.id) if x.status == "booked" and x.end > now]
    found: list[Conflict] = []
    if links:
        name = repo.settings().display_tz
        zone = ZoneInfo(name if is_known_zone(name) else "UTC")
        lo = min(x.start for x in links)
        hi = max(x.end for x in links)
        occs, _warnings = occurrences_in_window(
            repo.events_in_window(lo, hi), lo, hi, display_tz=zone
        )
        for link in links:
            others = busy_intervals([o for o in occs if o.event.id != link.event_id], tz=zone)
            if any(s < link.end and e > link.start for s, e in others):
                minutes = int((link.end - link.start).total_seconds() // 60)
                proposals = free_starts(link.address_id, minutes) if free_starts else []
                found.append(
                    Conflict(
                        account.id,
                        link.booking_id,
                        link.event_id,
                        link.start,
                        link.end,
                        proposals[:PROPOSALS],
                    )
                )
    actions.replace_conflicts(account.id, found, now)
    return found, [c for c in found if c.booking_id not in before]


def conflict_line(conflict: Conflict, zone: ZoneInfo) -> str:
    """A readable line about one double booking (no patient data)."""
    when = conflict.start.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    line = f"double booking: Docplanner booking {conflict.booking_id} at {when} overlaps busy time"
    if conflict.proposals:
        free = ", ".join(p.astimezone(zone).strftime("%Y-%m-%d %H:%M") for p in conflict.proposals)
        line += f"; free: {free} (carecal docplanner move {conflict.booking_id} --to DATETIME)"
    return line


def free_starts_from_plans(plans: Any, now: datetime) -> Callable[[str, int], list[datetime]]:
    """``free_starts`` for ``find_conflicts`` from a Publisher's day plans (the slots Carecal
    would publish: working hours minus busy time): the first starts of ``minutes`` that fit."""

    def starts(address_id: str, minutes: int) -> list[datetime]:
        out: list[datetime] = []
        step = timedelta(minutes=max(minutes, 5))
        for plan in plans:
            if plan.address_id != address_id:
                continue
            for s, e in plan.ranges:
                at = s
                while at + step <= e and len(out) < PROPOSALS:
                    if at >= now:
                        out.append(at)
                    at += step
            if len(out) >= PROPOSALS:
                break
        return out

    return starts


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


# --- the double-bookings window and the parked actions (the Repository's thread) ------------

OPEN_STATES = ("pending", "parked")
_WHAT = {
    "book": "Book",
    "move": "Move",
    "cancel": "Cancel",
    "confirm": "Confirm",
    "presence": "Mark presence of",
}


@dataclass(frozen=True, slots=True)
class DoubleBookingRow:
    """One flagged double booking as the practitioner's window shows it."""

    conflict: Conflict
    account: str  # the Docplanner account's name
    patient: str  # the patient's full name ("" when the appointment names none)
    title: str  # the appointment's title
    queued_move: datetime | None  # the start of a move already queued for it


@dataclass(frozen=True, slots=True)
class ActionRow:
    """One queued action with a readable line about it (booking times, no patient data)."""

    action: QueuedAction
    account: str
    what: str
    reason: str  # why Docplanner refused it ("" unless parked or discarded)


def short_time(when: datetime, zone: ZoneInfo) -> str:
    """ "Tue 24 Nov 10:00" in ``zone``. Pure."""
    return f"{when.astimezone(zone):%a %-d %b %H:%M}"


def display_zone(repo: Repository) -> ZoneInfo:
    """The zone times are shown in (UTC when the setting names no known zone)."""
    name = repo.settings().display_tz
    return ZoneInfo(name if is_known_zone(name) else "UTC")


def _names(repo: Repository) -> dict[str, str]:
    return {a.id: a.name for a in svc.list_accounts(repo)}


def refusal_reason(error: str | None) -> str:
    """Docplanner's reason out of a parked action's error (the error itself when it has no
    such part). Pure."""
    text = (error or "").strip()
    _, sep, reason = text.partition("Docplanner refused it: ")
    reason = reason.strip() if sep else text
    reason = re.sub(r"^Docplanner /\S*: ", "", reason)  # the API path says nothing to a person
    return reason[:1].upper() + reason[1:]


def describe_action(action: QueuedAction, zone: ZoneInfo, booking_start: datetime | None) -> str:
    """ "Move the booking of Tue 24 Nov 10:00 to Tue 24 Nov 11:00" and the like; ``booking_start``
    is the start of the booking the action is about (None when not known here). Pure."""
    if action.kind == "book":
        start = action.payload.get("start")
        when = short_time(datetime.fromisoformat(str(start)), zone) if start else "?"
        return f"Book the slot of {when}"
    verb = _WHAT.get(action.kind, action.kind.capitalize())
    of = (
        f"the booking of {short_time(booking_start, zone)}"
        if booking_start is not None
        else f"booking {action.booking_id}"
    )
    line = f"{verb} {of}"
    if action.kind == "move" and action.payload.get("to"):
        line += f" to {short_time(datetime.fromisoformat(str(action.payload['to'])), zone)}"
    elif action.kind == "cancel" and action.payload.get("reason"):
        line += f" ({action.payload['reason']})"
    elif action.kind == "presence":
        line += ": present" if action.payload.get("present", True) else ": absent"
    return line


def _rows(repo: Repository, actions: list[QueuedAction], zone: ZoneInfo) -> list[ActionRow]:
    store = DocplannerStore(repo)
    names = _names(repo)
    out: list[ActionRow] = []
    for action in actions:
        link = (
            store.link(action.account_id, action.booking_id)
            if action.booking_id is not None
            else None
        )
        out.append(
            ActionRow(
                action,
                names.get(action.account_id, action.account_id),
                describe_action(action, zone, link.start if link is not None else None),
                refusal_reason(action.error) if action.state in ("parked", "discarded") else "",
            )
        )
    return out


def list_actions(repo: Repository, *, include_all: bool = False) -> list[ActionRow]:
    """The actions of every Docplanner account still open (pending or parked), or every one
    with ``include_all``, oldest first. Raises StoreError."""
    store = ActionStore(repo)
    found = store.everything() if include_all else store.in_states(OPEN_STATES)
    return _rows(repo, found, display_zone(repo))


def _patient(repo: Repository, event_id: str) -> tuple[str, str]:
    try:
        event = repo.get_event(event_id)
    except NotFound:
        return "", ""
    names: list[str] = []
    for pid in event.patient_ids():
        try:
            names.append(repo.get_patient(pid).full_name)
        except NotFound:
            continue
    return ", ".join(names), event.title


def load_double_bookings(repo: Repository) -> tuple[list[DoubleBookingRow], list[ActionRow]]:
    """What the double-bookings window shows: the flagged double bookings of every Docplanner
    account (with the patient: the window is the practitioner's) and the actions Docplanner
    refused. Raises StoreError."""
    actions = ActionStore(repo)
    names = _names(repo)
    moves: dict[tuple[str, str], datetime] = {}
    for a in actions.in_states(("pending",)):
        if a.kind == "move" and a.booking_id is not None and a.payload.get("to"):
            moves[(a.account_id, a.booking_id)] = datetime.fromisoformat(str(a.payload["to"]))
    rows: list[DoubleBookingRow] = []
    for c in actions.conflicts():
        patient, title = _patient(repo, c.event_id)
        rows.append(
            DoubleBookingRow(
                c,
                names.get(c.account_id, c.account_id),
                patient,
                title,
                moves.get((c.account_id, c.booking_id)),
            )
        )
    parked = _rows(repo, actions.in_states(("parked",)), display_zone(repo))
    return rows, parked


def new_double_bookings(repo: Repository, ids: Sequence[tuple[str, str]]) -> list[Conflict]:
    """The flagged double bookings among ``ids`` ((account id, booking id) pairs, as in
    ``CycleResult.double_booking_ids``) that are still flagged, by start. Raises StoreError."""
    wanted = set(ids)
    return [c for c in ActionStore(repo).conflicts() if (c.account_id, c.booking_id) in wanted]


def move_to_proposal(repo: Repository, account_id: str, booking_id: str, to: datetime) -> int:
    """Queue moving a flagged double booking to one of its proposed starts; the action's seq.
    Raises NotFound (account or booking), ValidationError, StoreError."""
    account = next((a for a in svc.list_accounts(repo) if a.id == account_id), None)
    if account is None:
        raise NotFound("the Docplanner account is gone")
    return queue_move(repo, account, booking_id, to)


def _parked(store: ActionStore, seq: int) -> QueuedAction:
    action = store.get(seq)
    if action is None:
        raise NotFound(f"no Docplanner action {seq}")
    if action.state != "parked":
        raise ValidationError(
            f"Docplanner action {seq} is {action.state}; only a refused (parked) one can be "
            "retried or discarded"
        )
    return action


def retry_action(repo: Repository, seq: int) -> QueuedAction:
    """Send a parked action again at the next sync (its ``attempted`` mark kept, so a call
    whose answer was lost is still checked by listing first). Raises NotFound, ValidationError
    (not parked), StoreError."""
    store = ActionStore(repo)
    _parked(store, seq)
    if not store.requeue(seq):
        raise ValidationError(f"Docplanner action {seq} changed meanwhile; look again")
    return _reread(store, seq)


def discard_action(repo: Repository, seq: int, *, now: datetime | None = None) -> QueuedAction:
    """Give up a parked action for good (kept as discarded, with its error, for the record).
    Raises NotFound, ValidationError (not parked), StoreError."""
    store = ActionStore(repo)
    _parked(store, seq)
    if not store.discard(seq, now or _utcnow()):
        raise ValidationError(f"Docplanner action {seq} changed meanwhile; look again")
    return _reread(store, seq)


def _reread(store: ActionStore, seq: int) -> QueuedAction:
    action = store.get(seq)
    if action is None:
        raise NotFound(f"no Docplanner action {seq}")
    return action
