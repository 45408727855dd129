"""The Outlook provider's error paths on the Graph emulator: sign-in refresh on 401 and a dead
refresh token, 429/503 with Retry-After retried in place then RateLimited, 504 and 5xx as
transient, refusals, 412, 404 on delete, 410, a network that is down and garbled answers.
Nothing but Carecal's own errors leaves the provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from carecal.domain.errors import (
    AuthExpired,
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    RateLimited,
    SyncStateExpired,
    TransientError,
)
from carecal.domain.models import Event
from carecal.providers.base import RemoteCalendar, RemoteRef
from carecal.providers.outlook import OutlookProvider
from tests.fakes.graph_server import GraphEmulator
from tests.providers.contract import run
from tests.providers.outlook_support import EmulatorAuth, outlook_provider, running_emulator


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def cal(emu: GraphEmulator) -> RemoteCalendar:
    return RemoteCalendar(emu.default_calendar_id, "Calendar")


@pytest.fixture
def provider(emu: GraphEmulator) -> Iterator[OutlookProvider]:
    made = outlook_provider(emu)
    yield made
    run(made.close())


def one(provider: OutlookProvider, title: str = "Session") -> str:
    start = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
    event = Event("e1e1e1e1e1", "cal-1", "e1e1e1e1e1@carecal", title, start, start.replace(hour=10))
    return provider.to_raw([event])


def test_401_refreshes_once_and_goes_on(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    emu.expire_access_tokens()
    assert run(provider.pull(cal, None)).complete
    auth = provider._api._auth
    assert isinstance(auth, EmulatorAuth) and auth.refreshes == 1


def test_a_dead_refresh_token_is_auth_expired(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    auth = provider._api._auth
    assert isinstance(auth, EmulatorAuth)
    auth.dead = True
    emu.expire_access_tokens()
    with pytest.raises(AuthExpired):
        run(provider.discover())


def test_a_401_after_the_refresh_is_auth_expired(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    emu.fail_next(2, 401, "InvalidAuthenticationToken")
    with pytest.raises(AuthExpired):
        run(provider.discover())


def test_429_and_503_wait_for_retry_after_in_place(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    emu.fail_next(1, 429, "ApplicationThrottled", retry_after="2")
    emu.fail_next(1, 503, "ServiceUnavailable", retry_after="3")
    assert run(provider.discover())
    assert provider.waits == [2.0, 3.0]


def test_throttling_that_outlasts_the_retries_is_rate_limited(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    emu.fail_next(4, 429, "ApplicationThrottled", retry_after="5")
    with pytest.raises(RateLimited) as caught:
        run(provider.pull(cal, None))
    assert caught.value.retry_after == 5.0 and provider.waits == [5.0, 5.0, 5.0]
    emu.fail_next(1, 429, "ApplicationThrottled", retry_after="600")
    with pytest.raises(RateLimited) as long_wait:
        run(provider.discover())
    assert long_wait.value.retry_after == 600.0  # not waited here: the account pauses


def test_429_without_retry_after_backs_off(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    emu.fail_next(2, 429, "ApplicationThrottled", retry_after=None)
    assert run(provider.discover())
    assert len(provider.waits) == 2 and 1.0 <= provider.waits[0] < 2.0 <= provider.waits[1]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_transient(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider, status: int
) -> None:
    emu.fail_next(1, status, "UnknownError")
    with pytest.raises(TransientError) as caught:
        run(provider.pull(cal, None))
    assert not isinstance(caught.value, RateLimited)


def test_refusals_are_permanent_for_the_item(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    emu.fail_next(1, 400, "ErrorInvalidRequest", method="POST")
    with pytest.raises(PermanentItemError):
        run(provider.create(cal, "e1e1e1e1e1@carecal", one(provider)))
    emu.fail_next(1, 403, "ErrorAccessDenied", method="POST")
    with pytest.raises(PermanentItemError):
        run(provider.create(cal, "e1e1e1e1e1@carecal", one(provider)))


def test_412_and_404_on_writes(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    ref = run(provider.create(cal, "e1e1e1e1e1@carecal", one(provider)))
    emu.remote_patch(ref.remote_id, {"subject": "Elsewhere"})
    with pytest.raises(PreconditionFailed):
        run(provider.update(cal, ref, one(provider, "Mine")))
    with pytest.raises(PreconditionFailed):
        run(provider.delete(cal, ref))
    # An edit on Outlook between Carecal's read and its PATCH: Graph's own 412.
    current = run(provider.get(cal, ref.remote_id))
    emu.fail_next(1, 412, "ErrorIrresolvableConflict", method="PATCH")
    with pytest.raises(PreconditionFailed):
        run(provider.update(cal, current.ref, one(provider, "Mine")))
    emu.remote_delete(ref.remote_id)
    run(provider.delete(cal, current.ref))  # already gone: done
    with pytest.raises(NotFound):
        run(provider.update(cal, current.ref, one(provider, "Mine")))
    with pytest.raises(NotFound):
        run(provider.get(cal, ref.remote_id))


def test_expired_delta_state_and_foreign_states(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    first = run(provider.pull(cal, None))
    assert first.state is not None
    emu.expire_delta_tokens()
    with pytest.raises(SyncStateExpired):
        run(provider.pull(cal, first.state))
    for state in ("google:abc", "outlook:{", 'outlook:{"link":"https://elsewhere/x"}'):
        with pytest.raises(SyncStateExpired):
            run(provider.pull(cal, state))


def test_a_network_that_is_down_is_transient(cal: RemoteCalendar) -> None:
    with GraphEmulator() as emu:
        provider = outlook_provider(emu)
        base = emu.api_base
    closed = OutlookProvider(provider._api._auth, api_base=base)
    with pytest.raises(TransientError):
        run(closed.discover())
    run(closed.close())


@pytest.mark.parametrize("text", ["<html>proxy error</html>", "[1, 2]", ""])
def test_garbled_answers_are_transient(cal: RemoteCalendar, text: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=text)

    class Auth:
        async def headers(self) -> dict[str, str]:
            return {"Authorization": "Bearer x"}

        async def refresh(self, stale: object = None) -> object:
            raise AssertionError("no refresh expected")

    provider = OutlookProvider(Auth(), transport=httpx.MockTransport(answer))  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        run(provider.pull(cal, None))
    if text:
        with pytest.raises(TransientError):
            run(provider.delete(cal, RemoteRef("x", None)))
    else:
        run(provider.delete(cal, RemoteRef("x", None)))  # an empty 2xx answer: deleted
    run(provider.close())
