"""A Docplanner Integrations API v3 emulator for Carecal's tests: a threaded HTTP server on
127.0.0.1 serving the OAuth2 token endpoint and `/api/v3/integration` (resource tree, calendar,
breaks, slots, bookings, presence, notifications), with admin hooks for the other parties (a
patient, the doctor in the Docplanner panel), an injectable clock and fault injection.

    with DocplannerEmulator() as emu:
        token = emu.issue_token()
        httpx.get(emu.api_base + "/facilities", headers={"Authorization": f"Bearer {token}"})

Country domains: the real base URL is `https://www.{domain}/api/v3/integration`. The emulator
serves every documented domain under a path prefix, `http://127.0.0.1:PORT/www.{domain}/...`
(`host_template` is `http://127.0.0.1:PORT/www.{domain}` for a client's configurable host),
and also bare paths, where the domain comes from the Host header when it names one, else the
emulator's home `domain`. Dates are answered in the request domain's zone. A token works only
on the domain it was issued for.

The server runs on its own daemon thread. Every request and admin hook takes one lock
(`lock`), so tests may call admin hooks at any time; only latency, held requests, the slot PUT
processing time and stalls sit outside it. The clock (`clock`, a docplanner_clock.Clock) drives
every time rule; `advance()` moves it and applies the rules at once.

Admin hooks and knobs:
- a patient: `patient_books`, `patient_cancels`, `patient_moves`, `patient_pays`,
  `patient_payment_pending`, `patient_does_not_pay`, `patient_confirms`, `refund`,
  `charge_back`;
- the doctor (Docplanner panel): `doctor_books`, `doctor_cancels`, `doctor_moves`,
  `doctor_confirms`, `doctor_marks_presence`, `doctor_adds_break`, `doctor_moves_break`,
  `doctor_removes_break`, `doctor_adds_service`, `doctor_changes_service`,
  `doctor_deletes_service`, `doctor_readds_service` (same service, new id),
  `set_commercial_type`, `assign_address`, `unassign_address`, `set_calendar`;
- the tree: `ids` (the seeded practice), `add_facility`, `add_doctor`, `add_address`,
  `add_service` (silent set-up, no notifications);
- tokens: `issue_token`, `expire_tokens`, `tokens.access_ttl`, `add_client`;
- time: `clock`, `advance`;
- notifications: `outbox` (`multiple_key`, `real_time`, `retry_policy`, `duplicate_next`,
  `reorder_next`, `emitted`, `expired`), `enable_push`;
- limits and faults: `limits` (RateLimiter: `enabled`, `configure`, `retry_after`),
  `fail_next`, `fail_nth`, `drop_before_next`, `timeout_after_commit` (the write is applied,
  then the connection stalls and closes with no answer), `latency`, `hold_requests`/
  `release_requests`, `slot_processing` (seconds a PUT slots stays in flight);
- for checks: `log`, `responses` (every JSON body sent, by kind), `state` (the Practice).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_errors import (
    ERROR_TYPE,
    RESPONSE_TYPE,
    DocplannerError,
    bad_request,
    fault,
)
from tests.fakes.docplanner_hooks import PartyHooks
from tests.fakes.docplanner_limits import RateLimiter
from tests.fakes.docplanner_oauth import TokenError, TokenServer
from tests.fakes.docplanner_practice import Practice
from tests.fakes.docplanner_routes import Reply, Router
from tests.fakes.docplanner_tree import (
    ZONES,
    domain_of,
)
from tests.fakes.loopback import LoopbackServer, QuietHandler

API_PREFIX = "/api/v3/integration"
SLOT_HORIZON = timedelta(weeks=12)
SLOTS_MAX_RANGE = timedelta(days=180)
DUPLICATE_PUT_WINDOW = timedelta(minutes=3)
RELEASE_INTERVAL = timedelta(hours=1)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Fault:
    """One injected failure. `kind`: "status" (an error answer, nothing applied),
    "drop_before" (the connection closes, nothing applied) or "after_commit" (the request is
    applied, then the connection stalls `stall` seconds and closes with no answer)."""

    kind: str
    status: int = 500
    path_contains: str = ""
    method: str | None = None
    countdown: int = 0
    retry_after: str | None = None
    stall: float = 0.0

    def matches(self, method: str, target: str) -> bool:
        """Whether this fault is armed for the request."""
        return self.path_contains in target and self.method in (None, method)


@dataclass
class Seeded:
    """The ids of the practice every emulator starts with: one facility, one doctor, an
    in-person address (`office`, services `office_services`) and its online-only twin with
    visit payments (`online`, services `online_services`)."""

    facility: str
    doctor: str
    office: str
    online: str
    office_services: list[str]
    online_services: list[str]


class DocplannerEmulator(LoopbackServer, PartyHooks):
    """The emulator: `with DocplannerEmulator() as emu:` starts it on a free loopback port
    and stops it on exit. URLs: `base_url`, `host_template`, `host(domain)`, `api_base`,
    `api_base_for(domain)`, `token_url`, `token_url_for(domain)`."""

    def __init__(
        self,
        *,
        domain: str = "znanylekarz.pl",
        client_id: str = "1_carecal-test-client",
        client_secret: str = "carecal-test-secret",
        clock: Clock | None = None,
        access_ttl: float = 3600.0,
        reads_per_hour: int = 8000,
        writes_per_minute: int = 40,
        rate_limit: bool = True,
        seed: bool = True,
    ) -> None:
        if domain not in ZONES:
            raise ValueError(f"not a documented Docplanner domain: {domain}")
        self.lock = threading.RLock()
        self.domain = domain
        self.clock = clock or Clock()
        self.client_id, self.client_secret = client_id, client_secret
        self.tokens = TokenServer(self.clock, access_ttl)
        self.tokens.add_client(client_id, client_secret)
        self.state = Practice(self.clock, ZONES[domain], "https://video.docplanner.test/room")
        self.limits = RateLimiter(reads_per_hour, writes_per_minute, enabled=rate_limit)
        self.slot_horizon = SLOT_HORIZON
        self.slot_processing = 0.0  # seconds a PUT slots stays in flight (429 for a twin)
        self.video_on_lists = True  # videocall_url on list items (deprecated there)
        self.payment_dialect = "event"
        self.faults: list[Fault] = []
        self.latency = 0.0
        self._held: threading.Event | None = None
        self._stopping = threading.Event()
        self._inflight_puts: set[str] = set()
        self._recent_puts: dict[str, datetime] = {}
        self.log: list[tuple[str, str, int | None]] = []  # (method, path, status or None)
        self.responses: list[tuple[str, Any]] = []  # (kind, JSON body) for field checks
        self._ids = self._seed() if seed else None

    # ----- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve on a daemon thread."""
        self._stopping.clear()
        super().start()

    def _handler_base(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def stop(self) -> None:
        """Stop serving (stalled connections are let go) and free the port."""
        self._stopping.set()
        self.release_requests()
        super().stop()

    @property
    def host_template(self) -> str:
        """The stand-in for `https://www.{domain}`, with `{domain}` left to fill in."""
        return self.base_url + "/www.{domain}"

    def host(self, domain: str | None = None) -> str:
        """The stand-in for `https://www.{domain}`."""
        return self.host_template.format(domain=domain or self.domain)

    @property
    def api_base(self) -> str:
        """The home domain's `/api/v3/integration`."""
        return self.api_base_for(self.domain)

    def api_base_for(self, domain: str) -> str:
        """A domain's `/api/v3/integration`."""
        return self.host(domain) + API_PREFIX

    @property
    def token_url(self) -> str:
        """The home domain's token endpoint."""
        return self.token_url_for(self.domain)

    def token_url_for(self, domain: str) -> str:
        """A domain's `/oauth/v2/token`."""
        return self.host(domain) + "/oauth/v2/token"

    # ----- set-up -------------------------------------------------------------------------
    @property
    def ids(self) -> Seeded:
        """The seeded practice's ids (the emulator must have been made with `seed=True`)."""
        assert self._ids is not None, "the emulator was made without the seeded practice"
        return self._ids

    def _seed(self) -> Seeded:
        tree = self.state.tree
        fac = tree.add_facility("Gabinet Psychoterapii")
        doc = tree.add_doctor(fac.id, "Anna", "Nowak")
        office = tree.add_address(doc.id, "Gabinet")
        online = tree.add_address(
            doc.id, "Konsultacje online", is_online_only=True, visit_payment=True
        )
        office.coupled_id, online.coupled_id = online.id, office.id
        office_services = [
            tree.add_service(office.id, "45", price=200, duration=50, is_default=True).id,
            tree.add_service(office.id, "46", price=220, duration=50).id,
        ]
        online_services = [
            tree.add_service(online.id, "47", price=180, duration=50, is_default=True).id
        ]
        return Seeded(fac.id, doc.id, office.id, online.id, office_services, online_services)

    def add_facility(self, name: str, *, granted: bool = True) -> str:
        """Another facility (not granted: the client gets 403 for it); returns its id."""
        with self.lock:
            return self.state.tree.add_facility(name, granted=granted).id

    def add_doctor(self, facility_id: str, name: str = "Jan", surname: str = "Kowalski") -> str:
        """Another doctor in a facility; returns the id."""
        with self.lock:
            return self.state.tree.add_doctor(facility_id, name, surname).id

    def add_address(self, doctor_id: str, name: str = "Filia", **fields: Any) -> str:
        """Another address of a doctor (any Address field); returns the id."""
        with self.lock:
            return self.state.tree.add_address(doctor_id, name, **fields).id

    def add_service(self, address_id: str, service_id: str = "45", **fields: Any) -> str:
        """Another address service, silently (set-up); returns the id."""
        with self.lock:
            return self.state.tree.add_service(address_id, service_id, **fields).id

    def add_client(self, client_id: str, secret: str) -> None:
        """Another API client credential set."""
        with self.lock:
            self.tokens.add_client(client_id, secret)

    def path_to(self, address_id: str) -> str:
        """`/facilities/F/doctors/D/addresses/A` for an address, relative to the API base."""
        with self.lock:
            fac, doc, addr = self.state.tree.context(address_id)
            return f"/facilities/{fac.id}/doctors/{doc.id}/addresses/{addr.id}"

    # ----- tokens and time ----------------------------------------------------------------
    def issue_token(self, domain: str | None = None) -> str:
        """An access token for the default client, without calling the token endpoint."""
        with self.lock:
            return str(self.tokens.issue(self.client_id, domain or self.domain)["access_token"])

    def expire_tokens(self) -> None:
        """Every token issued so far gets 401 from now on."""
        with self.lock:
            self.tokens.expire_all()

    def advance(self, delta: timedelta | float) -> None:
        """Move the clock and apply every time rule (expiries, auto-cancels, push retries)."""
        self.clock.advance(delta)
        with self.lock:
            self.state.tick()
        self._deliver_pushes()

    # ----- faults ---------------------------------------------------------------------------
    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        path_contains: str = "",
        method: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        """The next `count` matching API calls fail with `status` (nothing applied)."""
        with self.lock:
            for _ in range(count):
                self.faults.append(Fault("status", status, path_contains, method, 0, retry_after))

    def fail_nth(
        self, n: int, status: int = 500, *, path_contains: str = "", method: str | None = None
    ) -> None:
        """The `n`th matching API call from now fails (the ones before it succeed)."""
        with self.lock:
            self.faults.append(Fault("status", status, path_contains, method, n - 1))

    def drop_before_next(self, *, path_contains: str = "", method: str | None = None) -> None:
        """The next matching call's connection closes before anything is applied."""
        with self.lock:
            self.faults.append(Fault("drop_before", 0, path_contains, method))

    def timeout_after_commit(
        self, *, path_contains: str = "", method: str | None = None, stall: float = 0.0
    ) -> None:
        """The next matching call IS applied (and its notifications queued), then the
        connection stalls `stall` seconds (past a client's timeout) and closes unanswered."""
        with self.lock:
            self.faults.append(Fault("after_commit", 0, path_contains, method, stall=stall))

    def hold_requests(self) -> None:
        """Admitted API requests wait until `release_requests()`."""
        self._held = threading.Event()

    def release_requests(self) -> None:
        """Let held requests go on."""
        if self._held is not None:
            self._held.set()
            self._held = None

    # ----- push delivery (outside the lock) ---------------------------------------------------
    def _post(self, envelope: dict[str, Any]) -> int | None:
        outbox = self.state.outbox
        if outbox.push_url is None:
            return None
        try:
            answer = httpx.post(
                outbox.push_url, json=envelope, headers=outbox.push_headers, timeout=2.0
            )
        except httpx.HTTPError:
            return None
        return answer.status_code

    def _push_blocking(self, envelope: dict[str, Any]) -> bool:
        """A real-time request; True when the action may go on (no push URL: approved)."""
        if self.state.outbox.push_url is None:
            return True
        status = self._post(envelope)
        with self.lock:
            self.state.outbox.pushed.append((envelope, status))
        return status is not None and 200 <= status < 300

    def _deliver_pushes(self) -> None:
        with self.lock:
            if self.state.outbox.push_url is None:
                return
            due = self.state.outbox.take_due(self.clock.now())
        for delivery in due:
            status = self._post(delivery.envelope)
            with self.lock:
                self.state.outbox.settle(delivery, status, self.clock.now())

    # ----- the API ------------------------------------------------------------------------------
    def gate(self, method: str, target: str, headers: dict[str, str], domain: str) -> Any:
        """Auth, the pre-commit faults and the rate limiter; returns (limit headers, fault to
        apply after commit or None, or "drop" when the connection must close now)."""
        self.tokens.check(headers.get("authorization", ""), domain)
        after: Fault | None = None
        for item in list(self.faults):
            if not item.matches(method, target):
                continue
            if item.countdown > 0:
                item.countdown -= 1
                continue
            self.faults.remove(item)
            if item.kind == "status":
                raise fault(item.status, None, item.retry_after)
            if item.kind == "drop_before":
                return {}, "drop"
            after = item
            break
        limit_headers = self.limits.admit(method in WRITES, self.clock.now(), ZONES[domain])
        return limit_headers, after

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        domain: str,
    ) -> Reply:
        """One API request (path relative to /api/v3/integration) under the lock."""
        segs = [unquote(s) for s in path.strip("/").split("/") if s]
        return Router(self, method, segs, query, body, ZONES[domain], domain).route()


