"""The scheduler: first cycle at start, debounced edits, network back, stop."""

from __future__ import annotations

import asyncio

from carecal.sync.engine import CancelToken
from carecal.sync.scheduler import SyncScheduler


def test_start_debounce_network_back_and_stop() -> None:
    forced: list[bool] = []

    async def cycle(token: CancelToken, force: bool) -> None:
        forced.append(force)

    async def main() -> None:
        sched = SyncScheduler(cycle, interval=60.0, debounce=0.05)
        task = asyncio.create_task(sched.run())
        await asyncio.sleep(0.02)
        assert forced == [False]  # on start
        for _ in range(5):  # a burst of edits gives one sync
            sched.notify_edit()
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.15)
        assert len(forced) == 2
        sched.network_back()
        await asyncio.sleep(0.02)
        assert forced[-1] is True
        sched.stop()
        await asyncio.wait_for(task, 1.0)

    asyncio.run(main())
