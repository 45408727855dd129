"""The HTTP client MSAL (Microsoft's sign-in library) talks through: an httpx client with
Carecal's timeouts and User-Agent, so MSAL's requests go through ``carecal.net`` like every
other connection (DESIGN.md: only net opens connections) and network failures become
TransientError.

MSAL accepts only https authorities and endpoints. A test emulator serves its identity
endpoints over plain http on a loopback address; for that one case (and only for the loopback
host:port the caller names) ``MsalHttp`` sends the https URLs MSAL builds over http, and shows
MSAL that server's own http URLs (in its OpenID configuration) as https. Nothing else is ever
downgraded, and the rewrite is logged once. ``msal_authority`` gives the https spelling MSAL
is handed for such an authority.

MSAL is synchronous: its calls (and so these methods) run on a worker thread, never the GUI
thread or an event loop's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from carecal.net.http import DEFAULT_TIMEOUT, network_error

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def msal_authority(authority: str) -> tuple[str, str | None]:
    """(the authority MSAL is given, the loopback host:port to reach over plain http or None).
    An http authority on a loopback address (a local emulator) is handed to MSAL as https;
    every other authority is passed as it is (MSAL refuses what is not https)."""
    parts = urlsplit(authority)
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return urlunsplit(("https", parts.netloc, parts.path, "", "")), parts.netloc
    return authority, None


class MsalResponse:
    """What MSAL reads of an answer: status_code, text, headers and raise_for_status()."""

    def __init__(self, response: httpx.Response, text: str | None = None) -> None:
        self.status_code = response.status_code
        self.text = response.text if text is None else text
        self.headers = response.headers
        self._response = response

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            # MSAL calls this only where it cannot read an error body; a plain error for it.
            raise network_error(
                httpx.HTTPStatusError(
                    f"{self.status_code}", request=self._response.request, response=self._response
                ),
                self._response.request,
            )


class MsalHttp:
    """A requests-like client for MSAL (``get``, ``post``, ``close``). ``plain_host``: the
    loopback host:port whose https URLs go over http (an emulator; see the module docstring).
    ``transport`` replaces the network (tests). Raises TransientError on network failures."""

    def __init__(
        self,
        *,
        plain_host: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        user_agent: str = "Carecal",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._plain_host = plain_host
        self._warned = False
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            headers={"User-Agent": user_agent},
            follow_redirects=False,
            transport=transport,
        )

    def _url(self, url: str) -> str:
        parts = urlsplit(url)
        if self._plain_host and parts.scheme == "https" and parts.netloc == self._plain_host:
            if not self._warned:
                log.info("sign-in goes to a local test server over plain http (%s)", parts.netloc)
                self._warned = True
            return urlunsplit(("http", *parts[1:]))
        return url

    def _send(self, method: str, url: str, **kw: Any) -> MsalResponse:
        target = self._url(url)
        try:
            response = self._client.request(method, target, **kw)
        except httpx.HTTPError as exc:
            raise network_error(exc, None) from None
        if target == url or not url.endswith("/.well-known/openid-configuration"):
            return MsalResponse(response)
        # The local server names its own endpoints with http; MSAL is shown them as https
        # (and this client sends them over http again).
        plain, secure = f"http://{self._plain_host}", f"https://{self._plain_host}"
        return MsalResponse(response, response.text.replace(plain, secure))

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> MsalResponse:
        return self._send("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> MsalResponse:
        if isinstance(data, Mapping):
            return self._send("POST", url, params=params, data=dict(data), headers=headers)
        return self._send("POST", url, params=params, content=data, headers=headers)

    def public_url(self, url: str) -> str:
        """The address a browser opens for an MSAL-built URL (http again for the local test
        server; any other URL as it is)."""
        return self._url(url)

    def close(self) -> None:
        self._client.close()
