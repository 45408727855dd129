"""Helpers for tests of the CalDAV provider against real servers."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from carecal.providers.caldav import CalDAVProvider
from carecal.providers.caldav_http import Answer


def after_each_request(provider: CalDAVProvider, hook: Callable[[int], None]) -> None:
    """Call ``hook(n)`` once the provider's n-th request has been answered (before the
    provider reads the answer): where a test lets another client write, or the network fail."""
    http = provider._http
    plain = http.request

    def request(
        method: str, url: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Answer:
        ans = plain(method, url, body, headers)
        hook(len(http.requests))
        return ans

    http.request = request  # type: ignore[method-assign]
