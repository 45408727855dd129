"""OAuth 2.0 for Carecal's accounts, on authlib's httpx client.

- ``sign_in_loopback``: authorization code with PKCE (S256) on a loopback redirect (RFC 8252):
  a one-shot server on 127.0.0.1 and an ephemeral port, the browser opened through an injected
  ``open_browser`` (the UI passes ``webbrowser.open``), the state checked, timeout and cancel.
- ``TokenSource``: an account's tokens from the store, refreshed before expiry and on demand
  (after a 401); a dead refresh token (``invalid_grant``) raises AuthExpired; ``revoke``.
- ``client_credentials``: the client-credentials grant (server-to-server APIs).
- Device code (``start_device_sign_in`` / ``finish_device_sign_in``) lives in ``device``.

Tokens are kept only through a ``TokenStore`` (the keyring) and never logged. Every coroutine
runs on the asyncio network thread; foreign errors (authlib, httpx) leave as CarecalError.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from carecal.domain.errors import AuthExpired, CarecalError
from carecal.net.errors import SignInCancelled, SignInFailed, SignInTimedOut
from carecal.net.http import check_response, client_options, network_error
from carecal.net.loopback import LoopbackReceiver
from carecal.net.throttle import HostThrottle
from carecal.net.tokens import TokenSet, TokenStore

with warnings.catch_warnings():
    # authlib prefers the httpx2 fork and warns when it falls back to httpx, which is what
    # Carecal uses; the fallback is the supported httpx API.
    from authlib.deprecate import AuthlibDeprecationWarning

    # Importing authlib.deprecate puts an "always" filter first; ours must come after it.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.common.errors import AuthlibBaseError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger(__name__)

DEFAULT_SIGN_IN_TIMEOUT = 300.0
REFRESH_LEEWAY = 120.0  # refresh this long before expiry so a request never races the clock
_DEAD_GRANT = {"invalid_grant", "invalid_client", "unauthorized_client", "interaction_required"}


@dataclass(frozen=True)
class OAuthConfig:
    """One OAuth client registration and the provider's endpoints. ``client_secret`` is the
    non-secret secret of installed apps (Google asks for it); None for a public client."""

    client_id: str
    token_url: str
    authorize_url: str = ""
    scopes: tuple[str, ...] = ()
    client_secret: str | None = field(default=None, repr=False)
    revoke_url: str | None = None
    device_url: str | None = None
    # e.g. Google: access_type=offline and prompt=consent for a refresh token on every sign-in.
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    user_agent: str = "Carecal"
    timeout: float = 30.0


def oauth_client(
    config: OAuthConfig,
    *,
    redirect_uri: str | None = None,
    token: TokenSet | None = None,
    throttle: HostThrottle | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Any:
    """An authlib AsyncOAuth2Client with Carecal's client options (timeouts, User-Agent,
    throttle, network errors as TransientError). The caller closes it (``async with``)."""
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=config.client_secret,
        token_endpoint_auth_method="client_secret_post" if config.client_secret else "none",
        revocation_endpoint_auth_method="client_secret_post" if config.client_secret else "none",
        scope=" ".join(config.scopes) or None,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token=_authlib_token(token) if token is not None else None,
        **client_options(
            timeout=config.timeout,
            user_agent=config.user_agent,
            throttle=throttle,
            transport=transport,
        ),
    )


def _authlib_token(token: TokenSet) -> dict[str, Any]:
    data: dict[str, Any] = {"access_token": token.access_token, "token_type": token.token_type}
    if token.refresh_token:
        data["refresh_token"] = token.refresh_token
    if token.expires_at is not None:
        data["expires_at"] = int(token.expires_at)
    return data


async def translate_oauth_errors(call: Any, *, action: str) -> Any:
    """Await ``call`` (an authlib coroutine) and turn its failures into CarecalError:
    a dead grant -> AuthExpired, other OAuth errors -> SignInFailed, HTTP statuses and network
    failures -> the domain's errors. Messages never carry the server's description (it may
    quote what was sent)."""
    try:
        return await call
    except CarecalError:
        raise
    except httpx.HTTPStatusError as exc:
        await check_response(exc.response)
        raise SignInFailed(f"{action} failed ({exc.response.status_code})") from None
    except httpx.HTTPError as exc:
        raise network_error(exc) from None
    except AuthlibBaseError as exc:
        code = str(getattr(exc, "error", "") or "oauth_error")
        if code in _DEAD_GRANT:
            raise AuthExpired(
                f"the saved sign-in is no longer valid ({code}); sign in again"
            ) from None
        raise SignInFailed(f"{action} was refused by the sign-in server ({code})", code) from None
    except ValueError:
        raise SignInFailed(f"{action}: the sign-in server's answer could not be read") from None


async def sign_in_loopback(
    config: OAuthConfig,
    *,
    open_browser: Callable[[str], object],
    timeout: float = DEFAULT_SIGN_IN_TIMEOUT,
    cancel: asyncio.Event | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TokenSet:
    """Sign in through the system browser and return the new tokens (the caller stores them).

    ``open_browser(url)`` runs in a worker thread (``webbrowser.open`` may block); a return of
    False is not an error: the caller may have shown the URL instead. Raises SignInTimedOut,
    SignInCancelled, SignInFailed (declined, state mismatch, refused code), TransientError.
    """
    verifier = secrets.token_urlsafe(64)  # 86 characters, within RFC 7636's 43..128
    async with (
        LoopbackReceiver() as receiver,
        oauth_client(config, redirect_uri=receiver.redirect_uri, transport=transport) as client,
    ):
        url, state = client.create_authorization_url(
            config.authorize_url, code_verifier=verifier, **dict(config.authorize_params)
        )
        receiver.accept = lambda query: secrets.compare_digest(query.get("state", ""), str(state))
        query = await _await_redirect(receiver, url, open_browser, timeout, cancel)
        if "error" in query:
            raise SignInFailed(f"sign-in was not completed in the browser ({query['error'][:64]})")
        if not secrets.compare_digest(query.get("state", ""), str(state)):
            raise SignInFailed("the browser's answer did not match this sign-in; try again")
        try:
            data = await translate_oauth_errors(
                client.fetch_token(
                    config.token_url,
                    grant_type="authorization_code",
                    code=query["code"],
                    code_verifier=verifier,
                ),
                action="sign-in",
            )
        except AuthExpired as exc:  # a refused code here is a failed sign-in, not an old one
            raise SignInFailed("the sign-in server refused the answer; try again") from exc
    log.info("signed in at %s", httpx.URL(config.token_url).host)
    return TokenSet.from_response(data, now=clock())


async def _await_redirect(
    receiver: LoopbackReceiver,
    url: str,
    open_browser: Callable[[str], object],
    timeout: float,
    cancel: asyncio.Event | None,
) -> dict[str, str]:
    browser = asyncio.create_task(asyncio.to_thread(open_browser, url))
    waiters: set[asyncio.Task[Any]] = {asyncio.create_task(receiver.wait())}
    cancelled = asyncio.create_task(cancel.wait()) if cancel is not None else None
    if cancelled is not None:
        waiters.add(cancelled)
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
    finally:
        for task in waiters:
            task.cancel()
    # The browser thread cannot be interrupted; its task is left to finish on its own.
    browser.add_done_callback(_ignore_result)
    if not done:
        raise SignInTimedOut(f"nobody finished the sign-in in the browser within {timeout:.0f} s")
    if cancelled is not None and cancelled in done:
        raise SignInCancelled("sign-in cancelled")
    result: dict[str, str] = done.pop().result()
    return result


def _ignore_result(task: asyncio.Task[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("opening the browser failed: %s", type(task.exception()).__name__)


async def client_credentials(
    config: OAuthConfig,
    *,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TokenSet:
    """Tokens for the client itself (no user). Raises AuthExpired, SignInFailed, TransientError."""
    async with oauth_client(config, transport=transport) as client:
        data = await translate_oauth_errors(
            client.fetch_token(config.token_url, grant_type="client_credentials"),
            action="client sign-in",
        )
    return TokenSet.from_response(data, now=clock())


class TokenSource:
    """One account's access token, kept fresh. One instance per account, used from the network
    thread's event loop; concurrent callers share one refresh."""

    def __init__(
        self,
        config: OAuthConfig,
        store: TokenStore,
        account_id: str,
        *,
        leeway: float = REFRESH_LEEWAY,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._store = store
        self._account_id = account_id
        self._leeway = leeway
        self._clock = clock
        self._transport = transport
        self._tokens: TokenSet | None = None
        self._lock = asyncio.Lock()

    def _current(self) -> TokenSet:
        if self._tokens is None:
            self._tokens = self._store.load(self._account_id)
        if self._tokens is None:
            raise AuthExpired("this account is not signed in; sign in again")
        return self._tokens

    async def access_token(self) -> str:
        """A valid access token, refreshed first when it expires within the leeway.
        Raises AuthExpired (sign in again), TransientError, and the store's errors."""
        tokens = self._current()
        if tokens.expires_within(self._leeway, now=self._clock()):
            tokens = await self.refresh(stale=tokens)
        return tokens.access_token

    async def headers(self) -> dict[str, str]:
        """The Authorization header for a request. Raises as ``access_token``."""
        return {"Authorization": f"Bearer {await self.access_token()}"}

    async def refresh(self, stale: TokenSet | None = None) -> TokenSet:
        """Refresh now (after a 401, pass the token that failed as ``stale``; if another
        coroutine already replaced it, no second refresh is made). Saves the new tokens.
        Raises AuthExpired (no refresh token, or it is dead), TransientError."""
        async with self._lock:
            tokens = self._current()
            if stale is not None and tokens.access_token != stale.access_token:
                return tokens
            if not tokens.refresh_token:
                raise AuthExpired("the sign-in has expired; sign in again")
            async with oauth_client(
                self._config, token=tokens, transport=self._transport
            ) as client:
                data = await translate_oauth_errors(
                    client.refresh_token(
                        self._config.token_url, refresh_token=tokens.refresh_token
                    ),
                    action="refreshing the sign-in",
                )
            fresh = TokenSet.from_response(data, now=self._clock(), previous=tokens)
            self._store.save(self._account_id, fresh)
            self._tokens = fresh
            return fresh

    async def revoke(self) -> bool:
        """Sign out: forget the tokens locally in any case, and ask the server to revoke the
        refresh token (or the access token). True when the server confirmed. Raises only the
        store's errors: a server that cannot be reached must not keep the user signed in."""
        async with self._lock:
            try:
                tokens = self._current()
            except AuthExpired:
                tokens = None
            self._store.delete(self._account_id)
            self._tokens = None
        if tokens is None or not self._config.revoke_url:
            return False
        token = tokens.refresh_token or tokens.access_token
        try:
            async with oauth_client(self._config, transport=self._transport) as client:
                response = await translate_oauth_errors(
                    client.revoke_token(self._config.revoke_url, token=token),
                    action="signing out",
                )
                await check_response(response)
        except CarecalError as exc:
            log.warning("revoking the sign-in failed: %s", type(exc).__name__)
            return False
        return True
