"""Availability out: each mapped address's free time per day, published to Docplanner with one
``PUT slots`` per day, only for days whose slots changed, over the API's 12-week horizon.

A day's slots are its working hours (the rules without a calendar, or of the address's
calendar) minus breaks, minus busy time in ALL calendars (transparent/free and cancelled
entries do not block), minus breaks set in Docplanner; each free stretch is published as one
range ending ``buffer`` minutes early (the largest buffer of the address's service types), so
any visit Docplanner lets a patient book there ends with its buffer inside the free time.

``PUT slots`` replaces only what lies inside the ranges sent, so a day is sent as a partition
of the whole local day (Docplanner's country zone): the free ranges with their services, and
the gaps between them as ranges without services (which delete). A day that has no free time
is cleared with ``DELETE slots/{date}``. What was published is remembered per day
(``docplanner_published``): a day is sent again only when its computed slots differ, so an
edit anywhere (a Google event, a local appointment, new working hours) re-publishes just the
days it touched, at the next sync; while offline the difference simply stays until then.
Docplanner ignores a PUT identical to one it took less than 3 minutes before, so a day changed
and changed back within minutes (an undo) is sent written differently (``_fresh_body``).
Addresses in breaks mode (services.docplanner_breaks) get no slots from here.

Threads: ``plan`` runs on the Repository's thread (disk I/O); ``publish`` is a coroutine on
the sync worker's (or a private) loop. Raises StoreError; ``publish`` also AuthExpired and
TransientError (days not sent stay pending); a day Docplanner refuses is reported and skipped.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from carecal.domain.availability import Interval, subtract_intervals, working_intervals
from carecal.domain.errors import AuthExpired, CarecalError, TransientError
from carecal.domain.models import Account
from carecal.domain.overlap import busy_intervals, merge_intervals
from carecal.domain.recurrence import occurrences_in_window
from carecal.services.zones import zone_or_utc
from carecal.store.docplanner import AddressMapping, DocplannerStore
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.providers.docplanner_api import DocplannerApi

HORIZON = timedelta(weeks=12)
MAX_DAYS = 84
MINUTE = timedelta(minutes=1)
# Docplanner ignores a PUT identical to one it took less than 3 minutes before; a margin on top.
TWIN_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """One address's slots on one local day, and whether they differ from what was sent."""

    address_id: str
    address_name: str
    day: date
    ranges: tuple[Interval, ...]
    services: tuple[tuple[str, int], ...]
    text: str
    before: str | None  # what was published (None: nothing yet)
    digest: str

    @property
    def changed(self) -> bool:
        return self.before is None or self.before != self.text

    @property
    def empty(self) -> bool:
        return not self.ranges or not self.services


