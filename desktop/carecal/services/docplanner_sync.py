"""One Docplanner account's sync: bookings in (notifications, then reconciliation by listing)
and availability out (services.docplanner_publish: free slots; services.docplanner_breaks: busy
time as breaks for addresses in breaks mode). Break notifications and listings about Carecal's
own breaks only update its record of them; they never count as the practice's breaks.

Pulling is the acknowledgement (Docplanner has no other), so every pulled notification is
stored in ``docplanner_inbox`` in one transaction BEFORE any is acted on; then the inbox is
applied in order, each notification and its effect in one transaction, so a crash applies
nothing twice and loses nothing pulled. A pull whose answer was lost (a timeout, a dropped
connection: the server may have dequeued what it was sending) makes the account owe a
reconciliation. Unpulled notifications expire after 72 hours, so bookings and breaks are also
listed over the mapped window (yesterday to 12 weeks ahead) when a reconciliation is owed,
after a long pause between pulls, and once a day.

Threads: coroutines on the sync worker's loop (or a private one for the command line), using
the Repository of that thread. Raises AuthExpired, TransientError, RemoteError and StoreError;
a notification that cannot be read or applied is marked failed with a readable error and the
rest goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from carecal.domain.errors import (
    AuthExpired,
    CarecalError,
    NotFound,
    PermanentItemError,
    TransientError,
)
from carecal.domain.models import Account
from carecal.providers.docplanner_types import (
    AddressService,
    BadPayload,
    Booking,
    CalendarBreak,
    Notification,
    items,
    notifications_of,
    obj,
    text,
)
from carecal.services.docplanner_bookings import BookingApplier
from carecal.store.docplanner import AddressMapping, DocplannerStore
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.providers.docplanner_api import DocplannerApi

log = logging.getLogger(__name__)

PULL_LIMIT = 100
MAX_PULLS = 50  # per cycle; the rest waits for the next one
RECONCILE_EVERY = timedelta(hours=24)
LONG_PAUSE = timedelta(hours=12)  # no pull for this long: reconcile (notifications expire at 72 h)
WINDOW_BEFORE = timedelta(days=1)
WINDOW_AFTER = timedelta(weeks=12, days=1)
BOOKING_SCOPES = "booking.patient,booking.address_service,booking.presence"
SERVICE_EVENTS = ("address-service-created", "address-service-changed", "address-service-deleted")


@dataclass(slots=True)
class DocplannerReport:
    """What one cycle did for one account."""

    account: str
    pulled: int = 0
    applied: int = 0
    failed: int = 0
    reconciled: bool = False
    listed: int = 0
    published_days: int = 0
    deleted_days: int = 0
    breaks_added: int = 0  # breaks mode: Carecal's breaks added, moved, removed
    breaks_moved: int = 0
    breaks_removed: int = 0
    changed_events: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    offline: bool = False  # a call failed with a transient error (network, 5xx, 429)
    actions_sent: int = 0
    conflicts: list[str] = field(default_factory=list)  # newly flagged double bookings
    flagged: list[str] = field(default_factory=list)  # their booking ids

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"{self.pulled} notifications pulled", f"{self.applied} applied"]
        if self.failed:
            parts.append(f"{self.failed} refused")
        if self.reconciled:
            parts.append(f"reconciled ({self.listed} bookings listed)")
        parts.append(f"{self.published_days} days published")
        if self.deleted_days:
            parts.append(f"{self.deleted_days} days cleared")
        if self.breaks_added or self.breaks_moved or self.breaks_removed:
            parts.append(
                f"breaks: {self.breaks_added} added, {self.breaks_moved} moved, "
                f"{self.breaks_removed} removed"
            )
        if self.actions_sent:
            parts.append(f"{self.actions_sent} actions sent")
        line = f"{self.account}: " + ", ".join(parts)
        return "\n".join([line, *(f"{self.account}: {c}" for c in self.conflicts)])


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(when: datetime, zone: Any) -> str:
    return when.astimezone(zone).replace(microsecond=0).isoformat()


class DocplannerSync:
    """Bookings in for one account (see the module docstring)."""

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
        self.applier = BookingApplier(repo, account, clock=clock)
        self.report = DocplannerReport(account.name)

    # --- notifications ------------------------------------------------------------------------

    async def pull(self) -> int:
        """Pull every waiting notification (up to ``MAX_PULLS`` calls of 100), storing each
        batch before applying it. Raises AuthExpired, TransientError (then a reconciliation is
        owed: the lost answer may have carried notifications), RemoteError."""
        total = 0
        await self.apply_pending()  # stored before a crash or a failed apply: first
        for _ in range(MAX_PULLS):
            try:
                data = await self.api.get("/notifications/multiple", {"limit": str(PULL_LIMIT)})
            except NotFound:
                break  # 404 "No notifications found": the queue is empty
            except TransientError:
                self.store.set_state(self.account.id, needs_reconcile=True)
                raise
            envelopes, remaining = notifications_of(data)
            if envelopes:
                self.store.receive(self.account.id, envelopes, self.clock())
                total += len(envelopes)
                self.report.pulled += len(envelopes)
            await self.apply_pending()
            if not envelopes or remaining == 0:
                break
        self.store.set_state(self.account.id, pulled=self.clock())
        return total

    async def apply_pending(self) -> None:
        """Apply the stored notifications in order. A notification that needs Docplanner again
        (a changed service list) and cannot reach it stays pending, and so do the ones after it.
        Raises TransientError, AuthExpired."""
        for item in self.store.pending(self.account.id):
            prepared: list[AddressService] | None = None
            try:
                note = Notification.of(item.body, self.api.zone)
                if note.name in SERVICE_EVENTS:
                    prepared = await self._services_now(note.address_id)
                with self.store.transaction():
                    self._apply(note, prepared)
                    self.store.settle(item.seq, "applied", self.clock())
                self.report.applied += 1
            except (TransientError, AuthExpired):
                raise
            except CarecalError as exc:
                self.store.settle(item.seq, "failed", self.clock(), str(exc)[:300])
                self.report.failed += 1
                self.report.errors.append(f"notification {item.seq} ({item.name}): {exc}")
        self.report.changed_events |= self.applier.changed

    async def _services_now(self, address_id: str) -> list[AddressService] | None:
        mapping = self.store.address(self.account.id, address_id)
        if mapping is None:
            return None
        from carecal.services.docplanner_mapping import fetch_services

        try:
            return await fetch_services(self.api, mapping)
        except PermanentItemError:
            return None

    def _apply(self, note: Notification, services: list[AddressService] | None) -> None:
        data, zone, address = note.data, self.api.zone, note.address_id
        name = note.name

        def booking(key: str = "visit_booking") -> Booking:
            raw = obj(data, key)
            if not raw:
                raise BadPayload(f"{name} without {key}")
            return Booking.of(raw, zone)

        if name == "slot-booked":
            self.applier.upsert(booking(), address)
        elif name == "booking-confirmed":
            self.applier.upsert(booking(), address, confirmed=True)
        elif name == "booking-canceled":
            self.applier.cancel(booking(), address)
        elif name == "booking-moved":
            self.applier.move(booking("old_visit_booking"), booking("new_visit_booking"), address)
        elif name == "booking-payment-status-changed":
            status = text(obj(data, "visit_payment_status"), "status_to") or None
            self.applier.upsert(booking(), address, payment_status=status)
        elif name == "presence-marked":
            mark = text(data, "presence").strip().lower() or None
            self.applier.upsert(booking(), address, presence=mark)
        elif name in ("break-created", "break-moved"):
            item = CalendarBreak.of(obj(data, "break"), zone)
            if item.id in self.store.own_break_ids(self.account.id):
                # One of Carecal's (breaks mode), echoed or moved in the panel: its row follows,
                # and the next publish puts it back over the busy time if it must.
                self.store.save_own_break(
                    self.account.id, address, item.id, item.since, item.till, self.clock()
                )
            else:
                self.store.save_break(self.account.id, item.id, address, item.since, item.till)
        elif name == "break-removed":
            break_id = text(obj(data, "break"), "id")
            self.store.remove_break(self.account.id, break_id)
            self.store.remove_own_break(self.account.id, break_id)  # re-added if still busy
        elif name in SERVICE_EVENTS:
            if services is not None:
                from carecal.services.docplanner_mapping import remap_services

                remap_services(self.repo, self.account.id, address, services)
        elif name == "address-commercial-type-changed":
            kind = text(obj(data, "address"), "commercial_type") or None
            self.store.update_address(self.account.id, address, commercial_type=kind)
        elif name in ("address-assigned", "address-unassigned"):
            self.store.update_address(self.account.id, address, assigned=name == "address-assigned")
        else:
            # slot-booking / booking-moving (real-time requests: the result arrives as its own
            # notification) and names Carecal does not know: nothing to do.
            log.info("Docplanner notification %s: nothing to apply", name)

    # --- reconciliation -----------------------------------------------------------------------

    def reconcile_due(self) -> bool:
        """Whether bookings must be listed: owed, never done, a day old, or a long pause
        between pulls (notifications may have expired)."""
        state = self.store.state(self.account.id)
        now = self.clock()
        if state.needs_reconcile or state.last_reconcile_at is None:
            return True
        if now - state.last_reconcile_at >= RECONCILE_EVERY:
            return True
        return state.last_pull_at is None or now - state.last_pull_at >= LONG_PAUSE

    async def reconcile(self) -> None:
        """List bookings and breaks of every mapped address over the window and apply them:
        new bookings (a moved one is recognised by its ``moving.origin_booking_id``) become
        appointments, cancellations cancel, breaks are replaced. Raises AuthExpired,
        TransientError, RemoteError."""
        now = self.clock()
        since, till = now - WINDOW_BEFORE, now + WINDOW_AFTER
        for mapping in self.store.addresses(self.account.id):
            if mapping.calendar_id is None or not mapping.assigned:
                continue
            await self._reconcile_address(mapping, since, till)
        self.store.set_state(self.account.id, reconciled=now, needs_reconcile=False)
        self.report.reconciled = True
        self.report.changed_events |= self.applier.changed

    async def _reconcile_address(
        self, mapping: AddressMapping, since: datetime, till: datetime
    ) -> None:
        from carecal.providers.docplanner_api import path_of

        zone = self.api.zone
        path = path_of(mapping.facility_id, mapping.doctor_id, mapping.address_id)
        listed: list[Mapping[str, Any]] = []
        page = 1
        while True:
            data = await self.api.get(
                f"{path}/bookings",
                {
                    "start": _iso(since, zone),
                    "end": _iso(till, zone),
                    "with": BOOKING_SCOPES,
                    "page": str(page),
                    "limit": "100",
                },
            )
            listed += items(data)
            pages = data.get("pages") if isinstance(data, Mapping) else None
            if not isinstance(pages, int) or page >= pages:
                break
            page += 1
        bookings = [Booking.of(raw, zone) for raw in listed]
        self.report.listed += len(bookings)
        for found in sorted(bookings, key=lambda b: not b.booked):  # booked ones first
            link = self.store.link(self.account.id, found.id)
            if found.booked and link is None:
                # Unknown: fetch it whole (moving chain, video link) before applying.
                one = await self.api.get(f"{path}/bookings/{found.id}", {"with": "booking.moving"})
                full = Booking.of(one, zone) if isinstance(one, Mapping) else found
                with self.store.transaction():
                    self.applier.upsert(full, mapping.address_id)
            elif found.booked:
                with self.store.transaction():
                    self.applier.upsert(found, mapping.address_id)
            elif link is not None and link.current and link.status != "canceled":
                with self.store.transaction():
                    self.applier.cancel(found, mapping.address_id)
        breaks = await self.api.get(
            f"{path}/breaks", {"since": _iso(since, zone), "till": _iso(till, zone)}
        )
        found_breaks = [CalendarBreak.of(b, zone) for b in items(breaks)]
        own = {
            b.break_id: b
            for b in self.store.own_breaks(self.account.id, mapping.address_id)
            if not b.pending
        }
        by_id = {b.id: b for b in found_breaks}
        with self.store.transaction():
            self.store.replace_breaks(
                self.account.id,
                mapping.address_id,
                [(b.id, b.since, b.till) for b in found_breaks if b.id not in own],
                since,
                till,
            )
            # Carecal's own breaks are not the practice's: their rows only follow the listing
            # (gone: forgotten, so the next publish adds them again where still busy).
            for break_id, row in own.items():
                seen = by_id.get(break_id)
                if seen is None and row.since < till and since < row.till:
                    self.store.remove_own_break(self.account.id, break_id)
                elif seen is not None and (seen.since, seen.till) != (row.since, row.till):
                    self.store.save_own_break(
                        self.account.id,
                        mapping.address_id,
                        break_id,
                        seen.since,
                        seen.till,
                        self.clock(),
                    )


async def sync_docplanner(
    repo: Repository,
    account: Account,
    api: DocplannerApi,
    *,
    clock: Callable[[], datetime] = _utcnow,
    publish: bool = True,
) -> DocplannerReport:
    """One cycle for one account: pull and apply notifications, reconcile when due, then
    publish the days whose slots changed. Failures end up in the report's ``errors`` (an
    AuthExpired or TransientError ends the cycle early; what was stored stays)."""
    sync = DocplannerSync(repo, account, api, clock=clock)
    report = sync.report
    try:
        due = sync.reconcile_due()
        await sync.pull()
        if due or sync.reconcile_due():
            await sync.reconcile()
        from carecal.services.docplanner_actions import run_actions_and_flag
        from carecal.services.docplanner_conflicts import conflict_line
        from carecal.services.docplanner_presence import queue_presence

        # The front desk's arrivals and no-shows, as they stand now, go out with the actions.
        queue_presence(repo, account, now=clock())
        sent, parked, flagged = await run_actions_and_flag(repo, account, api, clock=clock)
        report.actions_sent += sent
        report.errors += parked
        report.conflicts += [conflict_line(c, api.zone) for c in flagged]
        report.flagged += [c.booking_id for c in flagged]
        if publish:
            from carecal.services.docplanner_breaks import BreakKeeper
            from carecal.services.docplanner_publish import Publisher

            kept = await BreakKeeper(repo, account, api, clock=clock).apply()
            report.breaks_added += kept.added
            report.breaks_moved += kept.moved
            report.breaks_removed += kept.removed
            report.deleted_days += kept.cleared
            report.errors += kept.errors
            outcome = await Publisher(repo, account, api, clock=clock).publish()
            report.published_days += outcome.sent
            report.deleted_days += outcome.cleared
            report.errors += outcome.errors
    except TransientError as exc:
        report.offline = True
        report.errors.append(str(exc))
    except CarecalError as exc:
        report.errors.append(str(exc))
    return report
