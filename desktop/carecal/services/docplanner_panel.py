"""What the double-bookings window and ``carecal docplanner actions`` show: the flagged double
bookings with their patient and proposals, the queued and refused (parked) Docplanner actions in
readable words, and retrying or discarding a refused one.

Threads: the Repository's thread (the GUI's database lane or the command line's main thread);
disk I/O. Raises StoreError, and NotFound / ValidationError where named.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from carecal.domain.errors import (
    NotFound,
    ValidationError,
)
from carecal.services import accounts as svc
from carecal.services.docplanner_actions import queue_move, short_time
from carecal.services.zones import zone_or_utc
from carecal.store.docplanner import DocplannerStore
from carecal.store.docplanner_actions import ActionStore, Conflict, QueuedAction
from carecal.store.repo import Repository

OPEN_STATES = ("pending", "parked")


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


def display_zone(repo: Repository) -> ZoneInfo:
    """The zone times are shown in (UTC when the setting names no known zone)."""
    return zone_or_utc(repo.settings().display_tz)


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
