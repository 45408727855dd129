"""A Google Calendar API v3 emulator for Carecal's tests: a threaded HTTP server on 127.0.0.1
serving calendarList.list, events list/get/insert/patch/update/delete/instances and Google's
OAuth endpoints, with admin hooks ("another device") and fault injection.

    with GoogleCalendarEmulator() as emu:
        token = emu.issue_token()
        httpx.get(emu.api_base + "/calendars/primary/events",
                  headers={"Authorization": f"Bearer {token}"})

The server runs on its own daemon thread; every request and admin hook takes one lock, so
tests may call admin hooks from the test thread at any time.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.google_errors import GoogleApiError, auth_error, not_found, status_message
from tests.fakes.google_events import Calendar, EventWriter
from tests.fakes.google_listing import Listings, calendar_entry
from tests.fakes.google_oauth import CALENDAR, OAuthError, OAuthServer
from tests.fakes.loopback import LoopbackServer, QuietHandler

DISCOVERY_ENV = "CARECAL_GOOGLE_DISCOVERY"
# The discovery document sits next to the checkout (../shared/reference/data/).
DEFAULT_DISCOVERY = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "reference"
    / "data"
    / "calendar.v3.discovery.json"
)
_READ = {CALENDAR, CALENDAR + ".readonly", CALENDAR + ".events", CALENDAR + ".events.readonly"}
_WRITE = {CALENDAR, CALENDAR + ".events"}
_LIST = {
    CALENDAR,
    CALENDAR + ".readonly",
    CALENDAR + ".calendarlist",
    CALENDAR + ".calendarlist.readonly",
}


def discovery_path() -> Path:
    """Where the Calendar v3 discovery document is read from ($CARECAL_GOOGLE_DISCOVERY wins)."""
    return Path(os.environ.get(DISCOVERY_ENV) or DEFAULT_DISCOVERY)


def load_discovery() -> dict[str, Any]:
    """The discovery document as JSON (FileNotFoundError when it is not there)."""
    with discovery_path().open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


@dataclass
class Fault:
    """One injected failure: `status` with Google's error `reason`."""

    status: int
    reason: str
    path_contains: str = ""
    retry_after: str | None = None


