"""Sync cycles without a GUI: one pass over every remote account, and the stored sync status.

``run_cycle`` is what the desktop's sync lane runs on its worker thread (the lane itself, with
its thread, loop, scheduler and Qt signals, stays in ui); it builds each account's provider
through a ``ProviderFactory``, runs the engine on it and gathers what happened in a
``CycleResult``. ``read_status`` reads the sync state as stored, for the status bar.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from carecal.domain.errors import AuthExpired, CarecalError, TransientError
from carecal.domain.models import Account, ProviderKind
from carecal.providers.base import Provider
from carecal.services import accounts as svc
from carecal.store.calendars import LOCAL_ACCOUNT_ID
from carecal.store.db import Database
from carecal.store.repo import Repository
from carecal.store.syncstate import SyncStore
from carecal.sync.actions import Progress
from carecal.sync.engine import AccountReport, CancelToken, SyncOptions, sync_account

log = logging.getLogger(__name__)

ProviderFactory = Callable[[Account], Provider]
"""Builds the provider of an account; called on the sync worker thread. Raises CarecalError
(no password stored, no keyring ...)."""


# The Repository of the cycle being run, so the factory can give a Google provider the labels
# (patient initials, service names) its masked titles need; a provider may not read the store.
_cycle_repo: ContextVar[Repository | None] = ContextVar("carecal_cycle_repo", default=None)


def provider_for(
    account: Account, repo: Repository | None, password: str | None = None
) -> Provider:
    """The provider of ``account``: for Google the keyring's OAuth tokens, for Outlook MSAL's
    cache, with the account's privacy and the labels of ``repo`` (None: no labels); for CalDAV
    ``password`` (stdin or $CARECAL_PASSWORD), else the keyring's. The caller's thread. Raises
    PasswordMissing, NoKeyring, KeyringFailed, ValidationError, StoreError."""
    if account.kind is ProviderKind.GOOGLE:
        from carecal.services import google_client as google

        labels = google.labels_from(repo) if repo is not None else None
        return cast(Provider, google.make_provider(account, labels))
    if account.kind is ProviderKind.OUTLOOK:
        from carecal.services import outlook_client as outlook

        labels = outlook.labels_from(repo) if repo is not None else None
        return cast(Provider, outlook.make_provider(account, labels))
    settings = svc.CalDAVSettings.of(account)
    secret = svc.password_for(account, password)
    return svc.make_provider(settings.url, settings.username, secret, settings.preset)


def keyring_providers(account: Account) -> Provider:
    """``provider_for`` with the cycle's store and the keyring's secrets (a ProviderFactory).
    Sync worker thread; raises as ``provider_for``."""
    return provider_for(account, _cycle_repo.get())


# --- the stored status ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the sync state of every remote account."""

    accounts: int = 0
    pending: int = 0  # unsent ops still queued
    refused: int = 0  # parked ops: the server refused them, they wait for the user
    conflicts: int = 0
    # When every remote calendar was last known to be in step with its server (ISO): the last
    # clean cycle of this session, else the oldest stored sync time. A no-op sync writes nothing
    # to the database, so the stored time alone would look older than it is.
    last_sync_at: str | None = None
    errors: tuple[str, ...] = ()  # each calendar's last error
    needs_sign_in: tuple[str, ...] = ()  # account names
    offline: bool = False
    conflicted: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (cal, uid)
    # Docplanner: actions (book, move ...) still to go out, actions it refused, and bookings
    # flagged as double bookings; they live in the Docplanner window, not the pending panel.
    docplanner_waiting: int = 0
    docplanner_refused: int = 0
    double_bookings: int = 0


def read_status(
    repo: Repository, *, offline: bool = False, checked_at: str | None = None
) -> SyncStatus:
    """The sync status as stored, with ``checked_at`` (the end of this session's last clean
    cycle, if any) as the last sync time when it is newer. The Repository's thread (the sync
    worker after a cycle, the database lane after a local edit); disk I/O; raises StoreError."""
    store = SyncStore(repo)
    remote = [a for a in store.accounts() if a.id != LOCAL_ACCOUNT_ID]
    ids = {a.id for a in remote}
    calendars = [c for c in repo.list_calendars() if c.account_id in ids]
    ops = [o for o in store.pending_ops() if o.calendar_id in {c.id for c in calendars}]
    stamps: list[str] = []
    errors: list[str] = []
    for cal in calendars:
        state = store.calendar_state(cal.id)
        if state.last_error:
            errors.append(state.last_error)
        if state.last_sync_at:
            stamps.append(state.last_sync_at)
    conflicts = store.open_conflicts()
    waiting = refused = flagged = 0
    if any(a.kind is ProviderKind.DOCPLANNER for a in remote):
        # Here, not at the top: ``carecal sync`` imports this module for provider_for only.
        from carecal.store.docplanner_actions import ActionStore

        actions = ActionStore(repo)
        states = [a.state for a in actions.in_states(("pending", "parked"))]
        waiting, refused = states.count("pending"), states.count("parked")
        flagged = len(actions.conflicts())
    return SyncStatus(
        accounts=len(remote),
        pending=sum(1 for o in ops if o.state.value == "pending"),
        refused=sum(1 for o in ops if o.state.value == "failed"),
        conflicts=len(conflicts),
        last_sync_at=_latest(
            min(stamps) if len(stamps) == len(calendars) and stamps else None, checked_at
        ),
        errors=tuple(errors),
        needs_sign_in=tuple(a.name for a in remote if a.settings.get("needs_sign_in")),
        offline=offline,
        conflicted=frozenset((c.calendar_id, c.uid) for c in conflicts),
        docplanner_waiting=waiting,
        docplanner_refused=refused,
        double_bookings=flagged,
    )


def _latest(stored: str | None, checked: str | None) -> str | None:
    if stored is None or checked is None:
        return checked or stored
    return max(stored, checked, key=datetime.fromisoformat)


# --- one cycle ------------------------------------------------------------------------------


@dataclass(slots=True)
class CycleResult:
    """What one sync cycle did, for the status bar and the panels (built on the worker)."""

    reports: list[AccountReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # account-level lines (no provider ...)
    offline: bool = False  # a call failed with a transient (network, 5xx, 429) error
    cancelled: bool = False
    status: SyncStatus | None = None
    changed: bool = False  # something was received or removed locally
    # New double bookings (a Docplanner booking over busy time), one readable line each, for a
    # desktop notification; flagged once, so a later cycle does not repeat them.
    double_bookings: list[str] = field(default_factory=list)
    double_booking_ids: list[tuple[str, str]] = field(default_factory=list)  # (account, booking)
    docplanner: bool = False  # a Docplanner account took part (the window then polls more often)
    checked_at: str | None = None  # set when every account synced cleanly (ISO, UTC)

    @property
    def ok(self) -> bool:
        return not self.errors and all(r.ok for r in self.reports) and not self.offline


class _Watched:
    """A provider proxy that notes whether any remote call failed with a transient error, so
    the status bar can say "offline" (the engine reports such failures as text only)."""

    def __init__(self, inner: Provider) -> None:
        self._inner = inner
        self.transient = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await attr(*args, **kwargs)
            except TransientError:
                self.transient = True
                raise

        return call


async def _close(provider: Provider) -> None:
    closer = getattr(provider, "close", None)
    if closer is None:
        return
    try:
        result = closer()
        if inspect.isawaitable(result):
            await result
    except Exception:  # closing a broken session must not hide the sync's own result
        log.debug("closing the provider failed", exc_info=True)


async def run_cycle(
    db: Database,
    providers: ProviderFactory,
    token: CancelToken,
    force: bool,
    progress: Progress | None,
) -> CycleResult:
    """One pass over every remote account, then the stored status. ``force``: also accounts
    that need sign-in, and items still waiting for their backoff ("Sync now").

    The thread that runs the loop (the sync worker); opens its own Repository on ``db``, and
    leaves closing this thread's connection to the caller. Raises nothing: failures end up in
    the result's ``errors``.
    """
    result = CycleResult()
    repo = Repository(db)
    bound = _cycle_repo.set(repo)
    try:
        # Docplanner goes last, so the slots it publishes already see what this cycle pulled
        # from the calendars (a new Google event closes its time on Docplanner at once).
        accounts = sorted(svc.list_accounts(repo), key=lambda a: a.kind is ProviderKind.DOCPLANNER)
        for account in accounts:
            if token.cancelled:
                result.cancelled = True
                break
            if account.settings.get("needs_sign_in") and not force:
                continue  # a wrong password tried every few minutes can lock the account
            await _sync_one(repo, account, providers, token, force, progress, result)
        if result.ok and not result.cancelled:
            result.checked_at = datetime.now(UTC).isoformat()
        result.status = read_status(repo, offline=result.offline, checked_at=result.checked_at)
    except Exception as exc:  # a bug must end up in the status bar, not kill the lane
        log.exception("sync cycle failed")
        result.errors.append(str(exc) if isinstance(exc, CarecalError) else "sync failed")
    finally:
        _cycle_repo.reset(bound)
    return result


async def _sync_docplanner(repo: Repository, account: Account, result: CycleResult) -> None:
    """Bookings in and slots out for a Docplanner account (services.docplanner_sync)."""
    from carecal.services.docplanner_client import sync_account_now

    result.docplanner = True
    report = await sync_account_now(repo, account)
    result.errors += [f"{account.name}: {e}" for e in report.errors]
    result.offline = result.offline or report.offline
    result.changed = result.changed or bool(report.changed_events)
    result.double_bookings += [f"{account.name}: {line}" for line in report.conflicts]
    result.double_booking_ids += [(account.id, booking_id) for booking_id in report.flagged]


async def _sync_one(
    repo: Repository,
    account: Account,
    providers: ProviderFactory,
    token: CancelToken,
    force: bool,
    progress: Progress | None,
    result: CycleResult,
) -> None:
    if account.kind is ProviderKind.DOCPLANNER:  # a marketplace, not a calendar server
        await _sync_docplanner(repo, account, result)
        return
    try:
        provider = providers(account)
    except CarecalError as exc:
        result.errors.append(f"{account.name}: {exc}")
        return
    watched = _Watched(provider)
    options = SyncOptions(progress=progress, cancel=token, force=force)
    try:
        report = await sync_account(repo, cast(Provider, watched), account.id, options)
    except AuthExpired as exc:
        result.errors.append(f"{account.name}: {exc}")
        return
    except CarecalError as exc:
        result.errors.append(f"{account.name}: {exc}")
        return
    finally:
        await _close(provider)
    result.reports.append(report)
    result.offline = result.offline or watched.transient
    result.cancelled = result.cancelled or any(c.cancelled for c in report.calendars)
    result.changed = result.changed or any(
        c.pulled or c.deleted or c.conflicts for c in report.calendars
    )
