"""Merges, conflicts, policies, expired tokens, faults and the safety rail."""

from __future__ import annotations

from carecal.domain.errors import PermanentItemError, RateLimited, TransientError
from carecal.providers.memory import MemoryProvider
from carecal.sync.conflicts import Take, list_conflicts, resolve
from tests.sync.helpers import FakeClock, Replica, remote_titles, vevent


def _shared(make_replica, provider):  # type: ignore[no-untyped-def]
    a, b = make_replica("a"), make_replica("b")
    e = a.add("Session", 9)
    a.sync(provider)
    b.sync(provider)
    return a, b, e.uid


def test_disjoint_edits_merge_on_both_sides(make_replica, provider) -> None:  # type: ignore[no-untyped-def]
    a, b, uid = _shared(make_replica, provider)
    a.edit(uid, title="New title")
    b.edit(uid, location="Room 3")
    a.sync(provider)
    report = b.sync(provider)
    assert report.conflicts == 0 and report.ok, report.errors
    a.sync(provider)
    for r in (a, b):
        e = r.by_uid(uid)[0]
        assert (e.title, e.location) == ("New title", "Room 3")


def test_overlapping_edits_make_one_conflict_and_no_retry_loop(make_replica, provider) -> None:  # type: ignore[no-untyped-def]
    a, b, uid = _shared(make_replica, provider)
    a.edit(uid, title="From A")
    b.edit(uid, title="From B")
    a.sync(provider)
    report = b.sync(provider)
    assert report.conflicts == 1
    [c] = list_conflicts(b.session.repo)
    assert c.fields == ["title"]
    assert c.local is not None and c.remote is not None
    assert c.local[""].title == "From B" and c.remote[""].title == "From A"
    start = len(provider.requests)
    b.sync(provider)
    b.sync(provider)
    assert not any(
        uid in r and r.split()[0] in {"UPDATE", "CREATE"} for r in provider.requests[start:]
    )
    assert remote_titles(provider)[uid] == "From A"
    resolve(b.session.repo, c.id, Take.MINE, actor="user")
    b.sync(provider)
    assert remote_titles(provider)[uid] == "From B"
    a.sync(provider)
    assert a.by_uid(uid)[0].title == "From B"
    assert list_conflicts(b.session.repo) == []
    assert any(e.action == "resolve" for e in b.session.repo.audit.entries())


def test_resolve_theirs_and_both(make_replica, provider) -> None:  # type: ignore[no-untyped-def]
    a, b, uid = _shared(make_replica, provider)
    a.edit(uid, title="From A")
    b.edit(uid, title="From B")
    a.sync(provider)
    b.sync(provider)
    [c] = list_conflicts(b.session.repo)
    resolve(b.session.repo, c.id, Take.BOTH, actor="user")
    b.sync(provider)
    titles = sorted(remote_titles(provider).values())
    assert titles == ["From A", "From B"]
    assert b.by_uid(uid)[0].title == "From A"
    assert len(b.uids()) == 2


def test_policies_resolve_at_once(make_replica, provider) -> None:  # type: ignore[no-untyped-def]
    for policy, expected in (("mine", "From B"), ("theirs", "From A")):
        p = MemoryProvider([provider._calendars["cal1"].info])
        a, b = make_replica(f"a-{policy}"), make_replica(f"b-{policy}", policy=policy)
        e = a.add("Session")
        a.sync(p)
        b.sync(p)
        a.edit(e.uid, title="From A")
        b.edit(e.uid, title="From B")
        a.sync(p)
        report = b.sync(p)
        assert report.conflicts == 0
        assert remote_titles(p)[e.uid] == expected
        assert b.by_uid(e.uid)[0].title == expected
        assert list_conflicts(b.session.repo) == []


def test_newest_policy_takes_the_later_side(make_replica, provider) -> None:  # type: ignore[no-untyped-def]
    b = make_replica("b", policy="newest")
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Old"))
    b.sync(provider)
    b.edit("r@x", title="Local now")
    # The remote says it changed in 2099: later than the local edit.
    provider.put_from_elsewhere(
        "cal1", "r@x", vevent("r@x", "Remote later", extra="LAST-MODIFIED:20990101T000000Z\r\n")
    )
    b.sync(provider)
    assert b.by_uid("r@x")[0].title == "Remote later"
    provider.put_from_elsewhere(
        "cal1", "r@x", vevent("r@x", "Remote old", extra="LAST-MODIFIED:20000101T000000Z\r\n")
    )
    b.edit("r@x", title="Local newer")
    b.sync(provider)
    assert remote_titles(provider)["r@x"] == "Local newer"


