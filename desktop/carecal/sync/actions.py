"""Carrying out one planned action on one item. Per-item errors are returned to the engine,
which records them; one bad item never blocks the rest.

Threads: coroutines on the sync worker's loop, which also owns the Repository.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from carecal.domain.errors import NotFound, PreconditionFailed
from carecal.domain.merge import merge_item
from carecal.domain.models import Account, Calendar, Event
from carecal.providers.base import Provider, RemoteCalendar, RemoteItem, RemoteRef
from carecal.store.repo import Repository
from carecal.store.syncstate import SyncItem, SyncStore, keyed
from carecal.sync import conflicts
from carecal.sync.conflicts import Policy, Take
from carecal.sync.plan import Apply, Conflict, Merge, RemoveLocal, Skip

Progress = Callable[[str, int, int], None]


@dataclass
class CalendarReport:
    """What one sync of one calendar did. ``errors`` are readable lines."""

    calendar_id: str
    name: str
    pushed: int = 0
    pulled: int = 0
    deleted: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False
    needs_sign_in: bool = False
    mass_deletion: int = 0
    # The server asked for no requests before this time (429 Retry-After): the account waits.
    wait_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.cancelled

    def summary(self) -> str:
        text = (
            f"{self.name}: {self.pushed} sent, {self.pulled} received, {self.deleted} deleted, "
            f"{self.conflicts} conflicts"
        )
        return text + (f", {len(self.errors)} errors" if self.errors else "")


@dataclass
class Context:
    """Everything one calendar's sync needs."""

    repo: Repository
    store: SyncStore
    provider: Provider
    calendar: Calendar
    remote: RemoteCalendar
    account: Account
    policy: Policy
    report: CalendarReport
    clock: Callable[[], datetime]
    rng: random.Random
    repush: bool = False
    old_token: str | None = None  # the token the pull started from
    token_saved: bool = False

    @property
    def actor(self) -> str:
        return f"sync:{self.account.name}"


def build_raw(provider: Provider, events: Sequence[Event]) -> str:
    """The item's remote representation, master first. Each provider patches the events' own
    ``raw`` (iCalendar for CalDAV, the stored resource JSON for Google) with their fields."""
    ordered = sorted(events, key=lambda e: e.recurrence_id is not None)
    return provider.to_raw(ordered)


def remote_events(ctx: Context, item: RemoteItem) -> list[Event]:
    """The remote item as local events. A provider that hides details from its remote (Google's
    privacy levels) gets the item's local events to put back what it withheld, so a masked
    title never overwrites the real one. Raises IcsError (a PERMANENT item error) for an
    unreadable item."""
    events = ctx.provider.to_events(item, ctx.calendar.id)
    unmask = getattr(ctx.provider, "unmask", None)
    if unmask is not None and events:
        local = ctx.store.local_events(ctx.calendar.id, item.uid)
        if local:
            restored: list[Event] = unmask(events, local)
            return restored
    return events


async def push_create(ctx: Context, uid: str, upto: int) -> None:
    local = ctx.store.local_events(ctx.calendar.id, uid)
    raw = build_raw(ctx.provider, local)
    # Noted before the request: if the answer is lost, the next run recognises our own write.
    ctx.store.record_sending(ctx.calendar.id, uid, local)
    try:
        ref = await ctx.provider.create(ctx.remote, uid, raw)
    except PreconditionFailed:
        # The server has it (our earlier create whose answer was lost, or another device):
        # find it and merge, never a second copy.
        found = await find_remote(ctx, uid)
        if found is None:
            raise
        await reconcile(ctx, uid, None, found, upto)
        return
    ctx.store.set_synced(ctx.calendar.id, uid, ref.remote_id, ref.version, local, upto)
    ctx.report.pushed += 1


async def find_remote(ctx: Context, uid: str) -> RemoteItem | None:
    """The remote item holding ``uid``, or None. A provider that can look one UID up (Google's
    events.list by iCalUID) is asked directly; otherwise the calendar is listed."""
    finder = getattr(ctx.provider, "find", None)
    if finder is not None:
        found: RemoteItem | None = await finder(ctx.remote, uid)
        return found
    listing = await ctx.provider.pull(ctx.remote, None)
    return next((i for i in listing.changed if i.uid == uid), None)


async def push_update(ctx: Context, uid: str, agreed: SyncItem, upto: int) -> None:
    local = ctx.store.local_events(ctx.calendar.id, uid)
    ref = RemoteRef(agreed.remote_id, agreed.remote_version)
    raw = build_raw(ctx.provider, local)
    ctx.store.record_sending(ctx.calendar.id, uid, local)
    try:
        new_ref = await ctx.provider.update(ctx.remote, ref, raw)
    except PreconditionFailed:
        try:
            current = await ctx.provider.get(ctx.remote, agreed.remote_id)
        except NotFound:
            await conflict(ctx, uid, "remote_deleted", agreed, None, None, ["deleted"], upto)
            return
        await reconcile(ctx, uid, agreed, current, upto)
        return
    except NotFound:
        await conflict(ctx, uid, "remote_deleted", agreed, None, None, ["deleted"], upto)
        return
    ctx.store.set_synced(ctx.calendar.id, uid, new_ref.remote_id, new_ref.version, local, upto)
    ctx.report.pushed += 1


async def push_delete(ctx: Context, uid: str, agreed: SyncItem | None, upto: int) -> None:
    if agreed is None:
        if ctx.store.sent_versions(ctx.calendar.id, uid):
            # A create went out and its answer never came: the server may hold the item.
            found = await find_remote(ctx, uid)
            if found is not None:
                theirs = keyed(remote_events(ctx, found))
                if own_version(ctx, uid, None, theirs) is None:
                    # Another client wrote over it meanwhile: their edit against our delete.
                    await conflict(
                        ctx, uid, "local_deleted", None, theirs, found, ["deleted"], upto
                    )
                    return
                await ctx.provider.delete(ctx.remote, found.ref)
                ctx.report.pushed += 1
        ctx.store.forget_item(ctx.calendar.id, uid, upto)  # gone, or never reached the server
        return
    ref = RemoteRef(agreed.remote_id, agreed.remote_version)
    try:
        await ctx.provider.delete(ctx.remote, ref)
    except PreconditionFailed:
        try:
            current = await ctx.provider.get(ctx.remote, agreed.remote_id)
        except NotFound:
            ctx.store.forget_item(ctx.calendar.id, uid, upto)
            return
        theirs = keyed(remote_events(ctx, current))
        if (
            not _differs(agreed.base, theirs)
            or own_version(ctx, uid, agreed.base, theirs) is not None
        ):
            # Only its version moved (a server rewrite, or our own update whose answer was
            # lost): delete that version.
            await ctx.provider.delete(ctx.remote, current.ref)
        else:
            await conflict(ctx, uid, "local_deleted", agreed, theirs, current, ["deleted"], upto)
            return
    ctx.store.forget_item(ctx.calendar.id, uid, upto)
    ctx.report.pushed += 1


def own_version(
    ctx: Context, uid: str, base: dict[str, Event] | None, theirs: dict[str, Event]
) -> dict[str, Event] | None:
    """The version this computer sent earlier (a create/update whose answer never arrived)
    that the remote now holds field for field, or None when the remote holds something else.
    Candidates: what pushes noted before sending, then the item after each unsent op (a push
    may have sent any of those; the note is gone when the whole run's writes were lost)."""
    cal = ctx.calendar.id
    candidates = [
        *reversed(ctx.store.sent_versions(cal, uid)),
        *reversed(ctx.store.queued_versions(cal, uid, base or {})),
    ]
    return next((c for c in candidates if not _differs(c, theirs)), None)


def _sent_base(
    base: dict[str, Event], local: dict[str, Event], sent: dict[str, Event]
) -> dict[str, Event]:
    """The base to merge the local item against when the remote holds ``sent``, a version this
    computer wrote. What was sent may be a merge that also carried another client's changes,
    which the local item has not stored yet (the answer was lost): those must come in, not
    count as local reversions. So the local changes since ``base`` are measured against what
    was sent (a newer local edit of the same field wins without a conflict: both are ours),
    and every other field against ``base`` (the remote's value is taken)."""
    from carecal.domain.merge import changed_fields

    out: dict[str, Event] = {}
    for key, wrote in sent.items():
        was, mine = base.get(key), local.get(key)
        if was is None or mine is None:
            out[key] = wrote
            continue
        ours = {name: getattr(wrote, name) for name in changed_fields(was, mine)}
        out[key] = was.with_changes(**ours) if ours else was
    return out


def _differs(a: dict[str, Event], b: dict[str, Event]) -> bool:
    from carecal.domain.merge import changed_fields

    return a.keys() != b.keys() or any(changed_fields(a[k], b[k]) for k in a)


async def reconcile(
    ctx: Context, uid: str, agreed: SyncItem | None, current: RemoteItem, upto: int | None
) -> None:
    """The remote moved under an item with local changes: three-way merge against the base;
    clean -> push the merge (when it has local changes) and store it; else a conflict."""
    cal = ctx.calendar.id
    local = keyed(ctx.store.local_events(cal, uid))
    theirs = keyed(remote_events(ctx, current))
    base = agreed.base if agreed is not None else None
    own = own_version(ctx, uid, base, theirs)
    if own is not None:
        # The remote holds what this computer sent last time (the answer was lost before the
        # agreed state was saved): that is the agreed base, not another client's edit.
        base = own if base is None else _sent_base(base, local, own)
    if not local:
        if base is not None and not _differs(base, theirs):
            if own is not None:
                ctx.store.rebase(cal, uid, current.ref.remote_id, current.ref.version, own)
            return  # the remote only echoed; our delete goes out with the next push
        await conflict(ctx, uid, "local_deleted", agreed, theirs, current, ["deleted"], upto)
        return
    result = merge_item(base, local, theirs)
    if not result.clean:
        await conflict(ctx, uid, "edit", agreed, theirs, current, result.fields(), upto)
        return
    merged = list(result.merged.values())
    if not _differs(result.merged, theirs):
        ctx.store.replace_item(
            cal,
            uid,
            merged,
            actor=ctx.actor,
            agreed=(current.ref.remote_id, current.ref.version, None),
            upto_seq=upto,
        )
        ctx.report.pulled += 1
        return
    if upto is None:
        # Pulling: keep the merge as a local change and push it after the pull.
        ctx.store.replace_item(
            cal,
            uid,
            merged,
            actor=ctx.actor,
            pending=True,
            agreed=(current.ref.remote_id, current.ref.version, theirs),
        )
        ctx.repush = True
        ctx.report.pulled += 1
        return
    raw = build_raw(ctx.provider, merged)
    ctx.store.record_sending(cal, uid, merged)
    try:
        ref = await ctx.provider.update(ctx.remote, current.ref, raw)
    except PreconditionFailed:
        # Moved again meanwhile: store the merge, the next run merges once more.
        ctx.store.replace_item(
            cal,
            uid,
            merged,
            actor=ctx.actor,
            pending=True,
            agreed=(current.ref.remote_id, current.ref.version, theirs),
        )
        return
    ctx.store.replace_item(
        cal,
        uid,
        merged,
        actor=ctx.actor,
        agreed=(ref.remote_id, ref.version, None),
        upto_seq=upto,
    )
    ctx.report.pushed += 1


async def conflict(
    ctx: Context,
    uid: str,
    kind: str,
    agreed: SyncItem | None,
    theirs: dict[str, Event] | None,
    current: RemoteItem | None,
    fields: list[str],
    upto: int | None,
) -> None:
    """Record the conflict (both versions recoverable) and apply the account's policy."""
    cal = ctx.calendar.id
    local_events = ctx.store.local_events(cal, uid)
    local = keyed(local_events) if local_events else None
    tombs = [eid for eid, u in ctx.store.tombstones(cal) if u == uid]
    event_id = local_events[0].id if local_events else (tombs[0] if tombs else uid)
    ref = None
    if current is not None:
        ref = (current.ref.remote_id, current.ref.version)
    elif agreed is not None:
        ref = (agreed.remote_id, agreed.remote_version)
    conflict_id = ctx.store.record_conflict(
        cal,
        uid,
        kind=kind,
        event_id=event_id,
        base=agreed.base if agreed is not None else None,
        local=local,
        remote=theirs,
        remote_ref=ref,
        remote_raw=current.raw if current is not None else None,
        fields=fields,
        actor=ctx.actor,
    )
    take: Take | None = None
    if ctx.policy is Policy.MINE:
        take = Take.MINE
    elif ctx.policy is Policy.THEIRS:
        take = Take.THEIRS
    elif ctx.policy is Policy.NEWEST:
        take = conflicts.newest_side(ctx.store, ctx.store.conflict(conflict_id))
    if take is None:
        ctx.report.conflicts += 1
        return
    conflicts.resolve(ctx.repo, conflict_id, take, actor=ctx.actor)
    if take is Take.MINE:
        ctx.repush = True


ALL_OPS = conflicts.ALL_OPS
PullActionT = Apply | Merge | RemoveLocal | Conflict | Skip
