"""A small stand-in for iCloud's CalDAV quirks, in front of a real Radicale, for tests.

Two listening ports on 127.0.0.1: the *front* (standing for caldav.icloud.com) answers only
discovery: the principal lives there, and its calendar-home-set points, as an absolute URL, at
the *partition* port (standing for pNN-caldav.icloud.com), which forwards to Radicale with the
quirks iCloud is known for:

- hrefs in multistatus answers are absolute and name the front host, not the partition;
- sync-collection lists the collection itself as one of its members;
- ``If-Match: *`` works backwards: 412 on an existing object, and it creates a missing one;
- an event with no end (neither DTEND nor DURATION) is refused with 403;
- returned calendar data carries its DTSTAMP line twice;
- a request without the right Basic credentials gets a 401 offering X-MobileMe-AuthToken and
  Basic; a Depth: 1 PROPFIND on the principal gets 400.

Every request is recorded (method, port role, path, headers). Loopback only; ``stop()`` (or
the watchdog after ``lifetime`` seconds) ends both servers. Threads: one serving thread per port
plus one per connection; the record list is guarded by a lock.
"""

from __future__ import annotations

import base64
import http.client
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

DSID = "1234567890"
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te"}
_NOT_FORWARDED = _HOP | {"accept-encoding"}  # bodies are rewritten: ask for plain ones
_HREF = re.compile(rb"<(?P<p>[A-Za-z0-9]+:)?href>(?P<v>/[^<]*)</(?P=p)?href>")
_DTSTAMP = re.compile(rb"(DTSTAMP[^\r\n<]*?)((?:&#13;|\r)?\n)")
_SYNC_REPORT = re.compile(rb"sync-collection")


@dataclass(frozen=True, slots=True)
class Seen:
    """One request: which port ("front" | "partition"), method, path, and its headers."""

    role: str
    method: str
    path: str
    headers: dict[str, str]


class ICloudProxy:
    """See the module docstring. ``url`` is the front (what a user would type)."""

    def __init__(
        self, upstream: str, username: str, password: str, *, lifetime: float = 300.0
    ) -> None:
        parts = urlsplit(upstream)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("the iCloud proxy only forwards to a loopback server")
        self._up = (parts.hostname, parts.port or 80)
        self._auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.home_path = f"/{username}/"  # Radicale's calendar home for that user
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._servers = {
            role: ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, role))
            for role in ("front", "partition")
        }
        for server in self._servers.values():
            server.daemon_threads = True
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()
        self._watchdog = threading.Timer(lifetime, self.stop)
        self._watchdog.daemon = True
        self._watchdog.start()

    def base(self, role: str) -> str:
        return f"http://127.0.0.1:{self._servers[role].server_address[1]}/"

    @property
    def url(self) -> str:
        return self.base("front")

    def partition_url(self, upstream_url: str) -> str:
        """An upstream URL as reached through the partition host."""
        return self.base("partition").rstrip("/") + urlsplit(upstream_url).path

    def requests(self, method: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if method in (None, s.method)]

    def stop(self) -> None:
        """Stop both ports (idempotent). Any thread."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._watchdog.cancel()
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def __enter__(self) -> ICloudProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- connection threads -------------------------------------------------------------------

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self._up, timeout=15)
        try:
            send = {k: v for k, v in headers.items() if k.lower() not in _NOT_FORWARDED}
            conn.request(method, path, body=body or None, headers=send)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def _exists(self, path: str) -> bool:
        status, _, _ = self._forward("HEAD", path, {"Authorization": self._auth}, b"")
        return status == 200

    def _principal(self, depth: str, at_principal: bool) -> tuple[int, bytes]:
        if depth != "0":
            return 400, b"Depth 1 on the principal is not supported"
        home = self.base("partition").rstrip("/") + self.home_path
        front = self.url.rstrip("/")
        # Like iCloud, the root names only the principal; the home is asked of the principal.
        home_set = f"<C:calendar-home-set><href>{home}</href></C:calendar-home-set>"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><multistatus xmlns="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><response>'
            f"<href>{front}/{DSID}/principal/</href><propstat><prop>"
            f"<current-user-principal><href>{front}/{DSID}/principal/</href>"
            "</current-user-principal>"
            f"{home_set if at_principal else ''}"
            "<resourcetype><principal/></resourcetype>"
            "</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"
        )
        return 207, body.encode()

    def _quirky_body(self, path: str, body: bytes, request: bytes) -> bytes:
        front = self.url.rstrip("/").encode()
        body = _HREF.sub(
            lambda m: (
                b"<"
                + (m["p"] or b"")
                + b"href>"
                + front
                + m["v"]
                + b"</"
                + (m["p"] or b"")
                + b"href>"
            ),
            body,
        )
        body = _DTSTAMP.sub(lambda m: m[1] + m[2] + m[1] + m[2], body)
        if _SYNC_REPORT.search(request):
            own = (
                b'<D:response xmlns:D="DAV:"><D:href>' + front + path.encode() + b"</D:href>"
                b'<D:propstat><D:prop><D:getetag>"collection"</D:getetag></D:prop>'
                b"<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>"
            )
            m = re.search(rb"<([A-Za-z0-9]+:)?sync-token>", body)
            cut = m.start() if m else body.rfind(b"</")
            body = body[:cut] + own + body[cut:]
        return body

    def handle(
        self, role: str, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            self.seen.append(Seen(role, method, path, dict(headers)))
        given = {k.lower(): v for k, v in headers.items()}
        if given.get("authorization") != self._auth:
            challenge = [
                ("WWW-Authenticate", 'X-MobileMe-AuthToken realm="Newcastle"'),
                ("WWW-Authenticate", 'Basic realm="Newcastle"'),
            ]
            return 401, challenge, b"unauthorized"
        if role == "front":
            if method == "PROPFIND" and path.rstrip("/") in (
                "",
                "/.well-known/caldav",
                f"/{DSID}/principal",
            ):
                at_principal = path.rstrip("/") == f"/{DSID}/principal"
                status, out = self._principal(given.get("depth", "0"), at_principal)
                return status, [("Content-Type", "application/xml; charset=utf-8")], out
            return 404, [], b"not on this host"
        if method == "PUT":
            if given.get("if-match", "").strip() == "*":
                if self._exists(path):
                    return 412, [], b"precondition failed"
                headers = {k: v for k, v in headers.items() if k.lower() != "if-match"}
            text = body.decode("utf-8", "replace").replace("\r\n ", "")
            for vevent in re.findall(r"BEGIN:VEVENT.*?END:VEVENT", text, re.S):
                if not re.search(r"^(DTEND|DURATION)[;:]", vevent, re.M):
                    return 403, [], b"an event needs an end"
        status, out_headers, data = self._forward(method, path, headers, body)
        if status == 207:
            data = self._quirky_body(path, data, body)
        elif method == "GET" and status == 200:
            data = _DTSTAMP.sub(lambda m: m[1] + m[2] + m[1] + m[2], data)
        return status, out_headers, data


def _handler(proxy: ICloudProxy, role: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                status, headers, data = proxy.handle(
                    role, self.command, self.path, dict(self.headers.items()), body
                )
            except OSError:
                status, headers, data = 502, [], b"upstream unreachable"
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in _HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _any
        do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = _any

    return Handler
