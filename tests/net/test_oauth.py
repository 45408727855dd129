"""OAuth flows end to end against the tiny OAuth server, with the real keyring helpers (the
test-wide in-memory keyring backend)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from carecal.domain.errors import AuthExpired
from carecal.net.device import finish_device_sign_in, start_device_sign_in
from carecal.net.errors import SignInCancelled, SignInFailed, SignInTimedOut
from carecal.net.oauth import OAuthConfig, TokenSource, client_credentials, sign_in_loopback
from carecal.net.tokens import KeyringTokenStore, TokenSet
from carecal.services import secrets
from tests.net.oauth_server import CLIENT_ID, CLIENT_SECRET, RunningServer, oauth_server


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with oauth_server() as running:
        yield running


@pytest.fixture
def config(server: RunningServer) -> OAuthConfig:
    return OAuthConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        authorize_url=f"{server.base}/authorize",
        token_url=f"{server.base}/token",
        revoke_url=f"{server.base}/revoke",
        device_url=f"{server.base}/device",
        scopes=("calendar.events", "calendar.calendarlist.readonly"),
        authorize_params={"access_type": "offline"},
    )


@pytest.fixture
def store() -> KeyringTokenStore:
    return KeyringTokenStore(
        store=secrets.store_password, load=secrets.load_password, delete=secrets.delete_password
    )


class Browser:
    """Stands in for the system browser: follows the redirect to the loopback server."""

    def __init__(self) -> None:
        self.pages: list[httpx.Response] = []
        self.urls: list[str] = []

    def __call__(self, url: str) -> bool:
        self.urls.append(url)
        with httpx.Client(follow_redirects=True, timeout=5) as client:
            self.pages.append(client.get(url))
        return True


def test_loopback_sign_in_end_to_end(config: OAuthConfig, server: RunningServer) -> None:
    browser = Browser()
    tokens = run(sign_in_loopback(config, open_browser=browser, timeout=10, clock=lambda: 1000.0))

    assert tokens.access_token in server.state.access_tokens
    assert tokens.refresh_token in server.state.refresh_tokens
    assert tokens.expires_at == 1000.0 + 3600
    url = httpx.URL(browser.urls[0])
    assert url.params["code_challenge_method"] == "S256"
    assert url.params["scope"] == "calendar.events calendar.calendarlist.readonly"
    assert url.params["access_type"] == "offline"
    assert url.params["redirect_uri"].startswith("http://127.0.0.1:")
    # The user saw the friendly page from the loopback server.
    assert browser.pages[0].status_code == 200
    assert "go back to Carecal" in browser.pages[0].text
    sent = server.state.token_requests[0]
    assert sent["grant_type"] == "authorization_code"
    assert sent["redirect_uri"] == url.params["redirect_uri"]
    # Secrets never show in a token set's repr (and so in a log line).
    assert tokens.access_token not in repr(tokens)
    assert str(tokens.refresh_token) not in repr(tokens)


def test_loopback_refuses_a_wrong_state(config: OAuthConfig, server: RunningServer) -> None:
    server.state.state_override = "forged"
    browser = Browser()
    with pytest.raises(SignInFailed, match="did not match"):
        run(sign_in_loopback(config, open_browser=browser, timeout=10))
    assert browser.pages[0].status_code == 400
    assert server.state.token_requests == []  # the code was never exchanged


def test_loopback_times_out_and_cancels(config: OAuthConfig) -> None:
    with pytest.raises(SignInTimedOut):
        run(sign_in_loopback(config, open_browser=lambda url: False, timeout=0.05))

    async def cancelled() -> TokenSet:
        cancel = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, cancel.set)
        return await sign_in_loopback(config, open_browser=lambda url: True, cancel=cancel)

    with pytest.raises(SignInCancelled):
        run(cancelled())


def test_refresh_before_expiry_and_on_demand(
    config: OAuthConfig, server: RunningServer, store: KeyringTokenStore
) -> None:
    now = [1000.0]
    first = server.state.issue()
    store.save("acct-1", TokenSet.from_response(first, now=now[0]))
    source = TokenSource(config, store, "acct-1", leeway=120, clock=lambda: now[0])

    async def scenario() -> tuple[str, str, str, TokenSet]:
        a = await source.access_token()  # fresh: no refresh
        now[0] += 3600 - 60  # within the leeway
        b = await source.access_token()
        c = (await source.refresh(stale=TokenSet(access_token=b))).access_token  # after a 401
        return a, b, c, await source.refresh(stale=TokenSet(access_token=b))

    a, b, c, again = run(scenario())
    assert a == first["access_token"]
    assert b != a and b in server.state.access_tokens
    assert c != b
    assert again.access_token == c  # the stale token was already replaced: no second refresh
    assert len(server.state.token_requests) == 2
    stored = store.load("acct-1")
    assert stored is not None and stored.access_token == c
    # Google returns no new refresh token on refresh: the old one is kept.
    assert stored.refresh_token == first["refresh_token"]
    assert stored.expires_at == now[0] + 3600


def test_invalid_grant_means_sign_in_again(
    config: OAuthConfig, server: RunningServer, store: KeyringTokenStore
) -> None:
    store.save("acct-2", TokenSet(access_token="old", refresh_token="dead", expires_at=0.0))
    source = TokenSource(config, store, "acct-2")
    with pytest.raises(AuthExpired, match="sign in again") as caught:
        run(source.access_token())
    assert "dead" not in str(caught.value)
    assert store.load("acct-2") is not None  # kept: the account is marked, nothing is lost


def test_not_signed_in_is_auth_expired(config: OAuthConfig, store: KeyringTokenStore) -> None:
    with pytest.raises(AuthExpired):
        run(TokenSource(config, store, "nobody").access_token())


def test_revoke_forgets_and_revokes(
    config: OAuthConfig, server: RunningServer, store: KeyringTokenStore
) -> None:
    tokens = TokenSet.from_response(server.state.issue(), now=0.0)
    store.save("acct-3", tokens)
    assert run(TokenSource(config, store, "acct-3").revoke()) is True
    assert server.state.revoked == [tokens.refresh_token]
    assert store.load("acct-3") is None


def test_revoke_without_network_still_signs_out(store: KeyringTokenStore) -> None:
    dead = OAuthConfig(
        client_id=CLIENT_ID, token_url="http://127.0.0.1:9/token", revoke_url="http://127.0.0.1:9/r"
    )
    store.save("acct-4", TokenSet(access_token="a", refresh_token="r"))
    assert run(TokenSource(dead, store, "acct-4").revoke()) is False
    assert store.load("acct-4") is None


def test_device_code_pending_then_success(config: OAuthConfig, server: RunningServer) -> None:
    server.state.pending_polls = 2
    server.state.slow_down_once = True
    waits: list[float] = []
    now = [0.0]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    async def flow() -> TokenSet:
        device = await start_device_sign_in(config, clock=lambda: now[0])
        assert device.user_code == "ABCD-EFGH"
        return await finish_device_sign_in(config, device, clock=lambda: now[0], sleep=sleep)

    tokens = run(flow())
    assert tokens.access_token in server.state.access_tokens
    assert waits == [5.0, 10.0, 10.0]  # slow_down adds 5 s; pending keeps the interval


def test_device_code_declined_and_expired(config: OAuthConfig, server: RunningServer) -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    async def flow() -> TokenSet:
        device = await start_device_sign_in(config, clock=lambda: now[0])
        return await finish_device_sign_in(config, device, clock=lambda: now[0], sleep=sleep)

    server.state.pending_polls = 10_000
    with pytest.raises(SignInTimedOut):
        run(flow())
    server.state.deny_device = True
    with pytest.raises(SignInFailed, match="declined"):
        run(flow())


def test_client_credentials(config: OAuthConfig, server: RunningServer) -> None:
    tokens = run(client_credentials(config, clock=lambda: 50.0))
    assert tokens.access_token in server.state.access_tokens
    assert tokens.refresh_token is None and tokens.expires_at == 3650.0
