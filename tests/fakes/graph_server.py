"""A Microsoft Graph calendar emulator for Carecal's tests: a threaded HTTP server on
127.0.0.1 serving the v1.0 calendar endpoints a sync client uses (calendars, events CRUD,
calendarView and its delta, instances, $batch) and the identity platform's v2.0 endpoints,
with admin hooks ("another device") and fault injection.

    with GraphEmulator() as emu:
        token = emu.issue_token()
        httpx.get(emu.api_base + "/me/calendars", headers={"Authorization": f"Bearer {token}"})

The server runs on its own daemon thread. Every request and admin hook takes one lock, so
tests may call admin hooks from the test thread at any time; only the per-mailbox concurrency
count (and the optional latency or hold) sit outside it.

Admin hooks and knobs:
- another device: `remote_create`, `remote_patch` (a master, a single event, or an occurrence,
  which makes an exception), `remote_delete`, `remote_move` (new REST id), `stored`;
- delta and paging: `expire_delta_tokens(with_location=...)`, `set_page_cap`,
  `add_empty_pages`, `replay_next`, `listings.replay_rate`, `listings.token_ttl`,
  `listings.default_page_size`;
- sign-in: `issue_token(s)`, `expire_access_tokens`, `kill_refresh_tokens(reason)`,
  `approve_device_code`, `decline_device_code`, `identity.decline_consent`,
  `identity.old_refresh_tokens_die`, `identity.access_ttl`, `identity.device_ttl`;
- faults and limits: `fail_next`, `fail_nth` (by path and method), `rate_limit`,
  `mailbox_concurrency`, `batch_overflow_429`, `latency`, `hold_requests`/`release_requests`;
- for checks: `responses` (every JSON body sent, by kind) and `log`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.fakes import graph_batch
from tests.fakes.graph_batch import Reply
from tests.fakes.graph_delta import Listings, expand_of, select
from tests.fakes.graph_errors import (
    GraphError,
    access_denied,
    auth_error,
    body_read,
    fault,
    not_found,
    throttled,
)
from tests.fakes.graph_events import CalendarInfo, Inst, Mailbox, View
from tests.fakes.graph_oauth import CALENDARS_RW, IdentityError, IdentityServer
from tests.fakes.graph_zones import zone
from tests.fakes.loopback import LoopbackServer, QuietHandler

READ_SCOPES = frozenset(
    {"Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}
)
WRITE_SCOPES = frozenset({"Calendars.ReadWrite", "Calendars.ReadWrite.Shared"})
_DEFAULT = "default"  # retry_after sentinel: "1" for 429 and 503, none otherwise
_IDENTITY_RE = re.compile(
    r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/(?P<endpoint>authorize|token|devicecode)$"
)
_OPENID_RE = re.compile(r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$")


@dataclass
class Fault:
    """One injected failure: after `countdown` more matching calls, the next one fails."""

    status: int
    code: str | None
    path_contains: str
    retry_after: str | None
    countdown: int = 0
    method: str | None = None


def parse_prefer(value: str) -> dict[str, str]:
    """Prefer header preferences (names lower-cased, quotes removed), from one or more
    comma-joined headers."""
    out: dict[str, str] = {}
    for part in re.findall(r'(?:[^,"]|"[^"]*")+', value):
        name, _, val = part.strip().partition("=")
        if name:
            out[name.strip().lower()] = val.strip().strip('"')
    return out


class GraphEmulator(LoopbackServer):
    """The emulator: `with GraphEmulator() as emu:` starts it on a free loopback port and
    stops it on exit. URLs: `api_base` (…/v1.0), `authority` (…/common), `authorize_uri`,
    `token_uri`, `devicecode_uri`, `batch_uri`."""

    def __init__(
        self,
        *,
        owner_email: str = "practitioner@example.com",
        owner_name: str = "Dana Practitioner",
        client_id: str = "5d2b3c1e-6a1f-4f7e-9c2d-0c6a5e4b3a21",
        tenant_id: str = "9188040d-6c67-4c5b-b112-36a304b66dad",
        access_token_ttl: float = 3599.0,
        mailbox_concurrency: int = 4,
        seed: int = 5,
    ) -> None:
        self.lock = threading.RLock()
        self.mailbox = Mailbox(owner_email, owner_name)
        self.mailbox.add_calendar("Calendar", default=True)
        self.listings = Listings(self.mailbox, seed)
        self.identity = IdentityServer(
            client_id, tenant_id, (owner_email, owner_name), access_token_ttl, lambda: self.base_url
        )
        self.faults: list[Fault] = []
        self.mailbox_concurrency = mailbox_concurrency
        self.batch_overflow_429 = True  # batch members beyond the free slots get 429
        self.latency = 0.0  # seconds each API request takes (outside the lock)
        self._held: threading.Event | None = None  # admitted requests wait while it is unset
        self.rate_limit: tuple[int, float] | None = None  # (requests, seconds) per mailbox
        self._recent: deque[float] = deque()
        self._inflight = 0
        self._inflight_lock = threading.Lock()
        self.log: list[tuple[str, str, int]] = []  # (method, path with query, status)
        self.responses: list[tuple[str, Any]] = []  # (kind, JSON body) for field checks

    # ----- lifecycle ----------------------------------------------------------------------
    def _handler_base(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def api_base(self) -> str:
        """The Graph v1.0 root."""
        return self.base_url + "/v1.0"

    @property
    def batch_uri(self) -> str:
        """The JSON batching endpoint."""
        return self.api_base + "/$batch"

    @property
    def authority(self) -> str:
        """The identity authority for the "common" tenant."""
        return self.base_url + "/common"

    @property
    def authorize_uri(self) -> str:
        """The sign-in page a browser opens."""
        return self.authority + "/oauth2/v2.0/authorize"

    @property
    def token_uri(self) -> str:
        """The token endpoint."""
        return self.authority + "/oauth2/v2.0/token"

    @property
    def devicecode_uri(self) -> str:
        """The device-code endpoint."""
        return self.authority + "/oauth2/v2.0/devicecode"

    # ----- admin hooks: accounts and tokens -----------------------------------------------
    @property
    def default_calendar_id(self) -> str:
        """The id of the mailbox's default calendar."""
        with self.lock:
            return self.mailbox.default_calendar().id

    def add_calendar(self, name: str) -> str:
        """Another calendar in the mailbox; returns its id."""
        with self.lock:
            return self.mailbox.add_calendar(name).id

    def issue_token(self, scopes: tuple[str, ...] = (CALENDARS_RW, "offline_access")) -> str:
        """An access token without any sign-in flow."""
        with self.lock:
            return self.identity.issue(scopes)[0]

    def issue_tokens(
        self, scopes: tuple[str, ...] = (CALENDARS_RW, "offline_access")
    ) -> tuple[str, str | None]:
        """(access token, refresh token) without any sign-in flow."""
        with self.lock:
            return self.identity.issue(scopes)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now gets 401 InvalidAuthenticationToken."""
        with self.lock:
            self.identity.expire_access_tokens()

    def kill_refresh_tokens(self, reason: str = "expired") -> None:
        """Refresh tokens get 400 invalid_grant: "expired" (AADSTS700082), "revoked"
        (AADSTS50173) or "consent" (AADSTS65001)."""
        with self.lock:
            self.identity.kill_refresh_tokens(reason)

    def approve_device_code(self, user_code: str | None = None) -> str:
        """The user enters the code and signs in (the newest pending one by default)."""
        with self.lock:
            return self.identity.settle_device(user_code, "approved")

    def decline_device_code(self, user_code: str | None = None) -> str:
        """The user refuses the device sign-in."""
        with self.lock:
            return self.identity.settle_device(user_code, "declined")

    # ----- admin hooks: delta and paging --------------------------------------------------
    def expire_delta_tokens(self, *, with_location: bool = False) -> None:
        """Every delta and skip token so far gets 410 (syncStateNotFound, or resyncRequired
        with a Location header holding a fresh initial URL)."""
        with self.lock:
            self.listings.expire_delta_tokens(with_location=with_location)

    def set_page_cap(self, cap: int) -> None:
        """The server's own cap on every page, whatever the client prefers."""
        with self.lock:
            self.listings.page_cap = cap

    def add_empty_pages(self, count: int) -> None:
        """The next `count` delta pages are empty but carry a nextLink."""
        with self.lock:
            self.listings.empty_pages += count

    def replay_next(self, count: int = 1) -> None:
        """The next `count` delta rounds deliver one change a second time."""
        with self.lock:
            self.listings.replays += count

    def hold_requests(self) -> None:
        """Admitted API requests wait (counted as in flight) until `release_requests()`, so
        tests can make concurrent requests deterministically."""
        self._held = threading.Event()

    def release_requests(self) -> None:
        """Let held requests go on."""
        if self._held is not None:
            self._held.set()
            self._held = None

    # ----- admin hooks: faults ------------------------------------------------------------
    def fail_next(
        self,
        count: int,
        status: int,
        code: str | None = None,
        *,
        path_contains: str = "",
        method: str | None = None,
        retry_after: str | None = _DEFAULT,
    ) -> None:
        """The next `count` API calls whose path (with query) contains `path_contains` fail
        with `status` in Graph's error shape."""
        with self.lock:
            for _ in range(count):
                self.faults.append(
                    Fault(status, code, path_contains, self._retry(status, retry_after), 0, method)
                )

    def fail_nth(
        self,
        n: int,
        status: int,
        code: str | None = None,
        *,
        path_contains: str = "",
        method: str | None = None,
        retry_after: str | None = _DEFAULT,
    ) -> None:
        """The `n`th matching API call from now fails (the ones before it succeed)."""
        with self.lock:
            self.faults.append(
                Fault(status, code, path_contains, self._retry(status, retry_after), n - 1, method)
            )

    @staticmethod
    def _retry(status: int, retry_after: str | None) -> str | None:
        if retry_after == _DEFAULT:
            return "1" if status in (429, 503) else None
        return retry_after

    # ----- admin hooks: another device ----------------------------------------------------
    def _view(self, immutable: bool) -> View:
        return View(immutable=immutable, expand=())

    def remote_create(
        self, body: dict[str, Any], calendar_id: str | None = None, *, immutable: bool = False
    ) -> dict[str, Any]:
        """Another device creates an event (any property, isCancelled and onlineMeeting
        included); returns it as Graph renders it."""
        with self.lock:
            cal = calendar_id or self.mailbox.default_calendar().id
            item, _ = self.mailbox.create(cal, body, admin=True)
            return self.mailbox.render(self.mailbox.as_inst(item), self._view(immutable))

    def remote_patch(
        self, event_id: str, body: dict[str, Any], *, immutable: bool = False
    ) -> dict[str, Any]:
        """Another device edits an event, a series or one occurrence (making an exception)."""
        with self.lock:
            inst = self.mailbox.patch(event_id, body, None, admin=True)
            return self.mailbox.render(inst, self._view(immutable))

    def remote_delete(self, event_id: str) -> None:
        """Another device deletes an event, a series or one occurrence."""
        with self.lock:
            self.mailbox.delete(event_id, None)

    def remote_move(
        self, event_id: str, calendar_id: str, *, immutable: bool = False
    ) -> dict[str, Any]:
        """Another device moves an event to another calendar (its REST id changes)."""
        with self.lock:
            item = self.mailbox.move(event_id, calendar_id)
            return self.mailbox.render(self.mailbox.as_inst(item), self._view(immutable))

    def stored(self, event_id: str) -> dict[str, Any] | None:
        """The server's current copy of an event (extended properties included), or None."""
        with self.lock:
            try:
                return self.mailbox.render(self.mailbox.get(event_id), self._view(False))
            except GraphError:
                return None

    # ----- request handling (handler threads) ---------------------------------------------
    def enter(self) -> bool:
        """Count one API request in flight; False when the mailbox is over its limit."""
        with self._inflight_lock:
            self._inflight += 1
            return self._inflight <= self.mailbox_concurrency

    def leave(self) -> None:
        """One API request is no longer in flight."""
        with self._inflight_lock:
            self._inflight -= 1

    def _gate(self, method: str, target: str, headers: dict[str, str], write: bool) -> None:
        auth = headers.get("authorization", "")
        scopes = self.identity.scopes_for(auth[7:]) if auth.startswith("Bearer ") else None
        if scopes is None:
            raise auth_error(self.authorize_uri)
        if not (WRITE_SCOPES if write else READ_SCOPES) & set(scopes):
            raise access_denied()
        for item in list(self.faults):
            if item.path_contains not in target or item.method not in (None, method):
                continue
            if item.countdown > 0:
                item.countdown -= 1
                continue
            self.faults.remove(item)
            raise fault(item.status, item.code, item.retry_after)
        if self.rate_limit is not None:
            count, seconds = self.rate_limit
            now = time.monotonic()
            while self._recent and now - self._recent[0] > seconds:
                self._recent.popleft()
            if len(self._recent) >= count:
                raise throttled(str(max(1, int(seconds - (now - self._recent[0])))))
            self._recent.append(now)

    def view_for(self, headers: dict[str, str], query: dict[str, list[str]]) -> View:
        """How this request wants events rendered; 400 for an unknown outlook.timezone."""
        prefs = parse_prefer(headers.get("prefer", ""))
        label = prefs.get("outlook.timezone") or "UTC"
        zone(label)
        return View(
            immutable=prefs.get("idtype", "").lower() == "immutableid",
            tz_label=label,
            text_body=prefs.get("outlook.body-content-type", "").lower() == "text",
            expand=expand_of(query),
        )

    @staticmethod
    def _applied(headers: dict[str, str]) -> dict[str, str]:
        prefs = parse_prefer(headers.get("prefer", ""))
        applied = []
        if "outlook.timezone" in prefs:
            applied.append(f'outlook.timezone="{prefs["outlook.timezone"]}"')
        if prefs.get("idtype", "").lower() == "immutableid":
            applied.append('IdType="ImmutableId"')
        if "outlook.body-content-type" in prefs:
            applied.append(f'outlook.body-content-type="{prefs["outlook.body-content-type"]}"')
        return {"Preference-Applied": ", ".join(applied)} if applied else {}

    def call(self, method: str, url: str, headers: dict[str, str], body: Any) -> Reply:
        """One API request (path relative to /v1.0, with its query) as a Reply; Graph errors
        become error replies. Used for HTTP requests and for $batch members alike."""
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            reply = self._route(method, parts.path, url, query, headers, body)
        except GraphError as exc:
            return Reply(
                exc.status, exc.body(headers.get("client-request-id")), exc.headers, "error"
            )
        if reply.status < 300:
            for name, value in self._applied(headers).items():
                earlier = reply.headers.get(name)
                reply.headers[name] = f"{earlier}, {value}" if earlier else value
        return reply

    def _route(
        self,
        method: str,
        path: str,
        target: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> Reply:
        segs = [unquote(s) for s in path.strip("/").split("/")]
        if len(segs) >= 2 and segs[0] == "users":
            if segs[1].lower() not in (self.identity.user_email, self.identity.user_oid):
                raise not_found()
            segs = ["me", *segs[2:]]
        if not segs or segs[0] != "me" or len(segs) < 2:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment {path!r}.")
        write = method in ("POST", "PATCH", "PUT", "DELETE")
        self._gate(method, target, headers, write)
        view = self.view_for(headers, query)
        prefs = parse_prefer(headers.get("prefer", ""))
        max_page = (
            int(prefs["odata.maxpagesize"])
            if prefs.get("odata.maxpagesize", "").isdigit()
            else None
        )
        box = self.mailbox
        link = self.api_base + path
        context = f"{self.api_base}/$metadata#users('{quote(self.identity.user_email)}')"
        rest = segs[1:]
        if rest == ["calendars"] and method == "GET":
            cals = [_calendar_json(c, self.mailbox.owner) for c in box.calendars.values()]
            page = self.listings.paged(link, query, cals, max_page)
            return Reply(200, {"@odata.context": context + "/calendars", **page}, kind="calendars")
        if rest[0] == "events":
            if len(rest) == 1:
                return self._calendar_route(
                    box.default_calendar(), ["events"], method, link, query, view, body, max_page
                )
            return self._event_route(
                None, rest[1:], method, link, query, view, headers, body, max_page
            )
        if rest[0] == "calendar":
            cal, tail = box.default_calendar(), rest[1:]
        elif rest[0] == "calendars" and len(rest) > 1:
            cal, tail = box.calendar(rest[1]), rest[2:]
        elif rest[0] == "calendarView":
            cal, tail = box.default_calendar(), rest
        else:
            raise GraphError(400, "BadRequest", f"Resource not found for the segment {rest[0]!r}.")
        if tail[:1] == ["events"] and len(tail) > 1:
            return self._event_route(
                cal, tail[1:], method, link, query, view, headers, body, max_page
            )
        if tail[:2] == ["calendarView", "delta"] and len(tail) == 2 and method == "GET":
            page, extra = self.listings.delta(cal.id, self.api_base, path, query, view, max_page)
            context_delta = {"@odata.context": f"{self.api_base}/$metadata#Collection(event)"}
            return Reply(200, {**context_delta, **page}, extra, "delta")
        return self._calendar_route(cal, tail, method, link, query, view, body, max_page)

    def _calendar_route(
        self,
        cal: CalendarInfo,
        tail: list[str],
        method: str,
        link: str,
        query: dict[str, list[str]],
        view: View,
        body: Any,
        max_page: int | None,
    ) -> Reply:
        context = f"{self.api_base}/$metadata#Collection(event)"
        if not tail and method == "GET":
            return Reply(200, _calendar_json(cal, self.mailbox.owner), kind="calendar")
        if tail == ["calendarView"] and method == "GET":
            page = self.listings.calendar_view(cal.id, link, query, view, max_page)
            return Reply(200, {"@odata.context": context, **page}, kind="events")
        if tail == ["events"] and method == "GET":
            page = self.listings.events(cal.id, link, query, view, max_page)
            return Reply(200, {"@odata.context": context, **page}, kind="events")
        if tail == ["events"] and method == "POST":
            if not cal.can_edit:
                raise access_denied()
            item, _ = self.mailbox.create(cal.id, _object(body))
            return self._event_reply(201, self.mailbox.as_inst(item), view)
        raise _no_route(method)

    def _event_route(
        self,
        cal: CalendarInfo | None,
        tail: list[str],
        method: str,
        link: str,
        query: dict[str, list[str]],
        view: View,
        headers: dict[str, str],
        body: Any,
        max_page: int | None,
    ) -> Reply:
        event_id = tail[0]
        box = self.mailbox
        if cal is not None and box.resolve(event_id)[0].calendar_id != cal.id:
            raise not_found()
        if tail[1:] == ["instances"] and method == "GET":
            page = self.listings.instances(event_id, link, query, view, max_page)
            context = f"{self.api_base}/$metadata#Collection(event)"
            return Reply(200, {"@odata.context": context, **page}, kind="events")
        if len(tail) != 1:
            raise _no_route(method)
        if_match = headers.get("if-match")
        if method == "GET":
            return self._event_reply(200, box.get(event_id), view, query)
        if method == "PATCH":
            return self._event_reply(200, box.patch(event_id, _object(body), if_match), view)
        if method == "DELETE":
            box.delete(event_id, if_match)
            return Reply(204)
        raise _no_route(method)

    def _event_reply(
        self, status: int, inst: Inst, view: View, query: dict[str, list[str]] | None = None
    ) -> Reply:
        event = self.mailbox.render(inst, view)
        if query is not None:
            event = select(event, query)
        context = (
            f"{self.api_base}/$metadata#users('{quote(self.identity.user_email)}')/events/$entity"
        )
        return Reply(status, {"@odata.context": context, **event}, kind="event")

    def handle_batch(self, headers: dict[str, str], body: Any) -> Reply:
        """POST /v1.0/$batch (the envelope's own auth and faults first)."""
        try:
            self._gate("POST", "/$batch", headers, write=False)
            with self._inflight_lock:
                others = self._inflight - 1
            slots = max(0, self.mailbox_concurrency - others)
            if not self.batch_overflow_429:
                slots = graph_batch.MAX_REQUESTS
            return graph_batch.run(body, headers, self.call, slots)
        except GraphError as exc:
            return Reply(
                exc.status, exc.body(headers.get("client-request-id")), exc.headers, "error"
            )


def _calendar_json(cal: CalendarInfo, owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cal.id,
        "name": cal.name,
        "color": cal.color,
        "hexColor": "",
        "isDefaultCalendar": cal.is_default,
        "changeKey": cal.change_key,
        "canShare": True,
        "canViewPrivateItems": True,
        "canEdit": cal.can_edit,
        "owner": {
            "name": owner["emailAddress"]["name"],
            "address": owner["emailAddress"]["address"],
        },
    }


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise body_read("The request body must be a JSON object.")
    return body


def _no_route(method: str) -> GraphError:
    return GraphError(405, "ErrorInvalidRequest", f"The method {method} is not allowed here.")


class _Handler(QuietHandler):
    emu: GraphEmulator

    def _send(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None, kind: str = "?"
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            self.emu.responses.append((kind, body))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.emu.log.append((self.command, self.path, status))

    def _headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            out[key] = f"{out[key]}, {value}" if key in out else value
        return out

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = self._headers()
        if url.path.startswith("/v1.0/"):
            self._api(url.path, raw, headers)
            return
        with self.emu.lock:
            self._identity(url.path, url.query, raw)

    def _api(self, path: str, raw: bytes, headers: dict[str, str]) -> None:
        emu = self.emu
        admitted = emu.enter()
        try:
            if not admitted:
                error = throttled()
                self._send(
                    429, error.body(headers.get("client-request-id")), error.headers, "error"
                )
                return
            held = emu._held
            if held is not None:
                held.wait(timeout=10)
            if emu.latency:
                time.sleep(emu.latency)
            with emu.lock:
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    error = body_read("The request body is not valid JSON.")
                    self._send(400, error.body(), kind="error")
                    return
                if path == "/v1.0/$batch" and self.command == "POST":
                    reply = emu.handle_batch(headers, body)
                else:
                    reply = emu.call(self.command, self.path[len("/v1.0") :], headers, body)
                emu.responses.extend(reply.parts)
                self._send(reply.status, reply.body, reply.headers, reply.kind)
        finally:
            emu.leave()

    def _identity(self, path: str, query_text: str, raw: bytes) -> None:
        identity = self.emu.identity
        query = {k: v[-1] for k, v in parse_qs(query_text, keep_blank_values=True).items()}
        openid = _OPENID_RE.match(path)
        if openid and self.command == "GET":
            self._send(200, identity.openid_configuration(openid["tenant"]), kind="identity")
            return
        match = _IDENTITY_RE.match(path)
        if match is None:
            self._send(404, {"error": "not_found", "error_description": path}, kind="identity")
            return
        try:
            identity.check_tenant(match["tenant"])
            endpoint = match["endpoint"]
            if endpoint == "authorize" and self.command == "GET":
                self._send(302, headers={"Location": identity.authorize(query)})
                return
            if self.command != "POST":
                self._send(405, {"error": "invalid_request"}, kind="identity")
                return
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            if endpoint == "token":
                self._send(200, identity.token(form), kind="identity")
            elif endpoint == "devicecode":
                self._send(200, identity.device_code(form), kind="identity")
            else:
                self._send(405, {"error": "invalid_request"}, kind="identity")
        except IdentityError as exc:
            self._send(exc.status, exc.body, kind="identity")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch
