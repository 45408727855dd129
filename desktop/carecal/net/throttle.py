"""Per-host request spacing: a minimum interval between requests, and a "not before" time that a
429 or a 503 with Retry-After pushes forward.

Coroutines call ``await throttle.wait(host)`` before each request; slots are reserved before
sleeping, so concurrent callers line up instead of all waking at once. The clock and the sleep
are injected so tests measure spacing without waiting. Runs on the asyncio network thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class HostThrottle:
    """Spaces requests per host. Not thread-safe: use it from one event loop."""

    def __init__(
        self,
        min_interval: float = 0.0,
        *,
        per_host: Mapping[str, float] | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._default = max(0.0, min_interval)
        self._per_host = dict(per_host or {})
        self._clock = clock
        self._sleep = sleep
        self._next_slot: dict[str, float] = {}
        self._not_before: dict[str, float] = {}

    def interval(self, host: str) -> float:
        return self._per_host.get(host, self._default)

    def defer(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` from now (after a 429 / Retry-After)."""
        until = self._clock() + max(0.0, seconds)
        self._not_before[host] = max(self._not_before.get(host, until), until)

    def delay(self, host: str) -> float:
        """Seconds the next request to ``host`` would wait now (0 when it may go at once)."""
        start = max(self._next_slot.get(host, 0.0), self._not_before.get(host, 0.0))
        return max(0.0, start - self._clock())

    async def wait(self, host: str) -> None:
        """Wait for this caller's turn to send to ``host``. Raises only CancelledError."""
        now = self._clock()
        start = max(now, self._next_slot.get(host, now), self._not_before.get(host, now))
        self._next_slot[host] = start + self.interval(host)
        if start > now:
            await self._sleep(start - now)
        # A 429 seen while this caller slept pushes it back as well.
        while (late := self._not_before.get(host, 0.0) - self._clock()) > 0:
            await self._sleep(late)
