"""A fault-injecting HTTP proxy for tests: it stands on 127.0.0.1 in front of a real CalDAV
server and misbehaves on purpose, the way networks and overloaded servers do.

Faults are chosen per request, either from a script (``proxy.script(...)``: the next matching
requests get these faults, in order) or at random with a seeded generator
(``proxy.randomize(rate, seed)``), so every run of a test sees the same faults. Every request
is recorded with its arrival time, its fault and the status it got, so tests can check what
the client did (e.g. that nothing was sent before a 429's Retry-After ran out).

Safety: it binds loopback only, forwards only to the one upstream given, stalls are bounded
and interrupted by ``stop()``, and a watchdog stops the proxy by itself after ``lifetime``
seconds if a test forgets to.

Threads: one serving thread plus one thread per connection (``ThreadingHTTPServer``); the
record list is guarded by a lock.
"""

from __future__ import annotations

import enum
import http.client
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

MAX_STALL_SECONDS = 5.0
UPSTREAM_TIMEOUT_SECONDS = 15.0
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}


class Fault(enum.StrEnum):
    NONE = "none"
    DROP_BEFORE = "drop_before"  # close the socket; the server never sees the request
    DROP_AFTER = "drop_after"  # forward (the server commits), then close with no answer
    STATUS_500 = "500"
    STATUS_503 = "503"
    RATE_LIMIT = "429"  # 429 with Retry-After
    STALL = "stall"  # wait longer than the client's timeout, then forward anyway
    TRUNCATE = "truncate"  # announce more than the body, send half of it, close
    SHORT_BODY = "short_body"  # a complete HTTP answer whose body is cut in half
    NO_ETAG = "no_etag"  # forward, but strip the ETag header of a 2xx


RANDOM_FAULTS: tuple[Fault, ...] = (
    Fault.DROP_BEFORE,
    Fault.DROP_AFTER,
    Fault.STATUS_500,
    Fault.STATUS_503,
    Fault.RATE_LIMIT,
    Fault.TRUNCATE,
    Fault.SHORT_BODY,
    Fault.NO_ETAG,
)
"""Faults drawn by ``randomize`` unless told otherwise (stalls are slow; add them explicitly)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One request the proxy received. ``at`` is ``time.monotonic()`` on arrival; ``status`` is
    what the client got (0: no answer); ``retry_after`` is set for the 429s."""

    at: float
    method: str
    path: str
    fault: Fault
    status: int
    retry_after: float | None = None


@dataclass
class _Scripted:
    fault: Fault
    method: str | None


