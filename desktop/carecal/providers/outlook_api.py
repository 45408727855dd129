"""Microsoft Graph over HTTP: authorization, the Prefer headers, retries, JSON batching and
Graph's errors as Carecal's.

Every request carries ``Prefer: IdType="ImmutableId"`` (ids survive moves between calendars),
``outlook.timezone="UTC"`` (timed events come in UTC; the zone they were written in is
``originalStartTimeZone``; all-day events keep their midnights whatever the zone) and
``outlook.body-content-type="text"``.

``OutlookApi.call`` returns the answer's JSON or raises the domain error Graph's answer means:
- 401: refresh the sign-in once and retry; again (or a dead refresh token) -> AuthExpired;
- 429 and 503: retried in place after Graph's Retry-After (1, 2, 4 s plus jitter without one;
  at most 3 retries, a Retry-After above 32 s is not waited here), then RateLimited with the
  wait, which the engine keeps as the account's pause;
- 404 -> NotFound, 412 (and 409) -> PreconditionFailed, 410 -> SyncStateExpired (the delta
  state is gone), 504 and other 5xx -> TransientError, 400/403/other 4xx ->
  PermanentItemError (a malformed id is NotFound: the item cannot be there);
- an answer that is not the JSON object asked for -> TransientError.
Every error carries ``status`` and ``reason`` (Graph's error.code). Coroutines run on the sync
worker's event loop; nothing but CarecalError leaves. Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from carecal.domain.errors import CarecalError, SyncStateExpired, TransientError
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
    MAX_IN_PLACE_WAIT,
    WAIT_AFTER_RETRIES,
    Answer,
    JsonApi,
    Params,
    Transport,
    retry_delay,
)
from carecal.net.tokens import TokenSet

log = logging.getLogger(__name__)

DEFAULT_API = "https://graph.microsoft.com/v1.0"
PREFER = 'IdType="ImmutableId", outlook.timezone="UTC", outlook.body-content-type="text"'
BATCH_LIMIT = 20  # Graph's most requests in one $batch
BATCH_CHAINS = 4  # Outlook runs 4 requests of one mailbox at a time
BATCH_ROUNDS = 4
MALFORMED_ID = frozenset({"ErrorInvalidIdMalformed", "ErrorInvalidId"})

Sleep = Callable[[float], Awaitable[None]]


class OutlookAuth(Protocol):
    """Where the Authorization header comes from (services' MSAL token source)."""

    async def headers(self) -> dict[str, str]: ...

    async def refresh(self, stale: TokenSet | None = None) -> TokenSet: ...


def path(*parts: str) -> str:
    """A URL path below the API base from raw segments (ids quoted)."""
    return "".join("/" + quote(p, safe="") for p in parts)


def _code(data: Any) -> tuple[str | None, str]:
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    message = error.get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else "")


