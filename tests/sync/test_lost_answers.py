"""A create or update the server stored but whose answer never arrived (a dropped connection,
or a sync killed before its local commit): the next push must recognise the server's version
as this computer's own, not as another client's edit."""

from __future__ import annotations

from carecal.sync.conflicts import list_conflicts
from tests.sync.helpers import REMOTE, FaultyProvider, Replica, remote_titles, vevent


def _sending_rows(replica: Replica) -> int:
    row = replica.session.repo._db.execute("SELECT COUNT(*) FROM sync_sending").fetchone()
    return int(row[0])


def test_lost_update_answer_then_a_new_edit_of_the_same_field_pushes_cleanly(
    replica: Replica,
) -> None:
    provider = FaultyProvider()
    uid = replica.add("Initial visit").uid
    assert replica.sync(provider).ok
    replica.edit(uid, title="Follow-up")
    provider.lose = 1
    lost = replica.sync(provider)
    assert not lost.ok and remote_titles(provider)[uid] == "Follow-up"  # stored, answer lost
    assert _sending_rows(replica) == 1

    replica.edit(uid, title="Follow-up (phone)")
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    assert list_conflicts(replica.session.repo) == []
    assert remote_titles(provider)[uid] == "Follow-up (phone)"
    assert replica.by_uid(uid)[0].title == "Follow-up (phone)"
    assert _sending_rows(replica) == 0
    quiet = replica.sync(provider)
    assert (quiet.pushed, quiet.pulled, quiet.conflicts) == (0, 0, 0)


def test_lost_create_answer_then_a_new_edit_pushes_without_a_duplicate(replica: Replica) -> None:
    provider = FaultyProvider()
    uid = replica.add("Initial visit").uid
    provider.lose = 1
    assert not replica.sync(provider).ok
    assert remote_titles(provider) == {uid: "Initial visit"}

    replica.edit(uid, title="Initial visit (video)")
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    assert remote_titles(provider) == {uid: "Initial visit (video)"}
    assert replica.by_uid(uid)[0].title == "Initial visit (video)"
    assert _sending_rows(replica) == 0
    quiet = replica.sync(provider)
    assert (quiet.pushed, quiet.pulled, quiet.conflicts) == (0, 0, 0)


def test_lost_update_answer_without_a_new_edit_settles(replica: Replica) -> None:
    provider = FaultyProvider()
    uid = replica.add("Initial visit").uid
    replica.sync(provider)
    replica.edit(uid, title="Follow-up")
    provider.lose = 1
    replica.sync(provider)
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    assert remote_titles(provider)[uid] == "Follow-up"
    quiet = replica.sync(provider)
    assert (quiet.pushed, quiet.pulled, quiet.conflicts) == (0, 0, 0)


def test_lost_answer_then_a_delete_removes_the_item_on_the_server(replica: Replica) -> None:
    provider = FaultyProvider()
    updated = replica.add("Updated").uid
    replica.sync(provider)
    created = replica.add("Created", hour=11).uid
    replica.edit(updated, title="Updated twice")
    provider.lose = 2
    replica.sync(provider)
    replica.sync(provider)
    assert remote_titles(provider) == {updated: "Updated twice", created: "Created"}

    replica.delete(updated)
    replica.delete(created)
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    assert remote_titles(provider) == {}
    assert replica.uids() == set()


def test_another_clients_edit_after_a_lost_answer_still_conflicts(replica: Replica) -> None:
    provider = FaultyProvider()
    uid = replica.add("Session").uid
    replica.sync(provider)
    replica.edit(uid, title="Mine 1")
    provider.lose = 1
    replica.sync(provider)
    # Another client overwrites our stored write: a genuine concurrent edit of the title.
    provider.put_from_elsewhere(REMOTE.remote_id, uid, vevent(uid, "Theirs"))

    replica.edit(uid, title="Mine 2")
    report = replica.sync(provider)
    assert report.conflicts == 1
    [c] = list_conflicts(replica.session.repo)
    assert c.fields == ["title"]
    assert c.base is not None and c.base[""].title == "Session"  # the old agreed base
    assert c.local is not None and c.local[""].title == "Mine 2"
    assert c.remote is not None and c.remote[""].title == "Theirs"
    assert remote_titles(provider)[uid] == "Theirs"


def test_another_clients_disjoint_edit_after_a_lost_answer_merges(replica: Replica) -> None:
    provider = FaultyProvider()
    uid = replica.add("Session").uid
    replica.sync(provider)
    replica.edit(uid, title="Mine 1")
    provider.lose = 1
    replica.sync(provider)
    # Another client adds a room on top of our stored write: merged against the old base,
    # which only the fields both sides changed differently could make a conflict.
    provider.put_from_elsewhere(
        REMOTE.remote_id, uid, vevent(uid, "Mine 1", extra="LOCATION:Room 3\r\n")
    )

    replica.edit(uid, description="Bring the referral")
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    event = replica.by_uid(uid)[0]
    assert (event.title, event.location, event.description) == (
        "Mine 1",
        "Room 3",
        "Bring the referral",
    )
    [item] = provider.items(REMOTE.remote_id).values()
    [remote] = provider.to_events(item, "x")
    assert (remote.location, remote.description) == ("Room 3", "Bring the referral")


def test_a_lost_note_is_made_up_for_by_the_unsent_ops(replica: Replica) -> None:
    # A run whose every local write was lost (the database as it was before that sync): only
    # the queued edits tell that the server's version is this computer's own.
    provider = FaultyProvider()
    uid = replica.add("Initial visit").uid
    replica.sync(provider)
    replica.edit(uid, title="Follow-up")
    provider.lose = 1
    replica.sync(provider)
    with replica.session.repo._db.transaction():
        replica.session.repo._db.execute("DELETE FROM sync_sending")

    replica.edit(uid, title="Follow-up (phone)")
    report = replica.sync(provider)
    assert report.ok and report.conflicts == 0, report.errors
    assert remote_titles(provider)[uid] == "Follow-up (phone)"
