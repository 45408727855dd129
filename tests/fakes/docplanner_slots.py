"""Published availability of one address in the Docplanner emulator: `PUT slots` ranges,
their validation, `DELETE slots/{date}`, and the free starts `GET slots` and `bookSlot` see.

Rules (reference section 1.2; where it is silent, the emulator's choice is marked "guess"):
- PUT replaces everything inside each given range; a null or empty `address_services`
  only deletes. Success is 201.
- 400 with errors keyed by field path when a range is unparseable, ends before it starts, is
  shorter than 1 minute, crosses a day boundary (the end must fall on the start's local date;
  an end at the next midnight counts as crossing: guess, the strict reading), ends beyond
  12 weeks from now (`horizon`; the exact instant: guess), when the ranges come from
  different days ("Slots comes from different days", keyed `slots`), when an address service
  is not the address's or a duration is not a positive integer, or when `insurance_accepted`
  and `insurance_providers` disagree.
- GET answers free starts only: starts step through a range by the shortest duration of its
  services (guess), a start is free when no booking or calendar break overlaps it and it is
  not in the past; `with=slot.services` lists, per start, the services that fit before the
  range ends without overlapping anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_clock import local_day, parse_instant
from tests.fakes.docplanner_errors import FieldErrors
from tests.fakes.docplanner_tree import Address

INSURANCE_CHOICES = frozenset(
    {"with-and-without-insurance", "with-insurance-only", "without-insurance-only"}
)
Interval = tuple[datetime, datetime]


@dataclass
class SlotRange:
    """One published range with the services (id, duration in minutes) bookable in it."""

    start: datetime
    end: datetime
    services: list[tuple[str, int]] = field(default_factory=list)
    insurance_accepted: str = "with-and-without-insurance"
    insurance_providers: list[int] = field(default_factory=list)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def parse_put(
    body: Any, addr: Address, now: datetime, horizon: timedelta, zone: ZoneInfo
) -> tuple[list[SlotRange], list[str]]:
    """The ranges of a PUT body (services empty for a delete-only range) and the raw dates
    that had no offset; raises the field-keyed 400."""
    errors = FieldErrors()
    naive: list[str] = []
    slots = body.get("slots") if isinstance(body, dict) else None
    if not isinstance(slots, list):
        errors.add("slots", "This value should be of type array.")
        errors.raise_if_any()
        return [], naive
    out: list[SlotRange] = []
    days: set[str] = set()
    for i, item in enumerate(slots):
        where = f"slots[{i}]"
        if not isinstance(item, dict):
            errors.add(where, "This value should be of type object.")
            continue
        bounds: dict[str, datetime] = {}
        for key in ("start", "end"):
            try:
                bounds[key], had_offset = parse_instant(str(item.get(key)), zone)
            except (TypeError, ValueError):
                errors.add(f"{where}.{key}", "This value is not a valid datetime.")
                continue
            if not had_offset:
                naive.append(str(item.get(key)))
        if len(bounds) < 2:
            continue
        start, end = bounds["start"], bounds["end"]
        days.add(local_day(start, zone))
        if end <= start:
            errors.add(f"{where}.end", "The end must be later than the start.")
        elif end - start < timedelta(minutes=1):
            errors.add(f"{where}.end", "A slot must be at least 1 minute long.")
        elif local_day(end, zone) != local_day(start, zone):
            errors.add(f"{where}.end", "A slot must start and end on the same day.")
        if end > now + horizon:
            errors.add(f"{where}.end", "Slots can be set at most 12 weeks ahead.")
        services: list[tuple[str, int]] = []
        raw = item.get("address_services")
        if raw is not None and not isinstance(raw, list):
            errors.add(f"{where}.address_services", "This value should be of type array.")
            raw = []
        for j, svc in enumerate(raw or []):
            at = f"{where}.address_services[{j}]"
            svc_id = svc.get("address_service_id") if isinstance(svc, dict) else None
            if not isinstance(svc_id, str | int) or str(svc_id) not in addr.services:
                errors.add(f"{at}.address_service_id", "Address service not found.")
                continue
            duration = svc.get("duration")
            if not _positive_int(duration):
                errors.add(f"{at}.duration", "This value should be a positive integer.")
                continue
            services.append((str(svc_id), int(duration)))
        accepted = item.get("insurance_accepted") or "with-and-without-insurance"
        providers = item.get("insurance_providers") or []
        if accepted not in INSURANCE_CHOICES:
            errors.add(f"{where}.insurance_accepted", "The value you selected is not valid.")
        elif not isinstance(providers, list) or not all(_positive_int(p) for p in providers):
            errors.add(f"{where}.insurance_providers", "This value should be a list of ids.")
        elif accepted == "with-insurance-only" and not providers:
            errors.add(f"{where}.insurance_providers", "This value should not be blank.")
        elif accepted == "without-insurance-only" and providers:
            errors.add(f"{where}.insurance_providers", "This value should be blank.")
        out.append(SlotRange(start, end, services, accepted, list(providers)))
    if len(days) > 1:
        errors.add("slots", "Slots comes from different days")
    errors.raise_if_any()
    return out, naive


def replace(existing: list[SlotRange], new: list[SlotRange]) -> list[SlotRange]:
    """`existing` with everything inside each new range replaced by it (clipping ranges that
    stick out); ranges without services only delete."""
    current = list(existing)
    for rng in new:
        kept: list[SlotRange] = []
        for old in current:
            if old.end <= rng.start or old.start >= rng.end:
                kept.append(old)
                continue
            if old.start < rng.start:
                kept.append(_clip(old, old.start, rng.start))
            if old.end > rng.end:
                kept.append(_clip(old, rng.end, old.end))
        if rng.services:
            kept.append(rng)
        current = sorted(kept, key=lambda r: r.start)
    return current


def _clip(old: SlotRange, start: datetime, end: datetime) -> SlotRange:
    return SlotRange(
        start, end, list(old.services), old.insurance_accepted, list(old.insurance_providers)
    )


def delete_day(existing: list[SlotRange], day: str, zone: ZoneInfo) -> list[SlotRange]:
    """`existing` without the ranges that start on local date `day`."""
    return [r for r in existing if local_day(r.start, zone) != day]


def _overlaps(start: datetime, end: datetime, busy: list[Interval]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def free_starts(
    ranges: list[SlotRange], busy: list[Interval], since: datetime, till: datetime, now: datetime
) -> list[tuple[datetime, list[tuple[str, int]]]]:
    """(start, services that fit there) for every free start in [since, till)."""
    found: dict[datetime, list[tuple[str, int]]] = {}
    for rng in ranges:
        if not rng.services:
            continue
        step = timedelta(minutes=min(d for _, d in rng.services))
        at = rng.start
        while at < rng.end:
            if since <= at < till and at >= now:
                fitting = [
                    (svc, d)
                    for svc, d in rng.services
                    if at + timedelta(minutes=d) <= rng.end
                    and not _overlaps(at, at + timedelta(minutes=d), busy)
                ]
                if fitting:
                    found.setdefault(at, []).extend(fitting)
            at += step
    return sorted(found.items())


def bookable(
    ranges: list[SlotRange],
    busy: list[Interval],
    start: datetime,
    service_id: str,
    duration: int,
    now: datetime,
) -> bool:
    """Whether a visit of `service_id` for `duration` minutes may start at `start`: a free
    offered start whose range holds the service and the whole visit."""
    end = start + timedelta(minutes=duration)
    for rng in ranges:
        offered = dict(rng.services)
        if service_id not in offered or not rng.start <= start < rng.end or end > rng.end:
            continue
        step = timedelta(minutes=min(offered.values()))
        on_grid = (start - rng.start) % step == timedelta(0)
        if on_grid and start >= now and not _overlaps(start, end, busy):
            return True
    return False
