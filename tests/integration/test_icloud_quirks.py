"""The CalDAV provider (iCloud preset, address overridden) against a stand-in for iCloud's
quirks in front of a real Radicale: discovery across the partition host, sync, writes that
never use If-Match: *, and events without an end made acceptable."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from carecal.domain.errors import AuthExpired, PreconditionFailed
from carecal.providers.base import RemoteCalendar
from carecal.providers.caldav import CalDAVProvider
from tests.integration.icloud_proxy import ICloudProxy
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def vcal(uid: str, summary: str = "Session", end: bool = True) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other device//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250310T090000Z\r\n"
        + ("DTEND:20250310T095000Z\r\n" if end else "")
        + f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@dataclass
class ICloud:
    server: ServerInfo
    proxy: ICloudProxy
    provider: CalDAVProvider
    direct_url: str  # the test calendar on Radicale itself


@pytest.fixture()
def icloud(radicale_server: ServerInfo) -> Iterator[ICloud]:
    direct = radicale_server.new_calendar()
    with ICloudProxy(radicale_server.base_url, USERNAME, PASSWORD) as proxy:
        provider = CalDAVProvider(proxy.url, USERNAME, PASSWORD, preset="icloud", timeout=5)
        yield ICloud(radicale_server, proxy, provider, direct)
        run(provider.close())


def _calendar(ic: ICloud) -> RemoteCalendar:
    found = run(ic.provider.discover())
    wanted = urlsplit(ic.direct_url).path
    [cal] = [c for c in found if urlsplit(c.remote_id).path == wanted]
    return cal


def test_discovery_follows_the_partition_host(icloud: ICloud) -> None:
    cal = _calendar(icloud)
    assert cal.remote_id == icloud.proxy.partition_url(icloud.direct_url)
    roles = {(s.role, s.method) for s in icloud.proxy.requests()}
    assert ("front", "PROPFIND") in roles and ("partition", "PROPFIND") in roles


def test_sync_and_writes_survive_the_quirks(icloud: ICloud) -> None:
    cal = _calendar(icloud)
    p = icloud.provider
    other = f"{uuid.uuid4()}@elsewhere"
    icloud.server.put(icloud.direct_url + f"{other}.ics", vcal(other, "From the phone"))
    first = run(p.pull(cal, None))
    # The collection listed as its own member is not taken for an item.
    assert [i.uid for i in first.changed] == [other]
    assert first.changed[0].raw.count("DTSTAMP:") == 2  # the quirk reached the provider
    assert p.to_events(first.changed[0], "c")[0].title == "From the phone"

    uid = f"{uuid.uuid4()}@carecal"
    ref = run(p.create(cal, uid, vcal(uid)))
    with pytest.raises(PreconditionFailed):
        run(p.create(cal, uid, vcal(uid)))
    ref2 = run(p.update(cal, ref, vcal(uid, "Moved")))
    with pytest.raises(PreconditionFailed):
        run(p.update(cal, ref, vcal(uid, "Stale")))  # the old ETag, not a wildcard
    later = run(p.pull(cal, first.state))
    assert [(i.uid, i.ref.version) for i in later.changed] == [(uid, ref2.version)]
    assert "SUMMARY:Moved" in later.changed[0].raw
    run(p.delete(cal, ref2))
    run(p.delete(cal, ref2))  # gone already: done
    gone = run(p.pull(cal, later.state))
    assert gone.deleted == [ref2.remote_id] and not gone.changed
    assert [i.uid for i in run(p.pull(cal, None)).changed] == [other]
    writes = icloud.proxy.requests("PUT") + icloud.proxy.requests("DELETE")
    assert writes and all(s.role == "partition" for s in writes)
    assert not any(s.headers.get("If-Match", "").strip() == "*" for s in writes)


def test_the_proxy_reverses_the_wildcard(icloud: ICloud) -> None:
    # The stand-in itself: why the provider must never send If-Match: *.
    import niquests

    url = icloud.proxy.partition_url(icloud.direct_url) + "w.ics"
    put = {"If-Match": "*", "Content-Type": "text/calendar"}
    auth = (USERNAME, PASSWORD)
    assert niquests.put(url, data=vcal("w").encode(), headers=put, auth=auth).status_code in (
        200,
        201,
        204,
    )
    assert niquests.put(url, data=vcal("w").encode(), headers=put, auth=auth).status_code == 412


def test_an_event_without_an_end_is_given_one(icloud: ICloud) -> None:
    cal = _calendar(icloud)
    uid = f"{uuid.uuid4()}@carecal"
    ref = run(icloud.provider.create(cal, uid, vcal(uid, end=False)))
    [item] = run(icloud.provider.pull(cal, None)).changed
    assert item.ref == ref
    [event] = icloud.provider.to_events(item, "c")
    assert event.end is not None and event.end >= event.start


def test_wrong_credentials_are_auth_expired(icloud: ICloud) -> None:
    p = CalDAVProvider(icloud.proxy.url, USERNAME, "revoked", preset="icloud", timeout=5)
    with pytest.raises(AuthExpired):
        run(p.discover())
    run(p.close())
    challenges = [s for s in icloud.proxy.requests() if s.headers.get("Authorization")]
    assert challenges