@dataclass(slots=True)
class PublishOutcome:
    plans: list[DayPlan] = field(default_factory=list)
    sent: int = 0
    cleared: int = 0
    deferred: int = 0  # days whose body Docplanner would ignore as a twin: next cycle
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> list[DayPlan]:
        return [p for p in self.plans if p.changed]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _hhmm(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%H:%M")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day's first instant and the next day's, in ``zone``. Pure."""
    first = datetime.combine(day, time(0), tzinfo=zone)
    nxt = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return first, nxt


def horizon_days(now: datetime, zone: ZoneInfo, days: int = MAX_DAYS) -> list[date]:
    """The local days from today on, at most ``days`` more, that end inside the 12-week
    horizon (whole days only). Pure."""
    horizon = now + HORIZON
    first = now.astimezone(zone).date()
    span = [first + timedelta(days=i) for i in range(min(days, MAX_DAYS) + 1)]
    return [d for d in span if day_bounds(d, zone)[1] - MINUTE <= horizon]


def slots_text(ranges: Sequence[Interval], zone: ZoneInfo) -> str:
    """``09:00-12:00, 13:00-17:00`` (or ``none``) in the country's zone. Pure."""
    return ", ".join(f"{_hhmm(s, zone)}-{_hhmm(e, zone)}" for s, e in ranges) or "none"


class Publisher:
    """Computes and publishes one account's slots (see the module docstring)."""

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
        self.zone = api.zone  # Docplanner's days are the country's local days
        self.practice_zone = zone_or_utc(repo.settings().display_tz)

    # --- computing ----------------------------------------------------------------------------

    def plan(self, days: int = MAX_DAYS) -> list[DayPlan]:
        """Every mapped address's slots for the days from today on, up to ``days`` and never
        past the 12-week horizon (only whole days inside it). Addresses in breaks mode are left
        to services.docplanner_breaks."""
        span = horizon_days(self.clock(), self.zone, days)
        mappings = [
            m
            for m in self.store.addresses(self.account.id)
            if m.publishable and m.publish_mode != "breaks"
        ]
        if not span or not mappings:
            return []
        start, _ = self._bounds(span[0])
        _, end = self._bounds(span[-1])
        occs, _warnings = occurrences_in_window(
            self.repo.events_in_window(start - timedelta(days=1), end + timedelta(days=1)),
            start - timedelta(days=1),
            end + timedelta(days=1),
            display_tz=self.practice_zone,
        )
        busy = busy_intervals(occs, tz=self.practice_zone)
        plans: list[DayPlan] = []
        for mapping in mappings:
            plans += self._address_plans(mapping, span, busy)
        return plans

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        return day_bounds(day, self.zone)

    def _services(self, mapping: AddressMapping) -> tuple[tuple[tuple[str, int], ...], int]:
        """(address service id, minutes) of the mapped services, and the largest buffer."""
        out: list[tuple[str, int]] = []
        buffer = 0
        types = {s.id: s for s in self.repo.list_services()}
        for svc in self.store.services(self.account.id, mapping.address_id):
            if svc.deleted:
                continue
            kind = types.get(svc.service_type_id or "")
            minutes = kind.duration_minutes if kind else svc.duration
            if kind is not None:
                buffer = max(buffer, kind.buffer_minutes)
            if minutes and minutes > 0:
                out.append((svc.address_service_id, int(minutes)))
        return tuple(sorted(out)), buffer

    def _address_plans(
        self, mapping: AddressMapping, span: Sequence[date], busy: Sequence[Interval]
    ) -> list[DayPlan]:
        hours = [
            h for h in self.repo.working_hours() if h.calendar_id in (None, mapping.calendar_id)
        ]
        breaks = [b for b in self.repo.breaks() if b.calendar_id in (None, mapping.calendar_id)]
        services, buffer = self._services(mapping)
        shortest = timedelta(minutes=min((m for _, m in services), default=0))
        blocked = merge_intervals([*busy, *self.store.breaks(self.account.id, mapping.address_id)])
        starts, ends = [s for s, _ in blocked], [e for _, e in blocked]  # both sorted: disjoint
        published = self.store.published(self.account.id, mapping.address_id)
        plans = []
        for day in span:
            d0, d1 = self._bounds(day)
            near = blocked[bisect_right(ends, d0) : bisect_left(starts, d1)]  # touching the day
            work: list[Interval] = []
            for local in (day - timedelta(days=1), day, day + timedelta(days=1)):
                for s, e in working_intervals(local, hours, breaks, self.practice_zone):
                    s, e = max(s, d0), min(e, d1 - MINUTE)
                    if e > s:
                        work.append((s, e))
            ranges: list[Interval] = []
            for s, e in subtract_intervals(work, near):
                end = e - timedelta(minutes=buffer)
                if services and end - s >= max(shortest, MINUTE):
                    ranges.append((s.astimezone(self.zone), end.astimezone(self.zone)))
            if not services:
                ranges = []
            text = slots_text(ranges, self.zone)
            if ranges:
                text += " [" + ", ".join(f"{i}:{m}" for i, m in services) + "]"
            before = published.get(day.isoformat())
            plans.append(
                DayPlan(
                    address_id=mapping.address_id,
                    address_name=mapping.name,
                    day=day,
                    ranges=tuple(ranges),
                    services=services if ranges else (),
                    text=text,
                    before=before[1] if before else None,
                    digest=hashlib.sha256(text.encode()).hexdigest(),
                )
            )
        return plans

    def body(self, plan: DayPlan) -> dict[str, Any]:
        """The PUT body: the whole local day partitioned into the free ranges (with services)
        and the gaps (without, so they delete)."""
        d0, d1 = self._bounds(plan.day)
        cover_end = d1 - MINUTE
        services = [{"address_service_id": i, "duration": m} for i, m in plan.services]
        slots: list[dict[str, Any]] = []
        cursor = d0
        for s, e in plan.ranges:
            if s - cursor >= MINUTE:
                slots.append(self._slot(cursor, s, []))
            slots.append(self._slot(s, e, services))
            cursor = e
        if cover_end - cursor >= MINUTE:
            slots.append(self._slot(cursor, cover_end, []))
        return {"slots": slots}

    def _fresh_body(self, plan: DayPlan) -> dict[str, Any] | None:
        """``body(plan)``, unless Docplanner took an identical body in the last few minutes and
        would ignore it (an edit undone quickly sends the earlier day again): then the same
        slots written differently, one of the ranges without services split in two (both
        halves delete, so the day means the same). None when there is no such range: the
        day waits for the next cycle."""
        body = self.body(plan)
        recent = self.store.recent_puts(
            self.account.id, plan.address_id, self.clock() - TWIN_WINDOW
        )
        if _digest(body) not in recent:
            return body
        slots = body["slots"]
        gaps = [i for i, slot in enumerate(slots) if not slot["address_services"]]
        for i in gaps:
            start = datetime.fromisoformat(slots[i]["start"])
            end = datetime.fromisoformat(slots[i]["end"])
            for minutes in range(1, 6):
                cut = start + timedelta(minutes=minutes)
                if end - cut < MINUTE:
                    break
                halves = [self._slot(start, cut, []), self._slot(cut, end, [])]
                variant = {"slots": [*slots[:i], *halves, *slots[i + 1 :]]}
                if _digest(variant) not in recent:
                    return variant
        return None

    def _slot(
        self, start: datetime, end: datetime, services: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "start": start.astimezone(self.zone).replace(microsecond=0).isoformat(),
            "end": end.astimezone(self.zone).replace(microsecond=0).isoformat(),
            "address_services": services,
        }

    # --- sending ------------------------------------------------------------------------------

    async def publish(self, days: int = MAX_DAYS, *, dry_run: bool = False) -> PublishOutcome:
        """Send the changed days (one request per day). ``dry_run``: compute only. Raises
        AuthExpired, TransientError (the days not sent stay changed for the next time)."""
        from carecal.providers.docplanner_api import path_of

        outcome = PublishOutcome(self.plan(days))
        if dry_run:
            return outcome
        mappings = {m.address_id: m for m in self.store.addresses(self.account.id)}
        for plan in outcome.changed:
            m = mappings[plan.address_id]
            path = path_of(m.facility_id, m.doctor_id, m.address_id)
            try:
                if plan.empty:
                    await self.api.send("DELETE", f"{path}/slots/{plan.day.isoformat()}")
                    outcome.cleared += 1
                else:
                    body = self._fresh_body(plan)
                    if body is None:
                        outcome.deferred += 1  # stays changed: the next cycle sends it
                        continue
                    await self.api.send("PUT", f"{path}/slots", body)
                    now = self.clock()
                    self.store.note_put(
                        self.account.id, plan.address_id, _digest(body), now, now - TWIN_WINDOW
                    )
                    outcome.sent += 1
            except (AuthExpired, TransientError):
                raise
            except CarecalError as exc:
                outcome.errors.append(f"{plan.address_name} {plan.day}: {exc}")
                continue
            self.store.mark_published(
                self.account.id,
                plan.address_id,
                plan.day.isoformat(),
                plan.digest,
                plan.text,
                self.clock(),
            )
        return outcome


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def diff_lines(plans: Sequence[DayPlan]) -> list[str]:
    """One line per changed day: ``2026-11-03 Gabinet: 09:00-12:00 (was: none)``. Pure."""
    out = []
    for plan in plans:
        if not plan.changed:
            continue
        was = "not published" if plan.before is None else plan.before
        out.append(f"{plan.day.isoformat()} {plan.address_name}: {plan.text} (was: {was})")
    return out


def as_json(plans: Sequence[DayPlan]) -> list[dict[str, Any]]:
    """The changed days for ``--format json``. Pure."""
    return [
        {
            "address_id": p.address_id,
            "address": p.address_name,
            "day": p.day.isoformat(),
            "slots": p.text,
            "was": p.before,
        }
        for p in plans
        if p.changed
    ]
