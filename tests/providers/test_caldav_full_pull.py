"""The CalDAV provider's complete pull (first sync, or after an expired token): one
calendar-query, then the state and an ETag listing that catches what changed in between, with
fallbacks when the server will not answer the query in one piece."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from carecal.providers.base import PullResult, RemoteCalendar, resource_name
from carecal.providers.caldav import CalDAVProvider
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo
from tests.providers.caldav_support import after_each_request
from tests.providers.conftest import REPORT_LIMIT
from tests.providers.contract import run, vcalendar


def _uid() -> str:
    return f"{uuid.uuid4()}@full-pull.test"


def _series(uid: str, overrides: int) -> str:
    """A weekly series with ``overrides`` moved occurrences: 1 + overrides VEVENTs."""
    parts = [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other device//EN\r\n",
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART:20250303T090000Z\r\nDTEND:20250303T095000Z\r\nRRULE:FREQ=WEEKLY;COUNT=20\r\n"
        "SUMMARY:Series\r\nEND:VEVENT\r\n",
    ]
    first = datetime(2025, 3, 3, 9, 0)
    for week in range(1, overrides + 1):
        rid = first + timedelta(weeks=week)
        start = rid + timedelta(hours=1)
        parts.append(
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n"
            f"RECURRENCE-ID:{rid:%Y%m%dT%H%M%S}Z\r\nDTSTART:{start:%Y%m%dT%H%M%S}Z\r\n"
            f"DTEND:{start + timedelta(minutes=50):%Y%m%dT%H%M%S}Z\r\n"
            f"SUMMARY:Moved {week}\r\nEND:VEVENT\r\n"
        )
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts)


def _setup(server: ServerInfo, *, sync: bool = True) -> tuple[CalDAVProvider, RemoteCalendar]:
    url = server.new_calendar()
    provider = CalDAVProvider(server.base_url, USERNAME, PASSWORD, use_sync_collection=sync)
    return provider, RemoteCalendar(url, "x")


def _put(server: ServerInfo, cal: RemoteCalendar, uid: str, raw: str) -> str:
    return server.put(cal.remote_id + resource_name(uid), raw)


def _put_href(server: ServerInfo, cal: RemoteCalendar, uid: str) -> str:
    href = cal.remote_id + resource_name(uid)
    server.put(href, vcalendar(uid))
    return href


@pytest.mark.parametrize("server_name", ["radicale_server", "xandikos_server"])
def test_first_pull_is_one_query_then_the_token_and_an_etag_listing(
    server_name: str, request: pytest.FixtureRequest
) -> None:
    server: ServerInfo = request.getfixturevalue(server_name)
    provider, cal = _setup(server)
    uids = [_uid() for _ in range(12)]
    etags = {u: _put(server, cal, u, vcalendar(u)) for u in uids}
    res = run(provider.pull(cal, None))
    assert [r.split()[0] for r in provider.requests] == ["REPORT", "PROPFIND", "REPORT"]
    assert res.complete and res.state and res.state.startswith("sync:")
    assert res.follow_up is None
    for item in res.changed:
        assert item.ref.version and etags[item.uid] in ("", item.ref.version)
    assert sorted(i.uid for i in res.changed) == sorted(uids)
    again = run(provider.pull(cal, res.state))
    assert again.changed == [] and again.deleted == []


def test_a_staged_pull_gives_the_items_first_and_the_state_from_its_follow_up(
    radicale_server: ServerInfo,
) -> None:
    provider, cal = _setup(radicale_server)
    uids = [_uid() for _ in range(5)]
    for u in uids:
        _put(radicale_server, cal, u, vcalendar(u))

    async def staged() -> tuple[PullResult, PullResult]:
        first = await provider.pull_staged(cal, None)
        assert first.follow_up is not None
        return first, await first.follow_up()

    first, second = run(staged())
    assert first.complete and first.state is None
    assert sorted(i.uid for i in first.changed) == sorted(uids)
    assert second.state and second.state.startswith("sync:") and not second.complete
    assert second.changed == [] and second.deleted == [] and second.follow_up is None


@pytest.mark.parametrize("after", [1, 2], ids=["before-the-state-read", "before-the-listing"])
def test_changes_made_after_the_download_are_in_the_pull_or_the_next(
    radicale_server: ServerInfo, after: int
) -> None:
    provider, cal = _setup(radicale_server)
    edited, added, removed = _uid(), _uid(), _uid()
    _put(radicale_server, cal, edited, vcalendar(edited))
    removed_href = _put_href(radicale_server, cal, removed)

    def another_client_writes_meanwhile(n: int) -> None:
        if n == after:  # 1: the download; 2: the state read
            _put(radicale_server, cal, edited, vcalendar(edited, "Edited meanwhile"))
            _put(radicale_server, cal, added, vcalendar(added))
            radicale_server.delete(removed_href)

    after_each_request(provider, another_client_writes_meanwhile)
    first = run(provider.pull(cal, None))
    # The pull's own listing, taken after the state, already shows the writes ...
    by_uid = {i.uid: i for i in first.changed}
    assert set(by_uid) == {edited, added}
    assert "Edited meanwhile" in by_uid[edited].raw
    # ... and whatever the state does not cover comes again with the next pull, never less.
    nxt = run(provider.pull(cal, first.state))
    again = {i.uid for i in nxt.changed}
    assert again <= {edited, added}
    if after == 2:  # written after the state was read: newer than the saved state
        assert again == {edited, added}
        assert [d.rsplit("/", 1)[-1] for d in nxt.deleted] == [removed_href.rsplit("/", 1)[-1]]


@pytest.mark.parametrize("sync", [True, False])
def test_a_refused_query_falls_back_to_listing_and_chunked_multiget(
    small_report_radicale: ServerInfo, sync: bool
) -> None:
    provider, cal = _setup(small_report_radicale, sync=sync)
    singles = [_uid() for _ in range(7)]
    big = _uid()  # more VEVENTs than the server puts in one REPORT: only a GET brings it
    etags = {u: _put(small_report_radicale, cal, u, vcalendar(u)) for u in singles}
    etags[big] = _put(small_report_radicale, cal, big, _series(big, REPORT_LIMIT))
    res = run(provider.pull(cal, None))
    assert res.complete and res.state
    got = {i.uid: i for i in res.changed}
    assert set(got) == set(etags)
    assert all(i.ref.version for i in res.changed)
    assert got[big].raw.count("BEGIN:VEVENT") == REPORT_LIMIT + 1
    assert any(r.startswith("GET ") for r in provider.requests)
    # the state taken before the fallback still works for the next, incremental pull
    changed = singles[0]
    _put(small_report_radicale, cal, changed, vcalendar(changed, "Changed"))
    nxt = run(provider.pull(cal, res.state))
    assert [i.uid for i in nxt.changed] == [changed] and nxt.deleted == []
