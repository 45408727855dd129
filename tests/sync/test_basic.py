"""Push, pull, first sync and the local calendar on MemoryProvider."""

from __future__ import annotations

import asyncio

from carecal.domain.models import Account, ProviderKind
from carecal.providers.memory import MemoryProvider
from carecal.sync.engine import sync_account, sync_calendar
from tests.sync.helpers import REMOTE, Replica, remote_titles, vevent


def test_first_sync_creates_local_events_remotely_once(
    replica: Replica, provider: MemoryProvider
) -> None:
    a = replica.add("Anna", 9)
    b = replica.add("Bartek", 11)
    report = replica.sync(provider)
    assert report.ok, report.errors
    assert report.pushed == 2
    assert remote_titles(provider) == {a.uid: "Anna", b.uid: "Bartek"}
    before = len(provider.requests)
    again = replica.sync(provider)
    assert again.pushed == 0 and again.pulled == 0
    assert not any(r.startswith("CREATE") for r in provider.requests[before:])
    assert replica.store.pending_ops(replica.calendar.id) == []


def test_remote_create_edit_delete_are_pulled(replica: Replica, provider: MemoryProvider) -> None:
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Remote"))
    assert replica.sync(provider).pulled == 1
    assert [e.title for e in replica.by_uid("r1@x")] == ["Remote"]
    event_id = replica.by_uid("r1@x")[0].id
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Renamed"))
    replica.sync(provider)
    assert [(e.id, e.title) for e in replica.by_uid("r1@x")] == [(event_id, "Renamed")]
    # A pulled change is not sent back.
    assert replica.store.pending_ops(replica.calendar.id) == []
    provider.delete_from_elsewhere("cal1", "r1@x.ics")
    assert replica.sync(provider).deleted == 1
    assert replica.by_uid("r1@x") == []
    assert replica.session.repo.tombstone_count(replica.calendar.id) == 0


def test_local_edit_is_pushed_with_the_agreed_version(
    replica: Replica, provider: MemoryProvider
) -> None:
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Remote"))
    replica.sync(provider)
    version = provider.items("cal1")["r1@x.ics"].ref.version
    replica.edit("r1@x", title="Edited here")
    report = replica.sync(provider)
    assert report.pushed == 1, report.errors
    assert remote_titles(provider) == {"r1@x": "Edited here"}
    assert provider.items("cal1")["r1@x.ics"].ref.version != version
    assert replica.store.item(replica.calendar.id, "r1@x").remote_version == (
        provider.items("cal1")["r1@x.ics"].ref.version
    )


def test_local_delete_is_pushed_and_tombstone_dropped(
    replica: Replica, provider: MemoryProvider
) -> None:
    e = replica.add("Anna")
    replica.sync(provider)
    replica.delete(e.uid)
    assert replica.session.repo.tombstone_count(replica.calendar.id) == 1
    assert replica.sync(provider).ok
    assert provider.items("cal1") == {}
    assert replica.session.repo.tombstone_count(replica.calendar.id) == 0


def test_x_properties_and_alarms_survive_a_local_edit(
    replica: Replica, provider: MemoryProvider
) -> None:
    extra = (
        "X-OTHER-APP:keep me\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Soon\r\n"
        "TRIGGER:-PT1H\r\nEND:VALARM\r\n"
    )
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Remote", extra=extra))
    replica.sync(provider)
    replica.edit("r1@x", location="Room 7")
    assert replica.sync(provider).pushed == 1
    raw = provider.items("cal1")["r1@x.ics"].raw
    assert "X-OTHER-APP:keep me" in raw
    assert "TRIGGER:-PT1H" in raw
    assert "Room 7" in raw


def test_local_account_is_never_synced(replica: Replica, provider: MemoryProvider) -> None:
    repo = replica.session.repo
    local = repo.ensure_local_calendar()
    account = replica.store.account(local.account_id)
    assert account.kind is ProviderKind.LOCAL
    report = asyncio.run(sync_calendar(repo, provider, local, account))
    assert report.pushed == report.pulled == 0
    assert asyncio.run(sync_account(repo, provider, local.account_id)).calendars == []
    assert provider.requests == []


def test_sync_account_reports_each_calendar(replica: Replica, provider: MemoryProvider) -> None:
    replica.add("Anna")
    report = asyncio.run(sync_account(replica.session.repo, provider, "acct1"))
    assert report.ok and [c.pushed for c in report.calendars] == [1]
    assert isinstance(replica.store.account("acct1"), Account)
    assert REMOTE.remote_id in provider.items("cal1") or len(provider.items("cal1")) == 1


def test_two_data_dirs_converge_through_one_server(make_replica, provider) -> None:  # type: ignore[no-untyped-def]
    a, b = make_replica("a"), make_replica("b")
    ea = a.add("From A", 9)
    b.sync(provider)
    a.sync(provider)
    b.sync(provider)
    assert [e.title for e in b.by_uid(ea.uid)] == ["From A"]
    eb = b.add("From B", 12)
    a.edit(ea.uid, title="A edited")
    b.sync(provider)
    a.sync(provider)
    b.sync(provider)
    assert a.uids() == b.uids() == {ea.uid, eb.uid}
    for uid in (ea.uid, eb.uid):
        assert a.by_uid(uid)[0].title == b.by_uid(uid)[0].title
    assert remote_titles(provider) == {ea.uid: "A edited", eb.uid: "From B"}
