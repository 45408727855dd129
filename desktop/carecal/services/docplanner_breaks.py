"""Breaks mode: the practice keeps its working hours (its slots) in Docplanner, and Carecal
blocks the busy time of ALL its calendars there with calendar breaks.

Busy time is what the slots publisher sees (services.docplanner_publish): opaque,
non-cancelled events of every calendar (transparent/free ones and cancellations do not
block), over the whole days from today to the 12-week horizon, merged and split at the local
days of Docplanner's country. The address's own Docplanner bookings are left out: they are
already busy there. Each stretch becomes one break with a neutral description
(``BREAK_DESCRIPTION``: breaks show in the marketplace calendar, so never a title or a name).

Carecal changes only the breaks it made (``docplanner_own_breaks``); the practice's own breaks
are never touched. Each sync diffs the wanted breaks against Carecal's: a break still wanted
stays, one whose day still has busy time is moved (PATCH), the rest are removed (DELETE) and
the new ones added (POST, the id from the ``Location`` header). Nothing is blindly retried: a
placeholder row is written before each POST, and a POST whose answer was lost leaves it
behind, so before anything else the next sync lists that range and adopts the break it finds
(or drops the placeholder and adds it again). A 409 (the same range and description exist)
adopts the listed break too.

Switching modes (``set_publish_mode``) only records the mode; the cleanup follows from the
state at every sync, so it survives being offline: an address in breaks mode gets the days of
slots Carecal published cleared (``DELETE slots/{day}``) and forgotten, and Carecal's breaks of
an address not (or no longer) in breaks mode are removed.

Threads: ``plan`` and ``set_publish_mode`` run on the Repository's thread (disk I/O);
``BreakKeeper.apply`` is a coroutine on the sync worker's (or a private) loop. Raises
StoreError; ``set_publish_mode`` also ValidationError and NotFound; ``apply`` also AuthExpired
and TransientError (what was done is stored, the rest waits for the next sync). A change
Docplanner refuses is reported and skipped.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from carecal.domain.availability import Interval
from carecal.domain.errors import (
    AuthExpired,
    CarecalError,
    NotFound,
    PreconditionFailed,
    TransientError,
    ValidationError,
)
from carecal.domain.models import Account, Occurrence
from carecal.domain.overlap import busy_intervals
from carecal.domain.recurrence import occurrences_in_window
from carecal.providers.docplanner_types import CalendarBreak, items
from carecal.services.docplanner_publish import MINUTE, day_bounds, horizon_days
from carecal.services.zones import zone_or_utc
from carecal.store.docplanner import PENDING, AddressMapping, DocplannerStore, OwnBreak
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.providers.docplanner_api import DocplannerApi

MODES = ("slots", "breaks")
BREAK_DESCRIPTION = "Busy (Carecal)"
KEEP_PAST = timedelta(days=3)  # past own breaks are forgotten after this (never deleted)
ORDER = {"clear": 0, "remove": 1, "move": 2, "add": 3}


@dataclass(frozen=True, slots=True)
class BreakChange:
    """One request breaks mode needs: ``add``, ``move`` (``was``: the old range), ``remove``
    a break of Carecal's, or ``clear`` a day of slots Carecal published (``day``)."""

    kind: str
    address_id: str
    address_name: str
    since: datetime
    till: datetime
    break_id: str | None = None
    was: Interval | None = None
    day: date | None = None


@dataclass(slots=True)
class BreaksOutcome:
    changes: list[BreakChange] = field(default_factory=list)
    added: int = 0
    moved: int = 0
    removed: int = 0
    cleared: int = 0  # days of slots cleared (an address switched to breaks)
    adopted: int = 0  # breaks found by listing after a 409 or a lost answer
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModeSwitch:
    """What ``set_publish_mode`` did and what the next sync will clean up."""

    address_id: str
    address_name: str
    before: str
    after: str
    slot_days: int  # published days of slots to clear
    own_breaks: int  # Carecal's breaks to remove

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(microsecond=0)


def in_breaks_mode(mapping: AddressMapping) -> bool:
    """Whether Carecal keeps breaks (not slots) for this address. Pure."""
    return mapping.publishable and mapping.publish_mode == "breaks"


