"""The connection to Docplanner's Integrations API v3: one country domain, OAuth2 client
credentials, the rate limits, and both error shapes turned into Carecal's errors.

- Base URL ``https://www.{domain}/api/v3/integration``; the token endpoint
  ``https://www.{domain}/oauth/v2/token`` (``host_template`` replaces ``https://www.{domain}``
  for an emulator).
- Client credentials (``scope=integration``) come from a callable (the keyring, read only when
  a token is needed); the access token lives in memory only. It is fetched again shortly before
  ``expires_in`` runs out and once after a 401.
- Rate limits: every answer's ``X-RateLimit-Remaining``/``-Reset`` are remembered per bucket
  (reads, writes); a bucket at zero waits for its reset before the next call. A 429 backs off
  (Retry-After, else the reset, else exponentially) and tries again, at most ``retries`` times and
  ``max_wait`` seconds per wait; beyond that it raises RateLimited. A 429 means nothing was
  applied, so a retried write is safe. Nothing else is retried here: a write that timed out may
  have happened (the caller lists bookings before trying again).
- Errors: ``{"errors": [] | {"field.path": [...]}, "message"}`` and the bare ``{"message"}`` of
  a 401 become HttpAuthExpired (401), HttpPermanentError (403), HttpNotFound (404),
  HttpPreconditionFailed (409), DocplannerRejected (400/422, with the field errors),
  HttpRateLimited (429), HttpTransientError (5xx, network, timeouts). No foreign exception leaves.

Coroutines run on the sync worker's event loop; the object is used from one loop at a time.
Nothing here logs or puts in a message a request body, an answer body or a token.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from carecal.domain.errors import AuthExpired, CarecalError, RateLimited
from carecal.net.errors import (
    HttpAuthExpired,
    HttpNotFound,
    HttpPermanentError,
    HttpPreconditionFailed,
    HttpRateLimited,
    HttpTransientError,
)
from carecal.net.http import parse_retry_after
from carecal.net.jsonapi import Answer, JsonApi, Params, Transport
from carecal.net.tokens import TokenSet
from carecal.providers.docplanner_types import DOMAIN_ZONES, BadPayload, normalize_domain

log = logging.getLogger(__name__)

DEFAULT_HOST = "https://www.{domain}"
API_PATH = "/api/v3/integration"
TOKEN_PATH = "/oauth/v2/token"
ACCEPT = "application/vnd.docplanner+json, application/json"
TOKEN_LEEWAY = 60.0  # seconds before expiry a token is replaced
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Credentials:
    """An API client's id and secret (kept in the OS keyring; never logged)."""

    client_id: str
    client_secret: str = field(repr=False)


