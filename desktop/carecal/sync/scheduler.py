"""When to sync: on start, a few seconds after an edit (debounced), every N minutes, and when
the network comes back; one cycle at a time, cancellable. Pure asyncio (the UI wraps it).

Threads: ``run`` is a coroutine on the sync worker's loop; ``notify_edit``, ``network_back``,
``sync_now`` and ``stop`` may be called from any thread (they hop onto that loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from carecal.sync.engine import CancelToken

log = logging.getLogger(__name__)

Cycle = Callable[[CancelToken, bool], Awaitable[object]]
"""One sync cycle: (cancel token, force) -> anything (the reports)."""


class SyncScheduler:
    def __init__(self, cycle: Cycle, *, interval: float = 300.0, debounce: float = 3.0) -> None:
        self._cycle = cycle
        self._interval = interval
        self._debounce = debounce
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._due: float | None = None
        self._force = False
        self._stopped = False
        self._token: CancelToken | None = None
        self.cycles = 0

    # --- any thread -------------------------------------------------------------------------

    def _call(self, fn: Callable[[], None]) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(fn)

    def notify_edit(self) -> None:
        """A local edit: sync ``debounce`` seconds after the last one."""
        self._call(lambda: self._schedule(self._debounce, force=False, restart=True))

    def network_back(self) -> None:
        """Connectivity returned: sync now, retrying what waits for its backoff."""
        self._call(lambda: self._schedule(0.0, force=True, restart=False))

    def sync_now(self) -> None:
        self._call(lambda: self._schedule(0.0, force=True, restart=False))

    def set_interval(self, seconds: float) -> None:
        """Sync every ``seconds`` from the next wait on. The loop's thread (a cycle calls it)."""
        self._interval = seconds

    def stop(self) -> None:
        """Cancel the running cycle (between items) and end ``run``."""

        def do() -> None:
            self._stopped = True
            if self._token is not None:
                self._token.cancel()
            if self._wake is not None:
                self._wake.set()

        self._call(do)

    # --- the loop ---------------------------------------------------------------------------

    def _schedule(self, delay: float, *, force: bool, restart: bool) -> None:
        assert self._loop is not None and self._wake is not None
        at = self._loop.time() + delay
        # A later edit pushes a debounced sync back; an immediate request never waits.
        self._due = at if restart or self._due is None else min(self._due, at)
        self._force = self._force or force
        self._wake.set()

    async def run(self) -> None:
        """Run cycles until ``stop``: the first at once, then as triggered or every interval."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._due = self._loop.time()
        while not self._stopped:
            now = self._loop.time()
            if self._due is not None and self._due <= now:
                force, self._force, self._due = self._force, False, None
                self._token = CancelToken()
                try:
                    await self._cycle(self._token, force)
                except Exception:  # a bug in a cycle must not end the scheduler
                    log.exception("sync cycle failed")
                self._token = None
                self.cycles += 1
                if self._due is None:
                    self._due = self._loop.time() + self._interval
                continue
            timeout = None if self._due is None else max(0.0, self._due - now)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
