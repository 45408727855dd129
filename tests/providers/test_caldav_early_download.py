"""Adding an account: the CalDAV provider discovers the calendars on a thread of its own and
downloads the chosen one right after, before anyone asks for a pull. The first pull of that
calendar takes the download instead of asking again, and what changed on the server since
still comes with it (on Radicale, a real server)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from carecal.domain.errors import TransientError, ValidationError
from carecal.providers.base import RemoteCalendar, resource_name
from carecal.providers.caldav import CalDAVProvider
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo
from tests.providers.caldav_support import after_each_request
from tests.providers.contract import run, vcalendar


def _uid() -> str:
    return f"{uuid.uuid4()}@early.test"


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def _on(provider: CalDAVProvider, path: str) -> list[str]:
    """The methods of the provider's requests to ``path``, in order."""
    return [r.split()[0] for r in provider.requests if r.split()[1] == path]


@pytest.mark.parametrize("when", ["before-the-state-read", "after-the-second-step"])
def test_the_first_pull_takes_the_early_download_and_no_change_is_missed(
    radicale_server: ServerInfo, when: str
) -> None:
    server = radicale_server
    other, chosen = server.new_calendar(), server.new_calendar()
    kept, edited, removed, added = _uid(), _uid(), _uid(), _uid()
    for uid in (kept, edited, removed):
        server.put(chosen + resource_name(uid), vcalendar(uid, f"Visit {uid}"))
    server.put(other + resource_name(_uid()), vcalendar(_uid()))
    path = urlsplit(chosen).path
    provider = CalDAVProvider(server.base_url, USERNAME, PASSWORD)

    def another_desk_writes() -> None:
        server.put(chosen + resource_name(edited), vcalendar(edited, "Moved meanwhile"))
        server.delete(chosen + resource_name(removed))
        server.put(chosen + resource_name(added), vcalendar(added, "Booked meanwhile"))

    def after_the_download(n: int) -> None:
        if when == "before-the-state-read" and _on(provider, path) == ["REPORT"]:
            another_desk_writes()

    after_each_request(provider, after_the_download)
    found = provider.discover_and_download(
        lambda cals: [c for c in cals if urlsplit(c.remote_id).path == path]
    ).result(timeout=30)
    cal = next(c for c in found if urlsplit(c.remote_id).path == path)
    assert {urlsplit(c.remote_id).path for c in found} >= {path, urlsplit(other).path}
    # The download, the state read and the ETag listing all go out before any pull is asked for.
    _wait_for(lambda: len(_on(provider, path)) >= 3, "the early download and its second step")
    if when == "after-the-second-step":
        time.sleep(0.3)  # the listing's answer read: the writes are newer than the state
        another_desk_writes()

    res = run(provider.pull(cal, None))
    assert res.complete and res.state and res.state.startswith("sync:")
    nxt = run(provider.pull(cal, res.state))
    assert _on(provider, urlsplit(other).path) == []
    by_uid = {i.uid: i for i in res.changed}
    if when == "before-the-state-read":
        # Changed between the download and the state: the listing catches it in this pull.
        assert _on(provider, path)[:4] == ["REPORT", "PROPFIND", "REPORT", "REPORT"]
        assert set(by_uid) == {kept, edited, added}
        assert "Moved meanwhile" in by_uid[edited].raw
        assert {i.uid for i in nxt.changed} <= {edited, added}
    else:
        # Changed after the state: the next pull brings it. No second download either way.
        assert _on(provider, path)[:3] == ["REPORT", "PROPFIND", "REPORT"]
        assert set(by_uid) == {kept, edited, removed}
        assert {i.uid for i in nxt.changed} == {edited, added}
        assert "Moved meanwhile" in next(i.raw for i in nxt.changed if i.uid == edited)
        assert [d.rsplit("/", 1)[-1] for d in nxt.deleted] == [resource_name(removed)]
    final = run(provider.pull(cal, nxt.state))
    assert final.changed == [] and final.deleted == []
    run(provider.close())


def test_a_later_pull_of_another_calendar_or_with_a_state_downloads_itself(
    radicale_server: ServerInfo,
) -> None:
    server = radicale_server
    first, second = server.new_calendar(), server.new_calendar()
    uid = _uid()
    server.put(second + resource_name(uid), vcalendar(uid))
    provider = CalDAVProvider(server.base_url, USERNAME, PASSWORD)
    provider.discover_and_download(
        lambda cals: [c for c in cals if urlsplit(c.remote_id).path == urlsplit(first).path]
    ).result(timeout=30)
    res = run(provider.pull(RemoteCalendar(second, "Second"), None))
    assert [i.uid for i in res.changed] == [uid]
    assert _on(provider, urlsplit(second).path)[0] == "REPORT"
    run(provider.close())


def test_a_failed_discovery_comes_from_the_future_and_nothing_is_downloaded(
    radicale_server: ServerInfo,
) -> None:
    # (A refused password on a real server: tests/cli/test_accounts.py, through this path.)
    provider = CalDAVProvider(radicale_server.base_url, USERNAME, PASSWORD)

    def the_network_drops(n: int) -> None:
        raise TransientError("cannot reach 127.0.0.1: the connection was reset")

    after_each_request(provider, the_network_drops)
    found = provider.discover_and_download(lambda cals: cals)
    with pytest.raises(TransientError, match="connection was reset"):
        found.result(timeout=30)
    assert not any(r.startswith("REPORT") for r in provider.requests)
    run(provider.close())


def test_a_choice_that_fails_only_means_no_early_download(radicale_server: ServerInfo) -> None:
    radicale_server.new_calendar()

    def choose(cals: list[RemoteCalendar]) -> list[RemoteCalendar]:
        raise ValidationError("no calendar named 'Missing' on the server")

    provider = CalDAVProvider(radicale_server.base_url, USERNAME, PASSWORD)
    found = provider.discover_and_download(choose).result(timeout=30)
    assert found
    time.sleep(0.3)
    assert not any(r.startswith("REPORT") for r in provider.requests)
    run(provider.close())


def test_an_early_download_that_failed_fails_its_pull_and_the_next_pull_starts_over(
    radicale_server: ServerInfo,
) -> None:
    url = radicale_server.new_calendar()
    uid = _uid()
    radicale_server.put(url + resource_name(uid), vcalendar(uid))
    provider = CalDAVProvider(radicale_server.base_url, USERNAME, PASSWORD)
    path = urlsplit(url).path
    failed: list[int] = []

    def the_network_drops_the_download(n: int) -> None:
        if not failed and provider.requests[-1] == f"REPORT {path}":
            failed.append(n)
            raise TransientError("cannot reach 127.0.0.1: the connection was reset")

    after_each_request(provider, the_network_drops_the_download)
    found = provider.discover_and_download(
        lambda cals: [c for c in cals if urlsplit(c.remote_id).path == path]
    ).result(timeout=30)
    cal = next(c for c in found if urlsplit(c.remote_id).path == path)
    with pytest.raises(TransientError):
        run(provider.pull(cal, None))
    res = run(provider.pull(cal, None))
    assert [i.uid for i in res.changed] == [uid] and res.state
    run(provider.close())
