"""Google accounts: sign in through the browser, choose calendars, privacy, sign in again, sign out.

Adding an account has two steps so a window can ask in between:
1. ``sign_in`` (a coroutine; ``sign_in_blocking`` on a private loop): the OAuth loopback flow
   with PKCE through the system browser, then the account's calendars. The tokens stay in
   memory; nothing is written.
2. ``finish_add`` (the Repository's thread): the tokens go to the OS keyring under the new
   account's id, then the account and the chosen mirrors are written in one transaction. The
   same Google account added twice is the same account here: its tokens are replaced and the
   newly chosen calendars mirrored, never a second copy.
``add_google_account`` runs both for the command line.

Tokens live only in the keyring, never in the database, a file or a log line. The client,
tokens, privacy and provider of an account are in services.google_client (re-exported here).

Threads: coroutines run on the caller's loop (the sync worker's, or a private one); the
``*_blocking`` helpers, ``revoke_sign_in`` and ``sign_out`` block on the network (never the GUI
thread); functions taking a Repository run on its thread and raise StoreError besides the errors
they name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from carecal.domain.errors import AuthExpired, CarecalError, ValidationError
from carecal.domain.models import Account, Calendar, ProviderKind, new_id
from carecal.net.errors import SignInCancelled as SignInCancelled
from carecal.net.errors import SignInFailed as SignInFailed
from carecal.net.errors import SignInTimedOut as SignInTimedOut
from carecal.net.tokens import TokenSet
from carecal.providers.base import RemoteCalendar
from carecal.services import accounts as svc

# The client, tokens, privacy and provider of an account, re-exported: callers use one module.
from carecal.services.google_client import API_BASE as API_BASE
from carecal.services.google_client import AUTH_URI as AUTH_URI
from carecal.services.google_client import CLIENT_ID_ENV as CLIENT_ID_ENV
from carecal.services.google_client import CLIENT_SECRET_ENV as CLIENT_SECRET_ENV
from carecal.services.google_client import DEFAULT_PRIVACY as DEFAULT_PRIVACY
from carecal.services.google_client import DEFAULT_SIGN_IN_TIMEOUT as DEFAULT_SIGN_IN_TIMEOUT
from carecal.services.google_client import ENDPOINT_ENV as ENDPOINT_ENV
from carecal.services.google_client import PERMISSIONS_PAGE as PERMISSIONS_PAGE
from carecal.services.google_client import PRIVACY_HELP as PRIVACY_HELP
from carecal.services.google_client import PRIVACY_LABELS as PRIVACY_LABELS
from carecal.services.google_client import PRIVACY_LEVELS as PRIVACY_LEVELS
from carecal.services.google_client import REVOKE_URI as REVOKE_URI
from carecal.services.google_client import SCOPES as SCOPES
from carecal.services.google_client import TOKEN_URI as TOKEN_URI
from carecal.services.google_client import ClientIdMissing as ClientIdMissing
from carecal.services.google_client import GoogleSettings as GoogleSettings
from carecal.services.google_client import NoKeyringForGoogle as NoKeyringForGoogle
from carecal.services.google_client import build_provider as build_provider
from carecal.services.google_client import check_keyring as check_keyring
from carecal.services.google_client import check_privacy as check_privacy
from carecal.services.google_client import email_of as email_of
from carecal.services.google_client import initials as initials
from carecal.services.google_client import is_google as is_google
from carecal.services.google_client import labels_from as labels_from
from carecal.services.google_client import make_provider as make_provider
from carecal.services.google_client import oauth_config as oauth_config
from carecal.services.google_client import privacy_of as privacy_of
from carecal.services.google_client import resolve_client as resolve_client
from carecal.services.google_client import token_source as token_source
from carecal.services.google_client import token_store as token_store
from carecal.store.repo import Repository
from carecal.store.syncstate import SyncStore

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s#/]+@[^@\s#/]+\.[^@\s#/]+$")


class WrongGoogleAccount(SignInFailed):
    """A sign-in again was done with another Google account than the one this account is."""


# --- signing in -----------------------------------------------------------------------------


class SignInCancel:
    """A Cancel button for a sign-in running on another thread: ``cancel()`` from any thread
    ends the wait for the browser (SignInCancelled) or drops the answer if it already came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Any thread; idempotent."""
        with self._lock:
            self._cancelled = True
            loop, event = self._loop, self._event
        if loop is not None and event is not None:
            # RuntimeError: the sign-in's loop already ended.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    def event(self) -> asyncio.Event:
        """An asyncio.Event on the running loop that is set on cancel. The sign-in's loop."""
        event = asyncio.Event()
        with self._lock:
            self._loop, self._event = asyncio.get_running_loop(), event
            if self._cancelled:
                event.set()
        return event