class _Handler(QuietHandler):
    emu: DocplannerEmulator

    def _send(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None, kind: str = "?"
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            self.emu.responses.append((kind, copy.deepcopy(body)))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            error = status >= 400 and kind != "token"
            content = ERROR_TYPE if error or kind == "token_error" else RESPONSE_TYPE
            if kind in ("token", "token_error", "public_ips"):
                content = "application/json"
            self.send_header("Content-Type", content)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.emu.log.append((self.command, self.path, status))

    def _drop(self, stall: float = 0.0) -> None:
        """Close the connection without an answer (after `stall` seconds)."""
        self.emu.log.append((self.command, self.path, None))
        if stall:
            self.emu._stopping.wait(stall)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = self._headers()
        path = url.path
        first, _, rest = path.lstrip("/").partition("/")
        domain = domain_of(first)
        if domain is not None:
            path = "/" + rest
        else:
            domain = domain_of(headers.get("host", "")) or self.emu.domain
        if path == "/oauth/v2/token":
            self._token(raw, headers, domain)
        elif path in ("/public/docs/public-ips.json", "/public/docs/public-ips.txt"):
            if path.endswith(".json"):
                self._send(200, ["127.0.0.1"], kind="public_ips")
            else:
                data = b"127.0.0.1\n"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        elif path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            self._api(path[len(API_PREFIX) :], url.query, raw, headers, domain)
        else:
            self._send(404, {"errors": [], "message": "Not found."}, kind="error")

    def _token(self, raw: bytes, headers: dict[str, str], domain: str) -> None:
        emu = self.emu
        if self.command != "POST":
            self._send(405, {"errors": [], "message": "Method not allowed."}, kind="error")
            return
        form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        with emu.lock:
            try:
                body = emu.tokens.token(form, headers.get("authorization", ""), domain)
            except TokenError as exc:
                self._send(exc.status, exc.body, kind="token_error")
                return
        self._send(200, body, kind="token")

    def _api(
        self, path: str, query_text: str, raw: bytes, headers: dict[str, str], domain: str
    ) -> None:
        emu = self.emu
        held = emu._held
        if held is not None:
            held.wait(timeout=10)
        if emu.latency:
            time.sleep(emu.latency)
        query = parse_qs(query_text, keep_blank_values=True)
        target = path + ("?" + query_text if query_text else "")
        after: Fault | None = None
        limit_headers: dict[str, str] = {}
        with emu.lock:
            emu.state.tick()
            try:
                limit_headers, outcome = emu.gate(self.command, target, headers, domain)
                if outcome == "drop":
                    self._drop()
                    return
                after = outcome
                try:
                    body = json.loads(raw) if raw.strip() else None
                except ValueError:
                    raise bad_request("The request body is not valid JSON.") from None
                reply = emu.handle(self.command, path, query, body, domain)
            except DocplannerError as exc:
                self._send(exc.status, exc.body(), {**limit_headers, **exc.headers}, "error")
                return
        if reply.finish is not None:
            wait_until = time.monotonic() + emu.slot_processing
            while time.monotonic() < wait_until and not emu._stopping.is_set():
                time.sleep(0.005)
            with emu.lock:
                reply.finish()
        emu._deliver_pushes()
        if after is not None:
            self._drop(after.stall)
            return
        self._send(reply.status, reply.body, {**limit_headers, **reply.headers}, reply.kind)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch
