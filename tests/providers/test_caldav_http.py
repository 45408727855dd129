"""The CalDAV provider's HTTP layer on httpx: methods kept across redirects, credentials sent,
headers read case-insensitively, TLS verified against a real trust store and set up only for
https."""

from __future__ import annotations

import base64
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest

from carecal.domain.errors import PermanentItemError, TransientError
from carecal.net import blocking
from carecal.providers.caldav_http import Http
from tests.integration.servers import free_port


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str, bytes, str]]] = []

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path, body, self.headers.get("Authorization", "")))
        if self.path == "/old/":
            self.send_response(308)
            self.send_header("Location", "/new/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(207)
        self.send_header("etag", '"v1"')  # lower case, as some servers write it
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PROPFIND = do_GET = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    httpd.server_close()


def test_a_redirect_keeps_the_method_body_and_credentials(server: str) -> None:
    http = Http("anna", "pässword", timeout=5, verify_tls=True)
    try:
        ans = http.request("PROPFIND", f"{server}/old/", b"<x/>", {"Depth": "0"})
    finally:
        http.close()
    assert ans.status == 207 and ans.url == f"{server}/new/"
    assert ans.etag() == '"v1"' and ans.headers["ETag"] == '"v1"'
    assert [(m, p, b) for m, p, b, _ in _Recorder.seen] == [
        ("PROPFIND", "/old/", b"<x/>"),
        ("PROPFIND", "/new/", b"<x/>"),
    ]
    expected = "Basic " + base64.b64encode("anna:pässword".encode()).decode()
    assert {auth for *_, auth in _Recorder.seen} == {expected}
    assert http.requests == ["PROPFIND /old/", "PROPFIND /new/"]


def test_plain_http_never_builds_the_tls_context(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[ssl.SSLContext] = []
    real = blocking.tls_context

    def spy() -> ssl.SSLContext:
        built.append(real())
        return built[-1]

    monkeypatch.setattr(blocking, "tls_context", spy)
    http = Http(None, None, timeout=5, verify_tls=True)
    try:
        assert http.request("GET", f"{server}/x").status == 207
        assert built == []
        with pytest.raises(TransientError, match=r"cannot reach 127\.0\.0\.1"):
            http.request("GET", f"https://127.0.0.1:{free_port()}/")  # nobody listens
    finally:
        http.close()
    assert len(built) == 1


def test_the_tls_context_verifies_certificates_and_host_names() -> None:
    ctx = blocking.tls_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] > 0


def test_a_redirect_from_https_to_plain_http_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    http = Http(None, None, timeout=5, verify_tls=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://example.org/cal/"})

    http._client = httpx.Client(transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(PermanentItemError, match="https to plain http"):
            http.request("PROPFIND", "https://example.org/cal/")
    finally:
        http.close()
