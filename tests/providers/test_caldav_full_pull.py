"""The CalDAV provider's complete pull (first sync, or after an expired token): state first,
then one calendar-query, with fallbacks when the server will not answer it in one piece."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest

from carecal.providers.base import RemoteCalendar, resource_name
from carecal.providers.caldav import CalDAVProvider
from carecal.providers.caldav_http import Answer
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo
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


@pytest.mark.parametrize("server_name", ["radicale_server", "xandikos_server"])
def test_first_pull_is_one_token_read_and_one_query(
    server_name: str, request: pytest.FixtureRequest
) -> None:
    server: ServerInfo = request.getfixturevalue(server_name)
    provider, cal = _setup(server)
    uids = [_uid() for _ in range(12)]
    etags = {u: _put(server, cal, u, vcalendar(u)) for u in uids}
    res = run(provider.pull(cal, None))
    assert [r.split()[0] for r in provider.requests] == ["PROPFIND", "REPORT"]
    assert res.complete and res.state and res.state.startswith("sync:")
    for item in res.changed:
        assert item.ref.version and etags[item.uid] in ("", item.ref.version)
    assert sorted(i.uid for i in res.changed) == sorted(uids)
    again = run(provider.pull(cal, res.state))
    assert again.changed == [] and again.deleted == []


def test_changes_made_during_the_download_come_with_the_next_pull(
    radicale_server: ServerInfo,
) -> None:
    provider, cal = _setup(radicale_server)
    edited, added = _uid(), _uid()
    _put(radicale_server, cal, edited, vcalendar(edited))
    http = provider._http
    plain = http.request

    def another_client_writes_after_the_first_request(
        method: str, url: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Answer:
        ans = plain(method, url, body, headers)
        if len(http.requests) == 1:  # the state was just read; the download comes next
            _put(radicale_server, cal, edited, vcalendar(edited, "Edited meanwhile"))
            _put(radicale_server, cal, added, vcalendar(added))
        return ans

    http.request = another_client_writes_after_the_first_request  # type: ignore[method-assign]
    first = run(provider.pull(cal, None))
    http.request = plain  # type: ignore[method-assign]
    nxt = run(provider.pull(cal, first.state))
    by_uid = {i.uid: i for i in nxt.changed}
    # Whatever the download saw, the saved state predates the writes: they come again.
    assert set(by_uid) == {edited, added}
    assert "Edited meanwhile" in by_uid[edited].raw


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