def test_local_edit_vs_remote_delete_is_a_conflict(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Remote"))
    replica.sync(provider)
    replica.edit("r@x", title="Edited")
    provider.delete_from_elsewhere("cal1", "r@x.ics")
    report = replica.sync(provider)
    assert report.conflicts == 1
    [c] = list_conflicts(replica.session.repo)
    assert c.kind == "remote_deleted" and c.remote is None
    assert replica.by_uid("r@x")[0].title == "Edited"
    resolve(replica.session.repo, c.id, Take.MINE, actor="user")
    replica.sync(provider)
    assert remote_titles(provider) == {"r@x": "Edited"}


def test_local_delete_vs_remote_edit_is_a_conflict(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Remote"))
    replica.sync(provider)
    replica.delete("r@x")
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Edited remotely"))
    report = replica.sync(provider)
    assert report.conflicts == 1
    [c] = list_conflicts(replica.session.repo)
    assert c.kind == "local_deleted" and c.local is None
    assert c.remote is not None and c.remote[""].title == "Edited remotely"
    resolve(replica.session.repo, c.id, Take.THEIRS, actor="user")
    assert replica.by_uid("r@x")[0].title == "Edited remotely"
    replica.sync(provider)
    assert remote_titles(provider) == {"r@x": "Edited remotely"}
    assert replica.store.pending_ops(replica.calendar.id) == []


def test_expired_token_full_listing_keeps_unsent_edits(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "One"))
    provider.put_from_elsewhere("cal1", "s@x", vevent("s@x", "Two"))
    replica.sync(provider)
    provider.fail_next = [TransientError("offline")]
    replica.edit("r@x", location="Room 9")  # unsent: the push fails
    replica.sync(provider)
    provider.expire_tokens("cal1")
    provider.put_from_elsewhere("cal1", "s@x", vevent("s@x", "Two changed"))
    provider.delete_from_elsewhere("cal1", "s@x.ics")
    provider.put_from_elsewhere("cal1", "t@x", vevent("t@x", "Three"))
    replica.sync(provider)
    assert replica.uids() == {"r@x", "t@x"}
    assert replica.by_uid("r@x")[0].location == "Room 9"
    assert "Room 9" in provider.items("cal1")["r@x.ics"].raw
    assert sorted(i.uid for i in provider.items("cal1").values()) == ["r@x", "t@x"]


def test_transient_error_backs_off_then_retries(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    e = replica.add("Anna")
    provider.fail_next = [RateLimited("slow down", retry_after=120)]
    report = replica.sync(provider, clock)
    assert report.errors and provider.items("cal1") == {}
    [op] = replica.store.pending_ops(replica.calendar.id)
    assert op.attempts == 1 and op.last_error and op.next_attempt_at
    clock.advance(1)
    start = len(provider.requests)
    replica.sync(provider, clock)
    assert not any(r.startswith("CREATE") for r in provider.requests[start:])
    clock.advance(2)  # past Retry-After
    assert replica.sync(provider, clock).pushed == 1
    assert [i.uid for i in provider.items("cal1").values()] == [e.uid]


def test_retry_after_holds_every_request_of_the_account_even_sync_now(
    replica: Replica, provider
) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    first = replica.add("Anna")
    provider.fail_next = [RateLimited("slow down", retry_after=120)]
    report = replica.sync(provider, clock)
    assert report.wait_until is not None
    replica.add("Bartek", 11)  # a new item, never tried: it must wait as well
    replica.edit(first.uid, title="Anna (moved)")  # and a newer edit of the waiting one
    clock.advance(1)
    start = len(provider.requests)
    held = replica.sync(provider, clock, force=True)  # "Sync now" inside Retry-After
    assert provider.requests[start:] == [], "no request before the server's Retry-After"
    assert held.wait_until is not None and held.errors
    clock.advance(2)  # past Retry-After
    assert replica.sync(provider, clock, force=True).pushed == 2
    assert sorted(remote_titles(provider).values()) == ["Anna (moved)", "Bartek"]


def test_lost_create_response_is_adopted_not_duplicated(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    e = replica.add("Anna")
    real_create = provider.create

    async def create_then_drop(calendar, uid, raw):  # type: ignore[no-untyped-def]
        await real_create(calendar, uid, raw)
        raise TransientError("connection reset")

    provider.create = create_then_drop  # type: ignore[method-assign]
    replica.sync(provider)
    provider.create = real_create  # type: ignore[method-assign]
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    assert [i.uid for i in provider.items("cal1").values()] == [e.uid]
    assert replica.store.pending_ops(replica.calendar.id) == []
    assert replica.store.item(replica.calendar.id, e.uid) is not None


def test_412_on_update_merges(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Remote"))
    replica.sync(provider)
    replica.edit("r@x", location="Room 1")
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Renamed elsewhere"))
    report = replica.sync(provider)
    assert report.conflicts == 0, report.errors
    [e] = replica.by_uid("r@x")
    assert (e.title, e.location) == ("Renamed elsewhere", "Room 1")
    raw = provider.items("cal1")["r@x.ics"].raw
    assert "Renamed elsewhere" in raw and "Room 1" in raw


def test_mass_deletion_stops_and_asks(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    for i in range(8):
        provider.put_from_elsewhere("cal1", f"u{i}@x", vevent(f"u{i}@x", f"E{i}"))
    replica.sync(provider)
    for i in range(6):
        provider.delete_from_elsewhere("cal1", f"u{i}@x.ics")
    report = replica.sync(provider)
    assert report.mass_deletion == 6 and report.errors
    assert len(replica.uids()) == 8
    report = replica.sync(provider, allow_mass_delete=True)
    assert report.deleted == 6 and len(replica.uids()) == 2


def test_one_refused_item_does_not_block_the_others(replica: Replica, provider) -> None:  # type: ignore[no-untyped-def]
    replica.add("First", 9)
    replica.add("Second", 11)
    provider.fail_next = [PermanentItemError("403 forbidden")]
    report = replica.sync(provider)
    assert len(provider.items("cal1")) == 1
    assert any("403" in line for line in report.errors)
    ops = replica.store.pending_ops(replica.calendar.id)
    assert [o.state.value for o in ops] == ["failed"] and ops[0].last_error == "403 forbidden"


def test_pull_merges_an_item_waiting_to_retry_instead_of_overwriting(
    replica: Replica, provider: MemoryProvider
) -> None:
    clock = FakeClock()
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Remote"))
    replica.sync(provider, clock)
    replica.edit("r@x", location="Room 5")
    provider.fail_next = [TransientError("offline")]
    replica.sync(provider, clock)  # the push fails: the item waits for its retry time
    provider.put_from_elsewhere("cal1", "r@x", vevent("r@x", "Renamed"))
    replica.sync(provider, clock)  # still waiting: the pull must merge, not overwrite
    [e] = replica.by_uid("r@x")
    assert (e.title, e.location) == ("Renamed", "Room 5")
