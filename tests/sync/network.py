"""The network between a real provider and its emulator, with faults, for the sync tests that
run the engine on the Google and Outlook emulators: answers of applied writes lost on the way
back, and FaultyProvider's faults (tests.sync.helpers) as HTTP answers.

The transports run on the provider's event loop; they raise httpx errors as a broken
connection would."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from carecal.domain.errors import RemoteError


async def _forward(request: httpx.Request) -> tuple[httpx.Response, bytes]:
    """Send ``request`` on a fresh connection; the answer and its whole body."""
    async with httpx.AsyncHTTPTransport() as inner:
        response = await inner.handle_async_request(request)
        body = await response.aread()
    return response, body


def _replay(response: httpx.Response, body: bytes, request: httpx.Request) -> httpx.Response:
    """``response`` again with its body already read (httpx sets the length anew)."""
    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    return httpx.Response(response.status_code, headers=headers, content=body, request=request)


class DropAnswers(httpx.AsyncBaseTransport):
    """Forwards to the emulator, but loses the answer of the next request of each method in
    ``drop``: the server applied the write, Carecal saw the connection fail."""

    def __init__(self) -> None:
        self.drop: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response, body = await _forward(request)
        if request.method in self.drop:
            self.drop.remove(request.method)
            raise httpx.ReadError("connection reset by peer", request=request)
        return _replay(response, body, request)


class FaultyNetwork(httpx.AsyncBaseTransport):
    """The network between the provider and the emulator, with FaultyProvider's faults:
    ``fail_next`` errors for the next requests, ``fail_at[n]`` for the n-th request, and
    ``lose`` answers of applied writes (``is_write`` requests) dropped on the way back.
    ``fault`` is the server's answer for an injected error."""

    def __init__(
        self,
        fault: Callable[[httpx.Request, RemoteError], httpx.Response],
        is_write: Callable[[httpx.Request], bool],
    ) -> None:
        self.fault = fault
        self.is_write = is_write
        self.fail_next: list[RemoteError] = []
        self.fail_at: dict[int, RemoteError] = {}
        self.lose = 0
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        n, self.calls = self.calls, self.calls + 1
        error = self.fail_at.pop(n, None)
        if error is None and self.fail_next:
            error = self.fail_next.pop(0)
        if error is not None:
            return self.fault(request, error)
        response, body = await _forward(request)
        if self.lose and self.is_write(request) and response.status_code < 300:
            self.lose -= 1
            raise httpx.ReadError("connection reset by peer", request=request)
        return _replay(response, body, request)


class NetworkFaultHooks:
    """FaultyProvider's test hooks, which the state machine drives, for a provider whose
    transport is the FaultyNetwork ``net``."""

    net: FaultyNetwork

    @property
    def fail_next(self) -> list[RemoteError]:
        return self.net.fail_next

    @fail_next.setter
    def fail_next(self, errors: list[RemoteError]) -> None:
        self.net.fail_next = list(errors)

    @property
    def lose(self) -> int:
        return self.net.lose

    @lose.setter
    def lose(self, count: int) -> None:
        self.net.lose = count

    def arm(self, offset: int, error: RemoteError) -> None:
        """Raise ``error`` on the request ``offset`` requests from now."""
        self.net.fail_at[self.net.calls + offset] = error

    def calm(self) -> None:
        self.net.fail_at.clear()
        self.net.fail_next = []
        self.net.lose = 0
