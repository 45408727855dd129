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


def test_a_new_interval_applies_from_the_next_wait() -> None:
    starts: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sched: SyncScheduler

        async def cycle(token: CancelToken, force: bool) -> None:
            starts.append(loop.time())
            sched.set_interval(0.05)  # what the window does once a Docplanner account synced

        sched = SyncScheduler(cycle, interval=3600.0, debounce=3600.0)
        task = asyncio.create_task(sched.run())
        await asyncio.sleep(0.3)
        sched.stop()
        await asyncio.wait_for(task, 1.0)

    asyncio.run(main())
    assert len(starts) >= 3  # every 0.05 s instead of once an hour
