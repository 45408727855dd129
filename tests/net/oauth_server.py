"""A tiny OAuth 2.0 authorization server on 127.0.0.1 for the network layer's tests.

It checks what a real server checks: the PKCE S256 challenge against the verifier, the
redirect URI and client id bound to the code, one use per code, known refresh tokens; it also
serves the device-code endpoints (pending a set number of polls, optionally one slow_down).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "carecal-test-client"
CLIENT_SECRET = "installed-app-secret"


@dataclass
class OAuthState:
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    device_codes: dict[str, int] = field(default_factory=dict)
    pending_polls: int = 2
    slow_down_once: bool = False
    deny_device: bool = False
    state_override: str | None = None  # answer the browser with this state instead
    rotate_refresh: bool = False
    expires_in: int = 3600

    def issue(self, with_refresh: bool = True) -> dict[str, Any]:
        access = "at-" + secrets.token_hex(8)
        self.access_tokens.add(access)
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "calendar",
        }
        if with_refresh:
            refresh = "rt-" + secrets.token_hex(8)
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
        return body


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict[str, Any] | None = None, **headers: str) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/authorize":
            self._send(404, {"error": "not_found"})
            return
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        st = self.server.state
        if (
            q.get("response_type") != "code"
            or q.get("client_id") != CLIENT_ID
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not q.get("redirect_uri", "").startswith("http://127.0.0.1:")
        ):
            self._send(400, {"error": "invalid_request"})
            return
        code = "code-" + secrets.token_hex(8)
        st.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        state = st.state_override if st.state_override is not None else q.get("state", "")
        target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": state})
        self._send(302, Location=target)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        st = self.server.state
        path = urlsplit(self.path).path
        if path == "/device":
            device = "dc-" + secrets.token_hex(8)
            st.device_codes[device] = 0
            self._send(
                200,
                {
                    "device_code": device,
                    "user_code": "ABCD-EFGH",
                    "verification_uri": "https://example.invalid/device",
                    "expires_in": 900,
                    "interval": 5,
                },
            )
        elif path == "/revoke":
            st.revoked.append(form.get("token", ""))
            st.refresh_tokens.discard(form.get("token", ""))
            self._send(200, {})
        elif path == "/token":
            st.token_requests.append(form)
            self._token(form, st)
        else:
            self._send(404, {"error": "not_found"})

    def _token(self, form: dict[str, str], st: OAuthState) -> None:
        grant = form.get("grant_type")
        if form.get("client_id") != CLIENT_ID:
            self._send(401, {"error": "invalid_client"})
        elif grant == "authorization_code":
            bound = st.codes.pop(form.get("code", ""), None)
            if (
                bound is None
                or bound["redirect_uri"] != form.get("redirect_uri")
                or s256(form.get("code_verifier", "")) != bound["challenge"]
                or form.get("client_secret") != CLIENT_SECRET
            ):
                self._send(400, {"error": "invalid_grant", "error_description": "bad code"})
            else:
                self._send(200, st.issue())
        elif grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in st.refresh_tokens:
                self._send(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            else:
                self._send(200, st.issue(with_refresh=st.rotate_refresh))
        elif grant == "urn:ietf:params:oauth:grant-type:device_code":
            device = form.get("device_code", "")
            if device not in st.device_codes:
                self._send(400, {"error": "invalid_grant"})
                return
            st.device_codes[device] += 1
            polls = st.device_codes[device]
            if st.deny_device:
                self._send(400, {"error": "access_denied"})
            elif st.slow_down_once and polls == 1:
                self._send(400, {"error": "slow_down"})
            elif polls <= st.pending_polls:
                self._send(400, {"error": "authorization_pending"})
            else:
                self._send(200, st.issue())
        elif grant == "client_credentials":
            self._send(200, st.issue(with_refresh=False))
        else:
            self._send(400, {"error": "unsupported_grant_type"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = OAuthState()


@dataclass
class RunningServer:
    base: str
    state: OAuthState


@contextmanager
def oauth_server() -> Iterator[RunningServer]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield RunningServer(f"http://127.0.0.1:{server.server_address[1]}", server.state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
