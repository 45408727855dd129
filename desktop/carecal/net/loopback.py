"""A one-shot HTTP server on 127.0.0.1 that receives the browser's redirect after sign-in.

It listens on an ephemeral port, answers ``GET /?code=..&state=..`` (or ``?error=``) with a short
page telling the user to go back to Carecal, and hands the query to the waiting coroutine; any
other path gets a 404 and the wait goes on. Stdlib asyncio only. Runs on the network thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, urlsplit

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Carecal</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body></html>"
)
_DONE = ("You are signed in", "You can close this tab and go back to Carecal.")
_FAILED = ("Sign-in did not complete", "Go back to Carecal and try again.")

_MAX_REQUEST = 16 * 1024


class LoopbackReceiver:
    """Use as ``async with LoopbackReceiver() as rx``: ``rx.redirect_uri`` for the request, then
    ``await rx.wait()`` for the query parameters of the one redirect. ``accept`` decides whether
    the answer page says success (the caller checks the state there)."""

    def __init__(self, host: str = "127.0.0.1", path: str = "/") -> None:
        self._host = host
        self._path = path
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[dict[str, str]] | None = None
        self.accept: Callable[[Mapping[str, str]], bool] | None = None
        self.port = 0

    @property
    def redirect_uri(self) -> str:
        return f"http://{self._host}:{self.port}{self._path}"

    async def __aenter__(self) -> LoopbackReceiver:
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._handle, self._host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)

    async def wait(self) -> dict[str, str]:
        assert self._result is not None
        return await asyncio.shield(self._result)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            writer.close()
            return
        status, page = self._answer(head[:_MAX_REQUEST].decode("latin-1"))
        body = page.encode("utf-8")
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("ascii")
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    def _answer(self, head: str) -> tuple[str, str]:
        parts = head.split("\r\n", 1)[0].split(" ")
        if len(parts) < 2 or parts[0] != "GET":
            return "405 Method Not Allowed", _PAGE.format(title=_FAILED[0], text=_FAILED[1])
        target = urlsplit(parts[1])
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        if target.path != self._path or not ({"code", "error"} & query.keys()):
            return "404 Not Found", _PAGE.format(title="Not found", text="")
        assert self._result is not None
        if self._result.done():
            return "410 Gone", _PAGE.format(title=_FAILED[0], text=_FAILED[1])
        ok = "code" in query and (self.accept is None or self.accept(query))
        self._result.set_result(query)
        title, text = _DONE if ok else _FAILED
        return ("200 OK" if ok else "400 Bad Request"), _PAGE.format(title=title, text=text)