class _HeldTokens:
    """A token store in memory, for the calls made before the account exists."""

    def __init__(self, tokens: TokenSet) -> None:
        self.tokens: TokenSet | None = tokens

    def load(self, account_id: str) -> TokenSet | None:
        return self.tokens

    def save(self, account_id: str, tokens: TokenSet) -> None:
        self.tokens = tokens

    def delete(self, account_id: str) -> None:
        self.tokens = None


@dataclass(frozen=True, slots=True)
class GoogleSignIn:
    """A finished browser sign-in: the client used, the tokens (not stored yet), the calendars
    the Google account offers and its address when known."""

    settings: GoogleSettings
    tokens: TokenSet = field(repr=False)
    calendars: tuple[RemoteCalendar, ...]
    email: str | None


def guess_email(calendars: Sequence[RemoteCalendar]) -> str | None:
    """The Google address of the account: Google names a user's primary calendar after it, and
    lists it first. Shared and group calendars have ids on calendar.google.com or belong to
    someone else (read-only then), so the first writable calendar whose id is a plain e-mail
    address is taken. None when there is none. Any thread."""
    for cal in calendars:
        rid = cal.remote_id.strip()
        host = rid.rpartition("@")[2].casefold()
        if cal.read_only or not _EMAIL.match(rid) or host.endswith("calendar.google.com"):
            continue
        return rid.casefold()
    return None


def default_choice(calendars: Sequence[RemoteCalendar]) -> list[RemoteCalendar]:
    """The calendars mirrored unless the user picks: the ones this account can write to (its
    own); shared read-only ones (holidays, colleagues') only when asked. Any thread."""
    return [c for c in calendars if not c.read_only]


async def _discover(
    settings: GoogleSettings, tokens: TokenSet
) -> tuple[list[RemoteCalendar], TokenSet]:
    from carecal.net.oauth import TokenSource

    held = _HeldTokens(tokens)
    source = TokenSource(oauth_config(settings), held, "new-google-account")
    provider = build_provider(source, settings, DEFAULT_PRIVACY, None)
    try:
        found = await provider.discover()
    finally:
        await provider.close()
    return found, held.tokens or tokens


async def _forget(settings: GoogleSettings, tokens: TokenSet) -> None:
    """Revoke a grant that will not be kept (a cancelled or refused sign-in); best effort."""
    from carecal.net.oauth import TokenSource

    try:
        await TokenSource(oauth_config(settings), _HeldTokens(tokens), "dropped").revoke()
    except CarecalError:
        log.warning("could not revoke a sign-in that was not kept")


async def sign_in(
    settings: GoogleSettings,
    *,
    open_browser: Callable[[str], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
    clock: Callable[[], float] = time.time,
) -> GoogleSignIn:
    """Sign in through the browser and list the account's calendars; nothing is stored.

    ``open_browser(url)`` runs on a worker thread (``webbrowser.open``; a window may also show
    the URL). Raises SignInTimedOut, SignInCancelled, SignInFailed (refused in the browser, a
    refused code), AuthExpired, TransientError.
    """
    from carecal.net.oauth import sign_in_loopback

    config = oauth_config(settings)
    event = cancel.event() if cancel is not None else None
    tokens = await sign_in_loopback(
        config, open_browser=open_browser, timeout=timeout, cancel=event, clock=clock
    )
    try:
        found, tokens = await _discover(settings, tokens)
    except AuthExpired as exc:
        raise SignInFailed(f"Google did not let Carecal read the calendars ({exc})") from None
    except BaseException:
        await _forget(settings, tokens)
        raise
    if cancel is not None and cancel.cancelled:
        await _forget(settings, tokens)
        raise SignInCancelled("sign-in cancelled")
    log.info("Google sign-in offers %d calendars", len(found))
    return GoogleSignIn(settings, tokens, tuple(found), guess_email(found))


def sign_in_blocking(
    settings: GoogleSettings,
    *,
    open_browser: Callable[[str], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
) -> GoogleSignIn:
    """``sign_in`` on a private event loop. A worker thread (or the command line's main
    thread): it blocks until the browser answers. Raises as ``sign_in``."""
    return asyncio.run(sign_in(settings, open_browser=open_browser, timeout=timeout, cancel=cancel))


def discard_sign_in(signin: GoogleSignIn) -> None:
    """Revoke a sign-in that will not be kept (the window was closed at the calendar choice);
    best effort. Blocks on the network (never the GUI thread); raises nothing."""
    asyncio.run(_forget(signin.settings, signin.tokens))


def pick_calendars(
    found: Sequence[RemoteCalendar], names: Sequence[str] | None, *, every: bool = False
) -> list[RemoteCalendar]:
    """``names`` (case-insensitive) when given, every calendar with ``every``, else the
    default choice. Raises ValidationError naming a calendar that is not offered."""
    if names is not None:
        return svc.pick_calendars(found, names)
    return list(found) if every else default_choice(found)


# --- adding ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoogleAdded:
    """What ``finish_add`` did: the account, the calendars newly mirrored, and whether the
    Google account was already here (then it was signed in again, not added twice)."""

    account: Account
    mirrored: list[Calendar]
    existed: bool


def google_accounts(repo: Repository) -> list[Account]:
    """Every Google account, oldest first. The Repository's thread."""
    return [a for a in svc.list_accounts(repo) if is_google(a)]


def find_same(repo: Repository, signin: GoogleSignIn) -> Account | None:
    """The account already holding this Google account: the same address, or (when no address
    is known) the same client and the same writable calendars. The Repository's thread."""
    mine = {c.remote_id for c in default_choice(signin.calendars)}
    for account in google_accounts(repo):
        known = email_of(account)
        if signin.email and known:
            if known.casefold() == signin.email.casefold():
                return account
            continue
        mirrored = {
            c.remote_id for c in SyncStore(repo).calendars_of(account.id) if not c.read_only
        }
        same_client = GoogleSettings.of(account).client_id == signin.settings.client_id
        if same_client and mine and mirrored and mirrored <= mine:
            return account
    return None


def finish_add(
    repo: Repository,
    signin: GoogleSignIn,
    calendars: Sequence[RemoteCalendar],
    *,
    name: str | None = None,
    privacy: str | None = None,
    actor: str,
) -> GoogleAdded:
    """Keep the sign-in: tokens to the keyring, then the account and its mirrors in one
    transaction (the tokens are removed again if that fails). The same Google account already
    here gets the new tokens, loses "needs sign-in" and mirrors the newly chosen calendars.
    The Repository's thread. Raises NoKeyringForGoogle, KeyringFailed, ValidationError (a name
    already used, an unknown privacy level)."""
    if privacy is not None:
        check_privacy(privacy)
    check_keyring()
    store = token_store()
    existing = find_same(repo, signin)
    if existing is not None:
        store.save(existing.id, signin.tokens)
        changes: dict[str, object] = {
            **signin.settings.stored(),
            "needs_sign_in": False,
            "signed_out": False,
        }
        if signin.email:
            changes["email"] = signin.email
        if privacy is not None:
            changes["privacy"] = privacy
        sync = SyncStore(repo)
        with sync.transaction():
            account = sync.update_account_settings(existing.id, changes, actor=actor)
            mirrored = svc.mirror_calendars(repo, account, calendars, actor=actor)
        return GoogleAdded(account, mirrored, existed=True)
    taken = {a.name.casefold() for a in svc.list_accounts(repo)}
    wanted = (name or "").strip()
    if wanted and wanted.casefold() in taken:
        raise ValidationError(f"an account named {wanted!r} already exists")
    account_name = wanted or svc.unique_name(signin.email or "Google", taken)
    settings: dict[str, object] = {
        **signin.settings.stored(),
        "privacy": privacy or DEFAULT_PRIVACY,
        "conflict_policy": "ask",
    }
    if signin.email:
        settings["email"] = signin.email
    account = Account(new_id(), ProviderKind.GOOGLE, account_name, settings)
    store.save(account.id, signin.tokens)
    try:
        with SyncStore(repo).transaction():
            repo.add_account(account, actor=actor)
            mirrored = svc.mirror_calendars(repo, account, calendars, actor=actor)
            remember_client(repo, signin.settings, actor=actor)
    except BaseException:
        store.delete(account.id)
        raise
    return GoogleAdded(account, mirrored, existed=False)


def remember_client(repo: Repository, client: GoogleSettings, *, actor: str) -> bool:
    """Make ``client`` the app's Google OAuth client when none is set yet (the next account
    then needs no client id typed again); True when it was stored. The Repository's thread."""
    app = repo.settings()
    if app.google_client_id:
        return False
    repo.save_settings(
        replace(
            app,
            google_client_id=client.client_id,
            google_client_secret=client.client_secret or "",
        ),
        actor=actor,
    )
    return True


def add_google_account(
    repo: Repository,
    *,
    open_browser: Callable[[str], object],
    client_id: str | None = None,
    client_secret: str | None = None,
    endpoints: Mapping[str, str] | None = None,
    choose: Callable[[Sequence[RemoteCalendar]], Sequence[RemoteCalendar]] = default_choice,
    name: str | None = None,
    privacy: str | None = None,
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
    actor: str,
) -> GoogleAdded:
    """Sign in through the browser, let ``choose`` pick among the calendars (the default: the
    writable ones) and keep the account. Blocks on the network: the Repository's thread only
    where that may block (the command line). Raises ClientIdMissing, NoKeyringForGoogle before
    the browser opens; then as ``sign_in`` and ``finish_add``."""
    if privacy is not None:
        check_privacy(privacy)
    settings = resolve_client(
        repo.settings(), client_id=client_id, client_secret=client_secret, endpoints=endpoints
    )
    check_keyring()
    signin = sign_in_blocking(settings, open_browser=open_browser, timeout=timeout, cancel=cancel)
    chosen = list(choose(signin.calendars))
    return finish_add(repo, signin, chosen, name=name, privacy=privacy, actor=actor)


# --- signing in again, out, privacy, removing -----------------------------------------------


async def sign_in_again(
    account: Account,
    *,
    open_browser: Callable[[str], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
) -> GoogleSignIn:
    """A new browser sign-in for ``account`` (its own client and endpoints); nothing stored.
    Raises WrongGoogleAccount when another Google account signed in (that grant is revoked),
    and as ``sign_in``."""
    settings = GoogleSettings.of(account)
    if not settings.client_id:
        raise ClientIdMissing()
    check_keyring()
    signin = await sign_in(settings, open_browser=open_browser, timeout=timeout, cancel=cancel)
    known = email_of(account)
    if known and signin.email and known.casefold() != signin.email.casefold():
        await _forget(settings, signin.tokens)
        raise WrongGoogleAccount(
            f"you signed in as {signin.email}, but {account.name!r} is {known}; "
            "sign in with that Google account"
        )
    return signin


def sign_in_again_blocking(
    account: Account,
    *,
    open_browser: Callable[[str], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
) -> GoogleSignIn:
    """``sign_in_again`` on a private event loop; blocks (never the GUI thread)."""
    return asyncio.run(
        sign_in_again(account, open_browser=open_browser, timeout=timeout, cancel=cancel)
    )


def finish_sign_in_again(
    repo: Repository, account: Account, signin: GoogleSignIn, *, actor: str
) -> Account:
    """Keep the new tokens of ``account`` and clear "needs sign-in" (its queued changes go out
    on the next sync). The Repository's thread. Raises NoKeyringForGoogle, KeyringFailed."""
    check_keyring()
    token_store().save(account.id, signin.tokens)
    changes: dict[str, object] = {"needs_sign_in": False, "signed_out": False}
    if signin.email and not email_of(account):
        changes["email"] = signin.email
    return SyncStore(repo).update_account_settings(account.id, changes, actor=actor)


def revoke_sign_in(account: Account) -> bool:
    """Forget the account's tokens in the keyring and ask Google to revoke them. True when
    Google confirmed; False when it could not be reached or there was nothing to revoke (the
    tokens are gone locally either way). Blocks on the network (never the GUI thread).
    Raises KeyringFailed."""
    return asyncio.run(token_source(account).revoke())


def mark_signed_out(repo: Repository, account: Account, *, actor: str) -> Account:
    """Note that the account is signed out: it is not synced until signed in again (its
    mirrors and queued changes stay). The Repository's thread."""
    changes = {"needs_sign_in": True, "signed_out": True}
    return SyncStore(repo).update_account_settings(account.id, changes, actor=actor)


def sign_out(repo: Repository, account: Account, *, actor: str) -> bool:
    """``revoke_sign_in`` then ``mark_signed_out``; True when Google confirmed the revocation.
    Blocks on the network (the command line). Raises KeyringFailed."""
    revoked = revoke_sign_in(account)
    mark_signed_out(repo, account, actor=actor)
    return revoked


def set_privacy(repo: Repository, account: Account, level: str, *, actor: str) -> Account:
    """What Google sees from now on. Every appointment already on Google is queued to be sent
    again, so the next sync rewrites it at the new level (a stricter level must not wait for
    the next edit of each entry). The Repository's thread. Raises ValidationError, StoreError."""
    if not is_google(account):
        raise ValidationError(f"{account.name!r} is not a Google account; privacy is for Google")
    check_privacy(level)
    sync = SyncStore(repo)
    before = privacy_of(account)
    updated = sync.update_account_settings(account.id, {"privacy": level}, actor=actor)
    if level != before:
        for calendar in repo.list_calendars():
            if calendar.account_id == account.id:
                sync.requeue_calendar(calendar.id)
    return updated


def unsent_count(repo: Repository, account: Account) -> int:
    """Changes of the account's calendars not yet sent. The Repository's thread."""
    store = SyncStore(repo)
    cal_ids = {c.id for c in store.calendars_of(account.id)}
    return sum(1 for op in store.pending_ops() if op.calendar_id in cal_ids)


def remove_google_account(
    repo: Repository, account: Account, *, actor: str, discard_unsent: bool = False
) -> tuple[svc.Removal, bool]:
    """Sign out (revoke), then remove the account from this computer; returns the removal and
    whether Google confirmed the revocation. Unsent changes are checked first, so a refused
    removal leaves the account signed in. Blocks on the network (the command line).
    Raises ValidationError, KeyringFailed."""
    pending = unsent_count(repo, account)
    if pending and not discard_unsent:
        raise ValidationError(
            f"{account.name!r} has {pending} unsent changes; sync first, or remove it "
            "with --discard-unsent to drop them"
        )
    revoked = revoke_sign_in(account)
    removal = svc.remove_account(repo, account, actor=actor, discard_unsent=True)
    return replace(removal, discarded_ops=pending), revoked
