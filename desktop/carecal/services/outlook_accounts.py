"""Outlook / Microsoft 365 accounts: sign in with MSAL (through the browser, or with a device
code on a machine without one), choose calendars, privacy, sign in again, sign out.

Adding an account has two steps so a window can ask in between:
1. ``sign_in`` (authorization code with PKCE on a loopback redirect; the system browser, or
   whatever ``open_browser`` does, opens Microsoft's page) or ``sign_in_device`` (the user
   enters a code at Microsoft's address on any other device): MSAL gets the tokens into a cache
   held in memory, then the account's calendars are listed. Nothing is written.
2. ``finish_add`` (the Repository's thread): MSAL's cache goes to the OS keyring under the new
   account's id, then the account and its mirrors are written in one transaction. The same
   Microsoft account added twice is the same account here (its sign-in is replaced).
``add_outlook_account`` runs both for the command line.

MSAL's cache lives only in the keyring, never in the database, a file or a log line. A public
client cannot revoke its refresh token at Microsoft: signing out forgets it on this computer
(the user can remove Carecal's access at https://account.live.com/consent/Manage or in their
organisation's "My apps").

Threads: coroutines run on the caller's loop (MSAL's blocking calls go to worker threads); the
``*_blocking`` helpers block (never the GUI thread); functions taking a Repository run on its
thread and raise StoreError besides the errors they name.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from carecal.domain.errors import AuthExpired, CarecalError, ValidationError
from carecal.domain.models import Account, Calendar, ProviderKind, new_id
from carecal.net.errors import SignInCancelled as SignInCancelled
from carecal.net.errors import SignInFailed as SignInFailed
from carecal.net.errors import SignInTimedOut as SignInTimedOut
from carecal.providers.base import RemoteCalendar
from carecal.services import accounts as svc
from carecal.services.google_accounts import (
    SignInCancel,
    default_choice,
    pick_calendars,
    unsent_count,
)
from carecal.services.outlook_client import (
    DEFAULT_PRIVACY,
    DEFAULT_SIGN_IN_TIMEOUT,
    SCOPES,
    CacheStore,
    MsalTokens,
    OutlookSettings,
    build_provider,
    check_keyring,
    check_privacy,
    email_of,
    is_outlook,
    msal_app,
    resolve_client,
)
from carecal.store.repo import Repository
from carecal.store.syncstate import SyncStore

__all__ = ["SignInCancel", "default_choice", "pick_calendars"]

log = logging.getLogger(__name__)


class WrongMicrosoftAccount(SignInFailed):
    """A sign-in again was done with another Microsoft account than this account's."""


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """What the user needs for a device-code sign-in: the code, where to enter it, and
    Microsoft's own sentence saying both."""

    user_code: str
    verification_uri: str
    message: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class OutlookSignIn:
    """A finished sign-in: the registration used, MSAL's cache (not stored yet), the calendars
    the account offers and its address."""

    settings: OutlookSettings
    cache: str = field(repr=False)
    calendars: tuple[RemoteCalendar, ...]
    email: str | None


# --- signing in -----------------------------------------------------------------------------


def _email(result: Mapping[str, Any]) -> str | None:
    claims = result.get("id_token_claims")
    if isinstance(claims, dict):
        for key in ("preferred_username", "email", "upn"):
            value = claims.get(key)
            if isinstance(value, str) and "@" in value:
                return value.casefold()
    return None


def _refused(result: Mapping[str, Any]) -> CarecalError:
    error = str(result.get("error") or "unknown")[:40]
    if error == "expired_token":
        return SignInTimedOut("the sign-in code expired before it was used; try again")
    if error in ("authorization_declined", "access_denied"):
        return SignInFailed("the sign-in was declined at Microsoft")
    return SignInFailed(f"Microsoft did not complete the sign-in ({error})")


