"""The one httpx client factory, and the translation of HTTP answers into the domain's errors.

``make_client`` gives an ``httpx.AsyncClient`` with timeouts, a User-Agent, a per-host throttle
and a transport that turns network failures and timeouts into ``TransientError``; unless told
otherwise it also raises the domain's errors for 4xx/5xx answers (see ``check_response``), so a
provider only ever sees successful responses or ``CarecalError`` subclasses. Messages name the
host, the path and the status, never the query string, headers or body (tokens travel there).
Clients run on the asyncio network thread.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from carecal.net.errors import (
    HttpAuthExpired,
    HttpNotFound,
    HttpPermanentError,
    HttpPreconditionFailed,
    HttpRateLimited,
    HttpTransientError,
)
from carecal.net.throttle import HostThrottle

DEFAULT_TIMEOUT = 30.0
BODY_LIMIT = 64 * 1024  # an error body is kept for inspection, not shown; cap what is kept


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from ``now`` (epoch seconds, default: the wall clock) that a Retry-After header
    asks for: either delta-seconds or an HTTP date. None when absent or unreadable; a date in
    the past gives 0. Pure; any thread."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


def _reason(body: str) -> str | None:
    """The provider's reason code in a JSON error body (Google, Graph and OAuth shapes)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, str):  # OAuth: {"error": "invalid_grant"}
        return error
    if isinstance(error, dict):
        errors = error.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            reason = errors[0].get("reason")  # Google: error.errors[0].reason
            if isinstance(reason, str):
                return reason
        code = error.get("code")  # Graph: error.code
        if isinstance(code, str):
            return code
        status = error.get("status")
        if isinstance(status, str):
            return status
    return None


def _where(request: httpx.Request) -> str:
    return f"{request.url.host}{request.url.path}"


def error_for(
    status: int,
    request: httpx.Request,
    headers: Mapping[str, str],
    body: str,
    *,
    now: float | None = None,
) -> Exception | None:
    """The domain error for an HTTP answer, or None for statuses below 400. Pure; any thread."""
    if status < 400:
        return None
    where = _where(request)
    reason = _reason(body)
    kept = body[:BODY_LIMIT]
    if status == 401:
        return HttpAuthExpired(
            f"{request.url.host} no longer accepts the saved sign-in (401); sign in again",
            status=status,
            body=kept,
            reason=reason,
        )
    if status in (404, 410):
        return HttpNotFound(
            f"{where}: not found ({status})", status=status, body=kept, reason=reason
        )
    if status in (409, 412):
        return HttpPreconditionFailed(
            f"{where}: changed on the server since it was last read ({status})",
            status=status,
            body=kept,
            reason=reason,
        )
    retry_after = parse_retry_after(headers.get("retry-after"), now=now)
    if status == 429 or (status == 503 and retry_after is not None):
        wait = f"; retry in {retry_after:.0f} s" if retry_after is not None else ""
        return HttpRateLimited(
            f"{request.url.host} asks Carecal to slow down ({status}){wait}",
            status=status,
            body=kept,
            reason=reason,
            retry_after=retry_after,
        )
    if status >= 500:
        return HttpTransientError(
            f"{request.url.host} had a server error ({status}); will try again",
            status=status,
            body=kept,
            reason=reason,
        )
    return HttpPermanentError(
        f"{where}: refused by the server ({status}{', ' + reason if reason else ''})",
        status=status,
        body=kept,
        reason=reason,
    )


async def check_response(response: httpx.Response) -> httpx.Response:
    """Return ``response`` when its status is below 400; otherwise read its body and raise the
    domain error for it. Runs on the network thread. Raises HttpAuthExpired, HttpNotFound,
    HttpPreconditionFailed, HttpRateLimited, HttpTransientError, HttpPermanentError."""
    if response.status_code < 400:
        return response
    try:
        await response.aread()
        body = response.text
    except (httpx.HTTPError, UnicodeDecodeError):
        body = ""
    error = error_for(response.status_code, response.request, response.headers, body)
    assert error is not None
    raise error


def network_error(exc: httpx.HTTPError, request: httpx.Request | None = None) -> HttpTransientError:
    """A TransientError for a timeout or network failure, naming only the host. Pure."""
    host = request.url.host if request is not None else "the server"
    if isinstance(exc, httpx.TimeoutException):
        return HttpTransientError(f"{host} did not answer in time; will try again")
    return HttpTransientError(f"could not reach {host} ({type(exc).__name__}); will try again")


class _MappedStream(httpx.AsyncByteStream):
    """A response body whose read errors come out as TransientError."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            raise network_error(exc, self._request) from None

    async def aclose(self) -> None:
        await self._inner.aclose()


class CarecalTransport(httpx.AsyncBaseTransport):
    """Waits for the host's throttle slot, maps network failures to TransientError, and defers
    the host after a 429 (or 503 with Retry-After)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        throttle: HostThrottle | None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._throttle = throttle
        self._wall_clock = wall_clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if self._throttle is not None:
            await self._throttle.wait(host)
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError as exc:
            raise network_error(exc, request) from None
        if self._throttle is not None and response.status_code in (429, 503):
            after = parse_retry_after(response.headers.get("retry-after"), now=self._wall_clock())
            if after is not None:
                self._throttle.defer(host, after)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_MappedStream(response.stream, request),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def client_options(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    user_agent: str,
    throttle: HostThrottle | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for an ``httpx.AsyncClient`` (or a subclass such as authlib's OAuth
    client) with Carecal's timeouts, User-Agent, throttle and network-error mapping, but without
    the status check. ``transport`` replaces the network (tests). Pure."""
    all_headers = {"User-Agent": user_agent}
    all_headers.update(headers or {})
    return {
        "timeout": httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        "headers": all_headers,
        "transport": CarecalTransport(transport or httpx.AsyncHTTPTransport(), throttle),
        "follow_redirects": False,
        "trust_env": True,
    }


def make_client(
    *,
    timeout: float = DEFAULT_TIMEOUT,
    user_agent: str,
    throttle: HostThrottle | None = None,
    base_url: str = "",
    headers: Mapping[str, str] | None = None,
    raise_for_status: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An httpx client for one account or provider. With ``raise_for_status`` every answer of
    400 or more raises the domain error for it (``check_response``); network failures and
    timeouts always raise TransientError. Build and use it on the network thread's event loop;
    close it with ``await client.aclose()`` (or ``async with``)."""
    hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": []}
    if raise_for_status:
        hooks["response"].append(check_response)
    return httpx.AsyncClient(
        base_url=base_url,
        event_hooks=hooks,
        **client_options(
            timeout=timeout,
            user_agent=user_agent,
            throttle=throttle,
            transport=transport,
            headers=headers,
        ),
    )
