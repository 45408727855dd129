"""services.pending: the unsent changes, retrying a refused one, discarding local changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carecal.domain.models import Event, new_id
from carecal.services.pending import discard_change, load_pending, retry_change
from carecal.services.session import Session
from carecal.store.syncstate import SyncStore
from tests.services.sync_helpers import REMOTE, make_conflict, make_remote, sync_inline

NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)


def _new(calendar_id: str, title: str) -> Event:
    return Event(
        id=new_id(),
        calendar_id=calendar_id,
        uid=f"{new_id()}@carecal",
        title=title,
        start=NOW + timedelta(hours=2),
        end=NOW + timedelta(hours=3),
    )


def test_pending_rows_retry_and_discard_a_change_never_sent(session: Session) -> None:
    repo = session.repo
    remote = make_remote(repo)
    local_only = _new(
        next(c.id for c in repo.list_calendars() if c.account_id != remote.account.id), "Private"
    )
    session.events.create(local_only)  # the local calendar is not synced: never listed
    waiting = _new(remote.calendar.id, "Massage: Ewa Lis")
    refused = _new(remote.calendar.id, "Physio: Jan Nowak")
    session.events.create(waiting)
    session.events.create(refused)
    store = SyncStore(repo)
    seq = next(o.seq for o in store.pending_ops() if o.event_id == refused.id)
    store.mark_parked(remote.calendar.id, refused.uid, seq, "the server refused the event")
    rows = load_pending(repo)
    assert [(r.title, r.state, r.kind, r.calendar) for r in rows] == [
        ("Massage: Ewa Lis", "waiting", "create", remote.calendar.name),
        ("Physio: Jan Nowak", "refused", "create", remote.calendar.name),
    ]
    assert rows[1].error == "the server refused the event"
    retry_change(repo, rows[1].seq)
    assert [r.state for r in load_pending(repo)] == ["waiting", "waiting"]
    audited = len(repo.audit.entries())
    changes = discard_change(repo, remote.calendar.id, waiting.uid, actor="front-desk")
    assert waiting.id in changes.events
    assert repo.find_by_uid(remote.calendar.id, waiting.uid) == []
    assert [r.title for r in load_pending(repo)] == ["Physio: Jan Nowak"]
    assert [(e.action, e.actor) for e in repo.audit.entries()[audited:]] == [
        ("delete", "front-desk")
    ]


def test_discarding_an_edit_restores_the_agreed_version(session: Session) -> None:
    repo = session.repo
    remote = make_remote(repo)
    event = _new(remote.calendar.id, "Physio: Jan Nowak")
    session.events.create(event)
    sync_inline(repo, remote)
    stored = repo.find_by_uid(remote.calendar.id, event.uid)[0]
    session.events.update(stored.with_changes(title="Physio: J. Nowak (cancelled?)"))
    rows = load_pending(repo)
    assert [(r.kind, r.state) for r in rows] == [("update", "waiting")]
    discard_change(repo, remote.calendar.id, event.uid, actor="user")
    assert repo.find_by_uid(remote.calendar.id, event.uid)[0].title == "Physio: Jan Nowak"
    assert load_pending(repo) == [] and SyncStore(repo).pending_ops() == []
    sync_inline(repo, remote)  # nothing left to send, nothing duplicated
    assert len(remote.provider.items(REMOTE.remote_id)) == 1


def test_a_change_in_the_conflict_inbox_is_shown_as_such(session: Session) -> None:
    repo = session.repo
    remote = make_remote(repo)
    uid = make_conflict(repo, remote)
    assert [(r.uid, r.state) for r in load_pending(repo)] == [(uid, "conflict")]