async def _finish(
    settings: OutlookSettings, cache_text: str, result: Mapping[str, Any]
) -> OutlookSignIn:
    """The calendars of a fresh sign-in (through a provider on the cache held in memory)."""
    held = CacheStore(None, cache_text)
    tokens = MsalTokens(settings, held)
    provider = build_provider(tokens, settings, DEFAULT_PRIVACY, None)
    try:
        found = await provider.discover()
    except AuthExpired as exc:
        raise SignInFailed(f"Microsoft did not let Carecal read the calendars ({exc})") from None
    finally:
        await provider.close()
        tokens.close()
    log.info("Microsoft sign-in offers %d calendars", len(found))
    # A refresh while listing rotated the refresh token: keep the cache as it is now.
    return OutlookSignIn(settings, held.text or cache_text, tuple(found), _email(result))


async def _await_redirect(
    receiver: Any,
    url: str,
    open_browser: Callable[[str], object],
    timeout: float,
    cancel: SignInCancel | None,
) -> dict[str, str]:
    browser = asyncio.ensure_future(asyncio.to_thread(open_browser, url))
    waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(receiver.wait())]
    if cancel is not None:
        waiters.append(asyncio.ensure_future(cancel.event().wait()))
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    if cancel is not None and cancel.cancelled:
        raise SignInCancelled("sign-in cancelled")
    if not done:
        raise SignInTimedOut("the browser sign-in did not finish in time; try again")
    if browser.done() and browser.exception() is not None:
        log.info("the browser could not be opened; the address was shown instead")
    query: dict[str, str] = waiters[0].result()
    return query


async def sign_in(
    settings: OutlookSettings,
    *,
    open_browser: Callable[[str], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
) -> OutlookSignIn:
    """Sign in through the browser (authorization code with PKCE, redirect to
    http://localhost:<port>) and list the account's calendars; nothing is stored.
    ``open_browser(url)`` runs on a worker thread. Raises SignInTimedOut, SignInCancelled,
    SignInFailed, TransientError."""
    import msal

    from carecal.net.loopback import LoopbackReceiver

    cache = msal.SerializableTokenCache()
    app, http = await asyncio.to_thread(msal_app, settings, cache)
    try:
        async with LoopbackReceiver() as receiver:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # MSAL suggests form_post; the loopback reads GET
                flow = app.initiate_auth_code_flow(
                    list(SCOPES),
                    redirect_uri=f"http://localhost:{receiver.port}/",
                    prompt="select_account",
                )
            receiver.accept = lambda q: q.get("state") == flow.get("state") and "code" in q
            url = http.public_url(str(flow["auth_uri"]))
            query = await _await_redirect(receiver, url, open_browser, timeout, cancel)
        result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, flow, query)
    finally:
        http.close()
    if not isinstance(result, dict) or "access_token" not in result:
        raise _refused(result if isinstance(result, dict) else {})
    if cancel is not None and cancel.cancelled:
        raise SignInCancelled("sign-in cancelled")
    return await _finish(settings, cache.serialize(), result)


