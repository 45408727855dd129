"""Double bookings: every current, future Docplanner booking whose time overlaps busy time in
any calendar (another appointment, a Google or Outlook event ...; transparent and cancelled
events ignored) is flagged, with the next free starts of its address proposed, so one move
resolves it (services.docplanner_actions.queue_move).

Threads: the Repository's thread; disk I/O. Raises StoreError. Lines and logs name times and
booking ids, never patients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from carecal.domain.models import Account
from carecal.domain.overlap import busy_intervals
from carecal.domain.recurrence import occurrences_in_window
from carecal.services.zones import zone_or_utc
from carecal.store.docplanner import DocplannerStore
from carecal.store.docplanner_actions import ActionStore, Conflict
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.services.docplanner_publish import DayPlan


PROPOSALS = 3
PROPOSAL_DAYS = 14


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
        zone = zone_or_utc(repo.settings().display_tz)
        lo = min(x.start for x in links)
        hi = max(x.end for x in links)
        occs, _warnings = occurrences_in_window(
            repo.events_in_window(lo, hi), lo, hi, display_tz=zone
        )
        # Each occurrence's busy span, worked out once rather than all the others' busy time
        # again for every booking: a booking of some length overlaps the merged busy time of
        # the other events exactly when it overlaps one of their spans.
        spans = [(o.event.id, span) for o in occs for span in busy_intervals([o], tz=zone)]
        for link in links:
            if link.end > link.start:
                clash = any(
                    eid != link.event_id and s < link.end and e > link.start
                    for eid, (s, e) in spans
                )
            else:  # no length: only merged busy time around its instant counts
                others = busy_intervals([o for o in occs if o.event.id != link.event_id], tz=zone)
                clash = any(s < link.end and e > link.start for s, e in others)
            if clash:
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


def free_starts_from_plans(
    plans: Sequence[DayPlan], now: datetime
) -> Callable[[str, int], list[datetime]]:
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
