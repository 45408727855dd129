"""The real sync engine against the Outlook provider on the Graph emulator: local changes
reach Outlook, remote ones arrive, concurrent edits merge or wait in the conflict inbox, a
masked appointment keeps its real title, a series and its exceptions travel both ways across
DST, lost answers neither duplicate nor conflict, and two data directories sharing one Outlook
calendar converge through the app's own sync cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from carecal.domain.models import EditScope, ProviderKind
from carecal.providers.base import RemoteCalendar
from carecal.providers.outlook_map import Labels, Privacy, own_props
from carecal.services.events import occurrence_of
from tests.fakes.graph_server import GraphEmulator
from tests.providers.outlook_support import outlook_provider, running_emulator
from tests.sync.helpers import WARSAW, Replica, app_cycle, one_copy_view, sync_cleanly
from tests.sync.network import DropAnswers

LABELS = Labels({"p1": "A.K."}, {"s1": "Therapy"})


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with running_emulator() as server:
        yield server


def calendar(emu: GraphEmulator) -> RemoteCalendar:
    return RemoteCalendar(emu.default_calendar_id, "Calendar")


@pytest.fixture
def make_replica(
    make_replica: Callable[..., Replica], emu: GraphEmulator
) -> Callable[[str], Replica]:
    """The sync tests' replicas (conftest.py), of an Outlook account mirroring the default
    calendar."""
    return partial(
        make_replica,
        kind=ProviderKind.OUTLOOK,
        username="practice@outlook",
        remote_id=emu.default_calendar_id,
    )


def items(emu: GraphEmulator) -> list[dict[str, Any]]:
    """Every single event and series master Outlook holds, with Carecal's property."""
    provider = outlook_provider(emu)
    found = asyncio.run(provider.pull(calendar(emu), None)).changed
    import json

    return [json.loads(i.raw)["events"][0] for i in found]


def by_local_id(emu: GraphEmulator, local_id: str) -> dict[str, Any]:
    found = [r for r in items(emu) if own_props(r).get("id") == local_id]
    assert len(found) == 1, f"{len(found)} copies of {local_id}"
    stored = emu.stored(found[0]["id"])
    assert stored is not None
    return stored


def test_local_create_edit_and_delete_reach_outlook(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = outlook_provider(emu)
    anna = desk.add("Anna K.", 9)
    assert sync_cleanly(desk, provider).pushed == 1
    assert by_local_id(emu, anna.id)["subject"] == "Anna K."
    desk.edit(anna.uid, title="Anna K. (first visit)", location="Room 2")
    assert sync_cleanly(desk, provider).pushed == 1
    there = by_local_id(emu, anna.id)
    assert (there["subject"], there["location"]["displayName"]) == (
        "Anna K. (first visit)",
        "Room 2",
    )
    before = len(provider.requests)
    noop = sync_cleanly(desk, provider)
    assert noop.pushed == 0 and len(provider.requests) - before == 1
    _, undo = desk.session.events.delete(occurrence_of(desk.by_uid(anna.uid)[0]), EditScope.ALL)
    assert sync_cleanly(desk, provider).pushed == 1
    assert items(emu) == []
    # Undone after it reached Outlook: it comes back once.
    desk.session.events.undo(undo)
    assert sync_cleanly(desk, provider).pushed == 1
    assert by_local_id(emu, anna.id)["subject"] == "Anna K. (first visit)"
    assert desk.store.pending_ops(desk.calendar.id) == []


def test_remote_create_edit_and_delete_arrive(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = outlook_provider(emu)
    theirs = emu.remote_create(
        {
            "subject": "Supervision",
            "start": {
                "dateTime": "2026-03-03T12:00:00",
                "timeZone": "Central European Standard Time",
            },
            "end": {
                "dateTime": "2026-03-03T13:00:00",
                "timeZone": "Central European Standard Time",
            },
        },
        immutable=True,
    )
    assert sync_cleanly(desk, provider).pulled == 1
    [event] = desk.by_uid(theirs["iCalUId"])
    assert (event.title, event.start) == ("Supervision", datetime(2026, 3, 3, 12, tzinfo=WARSAW))
    emu.remote_patch(theirs["id"], {"subject": "Supervision (moved)",
                                    "location": {"displayName": "Online"}})  # fmt: skip
    sync_cleanly(desk, provider)
    [edited] = desk.by_uid(theirs["iCalUId"])
    assert (edited.id, edited.title, edited.location) == (event.id, "Supervision (moved)", "Online")
    assert desk.store.pending_ops(desk.calendar.id) == []  # a pulled change is not sent back
    emu.remote_delete(theirs["id"])
    assert sync_cleanly(desk, provider).deleted == 1
    assert desk.by_uid(theirs["iCalUId"]) == []


def test_concurrent_edits_merge_by_field_or_wait_in_the_inbox(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = outlook_provider(emu)
    anna, piotr = desk.add("Anna K.", 9), desk.add("Piotr N.", 11)
    sync_cleanly(desk, provider)
    emu.remote_patch(by_local_id(emu, anna.id)["id"], {"location": {"displayName": "Room 9"}})
    desk.edit(anna.uid, title="Anna K. (first visit)")
    emu.remote_patch(by_local_id(emu, piotr.id)["id"], {"subject": "Piotr N. (theirs)"})
    desk.edit(piotr.uid, title="Piotr N. (mine)")
    report = sync_cleanly(desk, provider)
    assert report.conflicts == 1
    [merged] = desk.by_uid(anna.uid)
    assert (merged.title, merged.location) == ("Anna K. (first visit)", "Room 9")
    there = by_local_id(emu, anna.id)
    assert (there["subject"], there["location"]["displayName"]) == (
        "Anna K. (first visit)",
        "Room 9",
    )
    [conflict] = desk.store.open_conflicts(desk.calendar.id)
    assert conflict.uid == piotr.uid and conflict.fields == ["title"]
    assert desk.by_uid(piotr.uid)[0].title == "Piotr N. (mine)"
    assert by_local_id(emu, piotr.id)["subject"] == "Piotr N. (theirs)"


def test_a_masked_appointment_keeps_its_real_title_after_a_move_in_outlook(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = outlook_provider(emu, privacy=Privacy.INITIALS, labels=LABELS)
    appt = desk.add(
        "Anna Kowalska", 9, patient_id="p1", service_id="s1", description="Anxiety",
        location="Room 2",
    )  # fmt: skip
    sync_cleanly(desk, provider)
    there = by_local_id(emu, appt.id)
    assert (there["subject"], there["location"]["displayName"]) == ("Therapy · A.K.", "")
    assert "Anxiety" not in str(there)
    later = {
        key: {"dateTime": (value + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"),
              "timeZone": "Central European Standard Time"}
        for key, value in (("start", appt.start), ("end", appt.end))
    }  # fmt: skip
    emu.remote_patch(there["id"], later)  # moved in Outlook on a phone
    assert sync_cleanly(desk, provider).pulled == 1
    [moved] = desk.by_uid(appt.uid)
    assert (moved.title, moved.description, moved.location) == ("Anna Kowalska", "Anxiety",
                                                                 "Room 2")  # fmt: skip
    assert moved.start == appt.start + timedelta(hours=2)
    assert desk.store.pending_ops(desk.calendar.id) == []
    emu.remote_patch(there["id"], {"subject": "A.K. - call first"})
    sync_cleanly(desk, provider)
    assert desk.by_uid(appt.uid)[0].title == "A.K. - call first"


def occurrences(emu: GraphEmulator, master_id: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {emu.issue_token()}",
               "Prefer": 'IdType="ImmutableId"'}  # fmt: skip
    params = {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}
    answer = httpx.get(f"{emu.api_base}/me/events/{master_id}/instances", params=params,
                       headers=headers)  # fmt: skip
    value: list[dict[str, Any]] = answer.json()["value"]
    return value


def test_a_series_and_its_exceptions_travel_both_ways(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = outlook_provider(emu)
    weekly = desk.add("Group", 17, rrule="FREQ=WEEKLY;COUNT=6")  # Tuesdays from 3 March
    sync_cleanly(desk, provider)
    master_id = by_local_id(emu, weekly.id)["id"]
    occ = occurrences(emu, master_id)
    assert [o["start"]["dateTime"][11:16] for o in occ] == ["16:00"] * 4 + ["15:00"] * 2  # UTC
    # In Outlook, across the change to summer time: the 31 March one moved an hour later,
    # the 7 April one deleted.
    emu.remote_patch(
        occ[4]["id"],
        {
            "start": {
                "dateTime": "2026-03-31T18:00:00",
                "timeZone": "Central European Standard Time",
            },
            "end": {
                "dateTime": "2026-03-31T18:50:00",
                "timeZone": "Central European Standard Time",
            },
        },
    )
    emu.remote_delete(occ[5]["id"])  # fmt: skip
    sync_cleanly(desk, provider)
    events = desk.by_uid(weekly.uid)
    master = next(e for e in events if e.recurrence_id is None)
    [override] = [e for e in events if e.recurrence_id is not None]
    moved_start = datetime(2026, 3, 31, 17, tzinfo=WARSAW)
    assert master.id == weekly.id and override.master_id == weekly.id
    assert override.recurrence_id == moved_start and override.start == moved_start.replace(hour=18)
    assert master.exdates == (datetime(2026, 4, 7, 17, tzinfo=WARSAW),)
    # Carecal renames the series and removes one more occurrence: Outlook gets both, and the
    # exception made there stays.
    desk.edit(
        weekly.uid,
        title="Group (room 3)",
        exdates=(*master.exdates, datetime(2026, 3, 10, 17, tzinfo=WARSAW)),
    )
    assert sync_cleanly(desk, provider).pushed == 1
    assert emu.stored(master_id)["subject"] == "Group (room 3)"  # type: ignore[index]
    now = occurrences(emu, master_id)
    assert [(o["type"], o["start"]["dateTime"][:10]) for o in now] == [
        ("occurrence", "2026-03-03"),
        ("occurrence", "2026-03-17"),
        ("occurrence", "2026-03-24"),
        ("exception", "2026-03-31"),
    ]
    assert sync_cleanly(desk, provider).pulled == 0 and len(desk.by_uid(weekly.uid)) == 2


def cycle(desk: Replica, emu: GraphEmulator) -> None:
    """One pass of the app's sync cycle; like the app, a fresh provider each time."""
    app_cycle(desk, lambda account: outlook_provider(emu, privacy=Privacy.FULL))


def test_two_data_dirs_sharing_one_outlook_calendar_converge(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk_a, desk_b = make_replica("desk-a"), make_replica("desk-b")
    shared = {
        name: desk_a.add(name, 9 + i) for i, name in enumerate(("Anna", "Piotr", "Ewa", "Jan"))
    }
    cycle(desk_a, emu)
    cycle(desk_b, emu)
    assert one_copy_view(desk_b) == one_copy_view(desk_a) and len(one_copy_view(desk_a)) == 4
    new_a = desk_a.add("New patient (A)", 14)
    new_b = desk_b.add("New patient (B)", 15)
    desk_a.edit(shared["Anna"].uid, title="Anna (first visit)")
    desk_b.edit(shared["Anna"].uid, location="Room 2")
    desk_a.edit(shared["Piotr"].uid, description="Bring the referral")
    desk_b.edit(shared["Piotr"].uid, description="Paid in advance")
    desk_b.edit(shared["Jan"].uid, title="Jan (video)")
    desk_a.delete(shared["Ewa"].uid)
    for desk in (desk_a, desk_b, desk_a, desk_b):
        cycle(desk, emu)
    a, b = one_copy_view(desk_a), one_copy_view(desk_b)
    piotr = shared["Piotr"].uid
    assert {u: v for u, v in a.items() if u != piotr} == {u: v for u, v in b.items() if u != piotr}
    assert set(a) == {shared["Anna"].uid, piotr, shared["Jan"].uid, new_a.uid, new_b.uid}
    assert a[shared["Anna"].uid][:2] == ("Anna (first visit)", "Room 2")
    assert a[shared["Jan"].uid][0] == "Jan (video)"
    conflicts = [c for d in (desk_a, desk_b) for c in d.store.open_conflicts(d.calendar.id)]
    assert [(c.uid, c.fields) for c in conflicts] == [(piotr, ["description"])]
    assert sorted(own_props(r)["uid"] for r in items(emu)) == sorted(a)


def test_lost_answers_to_applied_writes_never_duplicate_or_conflict(
    emu: GraphEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    network = DropAnswers()
    provider = outlook_provider(emu, transport=network)
    anna = desk.add("Anna K.", 9)
    network.drop.append("POST")
    failed = desk.sync(provider)  # type: ignore[arg-type]
    assert failed.pushed == 0 and failed.errors
    assert by_local_id(emu, anna.id)["subject"] == "Anna K."  # Outlook has it all the same
    # The retried create carries the same transactionId: Graph returns the same event.
    assert sync_cleanly(desk, provider).pushed == 1
    assert len(items(emu)) == 1
    desk.edit(anna.uid, title="Anna K. (first visit)")
    network.drop.append("PATCH")
    assert desk.sync(provider).errors  # type: ignore[arg-type]
    report = sync_cleanly(desk, provider)
    assert report.conflicts == 0 and desk.store.open_conflicts(desk.calendar.id) == []
    assert by_local_id(emu, anna.id)["subject"] == "Anna K. (first visit)"
    assert desk.store.pending_ops(desk.calendar.id) == []
    assert [e.title for e in desk.by_uid(anna.uid)] == ["Anna K. (first visit)"]
    assert [s for m, _, s in emu.log if m == "PATCH"] == [200]