class DocplannerRejected(HttpPermanentError):
    """400 or 422: Docplanner refused the request; ``fields`` holds the validation errors keyed
    by field path (``{"slots[0].end": ["..."]}``), empty when it gave none."""

    def __init__(
        self, message: str, *, status: int, body: str = "", fields: Mapping[str, list[str]]
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.fields = dict(fields)


def parse_error(text: str) -> tuple[str, dict[str, list[str]]]:
    """Docplanner's message and field errors from an error body (both shapes: ``errors`` as a
    list or as an object keyed by field path; a 401's bare ``{"message"}``). Pure."""
    try:
        data = json.loads(text)
    except ValueError:
        return "", {}
    if not isinstance(data, dict):
        return "", {}
    message = data.get("message")
    fields: dict[str, list[str]] = {}
    errors = data.get("errors")
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(value, list):
                fields[str(key)] = [str(v) for v in value]
            elif value is not None:
                fields[str(key)] = [str(value)]
    elif isinstance(errors, list):
        for i, value in enumerate(errors):
            if isinstance(value, str):
                fields.setdefault("", []).append(value)
            elif isinstance(value, dict) and isinstance(value.get("message"), str):
                path = value.get("property_path") or value.get("field") or str(i)
                fields.setdefault(str(path), []).append(value["message"])
    return (message.strip()[:200] if isinstance(message, str) else ""), fields


def error_for(answer: Answer, path: str, retry_after: float | None = None) -> CarecalError:
    """The Carecal error for a Docplanner error answer (status 400 or more). Pure."""
    status = answer.status
    message, fields = parse_error(answer.text)
    said = f": {message}" if message else ""
    detail = "; ".join(f"{k}: {' '.join(v)}" if k else " ".join(v) for k, v in fields.items())
    where = f"Docplanner {path.split('?')[0]}"
    body = answer.text[:4096]
    if status == 401:
        return HttpAuthExpired(
            f"Docplanner refused the API client's credentials (401{said}); check the client id "
            "and secret",
            status=status,
            body=body,
        )
    if status == 403:
        return HttpPermanentError(
            f"{where}: not allowed for this API client (403{said})", status=status, body=body
        )
    if status in (404, 410):
        return HttpNotFound(f"{where}: not found ({status}{said})", status=status, body=body)
    if status == 409:
        return HttpPreconditionFailed(
            f"{where}: refused as a conflict (409{said})", status=status, body=body
        )
    if status == 429:
        wait = f"; retry in {retry_after:.0f} s" if retry_after is not None else ""
        return HttpRateLimited(
            f"Docplanner asks Carecal to slow down (429{said}){wait}",
            status=status,
            body=body,
            retry_after=retry_after,
        )
    if status >= 500:
        return HttpTransientError(
            f"Docplanner had a server error ({status}); will try again", status=status, body=body
        )
    extra = f" [{detail[:300]}]" if detail else ""
    return DocplannerRejected(
        f"{where}: refused ({status}{said}){extra}", status=status, body=body, fields=fields
    )


@dataclass
class _Bucket:
    """What the last answer said about one rate-limit bucket."""

    remaining: int | None = None
    reset: datetime | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DocplannerApi:
    """Calls to one Docplanner country site for one API client. See the module docstring."""

    def __init__(
        self,
        domain: str,
        credentials: Callable[[], Credentials],
        *,
        host_template: str = DEFAULT_HOST,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Sleep = asyncio.sleep,
        transport: Transport | None = None,
        retries: int = 4,
        max_wait: float = 90.0,
        timeout: float = 30.0,
        user_agent: str = "Carecal",
    ) -> None:
        try:
            self.domain = normalize_domain(domain)
        except ValueError as exc:
            raise BadPayload(str(exc)) from None
        self.zone = ZoneInfo(DOMAIN_ZONES[self.domain])
        self.host = host_template.format(domain=self.domain).rstrip("/")
        self._credentials = credentials
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self._retries = retries
        self._max_wait = max_wait
        self._api = JsonApi(
            self.host + API_PATH, user_agent=user_agent, timeout=timeout, transport=transport
        )
        self._timeout = timeout
        self._user_agent = user_agent
        self._token: TokenSet | None = None
        self._token_lock = asyncio.Lock()
        self._buckets = {"read": _Bucket(), "write": _Bucket()}
        self.calls = 0  # answers received (for tests and reports)
        self.waited = 0.0  # seconds spent waiting for rate limits

    @property
    def token_url(self) -> str:
        return self.host + TOKEN_PATH

    # --- tokens -------------------------------------------------------------------------------

    async def _access_token(self, *, stale: TokenSet | None = None) -> TokenSet:
        async with self._token_lock:
            now = self._clock().timestamp()
            current = self._token
            fresh_enough = current is not None and not current.expires_within(TOKEN_LEEWAY, now=now)
            if current is not None and fresh_enough and current is not stale:
                return current
            self._token = await self._fetch_token()
            return self._token

    async def _fetch_token(self) -> TokenSet:
        from carecal.net.oauth import OAuthConfig, client_credentials

        creds = self._credentials()
        config = OAuthConfig(
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            token_url=self.token_url,
            scopes=("integration",),
            user_agent=self._user_agent,
            timeout=self._timeout,
        )
        try:
            return await client_credentials(
                config, clock=lambda: self._clock().timestamp(), transport=self._transport
            )
        except AuthExpired as exc:
            raise AuthExpired(
                "Docplanner refused the API client id or secret; add the account again with the "
                "right ones"
            ) from exc

    # --- rate limits ----------------------------------------------------------------------------

    def _note_limits(self, bucket: _Bucket, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining is None and reset is None:
            bucket.remaining, bucket.reset = None, None  # the limiter is off
            return
        try:
            bucket.remaining = int(remaining) if remaining is not None else None
        except ValueError:
            bucket.remaining = None
        bucket.reset = _parse_reset(reset, self.zone, self._clock())

    def _until_reset(self, bucket: _Bucket) -> float | None:
        if bucket.reset is None:
            return None
        return max(0.0, (bucket.reset - self._clock()).total_seconds())

    async def _wait(self, seconds: float) -> None:
        self.waited += seconds
        log.info("Docplanner rate limit: waiting %.1f s", seconds)
        await self._sleep(seconds)

    async def _respect_budget(self, bucket: _Bucket) -> None:
        if bucket.remaining is None or bucket.remaining > 0:
            return
        wait = self._until_reset(bucket)
        if wait is None or wait <= 0:
            return
        if wait > self._max_wait:
            raise RateLimited(
                f"Docplanner's rate limit is used up for {wait:.0f} s; Carecal will go on later",
                wait,
            )
        await self._wait(wait)
        bucket.remaining = None

    def _backoff(self, answer: Answer, bucket: _Bucket, attempt: int) -> float:
        said = parse_retry_after(answer.headers.get("retry-after"), now=self._clock().timestamp())
        if said is not None:
            return max(said, 0.5)
        until = self._until_reset(bucket)
        if until is not None and until > 0:
            return until
        return float(min(2**attempt, 60))

    # --- requests -----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> Answer:
        """One call (``path`` below ``/api/v3/integration``, already quoted), with the token,
        the rate limits and one new token after a 401. Returns answers below 400. Raises
        AuthExpired, HttpPermanentError/DocplannerRejected, HttpNotFound,
        HttpPreconditionFailed, RateLimited, TransientError."""
        bucket = self._buckets["read" if method.upper() == "GET" else "write"]
        attempt = 0
        stale: TokenSet | None = None
        renewed = False
        while True:
            await self._respect_budget(bucket)
            token = await self._access_token(stale=stale)
            answer = await self._api.send(
                method,
                path,
                params=params,
                body=body,
                headers={"Authorization": f"Bearer {token.access_token}", "Accept": ACCEPT},
            )
            self.calls += 1
            self._note_limits(bucket, answer.headers)
            if answer.status == 401 and not renewed:
                renewed, stale = True, token
                continue
            if answer.status == 429:
                wait = self._backoff(answer, bucket, attempt)
                if attempt < self._retries and wait <= self._max_wait:
                    attempt += 1
                    await self._wait(wait)
                    bucket.remaining = None
                    continue
                raise error_for(answer, path, wait)
            if answer.status >= 400:
                raise error_for(answer, path)
            return answer

    async def get(self, path: str, params: Params | None = None) -> Any:
        """A GET's JSON body. Raises as ``request``, and BadPayload for a body that is not
        JSON."""
        return _json(await self.request("GET", path, params=params), path)

    async def send(self, method: str, path: str, body: Any = None) -> Answer:
        """A write (POST/PUT/PATCH/DELETE) with a JSON body. Raises as ``request``."""
        return await self.request(method, path, body=body)

    async def close(self) -> None:
        """Close the connections of the current loop. Raises nothing."""
        await self._api.aclose()


def read_json(answer: Answer, path: str) -> Any:
    """An answer's JSON body (None when empty). Raises BadPayload."""
    return _json(answer, path)


def _json(answer: Answer, path: str) -> Any:
    if not answer.text.strip():
        return None
    try:
        return answer.json()
    except ValueError:
        raise BadPayload(
            f"Docplanner {path.split('?')[0]}: the answer is not JSON ({answer.status})"
        ) from None


def _parse_reset(value: str | None, zone: ZoneInfo, now: datetime) -> datetime | None:
    """X-RateLimit-Reset: an ISO date (the reference), or epoch seconds / seconds to wait."""
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return None
        if number > 1e9:
            return datetime.fromtimestamp(number, UTC)
        return datetime.fromtimestamp(now.timestamp() + number, UTC)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def path_of(facility_id: str, doctor_id: str, address_id: str) -> str:
    """``/facilities/F/doctors/D/addresses/A`` with each id quoted. Pure."""
    f, d, a = (quote(x, safe="") for x in (facility_id, doctor_id, address_id))
    return f"/facilities/{f}/doctors/{d}/addresses/{a}"
