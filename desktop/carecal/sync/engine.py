"""One sync of a calendar or an account: push unsent local changes, pull remote changes,
merge, record conflicts, save the new token after the changes are stored.

Threads: coroutines run on the sync worker's event loop; the Repository passed in must belong
to that thread. Errors: per-item problems end up in the report (parked ops, conflicts); an
account whose credentials fail is marked "needs sign-in" and its queue kept. Nothing but
CarecalError subclasses are raised, and only by ``sync_account`` for an unknown account.
"""

from __future__ import annotations

import logging
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from carecal.domain.errors import (
    AuthExpired,
    CarecalError,
    RateLimited,
    SyncStateExpired,
    TransientError,
)
from carecal.domain.models import Account, Calendar, ProviderKind
from carecal.providers.base import (
    Capability,
    Provider,
    PullResult,
    RemoteCalendar,
    StagedPull,
)
from carecal.store.repo import Repository
from carecal.store.syncbulk import PulledItem, store_pulled_batch
from carecal.store.syncstate import SyncStore
from carecal.sync import actions
from carecal.sync.actions import CalendarReport, Context, Progress
from carecal.sync.conflicts import account_policy
from carecal.sync.errors import MassDeletion, SyncCancelled
from carecal.sync.plan import (
    Apply,
    Conflict,
    Create,
    Delete,
    Merge,
    RemoveLocal,
    Update,
    plan_pull,
    plan_push,
)
from carecal.sync.retry import ErrorClass, backoff_seconds, classify, next_attempt

log = logging.getLogger(__name__)

MASS_DELETE_MAX = 50
MASS_DELETE_FRACTION = 0.5
MASS_DELETE_MIN = 5  # the "half of a calendar" rule starts at this many events
# Items stored per transaction. Each commit costs an fsync (about 13 ms on the bench machine:
# 1.4 s of a 20,000-event first sync at 200 per batch). At 2,000 the window's thread was held
# off for up to 0.2 s (0.3 s on a loaded machine: tests/ui/test_sync_runner.py) during a
# 20,000-event pull; 1,000 keeps that near 0.1 s for 0.14 s more at 20,000 events.
PULL_BATCH = 1000
# Seconds between the interpreter's thread switches during a staged pull (see _quick_switches).
SHARED_SWITCH_INTERVAL = 0.0005


class CancelToken:
    """Set from any thread; the engine checks it between items."""

    def __init__(self) -> None:
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled


@dataclass
class SyncOptions:
    """``force``: retry items still waiting for their backoff time ("Sync now")."""

    progress: Progress | None = None
    cancel: CancelToken | None = None
    allow_mass_delete: bool = False
    force: bool = False
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = field(default_factory=random.Random)


@dataclass
class AccountReport:
    account_id: str
    name: str
    calendars: list[CalendarReport] = field(default_factory=list)
    needs_sign_in: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(c.ok for c in self.calendars)


def server_wait_until(account: Account) -> datetime | None:
    """The time before which the account's server asked for no requests (429 Retry-After),
    or None. Any thread."""
    value = account.settings.get("not_before")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _check(options: SyncOptions) -> None:
    if options.cancel is not None and options.cancel.cancelled:
        raise SyncCancelled("sync cancelled")


def _progress(options: SyncOptions, stage: str, done: int, total: int) -> None:
    if options.progress is not None:
        options.progress(stage, done, total)


async def sync_account(
    repo: Repository, provider: Provider, account_id: str, options: SyncOptions | None = None
) -> AccountReport:
    """Sync every calendar of an account (none for the built-in local account). Stops at the
    first authentication failure. Raises NotFound for an unknown account."""
    opts = options or SyncOptions()
    store = SyncStore(repo)
    account = store.account(account_id)
    report = AccountReport(account.id, account.name)
    if account.kind is ProviderKind.LOCAL:
        return report
    for calendar in store.calendars_of(account.id):
        cal_report = await sync_calendar(repo, provider, calendar, account, opts)
        report.calendars.append(cal_report)
        if cal_report.needs_sign_in:
            report.needs_sign_in = True
            break
        if cal_report.cancelled or cal_report.wait_until is not None:
            break  # a server that asked us to wait gets no request from any calendar
    if not report.needs_sign_in and account.settings.get("needs_sign_in"):
        store.update_account_settings(account.id, {"needs_sign_in": False}, actor="sync")
    return report


async def sync_calendar(
    repo: Repository,
    provider: Provider,
    calendar: Calendar,
    account: Account,
    options: SyncOptions | None = None,
) -> CalendarReport:
    """Push, pull and merge one calendar; see the module docstring. Never raises: what went
    wrong is in the report (and the calendar's sync status)."""
    opts = options or SyncOptions()
    report = CalendarReport(calendar.id, calendar.name)
    if account.kind is ProviderKind.LOCAL or calendar.remote_id is None:
        return report
    store = SyncStore(repo)
    ctx = Context(
        repo=repo,
        store=store,
        provider=provider,
        calendar=calendar,
        remote=RemoteCalendar(calendar.remote_id, calendar.name, read_only=calendar.read_only),
        account=account,
        policy=account_policy(account),
        report=report,
        clock=opts.clock,
        rng=opts.rng,
    )
    writable = not calendar.read_only and Capability.READ_ONLY not in provider.capabilities
    not_before = server_wait_until(account)
    if not_before is not None and not_before > opts.clock():
        # Retry-After binds "Sync now" too: the server said when it will answer again.
        report.wait_until = not_before
        report.errors.append(
            f"{calendar.name}: the server asked to wait until "
            f"{not_before.astimezone(UTC):%H:%M:%S} UTC; nothing was sent"
        )
        return report
    try:
        if writable:
            await _push(ctx, opts)
        await _pull(ctx, opts)
        if writable and ctx.repush:
            await _push(ctx, opts)
    except SyncCancelled:
        report.cancelled = True
    except RateLimited as exc:
        wait = exc.retry_after if exc.retry_after is not None else backoff_seconds(1, opts.rng)
        report.wait_until = opts.clock() + timedelta(seconds=wait)
        report.errors.append(f"{calendar.name}: {exc}")
        store.update_account_settings(
            account.id, {"not_before": report.wait_until.isoformat()}, actor=ctx.actor
        )
    except AuthExpired as exc:
        report.needs_sign_in = True
        report.errors.append(f"{account.name}: sign in again ({exc})")
        store.update_account_settings(account.id, {"needs_sign_in": True}, actor=ctx.actor)
    except MassDeletion as exc:
        report.mass_deletion = exc.count
        report.errors.append(str(exc))
    except CarecalError as exc:
        report.errors.append(f"{calendar.name}: {exc}")
    error = report.errors[0] if report.errors else None
    before = store.calendar_state(calendar.id)
    wrote = ctx.token_saved or report.pushed or report.pulled or report.deleted
    # A check that found nothing writes nothing (no-op re-syncs every few minutes must not
    # churn the database or its backups): last_sync_at is when a sync last stored something.
    if wrote or report.conflicts or error != before.last_error or before.last_sync_at is None:
        store.save_status(calendar.id, error=error)
    return report


async def _push(ctx: Context, opts: SyncOptions) -> None:
    cal = ctx.calendar.id
    store = ctx.store
    ctx.repush = False
    ops = store.item_ops(cal, parked=False)
    if not ops:
        return
    now = opts.clock()
    waiting = set()
    if not opts.force:
        for uid, item_ops in ops.items():
            due = [o.next_attempt_at for o in item_ops]
            # One op still backing off holds the item: a newer edit of it must not go out
            # before the server's Retry-After either.
            if any(d is not None and datetime.fromisoformat(d) > now for d in due):
                waiting.add(uid)
    present = set(store.local_counts(cal))
    versions = store.versions(cal)
    planned = plan_push(ops, versions, present, store.conflicted_uids(cal), waiting)
    total = len(planned)
    for done, action in enumerate(planned):
        _check(opts)
        _progress(opts, "push", done, total)
        if not isinstance(action, Create | Update | Delete):
            continue
        uid = action.uid
        upto = max(o.seq for o in ops[uid])
        try:
            agreed = store.item(cal, uid)
            if isinstance(action, Delete):
                await actions.push_delete(ctx, uid, agreed, upto)
            elif agreed is None:
                await actions.push_create(ctx, uid, upto)
            else:
                await actions.push_update(ctx, uid, agreed, upto)
        except CarecalError as exc:
            kind = classify(exc)
            if kind is ErrorClass.TRANSIENT:
                attempts = max(o.attempts for o in ops[uid]) + 1
                retry_at = next_attempt(opts.clock(), attempts, exc, ctx.rng)
                store.mark_retry(cal, uid, upto, str(exc), retry_at.isoformat())
                raise  # the server is unwell: stop this calendar, try later
            if kind is ErrorClass.PERMANENT:
                store.mark_parked(cal, uid, upto, str(exc))
                ctx.report.errors.append(f"{ctx.calendar.name}: not sent: {exc}")
                continue
            raise
    _progress(opts, "push", total, total)


async def _pull(ctx: Context, opts: SyncOptions) -> None:
    token = ctx.store.calendar_state(ctx.calendar.id).token
    ctx.old_token = token
    try:
        result = await _fetch(ctx, token)
    except SyncStateExpired:
        result = await _fetch(ctx, None)
    with _quick_switches(result.follow_up is not None):
        await _take(ctx, opts, result, False)
        # A staged pull's second step has been running while the first was stored: what
        # changed since the download, and the state, stored (and the state saved) like any pull.
        complete = result.complete
        while result.follow_up is not None:
            _check(opts)
            result = await result.follow_up()
            await _take(ctx, opts, result, complete)
            complete = complete or result.complete


@contextmanager
def _quick_switches(active: bool) -> Iterator[None]:
    """While a staged pull's second step runs on its own thread beside the one storing the
    first, let them take turns at the interpreter more often. The second step mostly waits on
    the network but needs the interpreter briefly after each answer; with CPython's default
    5 ms switch interval the storing thread keeps it for up to 5 ms each time, which made the
    second step end about 0.06 s later than the storing at 1,000 items (a whole first sync:
    0.84 -> 0.78 s, median of 15 interleaved runs on Radicale)."""
    if not active:
        yield
        return
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, SHARED_SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


async def _fetch(ctx: Context, state: str | None) -> PullResult:
    if isinstance(ctx.provider, StagedPull):
        return await ctx.provider.pull_staged(ctx.remote, state)
    return await ctx.provider.pull(ctx.remote, state)


async def _take(ctx: Context, opts: SyncOptions, result: PullResult, after_complete: bool) -> None:
    """Plan one pull result against the mirror, check the mass-deletion rail, and store it.
    ``after_complete``: the result is the follow-up of a complete one (its state is new)."""
    cal = ctx.calendar.id
    store = ctx.store
    counts = store.local_counts(cal)
    dirty = set(store.item_ops(cal))
    planned = plan_pull(result, store.versions(cal), dirty, set(counts), store.conflicted_uids(cal))
    removing = sum(counts.get(a.uid, 0) for a in planned if isinstance(a, RemoveLocal))
    total_events = sum(counts.values())
    if not opts.allow_mass_delete and _too_many(removing, total_events):
        raise MassDeletion(ctx.calendar.name, removing, total_events)
    for warning in result.warnings:
        ctx.report.errors.append(f"{ctx.calendar.name}: {warning}")
    await _apply_pull(ctx, opts, planned, result, after_complete)


def _too_many(removing: int, total: int) -> bool:
    if removing > MASS_DELETE_MAX:
        return True
    return removing >= MASS_DELETE_MIN and removing > total * MASS_DELETE_FRACTION


async def _apply_pull(
    ctx: Context,
    opts: SyncOptions,
    planned: list[actions.PullActionT],
    result: PullResult,
    after_complete: bool,
) -> None:
    store = ctx.store
    cal = ctx.calendar.id
    total = len(planned)
    # Batches of items per transaction; the token goes into the last batch's transaction, so
    # it never claims changes that are not stored. Items taken as they are (Apply: no local
    # edits pending) are written together (one statement per table and one audit entry per
    # batch); the others take the careful per-item path, each in its own savepoint.
    starts = list(range(0, total, PULL_BATCH)) or [0]
    for start in starts:
        _check(opts)
        batch = planned[start : start + PULL_BATCH]
        bulk: list[PulledItem] = []
        careful: list[actions.PullActionT] = []
        for offset, action in enumerate(batch):
            _progress(opts, "pull", start + offset, total)
            if not isinstance(action, Apply):
                careful.append(action)
                continue
            item = action.item
            try:
                events = actions.remote_events(ctx, item)
            except (AuthExpired, TransientError):
                raise
            except CarecalError as exc:
                ctx.report.errors.append(f"{ctx.calendar.name}: not received: {exc}")
                continue
            bulk.append(PulledItem(item.uid, events, item.ref.remote_id, item.ref.version))
        _check(opts)
        saves_token = start == starts[-1] and _token_moves(ctx, planned, result, after_complete)
        # A batch of remote items taken as they are can be fetched again for as long as the
        # token is not saved, so it need not wait for the disk; the batch that saves the token
        # (or holds merges, conflicts or deletions) does, and so makes the ones before durable.
        with store.transaction(durable=saves_token or bool(careful)):
            if bulk:
                store_pulled_batch(ctx.repo, cal, bulk, actor=ctx.actor)
            for action in careful:
                _check(opts)
                try:
                    with store.transaction():
                        await _apply_one(ctx, action)
                except (AuthExpired, TransientError):
                    raise
                except CarecalError as exc:
                    ctx.report.errors.append(f"{ctx.calendar.name}: not received: {exc}")
            if saves_token:
                store.save_token(cal, result.state)
                ctx.token_saved = True
        # Counted only once the batch is stored: a failed batch pulled nothing.
        ctx.report.pulled += len(bulk)
    _progress(opts, "pull", total, total)


def _token_moves(
    ctx: Context, planned: list[actions.PullActionT], result: PullResult, after_complete: bool
) -> bool:
    """Whether the new token must be stored. A pull that brought nothing keeps the old one: the
    changes since either token are the same (none), and a re-sync then writes nothing. A
    staged pull's first step has no state yet (its follow-up brings it)."""
    if result.state is None or result.state == ctx.old_token:
        return False
    return bool(planned) or result.complete or after_complete or ctx.old_token is None


async def _apply_one(ctx: Context, action: actions.PullActionT) -> None:
    cal = ctx.calendar.id
    store = ctx.store
    # Apply actions never come here: _apply_pull stores them in bulk.
    if isinstance(action, Merge):
        await actions.reconcile(
            ctx, action.item.uid, store.item(cal, action.item.uid), action.item, None
        )
    elif isinstance(action, RemoveLocal):
        if store.remove_item(cal, action.uid, actor=ctx.actor, upto_seq=actions.ALL_OPS):
            ctx.report.deleted += 1
    elif isinstance(action, Conflict):
        agreed = store.item(cal, action.uid)
        await actions.conflict(
            ctx, action.uid, "remote_deleted", agreed, None, None, ["deleted"], None
        )
