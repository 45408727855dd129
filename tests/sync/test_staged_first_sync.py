"""A staged first sync: against a real CalDAV server (Radicale) the engine stores the items
while the provider reads the calendar's state; what another client writes in between reaches
the mirror in the same sync, and a failure of the second step keeps what was stored without
a token, so the next sync starts over without duplicates. While the second step runs, the
engine's threads take quicker turns at the interpreter (checked on the memory provider)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace

from carecal.domain.errors import TransientError
from carecal.providers.base import PullResult, RemoteCalendar, resource_name
from carecal.providers.caldav import CalDAVProvider
from carecal.providers.memory import MemoryProvider
from carecal.sync import engine
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo, radicale_server
from tests.providers.caldav_support import after_each_request
from tests.providers.contract import vcalendar
from tests.sync.helpers import REMOTE, Replica, vevent

__all__ = ["radicale_server"]


def _setup(
    make_replica: Callable[..., Replica], server: ServerInfo, n: int
) -> tuple[Replica, CalDAVProvider, str, list[str]]:
    url = server.new_calendar()
    uids = [f"visit-{i}@staged.test" for i in range(n)]
    for uid in uids:
        server.put(url + resource_name(uid), vcalendar(uid, f"Visit {uid}"))
    replica = make_replica("a", remote_id=url)
    return replica, CalDAVProvider(server.base_url, USERNAME, PASSWORD), url, uids


def test_writes_between_the_download_and_the_state_read_reach_the_mirror_at_once(
    make_replica: Callable[..., Replica], radicale_server: ServerInfo
) -> None:
    replica, provider, url, uids = _setup(make_replica, radicale_server, 8)
    edited, removed, added = uids[0], uids[1], "added@staged.test"

    def another_desk_writes(n: int) -> None:
        if n == 1:  # the download has been answered; the state has not been read yet
            radicale_server.put(url + resource_name(edited), vcalendar(edited, "Moved"))
            radicale_server.delete(url + resource_name(removed))
            radicale_server.put(url + resource_name(added), vcalendar(added, "New"))

    after_each_request(provider, another_desk_writes)
    report = replica.sync(provider)  # type: ignore[arg-type]
    assert report.ok, report.errors
    assert replica.uids() == (set(uids) - {removed}) | {added}
    assert [e.title for e in replica.by_uid(edited)] == ["Moved"]
    assert replica.store.calendar_state(replica.calendar.id).token is not None
    again = replica.sync(provider)  # type: ignore[arg-type]
    assert again.ok and again.pulled == 0 and again.deleted == 0


def test_a_failed_state_read_keeps_the_items_without_a_token_and_the_next_sync_converges(
    make_replica: Callable[..., Replica], radicale_server: ServerInfo
) -> None:
    replica, provider, url, uids = _setup(make_replica, radicale_server, 6)
    failing = [True]

    def the_network_drops(n: int) -> None:
        if n == 2 and failing[0]:  # the state read's answer is lost
            failing[0] = False
            raise TransientError("cannot reach 127.0.0.1: ReadError")

    after_each_request(provider, the_network_drops)
    report = replica.sync(provider)  # type: ignore[arg-type]
    assert not report.ok and any("cannot reach" in e for e in report.errors)
    assert replica.uids() == set(uids)  # stored by the first step
    assert replica.store.calendar_state(replica.calendar.id).token is None
    radicale_server.put(url + resource_name(uids[2]), vcalendar(uids[2], "Changed later"))
    report = replica.sync(provider)  # type: ignore[arg-type]
    assert report.ok, report.errors
    assert replica.uids() == set(uids)
    assert all(len(replica.by_uid(u)) == 1 for u in uids)
    assert [e.title for e in replica.by_uid(uids[2])] == ["Changed later"]
    assert replica.store.calendar_state(replica.calendar.id).token is not None


class _StagedMemory(MemoryProvider):
    """The memory provider with a staged first pull, noting the interpreter's switch interval
    while its second step is awaited."""

    def __init__(self) -> None:
        super().__init__([REMOTE])
        self.switch_seen: list[float] = []

    async def pull_staged(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        result = await self.pull(calendar, state)
        if state is not None:
            return result

        async def second_step() -> PullResult:
            self.switch_seen.append(sys.getswitchinterval())
            return PullResult(state=result.state)

        return replace(result, state=None, follow_up=second_step)


def test_threads_take_quick_turns_only_while_the_second_step_runs(
    make_replica: Callable[..., Replica],
) -> None:
    provider = _StagedMemory()
    for i in range(5):
        provider.put_from_elsewhere(REMOTE.remote_id, f"s{i}@x", vevent(f"s{i}@x", f"Visit {i}"))
    replica = make_replica("a")
    before = sys.getswitchinterval()
    report = replica.sync(provider)
    assert report.ok and report.pulled == 5
    assert provider.switch_seen == [min(before, engine.SHARED_SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == before
    assert replica.store.calendar_state(replica.calendar.id).token is not None
    again = replica.sync(provider)  # incremental: no second step, the interval untouched
    assert again.ok and provider.switch_seen == [min(before, engine.SHARED_SWITCH_INTERVAL)]