class GoogleCalendarEmulator(LoopbackServer):
    """The emulator: `with GoogleCalendarEmulator() as emu:` starts it on a free loopback port
    and stops it on exit. URLs: `api_base`, `auth_uri`, `token_uri`, `revoke_uri`."""

    def __init__(
        self,
        *,
        owner_email: str = "practitioner@example.com",
        time_zone: str = "Europe/Berlin",
        client_id: str = "carecal-test.apps.googleusercontent.com",
        client_secret: str = "GOCSPX-test-secret",
        access_token_ttl: float = 3599.0,
    ) -> None:
        self.lock = threading.RLock()
        schemas = load_discovery()["schemas"]
        self.writer = EventWriter(frozenset(schemas["Event"]["properties"]), owner_email)
        self.listings = Listings(self.writer)
        self.oauth = OAuthServer(client_id, client_secret, access_token_ttl)
        self.calendars: dict[str, Calendar] = {}
        self.add_calendar(owner_email, "Practice", time_zone, primary=True)
        self.faults: deque[Fault] = deque()
        self.quota_exceeded = False  # sticky 403 quotaExceeded while True
        self.requests_per_minute: int | None = None  # a per-user limiter (403 userRateLimit...)
        self._recent: deque[float] = deque()
        self.log: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self.responses: list[tuple[str, Any]] = []  # (schema name, JSON body) for schema checks

    # ----- lifecycle --------------------------------------------------------------------
    def _handler_base(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def api_base(self) -> str:
        return self.base_url + "/calendar/v3"

    @property
    def auth_uri(self) -> str:
        return self.base_url + "/o/oauth2/v2/auth"

    @property
    def token_uri(self) -> str:
        return self.base_url + "/token"

    @property
    def revoke_uri(self) -> str:
        return self.base_url + "/revoke"

    # ----- admin hooks (test thread) ----------------------------------------------------
    def add_calendar(
        self,
        calendar_id: str,
        summary: str,
        time_zone: str = "Europe/Berlin",
        *,
        primary: bool = False,
        access_role: str = "owner",
    ) -> None:
        with self.lock:
            self.calendars[calendar_id] = Calendar(
                calendar_id, summary, time_zone, primary, access_role
            )

    def issue_token(self, scopes: tuple[str, ...] = (CALENDAR,)) -> str:
        """An access token without the browser flow."""
        with self.lock:
            return self.oauth.issue(scopes)[0]

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.oauth.expire_access_tokens()

    def kill_refresh_tokens(self) -> None:
        with self.lock:
            self.oauth.kill_refresh_tokens()

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        """Every sync token handed out so far (for one calendar, or all) now gets 410."""
        with self.lock:
            self.listings.expire_sync_tokens(calendar_id and self._calendar(calendar_id).id)

    def set_page_size(self, cap: int) -> None:
        """The server's own page cap (listings never return more than this)."""
        with self.lock:
            self.listings.page_cap = cap

    def add_empty_pages(self, count: int) -> None:
        """The next `count` listing pages are empty but carry a nextPageToken."""
        with self.lock:
            self.listings.empty_pages += count

    def fail_next(
        self,
        count: int,
        status: int,
        reason: str,
        *,
        path_contains: str = "",
        retry_after: str | None = None,
    ) -> None:
        """The next `count` matching API requests fail with `status`/`reason` in Google's shape."""
        with self.lock:
            self.faults.extend(
                Fault(status, reason, path_contains, retry_after) for _ in range(count)
            )

    def remote_insert(self, body: dict[str, Any], calendar_id: str = "primary") -> dict[str, Any]:
        """Another device creates an event."""
        with self.lock:
            return copy.deepcopy(self.writer.insert(self._calendar(calendar_id), body))

    def remote_patch(
        self, event_id: str, body: dict[str, Any], calendar_id: str = "primary"
    ) -> dict[str, Any]:
        """Another device edits an event (or an instance, making an exception)."""
        with self.lock:
            return copy.deepcopy(
                self.writer.patch(self._calendar(calendar_id), event_id, body, None)
            )

    def remote_delete(self, event_id: str, calendar_id: str = "primary") -> None:
        """Another device deletes an event (or an instance)."""
        with self.lock:
            self.writer.delete(self._calendar(calendar_id), event_id, None)

    def stored(self, event_id: str, calendar_id: str = "primary") -> dict[str, Any] | None:
        """The server's copy of an event (tombstones included), or None."""
        with self.lock:
            event = self._calendar(calendar_id).events.get(event_id)
            return copy.deepcopy(event) if event else None

    # ----- request handling (handler threads) -------------------------------------------
    def _calendar(self, calendar_id: str) -> Calendar:
        if calendar_id == "primary":
            calendar_id = next(c.id for c in self.calendars.values() if c.primary)
        cal = self.calendars.get(calendar_id)
        if cal is None:
            raise not_found()
        return cal

    def _gate(self, path: str, headers: Any, needed: set[str]) -> None:
        auth = headers.get("Authorization", "")
        scopes = self.oauth.scopes_for(auth[7:]) if auth.startswith("Bearer ") else None
        if scopes is None:
            raise auth_error()
        if not needed & set(scopes):
            raise GoogleApiError(
                403, "insufficientPermissions", "Request had insufficient authentication scopes."
            )
        for fault in list(self.faults):
            if fault.path_contains in path:
                self.faults.remove(fault)
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else None
                raise GoogleApiError(
                    fault.status, fault.reason, status_message(fault.status), headers=extra
                )
        if self.quota_exceeded:
            raise GoogleApiError(403, "quotaExceeded", "Calendar usage limits exceeded.")
        if self.requests_per_minute is not None:
            now = time.monotonic()
            while self._recent and now - self._recent[0] > 60:
                self._recent.popleft()
            if len(self._recent) >= self.requests_per_minute:
                raise GoogleApiError(403, "userRateLimitExceeded", "User Rate Limit Exceeded")
            self._recent.append(now)

    def handle_api(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: Any
    ) -> tuple[int, str | None, Any]:
        """(status, schema name, JSON body) for one Calendar API request; raises GoogleApiError."""
        parts = [unquote(p) for p in path.split("/")[3:]]  # after /calendar/v3/
        if parts == ["users", "me", "calendarList"] and method == "GET":
            self._gate(path, headers, _LIST)
            items = [calendar_entry(c) for c in self.calendars.values()]
            return (
                200,
                "CalendarList",
                {
                    "kind": "calendar#calendarList",
                    "etag": '"p33k"',
                    "nextSyncToken": "cl-" + str(self.writer.seq),
                    "items": items,
                },
            )
        if len(parts) < 3 or parts[0] != "calendars" or parts[2] != "events":
            raise not_found()
        write = method in ("POST", "PATCH", "PUT", "DELETE")
        self._gate(path, headers, _WRITE if write else _READ)
        cal = self._calendar(parts[1])
        if len(parts) == 3 and method == "GET":
            return 200, "Events", self.listings.events_list(cal, query)
        if len(parts) == 3 and method == "POST":
            return 200, "Event", self.writer.insert(cal, _object(body))
        if len(parts) == 5 and parts[4] == "instances" and method == "GET":
            return 200, "Events", self.listings.instances(cal, parts[3], query)
        if len(parts) != 4:
            raise not_found()
        event_id, if_match = parts[3], headers.get("If-Match")
        if method == "GET":
            event = self.writer.get(cal, event_id)
            if headers.get("If-None-Match") == event["etag"]:
                return 304, None, None
            return 200, "Event", event
        if method == "PATCH":
            return 200, "Event", self.writer.patch(cal, event_id, _object(body), if_match)
        if method == "PUT":
            return 200, "Event", self.writer.update(cal, event_id, _object(body), if_match)
        if method == "DELETE":
            self.writer.delete(cal, event_id, if_match)
            return 204, None, None
        raise GoogleApiError(405, "httpMethodNotAllowed", "Method not allowed")


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GoogleApiError(400, "parseError", "Parse Error")
    return body


class _Handler(QuietHandler):
    emu: GoogleCalendarEmulator

    def _send(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        schema: str | None = None,
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            self.emu.responses.append((schema or "?", copy.deepcopy(body)))
        # Logged before the answer leaves: a client that got it must find it in the log.
        self.emu.log.append((self.command, self.path, status))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.emu.lock:
            if url.path == "/o/oauth2/v2/auth" and self.command == "GET":
                status, target = self.emu.oauth.authorize({k: v[-1] for k, v in query.items()})
                if status == 302:
                    self._send(302, headers={"Location": target})
                else:
                    self._send(
                        status,
                        {"error": target.split(":")[0], "error_description": target},
                        schema="oauth-error",
                    )
                return
            if url.path in ("/token", "/revoke") and self.command == "POST":
                form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                form.update({k: v[-1] for k, v in query.items()})
                try:
                    if url.path == "/token":
                        self._send(200, self.emu.oauth.token(form), schema="oauth-token")
                    else:
                        self.emu.oauth.revoke(form.get("token", ""))
                        self._send(200, {}, schema="oauth-revoke")
                except OAuthError as exc:
                    self._send(exc.status, exc.body, schema="oauth-error")
                return
            try:
                if not url.path.startswith("/calendar/v3/"):
                    raise not_found()
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    raise GoogleApiError(400, "parseError", "Parse Error") from None
                status, schema, answer = self.emu.handle_api(
                    self.command, url.path, query, self.headers, body
                )
                headers = {"ETag": answer["etag"]} if schema == "Event" else None
                self._send(status, answer, headers, schema=schema)
            except GoogleApiError as exc:
                self._send(exc.status, exc.body(), exc.headers, schema="error")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch
