"""The Google provider's answers to Google's errors, on the emulator: sign-in refresh on 401,
dead refresh tokens, rate limits with backoff (a fake sleep records the waits), the usage
quota, server errors, refusals, the network down, and answers that make no sense."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from carecal.domain.errors import (
    AuthExpired,
    CarecalError,
    PermanentItemError,
    RateLimited,
    TransientError,
)
from carecal.domain.models import Event
from carecal.net.oauth import OAuthConfig, TokenSource
from carecal.net.tokens import TokenSet
from carecal.providers.google import GoogleProvider
from carecal.providers.google_api import QUOTA_MESSAGE
from carecal.providers.google_map import MalformedEvent
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.providers.google_support import CALENDAR, EmulatorAuth, running_emulator

T = TypeVar("T")
SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeSleep:
    """Records the backoff's waits instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class MemoryTokens:
    """A TokenStore in a dict (the keyring in the app)."""

    def __init__(self) -> None:
        self.saved: dict[str, TokenSet] = {}

    def load(self, account_id: str) -> TokenSet | None:
        return self.saved.get(account_id)

    def save(self, account_id: str, tokens: TokenSet) -> None:
        self.saved[account_id] = tokens

    def delete(self, account_id: str) -> None:
        self.saved.pop(account_id, None)


@pytest.fixture
def emu() -> Iterator[GoogleCalendarEmulator]:
    with running_emulator() as server:
        yield server


def api_log(emu: GoogleCalendarEmulator) -> list[tuple[str, int]]:
    return [(m, s) for m, p, s in emu.log if p.startswith("/calendar/v3/")]


def token_posts(emu: GoogleCalendarEmulator) -> int:
    return sum(1 for m, p, _ in emu.log if m == "POST" and p.startswith("/token"))


def token_source(emu: GoogleCalendarEmulator, store: MemoryTokens) -> TokenSource:
    with emu.lock:
        access, refresh = emu.oauth.issue(SCOPES)
    store.save("acct", TokenSet(access, refresh, expires_at=time.time() + 3000))
    config = OAuthConfig(
        client_id=emu.oauth.client_id,
        client_secret=emu.oauth.client_secret,
        token_url=emu.token_uri,
        scopes=SCOPES,
    )
    return TokenSource(config, store, "acct")


# --- sign-in --------------------------------------------------------------------------------


def test_a_401_refreshes_the_sign_in_once_and_retries(emu: GoogleCalendarEmulator) -> None:
    store = MemoryTokens()
    auth = token_source(emu, store)
    old = store.saved["acct"]
    provider = GoogleProvider(auth, api_base=emu.api_base)
    emu.expire_access_tokens()
    assert [c.remote_id for c in run(provider.discover())] == [CALENDAR.remote_id]
    assert api_log(emu) == [("GET", 401), ("GET", 200)] and token_posts(emu) == 1
    fresh = store.saved["acct"]
    assert fresh.access_token != old.access_token and fresh.refresh_token == old.refresh_token


def test_a_dead_refresh_token_means_sign_in_again(emu: GoogleCalendarEmulator) -> None:
    provider = GoogleProvider(token_source(emu, MemoryTokens()), api_base=emu.api_base)
    emu.expire_access_tokens()
    emu.kill_refresh_tokens()
    with pytest.raises(AuthExpired):
        run(provider.pull(CALENDAR, None))
    assert api_log(emu) == [("GET", 401)] and token_posts(emu) == 1


def test_a_second_401_after_refreshing_means_sign_in_again(emu: GoogleCalendarEmulator) -> None:
    auth = EmulatorAuth(emu)
    provider = GoogleProvider(auth, api_base=emu.api_base)
    emu.fail_next(2, 401, "authError")
    with pytest.raises(AuthExpired) as caught:
        run(provider.discover())
    assert "sign in again" in str(caught.value)
    assert auth.refreshes == 1 and api_log(emu) == [("GET", 401), ("GET", 401)]


# --- rate limits and quota ------------------------------------------------------------------


def limited(emu: GoogleCalendarEmulator, seed: int = 7) -> tuple[GoogleProvider, FakeSleep]:
    sleep = FakeSleep()
    provider = GoogleProvider(
        EmulatorAuth(emu), api_base=emu.api_base, sleep=sleep, rng=random.Random(seed)
    )
    return provider, sleep


def jittered(seed: int, steps: list[float]) -> list[float]:
    replay = random.Random(seed)
    return [step + replay.random() for step in steps]


@pytest.mark.parametrize(
    ("status", "why"),
    [(403, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (429, "rateLimitExceeded")],
)
def test_rate_limits_are_retried_after_1_2_and_4_seconds(
    emu: GoogleCalendarEmulator, status: int, why: str
) -> None:
    provider, sleep = limited(emu)
    emu.fail_next(3, status, why)
    run(provider.discover())
    assert sleep.delays == jittered(7, [1, 2, 4])
    assert all(1 <= d < 2 for d in sleep.delays[:1]) and 4 <= sleep.delays[2] < 5
    assert api_log(emu) == [("GET", status)] * 3 + [("GET", 200)]


def test_a_rate_limit_that_outlasts_the_retries_pauses_the_account(
    emu: GoogleCalendarEmulator,
) -> None:
    provider, sleep = limited(emu, seed=3)
    emu.fail_next(4, 429, "rateLimitExceeded")
    with pytest.raises(RateLimited) as caught:
        run(provider.pull(CALENDAR, None))
    assert caught.value.retry_after == 8.0  # the backoff's next step, for the engine
    assert sleep.delays == jittered(3, [1, 2, 4]) and len(api_log(emu)) == 4


def test_retry_after_is_honoured_and_a_long_one_is_not_waited_here(
    emu: GoogleCalendarEmulator,
) -> None:
    provider, sleep = limited(emu)
    emu.fail_next(1, 429, "rateLimitExceeded", retry_after="3")
    run(provider.discover())
    assert sleep.delays == [3.0]
    emu.fail_next(1, 403, "userRateLimitExceeded", retry_after="120")
    with pytest.raises(RateLimited) as caught:
        run(provider.discover())
    assert caught.value.retry_after == 120.0 and sleep.delays == [3.0]


def test_an_exhausted_quota_pauses_the_account_for_an_hour(emu: GoogleCalendarEmulator) -> None:
    provider, sleep = limited(emu)
    emu.quota_exceeded = True
    with pytest.raises(RateLimited) as caught:
        run(provider.pull(CALENDAR, None))
    assert caught.value.retry_after == 3600
    assert str(caught.value) == QUOTA_MESSAGE
    assert "pauses it for an hour" in QUOTA_MESSAGE
    assert sleep.delays == [] and api_log(emu) == [("GET", 403)]


# --- server errors, refusals, the network ----------------------------------------------------


def test_server_errors_are_transient_and_not_retried_in_place(emu: GoogleCalendarEmulator) -> None:
    provider, sleep = limited(emu)
    for status in (500, 503):
        emu.fail_next(1, status, "backendError")
        with pytest.raises(TransientError) as caught:
            run(provider.pull(CALENDAR, None))
        assert f"({status}, backendError)" in str(caught.value)
    assert sleep.delays == []
    assert run(provider.pull(CALENDAR, None)).complete


def test_a_refused_change_is_a_readable_item_error(emu: GoogleCalendarEmulator) -> None:
    provider = GoogleProvider(EmulatorAuth(emu), api_base=emu.api_base)
    start = datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw"))
    event = Event("event-1", "cal", "event-1@carecal", "Session", start, start.replace(hour=10),
                  tzid="Europe/Warsaw")  # fmt: skip
    ref = run(provider.create(CALENDAR, event.uid, provider.to_raw([event])))
    emu.fail_next(1, 403, "forbiddenForNonOrganizer", path_contains=ref.remote_id)
    with pytest.raises(PermanentItemError) as caught:
        run(provider.update(CALENDAR, ref, provider.to_raw([event.with_changes(title="X")])))
    message = str(caught.value)
    assert "Google does not allow this change" in message and "forbiddenForNonOrganizer" in message
    assert ref.remote_id in message
    emu.fail_next(1, 400, "invalid", path_contains=ref.remote_id)
    with pytest.raises(PermanentItemError) as refused:
        run(provider.delete(CALENDAR, ref))
    assert "Google refused the request (400, invalid)" in str(refused.value)


def test_the_network_down_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there now.
    provider = GoogleProvider(_NoAuth(), api_base=f"http://127.0.0.1:{port}/calendar/v3")
    with pytest.raises(TransientError) as caught:
        run(provider.discover())
    assert "127.0.0.1" in str(caught.value)


class _NoAuth:
    async def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer nothing"}

    async def refresh(self, stale: TokenSet | None = None) -> TokenSet:
        raise AuthExpired("no sign-in")


# --- answers that make no sense -------------------------------------------------------------

Rewrite = Callable[[httpx.Request, int, bytes], bytes | None]


class Mangler(httpx.AsyncBaseTransport):
    """Forwards to the emulator and lets a test rewrite answers on their way back."""

    def __init__(self, rewrite: Rewrite) -> None:
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncHTTPTransport() as inner:
            response = await inner.handle_async_request(request)
            body = await response.aread()
        new = self.rewrite(request, response.status_code, body)
        keep = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(
            response.status_code,
            headers=keep,
            content=body if new is None else new,
            request=request,
        )


def mangled(emu: GoogleCalendarEmulator, rewrite: Rewrite) -> GoogleProvider:
    return GoogleProvider(EmulatorAuth(emu), api_base=emu.api_base, transport=Mangler(rewrite))


def insert(emu: GoogleCalendarEmulator, summary: str) -> dict[str, Any]:
    return emu.remote_insert(
        {
            "summary": summary,
            "start": {"dateTime": "2026-03-03T09:00:00Z"},
            "end": {"dateTime": "2026-03-03T10:00:00Z"},
        }
    )


def test_a_listing_that_is_not_json_is_transient(emu: GoogleCalendarEmulator) -> None:
    provider = mangled(emu, lambda req, status, body: b"<html>502 Bad Gateway</html>")
    with pytest.raises(TransientError) as caught:
        run(provider.pull(CALENDAR, None))
    assert "could not be read" in str(caught.value)
    half = mangled(emu, lambda req, status, body: body[: len(body) // 2])
    with pytest.raises(TransientError):
        run(half.discover())


def test_broken_events_in_a_listing_spoil_only_themselves(emu: GoogleCalendarEmulator) -> None:
    broken = insert(emu, "Anna K.")
    insert(emu, "Fine")

    def rewrite(request: httpx.Request, status: int, body: bytes) -> bytes | None:
        data = json.loads(body)
        for item in data.get("items", []):
            if item["id"] == broken["id"]:
                del item["start"]
        data.get("items", []).append("junk")
        return json.dumps(data).encode()

    provider = mangled(emu, rewrite)
    result = run(provider.pull(CALENDAR, None))
    assert result.warnings == ["Google listed an entry without an id; it was skipped"]
    by_id = {i.ref.remote_id: i for i in result.changed}
    fine = [i for rid, i in by_id.items() if rid != broken["id"]]
    assert [e.title for i in fine for e in provider.to_events(i, "c")] == ["Fine"]
    with pytest.raises(MalformedEvent) as caught:
        provider.to_events(by_id[broken["id"]], "c")
    assert isinstance(caught.value, CarecalError)
    assert f"event {broken['id']}: start is missing" in str(caught.value)
    assert "Anna" not in str(caught.value)


def test_a_write_answered_without_an_etag_is_transient(emu: GoogleCalendarEmulator) -> None:
    provider = mangled(
        emu, lambda req, status, body: b"{}" if req.method in ("POST", "PATCH") else None
    )
    start = datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("UTC"))
    event = Event(
        "event-1", "cal", "event-1@carecal", "Session", start, start.replace(hour=10), tzid="UTC"
    )
    with pytest.raises(TransientError) as caught:
        run(provider.create(CALENDAR, event.uid, provider.to_raw([event])))
    assert "no id or etag" in str(caught.value)