def graph_error(status: int, text: str, headers: Any, what: str) -> CarecalError:
    """The domain error for one of Graph's error answers about ``what`` (a readable noun).
    Messages never quote the body (it may echo what was sent)."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    reason, _ = _code(data)
    body = text[:4096]
    tag = f"{status}{', ' + reason if reason else ''}"
    if status == 401:
        return HttpAuthExpired(
            "Microsoft no longer accepts the saved sign-in (401); sign in again",
            status=status, body=body, reason=reason,
        )  # fmt: skip
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"))
        return HttpRateLimited(
            f"Outlook asks Carecal to slow down ({tag})",
            status=status, body=body, reason=reason,
            retry_after=WAIT_AFTER_RETRIES if retry_after is None else retry_after,
        )  # fmt: skip
    if status == 404 or (status == 400 and reason in MALFORMED_ID):
        return HttpNotFound(f"{what}: not found in Outlook ({tag})", status=status, body=body,
                            reason=reason)  # fmt: skip
    if status in (409, 412):
        return HttpPreconditionFailed(
            f"{what}: changed in Outlook since Carecal last read it ({tag})",
            status=status, body=body, reason=reason,
        )  # fmt: skip
    if status == 410:
        return SyncStateExpired(f"Outlook no longer knows the saved sync state ({tag})")
    if status >= 500:
        return HttpTransientError(
            f"Outlook had a server error ({tag}); will try again",
            status=status, body=body, reason=reason,
        )  # fmt: skip
    if status == 403:
        return HttpPermanentError(f"{what}: Outlook does not allow this change ({tag})",
                                  status=status, body=body, reason=reason)  # fmt: skip
    return HttpPermanentError(f"{what}: Outlook refused the request ({tag})", status=status,
                              body=body, reason=reason)  # fmt: skip


@dataclass(frozen=True)
class Member:
    """One answer inside a $batch: status, headers (lower-case names) and JSON body."""

    status: int
    headers: dict[str, str]
    body: Any


class OutlookApi:
    """Authorized, retried requests to Graph. One per provider; one event loop at a time."""

    def __init__(
        self,
        auth: OutlookAuth,
        *,
        api_base: str = DEFAULT_API,
        transport: Transport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        user_agent: str = "Carecal",
    ) -> None:
        self._auth = auth
        self.base = api_base.rstrip("/")
        self._http = JsonApi(self.base, user_agent=user_agent, transport=transport)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.requests: list[str] = []  # "METHOD /path" of every request sent (no query)
        self.waits: list[float] = []  # every in-place wait, for tests

    async def aclose(self) -> None:
        await self._http.aclose()

    def relative(self, link: str) -> str:
        """A nextLink/deltaLink as a path below the API base (Graph's links are absolute).
        Raises SyncStateExpired for a link elsewhere (a saved state that is not ours)."""
        if link.startswith(self.base + "/"):
            return link[len(self.base) :]
        if link.startswith("/"):
            return link
        raise SyncStateExpired("the saved Outlook link does not point at this account's API")

    async def call(
        self,
        method: str,
        url_path: str,
        *,
        what: str,
        params: Params | None = None,
        body: Any = None,
        if_match: str | None = None,
        prefer: str = "",
    ) -> dict[str, Any]:
        """The JSON object Graph answers ({} for an empty answer). Raises as the module
        docstring says."""
        answer = await self.send(
            method, url_path, params=params, body=body, if_match=if_match, prefer=prefer
        )
        if answer.status >= 400:
            raise graph_error(answer.status, answer.text, answer.headers, what)
        if not answer.text.strip():
            return {}
        try:
            data = answer.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise HttpTransientError(
                f"{what}: Outlook's answer could not be read; will try again",
                status=answer.status,
                body=answer.text[:4096],
            )
        return data

    async def send(
        self,
        method: str,
        url_path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        if_match: str | None = None,
        prefer: str = "",
    ) -> Answer:
        """One request with the sign-in's header, refreshed once after a 401 and retried in
        place after 429/503; the last answer is returned whatever its status. Raises
        AuthExpired (the refresh failed), TransientError (network)."""
        refreshed = False
        waits = 0
        while True:
            headers = dict(await self._auth.headers())
            headers["Prefer"] = PREFER + (", " + prefer if prefer else "")
            if if_match is not None:
                headers["If-Match"] = if_match
            self.requests.append(f"{method} {url_path.split('?', 1)[0]}")
            answer = await self._http.send(
                method, url_path, params=params, body=body, headers=headers
            )
            if answer.status == 401 and not refreshed:
                refreshed = True
                await self._auth.refresh()
                continue
            throttled = answer.status in (429, 503)
            delay = retry_delay(answer, waits, self._rng) if throttled else None
            if delay is None:
                return answer
            waits += 1
            log.info("Outlook asks to wait (%s); retrying in %.1f s", answer.status, delay)
            self.waits.append(delay)
            await self._sleep(delay)

    async def batch_get(self, urls: Sequence[str], what: str, prefer: str = "") -> list[Member]:
        """GET every URL (paths below the API base, with their query) through $batch, at most
        20 a batch in 4 chains (Outlook runs 4 requests of one mailbox at a time; a request in
        a chain waits for the one before). Members refused for throttling (429) or because
        the one before them failed (424) go again in the next batch, after Graph's
        Retry-After. Returns one answer per URL, in order. Raises AuthExpired, RateLimited
        (still throttled after the retries), TransientError."""
        results: dict[int, Member] = {}
        pending = list(range(len(urls)))
        for _round in range(BATCH_ROUNDS):
            if not pending:
                break
            retry: list[int] = []
            wait = 0.0
            for start in range(0, len(pending), BATCH_LIMIT):
                chunk = pending[start : start + BATCH_LIMIT]
                members = await self._one_batch([urls[i] for i in chunk], what, prefer)
                for index, member in zip(chunk, members, strict=True):
                    if member.status in (424, 429, 503):
                        retry.append(index)
                        if member.status != 424:
                            after = parse_retry_after(member.headers.get("retry-after"))
                            wait = max(wait, 1.0 if after is None else after)
                    else:
                        results[index] = member
            pending = retry
            if pending and wait:
                wait = min(wait, MAX_IN_PLACE_WAIT)
                self.waits.append(wait)
                await self._sleep(wait)
        for index in pending:  # still refused: one plain request each
            answer = await self.send("GET", urls[index], prefer=prefer)
            if answer.status in (429, 503):
                raise graph_error(answer.status, answer.text, answer.headers, what)
            try:
                data = answer.json() if answer.text.strip() else None
            except ValueError:
                data = None
            results[index] = Member(answer.status, dict(answer.headers), data)
        return [results[i] for i in range(len(urls))]

    async def _one_batch(self, urls: Sequence[str], what: str, prefer: str) -> list[Member]:
        requests: list[dict[str, Any]] = []
        for n, url in enumerate(urls):
            member: dict[str, Any] = {
                "id": str(n + 1),
                "method": "GET",
                "url": url.lstrip("/"),
                "headers": {"Prefer": PREFER + (", " + prefer if prefer else "")},
            }
            if n >= BATCH_CHAINS:
                member["dependsOn"] = [str(n + 1 - BATCH_CHAINS)]
            requests.append(member)
        data = await self.call(
            "POST", "/$batch", what=what, body={"requests": requests}, prefer=prefer
        )
        answers = data.get("responses")
        by_id: dict[str, Member] = {}
        for entry in answers if isinstance(answers, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("status"), int):
                found = entry.get("headers")
                heads: dict[str, Any] = found if isinstance(found, dict) else {}
                by_id[str(entry.get("id"))] = Member(
                    entry["status"], {str(k).lower(): str(v) for k, v in heads.items()},
                    entry.get("body"),
                )  # fmt: skip
        if len(by_id) != len(urls) or any(str(n + 1) not in by_id for n in range(len(urls))):
            raise TransientError(f"{what}: Outlook's batch answer was incomplete; will try again")
        return [by_id[str(n + 1)] for n in range(len(urls))]


def member_json(member: Member, what: str) -> dict[str, Any]:
    """A batch member's JSON object, or the domain error its status means."""
    if member.status >= 400:
        text = json.dumps(member.body) if member.body is not None else ""
        raise graph_error(member.status, text, member.headers, what)
    if not isinstance(member.body, dict):
        raise TransientError(f"{what}: Outlook's answer could not be read; will try again")
    return member.body