def set_publish_mode(repo: Repository, account: Account, address_id: str, mode: str) -> ModeSwitch:
    """Record an address's publishing mode (``slots`` or ``breaks``). The next sync cleans up
    what the other mode left (see the module docstring). The Repository's thread. Raises
    ValidationError (an unknown mode), NotFound (the address is not mapped), StoreError."""
    if mode not in MODES:
        raise ValidationError(f"the publishing mode is 'slots' or 'breaks', not {mode!r}")
    store = DocplannerStore(repo)
    mapping = store.require_address(account.id, address_id)
    with store.transaction():
        store.update_address(account.id, address_id, publish_mode=mode)
    published = store.published(account.id, address_id)
    days = sum(1 for _, text in published.values() if text != "none") if mode == "breaks" else 0
    own = len(store.own_breaks(account.id, address_id)) if mode == "slots" else 0
    return ModeSwitch(address_id, mapping.name, mapping.publish_mode, mode, days, own)


class BreakKeeper:
    """Keeps one account's breaks-mode addresses (see the module docstring)."""

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
        self.zone: ZoneInfo = api.zone
        self.practice_zone = zone_or_utc(repo.settings().display_tz)

    # --- computing ----------------------------------------------------------------------------

    def plan(self) -> list[BreakChange]:
        """Every request needed now, clears and removals first. The Repository's thread."""
        mappings = self.store.addresses(self.account.id)
        days = horizon_days(self.clock(), self.zone)
        if not days:
            return []
        start = day_bounds(days[0], self.zone)[0]
        end = day_bounds(days[-1], self.zone)[1]
        occs: list[Occurrence] = []
        if any(in_breaks_mode(m) for m in mappings):
            pad = timedelta(days=1)
            occs, _warnings = occurrences_in_window(
                self.repo.events_in_window(start - pad, end + pad),
                start - pad,
                end + pad,
                display_tz=self.practice_zone,
            )
        changes: list[BreakChange] = []
        for m in mappings:
            own = [
                b
                for b in self.store.own_breaks(self.account.id, m.address_id)
                if not b.pending and b.till > start and b.since < end
            ]
            if in_breaks_mode(m):
                changes += self._clears(m, days[0])
                changes += self._diff(m, own, self._wanted(m, occs, days))
            else:
                changes += [self._change("remove", m, b.since, b.till, b.break_id) for b in own]
        changes.sort(key=lambda c: (ORDER[c.kind], c.since))
        return changes

    def _change(
        self, kind: str, m: AddressMapping, since: datetime, till: datetime, *args: Any
    ) -> BreakChange:
        return BreakChange(kind, m.address_id, m.name, since, till, *args)

    def _clears(self, m: AddressMapping, today: date) -> list[BreakChange]:
        out = []
        for day_text, (_digest, text) in sorted(
            self.store.published(self.account.id, m.address_id).items()
        ):
            day = date.fromisoformat(day_text)
            if day >= today and text != "none":
                d0, d1 = day_bounds(day, self.zone)
                out.append(BreakChange("clear", m.address_id, m.name, d0, d1, day=day))
        return out

    def _wanted(
        self, m: AddressMapping, occs: Sequence[Occurrence], days: Sequence[date]
    ) -> list[Interval]:
        """Busy time of every calendar but the address's own bookings, split per local day."""
        booked = {
            link.event_id
            for link in self.store.current_links(self.account.id)
            if link.address_id == m.address_id and link.status == "booked"
        }
        busy = busy_intervals(
            [o for o in occs if (o.event.master_id or o.event.id) not in booked],
            tz=self.practice_zone,
        )
        out: list[Interval] = []
        for day in days:
            d0, d1 = day_bounds(day, self.zone)
            for s, e in busy:
                if e <= d0:
                    continue
                if s >= d1:
                    break
                since, till = _utc(max(s, d0)), _utc(min(e, d1))
                if till - since >= MINUTE:
                    out.append((since, till))
        return out

    def _diff(
        self, m: AddressMapping, own: Sequence[OwnBreak], wanted: Sequence[Interval]
    ) -> list[BreakChange]:
        want = set(wanted)
        kept: set[Interval] = set()
        spare: dict[date, list[OwnBreak]] = defaultdict(list)
        for b in own:
            key = (b.since, b.till)
            if key in want and key not in kept:
                kept.add(key)
            else:
                spare[b.since.astimezone(self.zone).date()].append(b)
        new: dict[date, list[Interval]] = defaultdict(list)
        for span in wanted:
            if span not in kept:
                new[span[0].astimezone(self.zone).date()].append(span)
        out: list[BreakChange] = []
        for day in sorted(set(spare) | set(new)):
            olds, news = spare.get(day, []), new.get(day, [])
            for b, (s, e) in zip(olds, news, strict=False):
                out.append(self._change("move", m, s, e, b.break_id, (b.since, b.till)))
            for b in olds[len(news) :]:
                out.append(self._change("remove", m, b.since, b.till, b.break_id))
            for s, e in news[len(olds) :]:
                out.append(self._change("add", m, s, e))
        return out

    # --- sending ------------------------------------------------------------------------------

    async def apply(self, *, dry_run: bool = False) -> BreaksOutcome:
        """Settle POSTs whose answer was lost, then send the planned changes in order.
        ``dry_run``: compute only. Raises AuthExpired, TransientError (what was sent is
        stored; the rest is planned again next time), StoreError."""
        if dry_run:
            return BreaksOutcome(self.plan())
        outcome = BreaksOutcome()
        await self._settle_pending(outcome)
        self._forget_stale()
        outcome.changes = self.plan()
        mappings = {m.address_id: m for m in self.store.addresses(self.account.id)}
        for change in outcome.changes:
            m = mappings[change.address_id]
            try:
                await self._send(m, change, outcome)
            except (AuthExpired, TransientError):
                raise
            except CarecalError as exc:
                outcome.errors.append(f"{m.name} {change_text(change, self.zone)}: {exc}")
        return outcome

    def _path(self, m: AddressMapping) -> str:
        from carecal.providers.docplanner_api import path_of

        return path_of(m.facility_id, m.doctor_id, m.address_id)

    def _body(self, since: datetime, till: datetime) -> dict[str, str]:
        return {
            "since": since.astimezone(self.zone).isoformat(),
            "till": till.astimezone(self.zone).isoformat(),
        }

    async def _send(self, m: AddressMapping, change: BreakChange, outcome: BreaksOutcome) -> None:
        path, acc, now = self._path(m), self.account.id, self.clock()
        if change.kind == "clear":
            assert change.day is not None
            with contextlib.suppress(NotFound):  # nothing there any more
                await self.api.send("DELETE", f"{path}/slots/{change.day.isoformat()}")
            self.store.forget_published(acc, m.address_id, change.day.isoformat())
            outcome.cleared += 1
        elif change.kind == "remove":
            assert change.break_id is not None
            with contextlib.suppress(NotFound):  # removed in the Docplanner panel already
                await self.api.send("DELETE", f"{path}/breaks/{quote(change.break_id, safe='')}")
            self.store.remove_own_break(acc, change.break_id)
            outcome.removed += 1
        elif change.kind == "move":
            assert change.break_id is not None
            try:
                await self.api.send(
                    "PATCH",
                    f"{path}/breaks/{quote(change.break_id, safe='')}",
                    self._body(change.since, change.till),
                )
            except NotFound:
                # Removed in the panel meanwhile: add it anew.
                self.store.remove_own_break(acc, change.break_id)
                await self._add(m, change.since, change.till, outcome)
                return
            self.store.save_own_break(
                acc, m.address_id, change.break_id, change.since, change.till, now
            )
            outcome.moved += 1
        else:
            await self._add(m, change.since, change.till, outcome)

    async def _add(
        self, m: AddressMapping, since: datetime, till: datetime, outcome: BreaksOutcome
    ) -> None:
        acc, path = self.account.id, self._path(m)
        placeholder = f"{PENDING}{since.isoformat()}/{till.isoformat()}"
        # Written before the request: if its answer is lost, the next sync lists first.
        self.store.save_own_break(acc, m.address_id, placeholder, since, till, self.clock())
        body = {**self._body(since, till), "description": BREAK_DESCRIPTION}
        try:
            answer = await self.api.send("POST", f"{path}/breaks", body)
        except PreconditionFailed:
            found = await self._find(m, since, till)
            if found is None:
                self.store.remove_own_break(acc, placeholder)
                raise
            self.store.save_own_break(
                acc, m.address_id, found, since, till, self.clock(), replaces=placeholder
            )
            outcome.adopted += 1
            return
        except (AuthExpired, TransientError):
            raise
        except CarecalError:
            self.store.remove_own_break(acc, placeholder)
            raise
        made: str | None = _id_from_location(answer.headers.get("location", ""))
        if not made:
            made = await self._find(m, since, till)
        if made is None:
            self.store.remove_own_break(acc, placeholder)
            raise CarecalError("Docplanner added a break but did not say which")
        self.store.save_own_break(
            acc, m.address_id, made, since, till, self.clock(), replaces=placeholder
        )
        outcome.added += 1

    async def _find(self, m: AddressMapping, since: datetime, till: datetime) -> str | None:
        """The id of a break of exactly this range with Carecal's description that Carecal
        does not know yet (listing the range). Raises as DocplannerApi.get."""
        data = await self.api.get(f"{self._path(m)}/breaks", self._body(since, till))
        known = self.store.own_break_ids(self.account.id)
        for raw in items(data):
            found = CalendarBreak.of(raw, self.zone)
            same = (_utc(found.since), _utc(found.till)) == (since, till)
            if same and found.description == BREAK_DESCRIPTION and found.id not in known:
                return found.id
        return None

    async def _settle_pending(self, outcome: BreaksOutcome) -> None:
        """POSTs whose answer never came: adopt the break they made, or forget them (the plan
        adds it again)."""
        mappings = {m.address_id: m for m in self.store.addresses(self.account.id)}
        for row in self.store.own_breaks(self.account.id):
            if not row.pending:
                continue
            m = mappings.get(row.address_id)
            try:
                found = await self._find(m, row.since, row.till) if m is not None else None
            except (AuthExpired, TransientError):
                raise
            except CarecalError:
                found = None  # the address cannot be read any more: nothing to adopt there
            if found is None:
                self.store.remove_own_break(self.account.id, row.break_id)
                continue
            self.store.save_own_break(
                self.account.id,
                row.address_id,
                found,
                row.since,
                row.till,
                self.clock(),
                replaces=row.break_id,
            )
            outcome.adopted += 1

    def _forget_stale(self) -> None:
        """Past breaks stay in Docplanner (history) and leave Carecal's list after a while;
        days of slots that need no clearing (past, or cleared already) are forgotten."""
        now, acc = self.clock(), self.account.id
        today = now.astimezone(self.zone).date()
        with self.store.transaction():
            for row in self.store.own_breaks(acc):
                if not row.pending and row.till < now - KEEP_PAST:
                    self.store.remove_own_break(acc, row.break_id)
            for m in self.store.addresses(acc):
                if not in_breaks_mode(m):
                    continue
                for day, (_digest, text) in self.store.published(acc, m.address_id).items():
                    if text == "none" or date.fromisoformat(day) < today:
                        self.store.forget_published(acc, m.address_id, day)


def _id_from_location(location: str) -> str:
    """The last path segment of a ``Location`` header (``.../breaks/123`` -> ``123``). Pure."""
    tail = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return unquote(tail) if location else ""


def _hhmm(when: datetime, zone: ZoneInfo, *, end: bool = False) -> str:
    local = when.astimezone(zone)
    if end and (local.hour, local.minute) == (0, 0):
        return "24:00"
    return local.strftime("%H:%M")


def change_text(change: BreakChange, zone: ZoneInfo) -> str:
    """``+ break 2026-11-24 10:00-11:00``, ``~ break ... (was 09:00-10:00)``, ``- break ...``,
    ``- slots 2026-11-24``: one change as the dry run shows it. Pure."""
    day = change.since.astimezone(zone).date().isoformat()
    span = f"{_hhmm(change.since, zone)}-{_hhmm(change.till, zone, end=True)}"
    if change.kind == "clear":
        return f"- slots {change.day.isoformat() if change.day else day}"
    if change.kind == "move" and change.was is not None:
        was = f"{_hhmm(change.was[0], zone)}-{_hhmm(change.was[1], zone, end=True)}"
        return f"~ break {day} {span} (was {was})"
    sign = "+" if change.kind == "add" else "-"
    return f"{sign} break {day} {span}"


def diff_lines(changes: Sequence[BreakChange], zone: ZoneInfo) -> list[str]:
    """One line per change, with the address: ``+ break 2026-11-24 10:00-11:00 (Gabinet)``.
    Pure."""
    return [f"{change_text(c, zone)} ({c.address_name})" for c in changes]


def as_json(changes: Sequence[BreakChange], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The changes for ``--format json``. Pure."""
    return [
        {
            "change": c.kind,
            "address_id": c.address_id,
            "address": c.address_name,
            "since": c.since.astimezone(zone).isoformat(),
            "till": c.till.astimezone(zone).isoformat(),
            "break_id": c.break_id,
            "day": c.day.isoformat() if c.day else None,
        }
        for c in changes
    ]
