"""Each mutation writes row, outbox op and audit entry in one transaction; deletes tombstone."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from carecal.domain.errors import NotFound, ReadOnlyCalendar, StoreError, ValidationError
from carecal.domain.models import (
    Account,
    AppointmentStatus,
    Calendar,
    Participant,
    ProviderKind,
    new_id,
)
from carecal.store.outbox import OpKind, OpState
from carecal.store.repo import Repository
from tests.store.conftest import WARSAW, make_event

MON = datetime(2024, 5, 6, 9, 0, tzinfo=WARSAW)


def _count(repo: Repository, table: str) -> int:
    return int(repo._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _remote_calendar(repo: Repository) -> Calendar:
    repo.add_account(Account("acc1", ProviderKind.CALDAV, "Clinic server"), actor="user")
    cal, _ = repo.add_calendar("Clinic", "#ff0000", actor="user", account_id="acc1")
    return cal


def test_local_edits_write_done_ops_and_audit(repo: Repository, cal: Calendar) -> None:
    event = make_event(cal.id, MON)
    changes = repo.add_event(event, actor="user")
    assert changes.events == {event.id}
    moved = event.with_changes(start=MON + timedelta(hours=1), end=MON + timedelta(hours=2))
    repo.update_event(moved, actor="cli")
    repo.update_event(moved.with_changes(status=AppointmentStatus.ARRIVED), actor="user")
    repo.delete_event(event.id, actor="user")

    assert repo.pending_ops() == []
    assert repo.outbox.count(OpState.DONE) == 4
    actions = [(e.actor, e.action) for e in repo.audit.entries(entity_id=event.id)]
    assert actions == [
        ("user", "create"),
        ("cli", "update"),
        ("user", "status"),
        ("user", "delete"),
    ]
    history = repo.audit.entries(entity_id=event.id)
    assert history[1].before["start_text"].startswith("2024-05-06T09:00")
    assert history[1].after["start_text"].startswith("2024-05-06T10:00")
    assert repo.tombstone_count(cal.id) == 1
    with pytest.raises(NotFound):
        repo.get_event(event.id)
    assert repo.audit.verify() == len(repo.audit.entries())


def test_remote_calendar_ops_stay_pending(repo: Repository) -> None:
    cal = _remote_calendar(repo)
    event = make_event(cal.id, MON)
    repo.add_event(event, actor="user")
    repo.delete_event(event.id, actor="user")
    ops = repo.pending_ops()
    assert [(o.kind, o.event_id) for o in ops] == [
        (OpKind.CREATE, event.id),
        (OpKind.DELETE, event.id),
    ]
    assert ops[0].payload["summary"] == "Session"
    assert len({o.op_id for o in ops}) == 2


@pytest.mark.parametrize("table", ["audit_log", "outbox"])
def test_failing_audit_or_outbox_insert_leaves_no_event(
    repo: Repository, cal: Calendar, table: str
) -> None:
    repo._db.execute(
        f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} "
        "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
    )
    before = (_count(repo, "events"), _count(repo, "audit_log"), _count(repo, "outbox"))
    event = make_event(cal.id, MON)
    with pytest.raises(StoreError, match="simulated crash"):
        repo.add_event(event, actor="user")
    with pytest.raises(NotFound):
        repo.get_event(event.id)
    assert (_count(repo, "events"), _count(repo, "audit_log"), _count(repo, "outbox")) == before
    assert repo.search_events("Session") == []


def test_failing_delete_keeps_event_and_writes_no_tombstone(
    repo: Repository, cal: Calendar
) -> None:
    event = make_event(cal.id, MON)
    repo.add_event(event, actor="user")
    repo._db.execute(
        "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"
    )
    with pytest.raises(StoreError):
        repo.delete_event(event.id, actor="user")
    assert repo.get_event(event.id) == event
    assert repo.tombstone_count() == 0


def test_deleting_a_master_takes_its_overrides(repo: Repository, cal: Calendar) -> None:
    master = make_event(cal.id, MON, rrule="FREQ=DAILY;COUNT=5")
    override = master.with_changes(
        id=new_id(), rrule=None, recurrence_id=MON + timedelta(days=1), master_id=master.id
    )
    repo.add_event(master, actor="user")
    repo.add_event(override, actor="user")
    changes = repo.delete_event(master.id, actor="user")
    assert changes.events == {master.id, override.id}
    assert repo.tombstone_count() == 2
    assert repo.find_by_uid(cal.id, master.uid) == []


def test_restore_brings_back_deleted_series(repo: Repository, cal: Calendar) -> None:
    master = make_event(cal.id, MON, rrule="FREQ=DAILY;COUNT=5")
    override = master.with_changes(
        id=new_id(), rrule=None, recurrence_id=MON + timedelta(days=1), master_id=master.id
    )
    repo.add_event(master, actor="user")
    repo.add_event(override, actor="user")
    repo.delete_event(master.id, actor="user")
    repo.restore_events([override, master], actor="user")
    assert repo.get_series(master.id) == (master, [override])
    assert repo.tombstone_count() == 0


def test_validation_and_read_only(repo: Repository, cal: Calendar) -> None:
    event = make_event(cal.id, MON)
    with pytest.raises(ValidationError):
        repo.add_event(event.with_changes(end=MON - timedelta(minutes=1)), actor="user")
    with pytest.raises(ValidationError, match="participants"):
        repo.add_event(
            event.with_changes(capacity=1, participants=(Participant("a"), Participant("b"))),
            actor="user",
        )
    with pytest.raises(NotFound):
        repo.add_event(event.with_changes(calendar_id="nope"), actor="user")
    repo.add_event(event, actor="user")
    with pytest.raises(ValidationError, match="UID"):
        repo.add_event(event.with_changes(id=new_id()), actor="user")
    repo.update_calendar(Calendar(cal.id, cal.account_id, cal.name, read_only=True), actor="user")
    with pytest.raises(ReadOnlyCalendar):
        repo.update_event(event.with_changes(title="x"), actor="user")
    repo.update_event(event.with_changes(title="from sync"), actor="sync:acc")
    assert repo.get_event(event.id).title == "from sync"


def test_moving_to_another_calendar(repo: Repository, cal: Calendar) -> None:
    other = _remote_calendar(repo)
    event = make_event(cal.id, MON)
    repo.add_event(event, actor="user")
    repo.update_event(event.with_changes(calendar_id=other.id), actor="user")
    assert repo.get_event(event.id).calendar_id == other.id
    assert repo.tombstone_count(cal.id) == 1
    assert [o.kind for o in repo.pending_ops()] == [OpKind.CREATE]


def test_group_participants_and_patient_events(repo: Repository, cal: Calendar) -> None:
    group = make_event(
        cal.id,
        MON,
        capacity=3,
        participants=(Participant("p1"), Participant("p2")),
        title="Back school",
    )
    single = make_event(cal.id, MON + timedelta(days=1), patient_id="p2")
    repo.add_event(group, actor="user")
    repo.add_event(single, actor="user")
    assert [e.id for e in repo.events_for_patient("p2")] == [group.id, single.id]
    assert [e.id for e in repo.events_for_patient("p1")] == [group.id]
    fewer = group.with_changes(participants=(Participant("p2"),))
    repo.update_event(fewer, actor="user")
    assert repo.events_for_patient("p1") == []
    assert repo.get_event(group.id).participants == (Participant("p2"),)


class _Plan:
    def __init__(self, upserts: tuple, deletes: tuple) -> None:  # type: ignore[type-arg]
        self.upserts = upserts
        self.deletes = deletes


def test_apply_plan_is_one_transaction(repo: Repository, cal: Calendar) -> None:
    master = make_event(cal.id, MON, rrule="FREQ=DAILY")
    repo.add_event(master, actor="user")
    cut = master.with_changes(rrule="FREQ=DAILY;UNTIL=20240508T000000Z")
    new_series = make_event(cal.id, MON + timedelta(days=2), rrule="FREQ=DAILY", title="Later")
    bad = make_event("missing", MON)
    with pytest.raises(NotFound):
        repo.apply_plan(_Plan((cut, new_series, bad), ()), actor="user")
    assert repo.get_event(master.id) == master
    with pytest.raises(NotFound):
        repo.get_event(new_series.id)
    changes = repo.apply_plan(_Plan((cut, new_series), ("gone-already",)), actor="user")
    assert changes.events == {master.id, new_series.id}
    assert repo.get_event(master.id).rrule == cut.rrule
