"""A blocking httpx session for protocols whose answers the caller reads itself (CalDAV): exact
status codes, no redirects followed, no error mapping (the caller maps statuses).

TLS: certificates are checked against the operating system's trust store (wassima, as the
niquests stack the CalDAV provider used before did), so a self-hosted server whose CA the
computer trusts keeps working; the https connection pool is built on its first request only.
Threads: one session per worker thread at a time (the caller serialises its requests).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

import httpx


def blocking_client(
    username: str | None,
    password: str | None,
    *,
    timeout: float,
    verify_tls: bool,
    headers: Mapping[str, str],
) -> httpx.Client:
    """A session with Basic authentication (when ``username`` is given) that does not follow
    redirects. Raises nothing; requests raise httpx's exceptions for network failures."""
    return httpx.Client(
        auth=httpx.BasicAuth(username, password or "") if username else None,
        headers=dict(headers),
        timeout=timeout,
        follow_redirects=False,
        transport=_Transport(verify_tls),
    )


class _Transport(httpx.BaseTransport):
    """Plain http and https connection pools, the https one built on its first request: loading
    the system's certificates costs about 50 ms, which a plain-http server (a local Radicale)
    never needs. Proxies from the environment still apply (httpx mounts them in front)."""

    def __init__(self, verify: bool) -> None:
        self._verify = verify
        self._plain = httpx.HTTPTransport(verify=False)  # never used for an https URL
        self._tls: httpx.HTTPTransport | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._plain.handle_request(request)
        if self._tls is None:
            self._tls = httpx.HTTPTransport(verify=tls_context() if self._verify else False)
        return self._tls.handle_request(request)

    def close(self) -> None:
        self._plain.close()
        if self._tls is not None:
            self._tls.close()


def tls_context() -> ssl.SSLContext:
    """A verifying TLS context with the operating system's trust store (the certifi bundle if
    that cannot be read)."""
    try:
        import wassima

        return wassima.create_default_ssl_context()
    except Exception:  # wassima missing, or no readable system store
        return ssl.create_default_context()