async def sign_in_device(
    settings: OutlookSettings,
    *,
    show_code: Callable[[DeviceCode], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
) -> OutlookSignIn:
    """Sign in with a device code: ``show_code`` gets the code and address to show (any
    thread may call it: it runs on this coroutine's loop), then Microsoft is asked until the
    user has signed in elsewhere, ``timeout`` passes or ``cancel`` is pressed. Raises
    SignInTimedOut, SignInCancelled, SignInFailed (declined), TransientError."""
    import msal

    cache = msal.SerializableTokenCache()
    app, http = await asyncio.to_thread(msal_app, settings, cache)
    try:
        flow = await asyncio.to_thread(app.initiate_device_flow, list(SCOPES))
        if "user_code" not in flow:
            raise _refused(flow)
        show_code(
            DeviceCode(
                str(flow["user_code"]),
                str(flow.get("verification_uri") or ""),
                str(flow.get("message") or ""),
                int(flow.get("expires_in") or 0),
            )
        )
        deadline = time.time() + timeout
        flow["expires_at"] = min(float(flow.get("expires_at") or deadline), deadline)

        def stop(f: Mapping[str, Any]) -> bool:
            return bool(cancel is not None and cancel.cancelled) or time.time() > f["expires_at"]

        result = await asyncio.to_thread(
            app.acquire_token_by_device_flow, flow, exit_condition=stop
        )
    finally:
        http.close()
    if cancel is not None and cancel.cancelled:
        raise SignInCancelled("sign-in cancelled")
    if not isinstance(result, dict) or "access_token" not in result:
        if isinstance(result, dict) and result.get("error") in (
            "authorization_pending",
            "slow_down",
        ):
            raise SignInTimedOut("nobody entered the sign-in code in time; try again")
        raise _refused(result if isinstance(result, dict) else {})
    return await _finish(settings, cache.serialize(), result)


def sign_in_blocking(
    settings: OutlookSettings, *, device: bool = False, **options: Any
) -> OutlookSignIn:
    """``sign_in`` (or ``sign_in_device``) on a private event loop; blocks (never the GUI
    thread). Raises as they do."""
    if device:
        return asyncio.run(sign_in_device(settings, **options))
    return asyncio.run(sign_in(settings, **options))


# --- adding ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutlookAdded:
    """What ``finish_add`` did (see GoogleAdded)."""

    account: Account
    mirrored: list[Calendar]
    existed: bool


def outlook_accounts(repo: Repository) -> list[Account]:
    """Every Outlook account, oldest first. The Repository's thread."""
    return [a for a in svc.list_accounts(repo) if is_outlook(a)]


def find_same(repo: Repository, signin: OutlookSignIn) -> Account | None:
    """The account already holding this Microsoft account (the same address)."""
    if not signin.email:
        return None
    for account in outlook_accounts(repo):
        known = email_of(account)
        if known and known.casefold() == signin.email.casefold():
            return account
    return None


def finish_add(
    repo: Repository,
    signin: OutlookSignIn,
    calendars: Sequence[RemoteCalendar],
    *,
    name: str | None = None,
    privacy: str | None = None,
    actor: str,
) -> OutlookAdded:
    """Keep the sign-in: MSAL's cache to the keyring, then the account and its mirrors in one
    transaction (the cache is removed again if that fails). The Repository's thread. Raises
    NoKeyringForOutlook, KeyringFailed, ValidationError."""
    if privacy is not None:
        check_privacy(privacy)
    check_keyring()
    existing = find_same(repo, signin)
    if existing is not None:
        CacheStore(existing.id).save(signin.cache)
        changes: dict[str, object] = {**signin.settings.stored(), "needs_sign_in": False,
                                      "signed_out": False}  # fmt: skip
        if privacy is not None:
            changes["privacy"] = privacy
        sync = SyncStore(repo)
        with sync.transaction():
            account = sync.update_account_settings(existing.id, changes, actor=actor)
            mirrored = svc.mirror_calendars(repo, account, calendars, actor=actor)
        return OutlookAdded(account, mirrored, existed=True)
    taken = {a.name.casefold() for a in svc.list_accounts(repo)}
    wanted = (name or "").strip()
    if wanted and wanted.casefold() in taken:
        raise ValidationError(f"an account named {wanted!r} already exists")
    settings: dict[str, object] = {
        **signin.settings.stored(),
        "privacy": privacy or DEFAULT_PRIVACY,
        "conflict_policy": "ask",
    }
    if signin.email:
        settings["email"] = signin.email
    account = Account(
        new_id(), ProviderKind.OUTLOOK, wanted or svc.unique_name(signin.email or "Outlook", taken),
        settings,
    )  # fmt: skip
    store = CacheStore(account.id)
    store.save(signin.cache)
    try:
        with SyncStore(repo).transaction():
            repo.add_account(account, actor=actor)
            mirrored = svc.mirror_calendars(repo, account, calendars, actor=actor)
            remember_client(repo, signin.settings, actor=actor)
    except BaseException:
        store.delete()
        raise
    return OutlookAdded(account, mirrored, existed=False)


def remember_client(repo: Repository, client: OutlookSettings, *, actor: str) -> bool:
    """Make ``client``'s id the app's Microsoft client id when none is set yet."""
    app = repo.settings()
    if app.ms_client_id:
        return False
    repo.save_settings(replace(app, ms_client_id=client.client_id), actor=actor)
    return True


def add_outlook_account(
    repo: Repository,
    *,
    open_browser: Callable[[str], object] | None = None,
    show_code: Callable[[DeviceCode], object] | None = None,
    client_id: str | None = None,
    authority: str | None = None,
    api_base: str | None = None,
    choose: Callable[[Sequence[RemoteCalendar]], Sequence[RemoteCalendar]] = default_choice,
    name: str | None = None,
    privacy: str | None = None,
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: SignInCancel | None = None,
    actor: str,
) -> OutlookAdded:
    """Sign in (device code when ``show_code`` is given, else the browser), let ``choose``
    pick the calendars and keep the account. Blocks: the command line. Raises
    ClientIdMissing, NoKeyringForOutlook before anything opens; then as the sign-in and
    ``finish_add``."""
    if privacy is not None:
        check_privacy(privacy)
    settings = resolve_client(
        repo.settings(), client_id=client_id, authority=authority, api_base=api_base
    )
    check_keyring()
    if show_code is not None:
        signin = sign_in_blocking(settings, device=True, show_code=show_code, timeout=timeout,
                                  cancel=cancel)  # fmt: skip
    else:
        assert open_browser is not None
        signin = sign_in_blocking(settings, open_browser=open_browser, timeout=timeout,
                                  cancel=cancel)  # fmt: skip
    chosen = list(choose(signin.calendars))
    return finish_add(repo, signin, chosen, name=name, privacy=privacy, actor=actor)


# --- signing in again, out, privacy, removing -----------------------------------------------


def check_same_account(account: Account, signin: OutlookSignIn) -> None:
    """Raise WrongMicrosoftAccount when ``signin`` is another Microsoft account."""
    known = email_of(account)
    if known and signin.email and known.casefold() != signin.email.casefold():
        raise WrongMicrosoftAccount(
            f"you signed in as {signin.email}, but {account.name!r} is {known}; "
            "sign in with that Microsoft account"
        )


def finish_sign_in_again(
    repo: Repository, account: Account, signin: OutlookSignIn, *, actor: str
) -> Account:
    """Keep the new sign-in of ``account`` and clear "needs sign-in" (its queued changes go
    out on the next sync). The Repository's thread. Raises WrongMicrosoftAccount,
    NoKeyringForOutlook, KeyringFailed."""
    check_same_account(account, signin)
    check_keyring()
    CacheStore(account.id).save(signin.cache)
    changes: dict[str, object] = {"needs_sign_in": False, "signed_out": False}
    if signin.email and not email_of(account):
        changes["email"] = signin.email
    return SyncStore(repo).update_account_settings(account.id, changes, actor=actor)


def sign_out(repo: Repository, account: Account, *, actor: str) -> bool:
    """Forget the account's sign-in on this computer and mark it signed out (its mirrors and
    queued changes stay). False: Microsoft offers public clients no revocation. The
    Repository's thread. Raises KeyringFailed."""
    CacheStore(account.id).delete()
    changes = {"needs_sign_in": True, "signed_out": True}
    SyncStore(repo).update_account_settings(account.id, changes, actor=actor)
    return False


def set_privacy(repo: Repository, account: Account, level: str, *, actor: str) -> Account:
    """What Outlook sees from now on. The Repository's thread. Raises ValidationError."""
    if not is_outlook(account):
        raise ValidationError(f"{account.name!r} is not an Outlook account")
    check_privacy(level)
    return SyncStore(repo).update_account_settings(account.id, {"privacy": level}, actor=actor)


def remove_outlook_account(
    repo: Repository, account: Account, *, actor: str, discard_unsent: bool = False
) -> svc.Removal:
    """Forget the sign-in (every keyring part of the MSAL cache, not only the account's own
    entry), then remove the account from this computer. Unsent changes are checked first, so
    a refused removal leaves the account signed in. The Repository's thread. Raises
    ValidationError, KeyringFailed."""
    pending = unsent_count(repo, account)
    if pending and not discard_unsent:
        raise ValidationError(
            f"{account.name!r} has {pending} unsent changes; sync first, or remove it "
            "with --discard-unsent to drop them"
        )
    CacheStore(account.id).delete()
    removal = svc.remove_account(repo, account, actor=actor, discard_unsent=True)
    return replace(removal, discarded_ops=pending)
