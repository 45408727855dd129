"""Sign-in expiry, cancelling mid-sync, and the cost of a re-sync with nothing new."""

from __future__ import annotations

import asyncio

import pytest

from carecal.domain.errors import AuthExpired
from carecal.sync import engine
from carecal.sync.engine import CancelToken, SyncOptions, sync_account
from tests.sync.helpers import (
    ACCOUNT_ID,
    DataVersion,
    FaultyProvider,
    Replica,
    audit_count,
    remote_titles,
    vevent,
)


def _sync_account(replica: Replica, provider: FaultyProvider, **opts: object):  # type: ignore[no-untyped-def]
    options = SyncOptions(force=True, **opts)  # type: ignore[arg-type]
    return asyncio.run(sync_account(replica.session.repo, provider, ACCOUNT_ID, options))


def _consistent(replica: Replica) -> None:
    """Every pulled item is whole: rows and agreed state together, or neither."""
    cal = replica.calendar.id
    store = replica.store
    versions = store.versions(cal)
    dirty = set(store.item_ops(cal))
    counts = store.local_counts(cal)
    for uid in counts:
        assert uid in versions or uid in dirty, f"{uid} stored without agreed state or op"
    for uid in versions:
        assert uid in counts or uid in dirty, f"{uid} agreed but has no rows"


def test_expired_sign_in_keeps_the_queue_and_a_later_sync_sends_everything(
    replica: Replica,
) -> None:
    provider = FaultyProvider()
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Remote"))
    uids = [replica.add(f"Visit {i}", 9 + i).uid for i in range(4)]
    provider.arm(2, AuthExpired("401 Unauthorized"))  # two creates go out, the third fails
    report = _sync_account(replica, provider)
    assert report.needs_sign_in and not report.ok
    assert replica.account().settings["needs_sign_in"] is True
    assert len(remote_titles(provider)) == 1 + 2
    pending = set(replica.store.item_ops(replica.calendar.id))
    assert len(pending) == 2 and pending <= set(uids)
    assert all(replica.by_uid(u) for u in uids), "a local event was lost"
    assert replica.store.pending_ops(replica.calendar.id), "the queue was dropped"
    # Still signed out: nothing is sent and nothing is lost.
    provider.fail_next = [AuthExpired("401 Unauthorized")]
    assert _sync_account(replica, provider).needs_sign_in
    assert set(replica.store.item_ops(replica.calendar.id)) == pending
    # After signing in again, everything goes out once.
    report = _sync_account(replica, provider)
    assert report.ok and not report.needs_sign_in, report.errors
    assert replica.account().settings["needs_sign_in"] is False
    titles = remote_titles(provider)
    assert sorted(titles) == sorted([*uids, "r1@x"])
    assert len(provider.items("cal1")) == 5
    assert replica.store.pending_ops(replica.calendar.id) == []
    assert replica.uids() == set(titles)


def test_cancel_during_pull_leaves_whole_items_and_the_next_sync_completes(
    replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PULL_BATCH", 200)  # a cancel after 250 items ends batch two
    provider = FaultyProvider()
    for i in range(450):
        provider.put_from_elsewhere("cal1", f"r{i}@x", vevent(f"r{i}@x", f"R{i}"))
    token = CancelToken()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "pull" and done == 250:
            token.cancel()

    report = replica.sync(provider, cancel=token, progress=progress)
    assert report.cancelled and not report.ok
    assert 0 < len(replica.uids()) < 450
    assert replica.store.calendar_state(replica.calendar.id).token is None
    _consistent(replica)
    report = replica.sync(provider)
    assert report.ok, report.errors
    assert len(replica.uids()) == 450
    assert replica.store.calendar_state(replica.calendar.id).token is not None
    _consistent(replica)
    assert all(len(replica.by_uid(f"r{i}@x")) == 1 for i in range(450))


def test_cancel_during_push_sends_the_rest_next_time_without_duplicates(
    replica: Replica,
) -> None:
    provider = FaultyProvider()
    uids = [replica.add(f"Visit {i}", 8 + i % 10).uid for i in range(6)]
    token = CancelToken()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "push" and done == 3:
            token.cancel()

    report = replica.sync(provider, cancel=token, progress=progress)
    left = set(replica.store.item_ops(replica.calendar.id))
    assert report.cancelled and 3 <= report.pushed < 6
    assert len(left) == 6 - report.pushed
    assert len(provider.items("cal1")) == report.pushed
    _consistent(replica)
    assert replica.sync(provider).ok
    assert sorted(remote_titles(provider)) == sorted(uids)
    assert len(provider.items("cal1")) == 6
    assert replica.store.pending_ops(replica.calendar.id) == []


def test_a_resync_with_no_changes_is_one_pull_and_writes_nothing(replica: Replica) -> None:
    provider = FaultyProvider()
    for i in range(30):
        provider.put_from_elsewhere("cal1", f"r{i}@x", vevent(f"r{i}@x", f"R{i}"))
    replica.add("Local")
    assert replica.sync(provider).ok
    assert replica.sync(provider).ok  # settles the echo of our own create
    watch = DataVersion(replica)
    try:
        for _ in range(3):
            audit = audit_count(replica)
            before = len(provider.requests)
            report = replica.sync(provider)
            assert report.ok and (report.pushed, report.pulled, report.deleted) == (0, 0, 0)
            assert provider.requests[before:] == ["PULL"]
            assert audit_count(replica) == audit
            assert not watch.moved(), "a no-op re-sync wrote to the database"
        # The same holds for the account-level sync, and a real change does move it.
        assert _sync_account(replica, provider).ok
        assert not watch.moved()
        provider.put_from_elsewhere("cal1", "r0@x", vevent("r0@x", "Changed"))
        assert replica.sync(provider).pulled == 1
        assert watch.moved()
    finally:
        watch.close()


def test_a_remote_change_pulled_while_a_local_edit_waits_for_retry_is_merged(
    replica: Replica,
) -> None:
    from carecal.domain.errors import TransientError
    from tests.sync.helpers import FakeClock

    provider, clock = FaultyProvider(), FakeClock()
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Remote"))
    replica.sync(provider, clock)
    replica.edit("r1@x", title="Mine")
    provider.fail_next = [TransientError("503")]
    replica.sync(provider, clock)  # the update fails and waits for its retry time
    provider.put_from_elsewhere("cal1", "r1@x", vevent("r1@x", "Theirs"))
    replica.sync(provider, clock)  # the push waits; the pull must merge, not overwrite
    clock.advance(60)
    replica.sync(provider, clock)
    [c] = replica.store.open_conflicts(replica.calendar.id)
    assert c.local is not None and c.local[""].title == "Mine"
    assert remote_titles(provider)["r1@x"] == "Theirs"
