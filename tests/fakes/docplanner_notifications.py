"""Notifications in the Docplanner emulator: the pull queue and the optional push sender.

PULL (reference 1.3): `GET /notifications` pops the oldest notification (FIFO) or answers 404
"No notifications found"; `GET /notifications/multiple?limit=N` (1..100, default 1) pops up to
N and reports `remaining`. There is no ack: popping is the acknowledgement. Unpulled
notifications expire 72 hours after they were created, on the emulator's clock. `multiple_key`
("notifications", or "_items" as one third-party client reads it) picks the list's key.

PUSH (optional; reference emulator list point 8): each notification is POSTed as the same
envelope to `push_url`, with an agreed API-key header if set and no signature. Retries are
documented three ways, so `retry_policy` offers all three: "once" (the spec: pushed only once
whatever the answer), "guide" (after 5 and 10 minutes, failed ones deleted after 14 days),
"real-time-guide" (after 1, 5 and 15 minutes). Deliveries that failed every try are kept for
`POST /notifications/release` (204; 403 for a pull-only client; 429 + Retry-After beyond one
call per hour). Faults: `duplicate_next` and `reorder_next` duplicate or swap deliveries;
`paused` holds them back.
`slot-booking` and `booking-moving` are the blocking real-time requests (`real_time`): a
non-2xx answer stops the patient's booking or move.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

NAMES = (
    "slot-booking",
    "slot-booked",
    "booking-canceled",
    "booking-moved",
    "booking-moving",
    "booking-confirmed",
    "booking-payment-status-changed",
    "break-created",
    "break-moved",
    "break-removed",
    "presence-marked",
    "address-service-created",
    "address-service-changed",
    "address-service-deleted",
    "address-commercial-type-changed",
    "address-assigned",
    "address-unassigned",
)
BLOCKING = frozenset({"slot-booking", "booking-moving"})
RETRY_POLICIES: dict[str, tuple[timedelta, ...]] = {
    "once": (),
    "guide": (timedelta(minutes=5), timedelta(minutes=10)),
    "real-time-guide": (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15)),
}
FAILED_KEPT = timedelta(days=14)
EXPIRY = timedelta(hours=72)


@dataclass
class Queued:
    """One notification waiting in the pull queue."""

    seq: int
    created: datetime
    envelope: dict[str, Any]


@dataclass
class Delivery:
    """One push of one notification (its tries so far and when the next is due)."""

    envelope: dict[str, Any]
    due: datetime
    tries: int = 0
    failed_at: datetime | None = None
    statuses: list[int | None] = field(default_factory=list)


class Outbox:
    """The pull queue and push state; every method runs under the emulator's lock."""

    def __init__(self) -> None:
        self._seq = itertools.count(1)
        self.pull_enabled = True
        self.expiry = EXPIRY
        self.multiple_key = "notifications"
        self.queue: deque[Queued] = deque()
        self.emitted: list[dict[str, Any]] = []  # every notification ever made, for tests
        self.expired: list[dict[str, Any]] = []  # the ones that expired unpulled
        self.pulled: list[dict[str, Any]] = []  # the ones popped
        self.real_time = False  # emit the blocking slot-booking / booking-moving requests
        self.push_url: str | None = None
        self.push_headers: dict[str, str] = {}
        self.retry_policy = "once"
        self.pending: list[Delivery] = []
        self.failed: list[Delivery] = []
        self.pushed: list[tuple[dict[str, Any], int | None]] = []  # (envelope, status)
        self.duplicate_next = 0
        self.reorder_next = 0
        self.paused = False  # hold pushes back (e.g. to have several due at once)
        self.last_release: datetime | None = None

    def emit(
        self, name: str, data: dict[str, Any], created_at: str, now: datetime
    ) -> dict[str, Any]:
        """Queue one notification (pull) and schedule its push; returns the envelope."""
        if name not in NAMES:
            raise ValueError(f"unknown notification {name!r}")
        envelope = {"name": name, "data": data, "created_at": created_at}
        self.emitted.append(envelope)
        if self.pull_enabled:
            self.queue.append(Queued(next(self._seq), now, envelope))
        if self.push_url is not None and name not in BLOCKING:
            self.pending.append(Delivery(envelope, now))
        return envelope

    def expire(self, now: datetime) -> None:
        """Drop unpulled notifications older than `expiry`, and failed pushes kept too long."""
        while self.queue and now - self.queue[0].created >= self.expiry:
            self.expired.append(self.queue.popleft().envelope)
        self.failed = [d for d in self.failed if d.failed_at and now - d.failed_at < FAILED_KEPT]

    def pop(self, count: int) -> list[dict[str, Any]]:
        """Pop up to `count` notifications, oldest first (this is the acknowledgement)."""
        out: list[dict[str, Any]] = []
        while self.queue and len(out) < count:
            out.append(self.queue.popleft().envelope)
        self.pulled.extend(out)
        return out

    # ----- push -------------------------------------------------------------------------
    def take_due(self, now: datetime) -> list[Delivery]:
        """The deliveries due now, in order (after the duplicate/reorder faults); none while
        `paused`."""
        if self.paused:
            return []
        due = [d for d in self.pending if d.due <= now]
        self.pending = [d for d in self.pending if d.due > now]
        if self.reorder_next and len(due) >= 2:
            self.reorder_next -= 1
            due[0], due[1] = due[1], due[0]
        if self.duplicate_next and due:
            self.duplicate_next -= 1
            due.insert(1, Delivery(due[0].envelope, due[0].due, tries=-1))
        return due

    def settle(self, delivery: Delivery, status: int | None, now: datetime) -> None:
        """Record one try's answer (None: no answer) and schedule a retry or give up."""
        self.pushed.append((delivery.envelope, status))
        if delivery.tries < 0:  # an injected duplicate
            return
        delivery.statuses.append(status)
        if status is not None and 200 <= status < 300:
            return
        retries = RETRY_POLICIES[self.retry_policy]
        if delivery.tries < len(retries):
            delivery.due = now + retries[delivery.tries]
            delivery.tries += 1
            self.pending.append(delivery)
        else:
            delivery.failed_at = now
            self.failed.append(delivery)

    def release(self, now: datetime) -> None:
        """Queue every failed push again (the caller checked push mode and the hourly limit)."""
        self.last_release = now
        for delivery in self.failed:
            self.pending.append(Delivery(delivery.envelope, now))
        self.failed = []
