"""A small JSON-over-HTTP client for REST APIs (Google Calendar), on net.http's client.

Providers may not import httpx (only net opens connections), so this module hands them plain
answers: ``JsonApi.send`` returns an ``Answer`` (status, headers, body text) for every HTTP
status, and the provider decides what a 403 or a 410 means for its API; ``Answer.error()``
gives the generic domain error for a status when the provider has nothing better to say.
``retry_delay`` is the in-place backoff for throttled answers that the calendar APIs share.

One ``httpx.AsyncClient`` is kept per event loop: the sync worker runs one loop for a cycle,
but tests (and a provider object reused across cycles) may call in from a fresh loop each
time, and an httpx connection pool cannot cross loops; a loop that shuts down closes its
client. Coroutines run on the network thread's
(the sync worker's) event loop; they raise only CarecalError subclasses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx

from carecal.net.http import (
    DEFAULT_TIMEOUT,
    error_for,
    make_client,
    network_error,
    parse_retry_after,
)

Transport: TypeAlias = httpx.AsyncBaseTransport
"""What replaces the network in tests (``httpx.MockTransport``, a forwarding proxy ...)."""

Params: TypeAlias = Mapping[str, str | list[str]]

BACKOFF_STEPS = (1.0, 2.0, 4.0)  # seconds before the 2nd, 3rd and 4th try
WAIT_AFTER_RETRIES = 8.0  # the backoff's next step, for the engine to pause the account
MAX_IN_PLACE_WAIT = 32.0  # a longer Retry-After pauses the account instead of this request


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, whatever its status. ``where`` is host and path (no query: tokens and
    filters travel there), for messages."""

    status: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    where: str = ""
    _request: httpx.Request | None = field(default=None, repr=False, compare=False)

    def json(self) -> Any:
        """The body as JSON. Raises ValueError when it is not JSON."""
        return json.loads(self.text)

    def error(self) -> Exception | None:
        """The generic domain error for this status (see net.http.error_for), None below 400."""
        if self.status < 400:
            return None
        request = self._request or httpx.Request("GET", "http://unknown/")
        return error_for(self.status, request, self.headers, self.text)


class JsonApi:
    """Requests to one API base URL. Not thread-safe: use it from one event loop at a time."""

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str = "Carecal",
        timeout: float = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._user_agent = user_agent
        self._timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closer: AsyncGenerator[None, None] | None = None

    async def _current(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = make_client(
                timeout=self._timeout,
                user_agent=self._user_agent,
                raise_for_status=False,
                transport=self._transport,
            )
            self._loop = loop
            # The loop closes the client when it shuts down (asyncio.run closes every async
            # generator it started), so a client left behind on a finished loop does not leak
            # its connections. A strong reference is kept: the loop's own is weak.
            self._closer = _close_at_shutdown(self._client)
            await anext(self._closer)
        return self._client

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request (``path`` below the base URL, already quoted; ``body`` sent as JSON
        when not None) and read the whole answer. Raises TransientError for network failures
        and timeouts; HTTP error statuses are returned, not raised."""
        client = await self._current()
        url = self.base_url + path
        try:
            response = await client.request(
                method,
                url,
                params=dict(params) if params else None,
                content=None if body is None else json.dumps(body).encode("utf-8"),
                headers={
                    **({"Content-Type": "application/json"} if body is not None else {}),
                    **(headers or {}),
                },
            )
            text = response.text  # httpx decodes with errors="replace": never raises here
        except httpx.HTTPError as exc:
            raise network_error(exc, _request_of(exc)) from None
        request = response.request
        return Answer(
            status=response.status_code,
            text=text,
            headers={k.lower(): v for k, v in response.headers.items()},
            where=f"{request.url.host}{request.url.path}",
            _request=request,
        )

    async def aclose(self) -> None:
        """Close the client of the current loop. Raises nothing."""
        closer, self._closer = self._closer, None
        self._client = None
        loop, self._loop = self._loop, None
        if closer is None:
            return
        if loop is asyncio.get_running_loop():
            await closer.aclose()  # runs _close_at_shutdown's finally: the client closes


def retry_delay(answer: Answer, waits: int, rng: random.Random) -> float | None:
    """How long to wait before sending a throttled request again in place, after ``waits``
    such waits: the answer's Retry-After, else the backoff step plus up to a second of jitter.
    None when the steps are used up or the Retry-After is above MAX_IN_PLACE_WAIT (the caller
    keeps the answer; the engine pauses the account). The caller decides whether ``answer``
    is throttled. Any thread; raises nothing."""
    if waits >= len(BACKOFF_STEPS):
        return None
    retry_after = parse_retry_after(answer.headers.get("retry-after"))
    if retry_after is not None:
        # The server knows best. A long wait is not waited out here.
        return retry_after if retry_after <= MAX_IN_PLACE_WAIT else None
    return BACKOFF_STEPS[waits] + rng.random()


async def _close_at_shutdown(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        # A broken connection need not be closed politely.
        with contextlib.suppress(httpx.HTTPError, RuntimeError):
            await client.aclose()


def _request_of(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # httpx raises when the error has no request attached
        return None
