"""The client factory: status -> domain error, Retry-After, network failures, per-host throttle."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from carecal.domain.errors import (
    AuthExpired,
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    RateLimited,
    TransientError,
)
from carecal.net.errors import HttpDetail
from carecal.net.http import make_client, parse_retry_after
from carecal.net.throttle import HostThrottle

SECRET = "ya29.very-secret-token"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class FakeClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sent: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def answering(status: int, body: str = "", retry_after: str | None = None) -> httpx.MockTransport:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.MockTransport(lambda request: httpx.Response(status, text=body, headers=headers))


async def get(transport: httpx.BaseTransport | httpx.AsyncBaseTransport, **kw: Any) -> Any:
    async with make_client(user_agent="Carecal/test", transport=transport, **kw) as client:  # type: ignore[arg-type]
        return await client.get(f"https://api.example.com/cal/events?access_token={SECRET}")


GOOGLE_410 = '{"error":{"errors":[{"domain":"calendar","reason":"fullSyncRequired"}],"code":410}}'


@pytest.mark.parametrize(
    ("status", "body", "expected", "reason"),
    [
        (401, '{"error":{"errors":[{"reason":"authError"}]}}', AuthExpired, "authError"),
        (404, "", NotFound, None),
        (410, GOOGLE_410, NotFound, "fullSyncRequired"),
        (409, '{"error":{"errors":[{"reason":"duplicate"}]}}', PreconditionFailed, "duplicate"),
        (412, "", PreconditionFailed, None),
        (429, "", RateLimited, None),
        (503, "", TransientError, None),
        (500, "", TransientError, None),
        (502, "<html>bad gateway</html>", TransientError, None),
        (400, '{"error":"invalid_request"}', PermanentItemError, "invalid_request"),
        (403, '{"error":{"code":"ErrorAccessDenied"}}', PermanentItemError, "ErrorAccessDenied"),
    ],
)
def test_status_mapping(
    status: int, body: str, expected: type[Exception], reason: str | None
) -> None:
    with pytest.raises(expected) as caught:
        run(get(answering(status, body)))
    err = caught.value
    assert isinstance(err, HttpDetail)
    assert err.status == status and err.body == body and err.reason == reason
    assert SECRET not in str(err) and "access_token" not in str(err)
    assert "\n" not in str(err)
    if status == 503:
        assert not isinstance(err, RateLimited)  # no Retry-After: an ordinary transient error


def test_success_and_not_modified_pass_through() -> None:
    assert run(get(answering(200, "{}"))).status_code == 200
    assert run(get(answering(304))).status_code == 304
    unchecked = run(get(answering(412), raise_for_status=False))
    assert unchecked.status_code == 412


def test_rate_limits_carry_retry_after() -> None:
    with pytest.raises(RateLimited) as caught:
        run(get(answering(429, retry_after="7")))
    assert caught.value.retry_after == 7.0
    with pytest.raises(RateLimited) as caught:
        run(get(answering(503, retry_after="30")))
    assert caught.value.retry_after == 30.0


def test_retry_after_parsing() -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("120", now=now) == 120.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("Sun, 01 Mar 2026 12:01:30 GMT", now=now) == 90.0
    later = format_datetime(datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(later, now=now) == 5.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=now) == 0.0  # past
    assert parse_retry_after("-5", now=now) == 0.0
    for junk in (None, "", "soon", "Sun, 99 Foo 2026"):
        assert parse_retry_after(junk, now=now) is None


def test_network_failures_are_transient() -> None:
    # A real refused connection (nothing listens on the discard port of the loopback).
    async def refused() -> None:
        async with make_client(user_agent="Carecal/test", timeout=2) as client:
            await client.get(f"http://127.0.0.1:9/?token={SECRET}")

    with pytest.raises(TransientError) as caught:
        run(refused())
    assert SECRET not in str(caught.value)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(TransientError, match="did not answer in time"):
        run(get(httpx.MockTransport(timeout)))


def test_body_read_failure_is_transient() -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self) -> Any:
            yield b"{"
            raise httpx.RemoteProtocolError("peer closed connection")

    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=Broken()))
    with pytest.raises(TransientError, match=r"could not reach api\.example\.com"):
        run(get(transport))


def test_throttle_spaces_requests_per_host() -> None:
    clock = FakeClock()
    throttle = HostThrottle(0.5, per_host={"slow.example": 2.0}, clock=clock, sleep=clock.sleep)

    async def burst() -> list[tuple[str, float]]:
        sent: list[tuple[str, float]] = []
        for host in [
            "a.example",
            "a.example",
            "b.example",
            "a.example",
            "slow.example",
            "slow.example",
        ]:
            await throttle.wait(host)
            sent.append((host, clock.now))
        return sent

    sent = run(burst())
    times: dict[str, list[float]] = {}
    for host, when in sent:
        times.setdefault(host, []).append(when)
    assert times["a.example"] == [100.0, 100.5, 101.0]
    assert times["b.example"] == [100.5]  # another host is not held back by a.example's spacing
    assert times["slow.example"][1] - times["slow.example"][0] == 2.0


def test_throttle_concurrent_callers_line_up() -> None:
    clock = FakeClock()
    throttle = HostThrottle(1.0, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def one() -> None:
        await throttle.wait("h")
        starts.append(clock.now)

    async def many() -> None:
        await asyncio.gather(*(one() for _ in range(4)))

    run(many())
    assert sorted(starts) == [100.0, 101.0, 102.0, 103.0]


def test_a_429_defers_the_host() -> None:
    clock = FakeClock()
    throttle = HostThrottle(0.0, clock=clock, sleep=clock.sleep)
    statuses = iter([429, 200])
    seen: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(clock.now)
        return httpx.Response(next(statuses), headers={"Retry-After": "12"})

    async def twice() -> None:
        async with make_client(
            user_agent="Carecal/test", throttle=throttle, transport=httpx.MockTransport(handler)
        ) as client:
            with pytest.raises(RateLimited):
                await client.get("https://api.example.com/x")
            assert throttle.delay("api.example.com") == 12.0
            await client.get("https://api.example.com/x")

    run(twice())
    assert seen == [100.0, 112.0]


def test_user_agent_and_timeout_are_set() -> None:
    got: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        got.append(request)
        return httpx.Response(200)

    async def once() -> None:
        async with make_client(
            user_agent="Carecal/9.9", timeout=7, transport=httpx.MockTransport(handler)
        ) as client:
            assert client.timeout.read == 7
            await client.get("https://api.example.com/")

    run(once())
    assert got[0].headers["User-Agent"] == "Carecal/9.9"
