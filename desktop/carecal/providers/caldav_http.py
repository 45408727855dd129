"""The CalDAV provider's HTTP layer: one httpx session, exact status codes, and the mapping of
failures to the domain's errors.

A sync engine needs the exact status, the precondition element and Retry-After, and redirects
followed without turning a PROPFIND into a GET; so this module sends plain requests and reads
the answers itself. It used the caldav library's client session before: that library loads
niquests and urllib3-future at import (about 0.2 s of every ``carecal sync`` process), while
httpx is already Carecal's HTTP client (carecal.net). Certificates are checked against the
operating system's trust store (wassima, as niquests did), so a self-hosted server whose CA the
computer trusts keeps working; the TLS context is built on the first https request only
(the session comes from carecal.net.blocking).

Blocking: every method here runs on a worker thread (the provider calls it through
``asyncio.to_thread``), one request at a time (a lock guards the session).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from carecal import __version__
from carecal.domain.errors import (
    AuthExpired,
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    RateLimited,
    RemoteError,
    TransientError,
)
from carecal.net.blocking import blocking_client
from carecal.providers.caldav_xml import preconditions

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5


@dataclass
class Answer:
    """One HTTP answer, after redirects."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str  # the URL that answered (after redirects)
    pre: set[str] = field(default_factory=set)  # precondition elements of a <D:error> body

    def etag(self) -> str | None:
        """The strong ETag of the answer, if any (a weak one can never satisfy If-Match)."""
        tag = self.headers.get("ETag") or self.headers.get("etag")
        if not tag or tag.startswith("W/"):
            return None
        return tag


_HEADERS = {"User-Agent": f"Carecal/{__version__} (CalDAV)", "Accept": "text/xml, text/calendar"}


class Http:
    """A session to one CalDAV account. Never logs credentials or bodies."""

    def __init__(
        self, username: str | None, password: str | None, *, timeout: float, verify_tls: bool
    ) -> None:
        self._client = blocking_client(
            username, password, timeout=timeout, verify_tls=verify_tls, headers=_HEADERS
        )
        self._lock = threading.Lock()
        self.requests: list[str] = []  # "METHOD /path", for tests that count round trips

    def close(self) -> None:
        """Close the session. Worker thread."""
        with self._lock:
            self._client.close()

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send one request, following redirects without changing the method (a PROPFIND stays
        a PROPFIND) and never from https to http. Raises TransientError for network failures,
        AuthExpired for 401, RateLimited for 429 (and 503 with Retry-After); other statuses are
        returned for the caller to judge."""
        hdrs = dict(headers or {})
        if body:
            hdrs.setdefault("Content-Type", "text/xml")
        for _ in range(MAX_REDIRECTS + 1):
            self.requests.append(f"{method} {urlsplit(url).path}")
            try:
                with self._lock:
                    r = self._client.request(method, url, content=body or None, headers=hdrs)
                    content = r.content or b""
            except Exception as exc:
                raise TransientError(
                    f"cannot reach {urlsplit(url).hostname}: {_kind(exc)}"
                ) from None
            status = int(r.status_code or 0)
            rh = r.headers  # case-insensitive
            if status in (301, 302, 303, 307, 308) and "Location" in r.headers:
                nxt = urljoin(url, r.headers["Location"])
                if urlsplit(url).scheme == "https" and urlsplit(nxt).scheme != "https":
                    raise PermanentItemError("the server redirected from https to plain http")
                url = nxt
                continue
            ans = Answer(status, rh, content, url)
            if status >= 400:
                ans.pre = preconditions(content)
            _raise_account_level(ans)
            return ans
        raise TransientError(f"too many redirects at {urlsplit(url).hostname}")


def _raise_account_level(ans: Answer) -> None:
    """Failures that concern the whole account, whatever the request was."""
    if ans.status == 401:
        raise AuthExpired("the calendar server refused the user name or password")
    if ans.status == 429 or (ans.status == 503 and _retry_after(ans) is not None):
        raise RateLimited("the calendar server asks to slow down", _retry_after(ans))


def raise_for_item(ans: Answer, what: str) -> None:
    """Map a failed answer about one item (or collection) to the domain's errors.

    Raises TransientError (5xx, 408), PreconditionFailed (412), NotFound (404, 410),
    PermanentItemError (other 4xx). Does nothing for 2xx.
    """
    s = ans.status
    if 200 <= s < 300:
        return
    if s >= 500 or s == 408:
        raise TransientError(f"the calendar server failed ({s}) on {what}")
    if s == 412:
        raise PreconditionFailed(f"{what} changed on the server")
    if s in (404, 410):
        raise NotFound(f"{what} is not on the server")
    raise PermanentItemError(f"the calendar server refused {what} ({s})")


def _retry_after(ans: Answer) -> float | None:
    value = ans.headers.get("Retry-After") or ans.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _kind(exc: Exception) -> str:
    # The class name says "timeout" / "connection refused" without echoing URLs with secrets.
    return type(exc).__name__


def remote_error(exc: Exception) -> RemoteError:
    """A last-resort wrapper so no foreign exception leaves the provider."""
    log.warning("unexpected CalDAV failure: %s", type(exc).__name__)
    return RemoteError(f"unexpected failure talking to the calendar server ({type(exc).__name__})")
