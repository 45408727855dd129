"""Google Calendar v3 over HTTP: authorization, retries and Google's errors as Carecal's.

``GoogleApi.call`` sends one request and returns the answer's JSON, or raises the domain error
Google's answer means (after the reference's error table):
- 401: refresh the sign-in once and retry; a second 401 (or a dead refresh token) ->
  AuthExpired;
- 403 rateLimitExceeded / userRateLimitExceeded and 429: retried in place after 1, 2 and 4 s
  (plus up to a second of jitter; a Retry-After, when Google sends one, instead), then
  RateLimited; 403 quotaExceeded -> RateLimited(retry_after=3600) with a readable message;
- 404 -> NotFound, 409/412 -> PreconditionFailed, 410 fullSyncRequired -> SyncStateExpired,
  410 deleted -> NotFound (with ``reason`` "deleted"), 500-504 -> TransientError, other 4xx ->
  PermanentItemError;
- an answer that is not the JSON object asked for -> TransientError (something between Carecal
  and Google garbled it).
Every error carries ``status`` and ``reason`` (carecal.net.errors) for callers that need to
look closer. Coroutines run on the sync worker's event loop; nothing but CarecalError leaves.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import quote

from carecal.domain.errors import CarecalError
from carecal.net.errors import (
    HttpAuthExpired,
    HttpNotFound,
    HttpPermanentError,
    HttpPreconditionFailed,
    HttpRateLimited,
    HttpTransientError,
)
from carecal.net.http import parse_retry_after
from carecal.net.jsonapi import (
    WAIT_AFTER_RETRIES,
    Answer,
    JsonApi,
    Params,
    Transport,
    retry_delay,
)
from carecal.net.tokens import TokenSet

log = logging.getLogger(__name__)

DEFAULT_API = "https://www.googleapis.com/calendar/v3"
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
QUOTA_PAUSE = 3600.0
QUOTA_MESSAGE = "Google's usage limit for this account is used up; Carecal pauses it for an hour"

Sleep = Callable[[float], Awaitable[None]]


class GoogleAuth(Protocol):
    """Where the Authorization header comes from; net.oauth.TokenSource satisfies it."""

    async def headers(self) -> dict[str, str]: ...

    async def refresh(self, stale: TokenSet | None = None) -> TokenSet: ...


def path(*parts: str) -> str:
    """A URL path below the API base from raw segments (calendar and event ids quoted)."""
    return "".join("/" + quote(p, safe="") for p in parts)


def _error_reason(answer: Answer) -> tuple[str | None, str]:
    """(Google's errors[0].reason, its message) of an error answer; (None, "") if unreadable."""
    try:
        data = answer.json()
    except ValueError:
        return None, ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, ""
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason")
        if isinstance(reason, str):
            return reason, str(message)
    return None, str(message)


def google_error(answer: Answer, what: str) -> CarecalError:
    """The domain error for one of Google's error answers about ``what`` (a readable noun:
    "the event list", "event abc"). Messages never quote the body (it may echo what was sent)."""
    status = answer.status
    reason, _message = _error_reason(answer)
    body = answer.text[:4096]
    tag = f"{status}{', ' + reason if reason else ''}"
    if status == 401:
        return HttpAuthExpired(
            "Google no longer accepts the saved sign-in (401); sign in again",
            status=status,
            body=body,
            reason=reason,
        )
    if status == 403 and reason == "quotaExceeded":
        return HttpRateLimited(
            QUOTA_MESSAGE, status=status, body=body, reason=reason, retry_after=QUOTA_PAUSE
        )
    if status == 429 or (status == 403 and reason in RATE_REASONS):
        retry_after = parse_retry_after(answer.headers.get("retry-after"))
        if retry_after is None:
            retry_after = WAIT_AFTER_RETRIES
        return HttpRateLimited(
            f"Google asks Carecal to slow down ({tag})",
            status=status,
            body=body,
            reason=reason,
            retry_after=retry_after,
        )
    if status in (404, 410):
        gone = "deleted on Google" if reason == "deleted" else "not found on Google"
        return HttpNotFound(f"{what}: {gone} ({tag})", status=status, body=body, reason=reason)
    if status in (409, 412):
        return HttpPreconditionFailed(
            f"{what}: changed on Google since Carecal last read it ({tag})",
            status=status,
            body=body,
            reason=reason,
        )
    if status >= 500:
        return HttpTransientError(
            f"Google had a server error ({tag}); will try again",
            status=status,
            body=body,
            reason=reason,
        )
    if status == 403:
        return HttpPermanentError(
            f"{what}: Google does not allow this change ({tag})",
            status=status,
            body=body,
            reason=reason,
        )
    return HttpPermanentError(
        f"{what}: Google refused the request ({tag})", status=status, body=body, reason=reason
    )


class GoogleApi:
    """Authorized, retried requests to the Calendar API. One per provider; one event loop at a
    time (see carecal.net.jsonapi)."""

    def __init__(
        self,
        auth: GoogleAuth,
        *,
        api_base: str = DEFAULT_API,
        transport: Transport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        user_agent: str = "Carecal",
    ) -> None:
        self._auth = auth
        self._http = JsonApi(api_base, user_agent=user_agent, transport=transport)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests: list[str] = []  # "METHOD /path" of every request sent, for tests

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        method: str,
        url_path: str,
        *,
        what: str,
        params: Params | None = None,
        body: Any = None,
        if_match: str | None = None,
    ) -> dict[str, Any] | None:
        """The JSON object Google answers (None for an empty 2xx answer, such as a DELETE's).
        Raises as the module docstring says."""
        answer = await self.send(method, url_path, params=params, body=body, if_match=if_match)
        if answer.status >= 400:
            raise google_error(answer, what)
        if not answer.text.strip():
            return None
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise HttpTransientError(
                f"{what}: Google's answer could not be read; will try again",
                status=answer.status,
                body=answer.text[:4096],
            )
        return data

    async def fetch(
        self,
        method: str,
        url_path: str,
        what: str,
        params: Params | None = None,
        body: Any = None,
        *,
        if_match: str | None = None,
    ) -> dict[str, Any]:
        """``call`` with {} for an empty answer. Raises as ``call``."""
        data = await self.call(
            method, url_path, what=what, params=params, body=body, if_match=if_match
        )
        return data or {}

    async def send(
        self,
        method: str,
        url_path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        if_match: str | None = None,
    ) -> Answer:
        """One request with the sign-in's header, refreshed once after a 401 and retried after
        rate limits; the last answer is returned whatever its status (errors for rate limits
        that outlast the retries are left to the caller's ``google_error``). Raises
        AuthExpired (the refresh failed), TransientError (network)."""
        refreshed = False
        waits = 0
        while True:
            headers = dict(await self._auth.headers())
            if if_match is not None:
                headers["If-Match"] = if_match
            self.requests.append(f"{method} {url_path}")
            answer = await self._http.send(
                method, url_path, params=params, body=body, headers=headers
            )
            if answer.status == 401 and not refreshed:
                refreshed = True
                await self._auth.refresh()  # raises AuthExpired when the refresh token is dead
                continue
            delay = self._rate_delay(answer, waits)
            if delay is None:
                return answer
            waits += 1
            log.info("Google rate limit (%s); retrying in %.1f s", answer.status, delay)
            await self._sleep(delay)

    def _rate_delay(self, answer: Answer, waits: int) -> float | None:
        """How long to wait before retrying ``answer`` in place, or None (return it)."""
        reason, _ = _error_reason(answer)
        limited = answer.status == 429 or (answer.status == 403 and reason in RATE_REASONS)
        return retry_delay(answer, waits, self._rng) if limited else None