class FaultProxy:
    """Forward to ``upstream`` (e.g. ``http://127.0.0.1:5232/``), faulting as configured.

    ``url`` is the proxy's base URL; ``translate(url)`` maps an upstream URL onto the proxy.
    """

    def __init__(
        self,
        upstream: str,
        *,
        stall_seconds: float = 2.0,
        retry_after: float = 1.0,
        lifetime: float = 300.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to a loopback server")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.stall_seconds = min(stall_seconds, MAX_STALL_SECONDS)
        self.retry_after = retry_after
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._script: deque[_Scripted] = deque()
        self._rate = 0.0
        self._kinds: tuple[Fault, ...] = RANDOM_FAULTS
        self._methods: frozenset[str] | None = None
        self._rng = random.Random(0)
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._watchdog = threading.Timer(lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()

    # --- configuration (test thread) ---------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def translate(self, upstream_url: str) -> str:
        """The same resource, reached through the proxy."""
        parts = urlsplit(upstream_url)
        return self.url.rstrip("/") + (parts.path or "/")

    def script(self, *faults: Fault, method: str | None = None) -> None:
        """The next requests (with ``method``, if given) get these faults, one each, in order."""
        with self._lock:
            self._script.extend(_Scripted(f, method) for f in faults)

    def randomize(
        self,
        rate: float,
        seed: int,
        kinds: Iterable[Fault] = RANDOM_FAULTS,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Fault a ``rate`` share of requests (restricted to ``methods`` if given) with a kind
        drawn from ``kinds``; ``rate=0`` turns random faults off."""
        with self._lock:
            self._rate = rate
            self._rng = random.Random(seed)
            self._kinds = tuple(kinds)
            self._methods = frozenset(m.upper() for m in methods) if methods else None

    def clear(self) -> None:
        """No more faults (scripted or random)."""
        with self._lock:
            self._script.clear()
            self._rate = 0.0

    def faults(self, kind: Fault | None = None) -> list[Record]:
        with self._lock:
            return [
                r for r in self.records if r.fault is not Fault.NONE and kind in (None, r.fault)
            ]

    # --- lifetime ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving (idempotent); interrupts any stall. Any thread."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._watchdog.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- per request (connection threads) ----------------------------------------------------

    def _choose(self, method: str) -> Fault:
        with self._lock:
            for i, s in enumerate(self._script):
                if s.method is None or s.method == method:
                    del self._script[i]
                    return s.fault
            if self._rate <= 0 or (self._methods is not None and method not in self._methods):
                return Fault.NONE
            # Draw both numbers every time so the sequence depends only on the request order.
            roll, pick = self._rng.random(), self._rng.choice(self._kinds)
            return pick if roll < self._rate else Fault.NONE

    def _record(self, rec: Record) -> None:
        with self._lock:
            self.records.append(rec)

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=UPSTREAM_TIMEOUT_SECONDS
        )
        try:
            send = {k: v for k, v in headers if k.lower() not in _HOP_BY_HOP | {"host"}}
            conn.request(method, path, body=body or None, headers=send)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(
            self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
        ) -> None:
            self.send_response(status, reason)
            for k, v in headers:
                if k.lower() not in _HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _drop(self) -> None:
            self.close_connection = True
            self.wfile.flush()
            self.connection.close()

        def _handle(self) -> None:
            method, path = self.command, self.path
            arrived = time.monotonic()
            body = self._body()
            fault = proxy._choose(method)
            headers = list(self.headers.items())
            if fault is Fault.DROP_BEFORE:
                proxy._record(Record(arrived, method, path, fault, 0))
                self._drop()
                return
            if fault in (Fault.STATUS_500, Fault.STATUS_503):
                status = int(fault.value)
                proxy._record(Record(arrived, method, path, fault, status))
                self._send(status, "Injected", [("Content-Type", "text/plain")], b"injected")
                return
            if fault is Fault.RATE_LIMIT:
                wait = proxy.retry_after
                proxy._record(Record(arrived, method, path, fault, 429, wait))
                self._send(429, "Too Many Requests", [("Retry-After", f"{wait:g}")], b"slow down")
                return
            if fault is Fault.STALL:
                # Recorded at once: the client gives up (status 0) before the stall ends.
                proxy._record(Record(arrived, method, path, fault, 0))
                if proxy._stopping.wait(proxy.stall_seconds):
                    self._drop()
                    return
            try:
                status, reason, out_headers, data = proxy._forward(method, path, headers, body)
            except OSError:
                proxy._record(Record(arrived, method, path, fault, 502))
                self._send(502, "Bad Gateway", [], b"upstream unreachable")
                return
            if fault is Fault.DROP_AFTER or (fault is Fault.TRUNCATE and status in (204, 304)):
                # A bodiless answer cannot be cut short: it is lost whole instead.
                proxy._record(Record(arrived, method, path, fault, 0))
                self._drop()
                return
            if fault is Fault.TRUNCATE:
                proxy._record(Record(arrived, method, path, fault, 0))
                self.send_response(status, reason)
                for k, v in out_headers:
                    if k.lower() not in _HOP_BY_HOP:
                        self.send_header(k, v)
                # Announce more than is sent, so even an empty answer is cut short.
                self.send_header("Content-Length", str(len(data) + 64))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self._drop()
                return
            if fault is Fault.SHORT_BODY:
                data = data[: len(data) // 2]
            if fault is Fault.NO_ETAG and 200 <= status < 300:
                out_headers = [(k, v) for k, v in out_headers if k.lower() != "etag"]
            if fault is not Fault.STALL:
                proxy._record(Record(arrived, method, path, fault, status))
            self._send(status, reason, out_headers, data)

        do_GET = do_PUT = do_DELETE = do_POST = do_HEAD = _handle
        do_OPTIONS = do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = _handle
        do_MKCOL = do_MOVE = do_COPY = _handle

    return Handler


def early_requests(
    records: Iterable[Record], *, same_path: bool = False, methods: Iterable[str] | None = None
) -> list[tuple[Record, Record]]:
    """(429 answer, request) pairs where the request came before the 429's Retry-After ran out.

    ``same_path``: only count requests for the resource that got the 429; ``methods``: only 429s
    answered to (and requests sent with) these methods. Any thread.
    """
    wanted = frozenset(m.upper() for m in methods) if methods is not None else None
    rows = sorted(records, key=lambda r: r.at)
    out: list[tuple[Record, Record]] = []
    for limited in rows:
        if limited.retry_after is None or (wanted is not None and limited.method not in wanted):
            continue
        deadline = limited.at + limited.retry_after - 0.05  # timer granularity
        for r in rows:
            if not limited.at < r.at < deadline:
                continue
            if same_path and r.path != limited.path:
                continue
            if wanted is not None and r.method not in wanted:
                continue
            out.append((limited, r))
    return out
