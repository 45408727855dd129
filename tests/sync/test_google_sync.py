"""The real sync engine against the Google provider on the Calendar v3 emulator: local changes
reach Google, remote ones arrive, concurrent edits merge or wait in the conflict inbox, a masked
appointment keeps its real title, series and their exceptions travel both ways, and two data
directories sharing one Google calendar converge through the app's own sync cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from carecal.domain.models import EditScope, ProviderKind
from carecal.providers.google_map import Labels, Privacy, google_id
from carecal.services.events import occurrence_of
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.providers.google_support import CALENDAR, OWNER, google_provider, running_emulator
from tests.sync.helpers import WARSAW, Replica, app_cycle, one_copy_view, sync_cleanly
from tests.sync.network import DropAnswers

LABELS = Labels({"p1": "A.K."}, {"s1": "Therapy"})


@pytest.fixture
def emu() -> Iterator[GoogleCalendarEmulator]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def make_replica(make_replica: Callable[..., Replica]) -> Callable[[str], Replica]:
    """The sync tests' replicas (conftest.py), of a Google account mirroring the calendar."""
    return partial(
        make_replica, kind=ProviderKind.GOOGLE, username="practice@gmail", remote_id=OWNER
    )


def local(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.isoformat(), "timeZone": "Europe/Warsaw"}


def stored(emu: GoogleCalendarEmulator, event_id: str) -> dict[str, Any]:
    found = emu.stored(google_id(event_id))
    assert found is not None
    return found


def test_local_create_edit_and_delete_reach_google(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = google_provider(emu)
    anna = desk.add("Anna K.", 9)
    assert sync_cleanly(desk, provider).pushed == 1
    assert stored(emu, anna.id)["summary"] == "Anna K."
    desk.edit(anna.uid, title="Anna K. (first visit)", location="Room 2")
    assert sync_cleanly(desk, provider).pushed == 1
    on_google = stored(emu, anna.id)
    assert (on_google["summary"], on_google["location"]) == ("Anna K. (first visit)", "Room 2")
    before = len(provider.requests)
    noop = sync_cleanly(desk, provider)
    assert noop.pushed == 0 and len(provider.requests) - before == 1
    _, undo = desk.session.events.delete(occurrence_of(desk.by_uid(anna.uid)[0]), EditScope.ALL)
    assert sync_cleanly(desk, provider).pushed == 1
    assert stored(emu, anna.id)["status"] == "cancelled"
    assert desk.store.pending_ops(desk.calendar.id) == []
    # Undone after it reached Google: the deleted Google event comes back, not a second one.
    desk.session.events.undo(undo)
    assert sync_cleanly(desk, provider).pushed == 1
    back = stored(emu, anna.id)
    assert back["status"] != "cancelled" and back["summary"] == "Anna K. (first visit)"
    assert len(asyncio.run(provider.pull(CALENDAR, None)).changed) == 1


def test_remote_create_edit_and_delete_arrive(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = google_provider(emu)
    theirs = emu.remote_insert(
        {
            "summary": "Supervision",
            "start": {"dateTime": "2026-03-03T12:00:00+01:00", "timeZone": "Europe/Warsaw"},
            "end": {"dateTime": "2026-03-03T13:00:00+01:00", "timeZone": "Europe/Warsaw"},
        }
    )
    assert sync_cleanly(desk, provider).pulled == 1
    [event] = desk.by_uid(theirs["iCalUID"])
    assert (event.title, event.start) == ("Supervision", datetime(2026, 3, 3, 12, tzinfo=WARSAW))
    emu.remote_patch(theirs["id"], {"summary": "Supervision (moved)", "location": "Online"})
    sync_cleanly(desk, provider)
    [edited] = desk.by_uid(theirs["iCalUID"])
    assert (edited.id, edited.title, edited.location) == (event.id, "Supervision (moved)", "Online")
    assert desk.store.pending_ops(desk.calendar.id) == []  # a pulled change is not sent back
    emu.remote_delete(theirs["id"])
    assert sync_cleanly(desk, provider).deleted == 1
    assert desk.by_uid(theirs["iCalUID"]) == []


def test_concurrent_edits_merge_by_field_or_wait_in_the_inbox(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = google_provider(emu)
    anna, piotr = desk.add("Anna K.", 9), desk.add("Piotr N.", 11)
    sync_cleanly(desk, provider)
    # Different fields of one event: both edits survive, on both sides.
    emu.remote_patch(google_id(anna.id), {"location": "Room 9"})
    desk.edit(anna.uid, title="Anna K. (first visit)")
    # The same field of another: the user decides.
    emu.remote_patch(google_id(piotr.id), {"summary": "Piotr N. (theirs)"})
    desk.edit(piotr.uid, title="Piotr N. (mine)")
    report = sync_cleanly(desk, provider)
    assert report.conflicts == 1
    [merged] = desk.by_uid(anna.uid)
    assert (merged.title, merged.location) == ("Anna K. (first visit)", "Room 9")
    on_google = stored(emu, anna.id)
    assert (on_google["summary"], on_google["location"]) == ("Anna K. (first visit)", "Room 9")
    [conflict] = desk.store.open_conflicts(desk.calendar.id)
    assert conflict.uid == piotr.uid and conflict.fields == ["title"]
    assert conflict.remote is not None
    assert [e.title for e in conflict.remote.values()] == ["Piotr N. (theirs)"]
    assert desk.by_uid(piotr.uid)[0].title == "Piotr N. (mine)"
    assert stored(emu, piotr.id)["summary"] == "Piotr N. (theirs)"


def test_a_masked_appointment_keeps_its_real_title_after_a_move_on_google(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = google_provider(emu, privacy=Privacy.INITIALS, labels=LABELS)
    appt = desk.add(
        "Anna Kowalska",
        9,
        patient_id="p1",
        service_id="s1",
        description="Anxiety",
        location="Room 2",
    )
    sync_cleanly(desk, provider)
    on_google = stored(emu, appt.id)
    assert (on_google["summary"], on_google.get("description", "")) == ("Therapy · A.K.", "")
    later = {
        key: {"dateTime": (value + timedelta(hours=2)).isoformat(), "timeZone": "Europe/Warsaw"}
        for key, value in (("start", appt.start), ("end", appt.end))
    }
    emu.remote_patch(google_id(appt.id), later)  # moved in Google's app on a phone
    assert sync_cleanly(desk, provider).pulled == 1
    [moved] = desk.by_uid(appt.uid)
    assert (moved.title, moved.description, moved.location) == (
        "Anna Kowalska",
        "Anxiety",
        "Room 2",
    )
    assert moved.start == appt.start + timedelta(hours=2)
    assert desk.store.pending_ops(desk.calendar.id) == []
    # Retitled on Google: a real edit, and it wins.
    emu.remote_patch(google_id(appt.id), {"summary": "A.K. - call first"})
    sync_cleanly(desk, provider)
    assert desk.by_uid(appt.uid)[0].title == "A.K. - call first"


def test_a_series_and_its_exceptions_travel_both_ways(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    provider = google_provider(emu)
    weekly = desk.add("Group", 17, rrule="FREQ=WEEKLY;COUNT=6")  # Tuesdays from 3 March
    sync_cleanly(desk, provider)
    master_id = google_id(weekly.id)
    # Across the change to summer time (29 March) on Google: one occurrence moved, one
    # cancelled; 09:00 local stays 09:00 local.
    moved_start = datetime(2026, 3, 31, 17, tzinfo=WARSAW)
    emu.remote_patch(
        f"{master_id}_20260331T150000Z",
        {"start": local(moved_start.replace(hour=18)), "end": local(moved_start.replace(hour=19))},
    )
    emu.remote_delete(f"{master_id}_20260407T150000Z")
    sync_cleanly(desk, provider)
    events = desk.by_uid(weekly.uid)
    master = next(e for e in events if e.recurrence_id is None)
    [override] = [e for e in events if e.recurrence_id is not None]
    assert master.id == weekly.id and override.master_id == weekly.id
    assert override.recurrence_id == moved_start and override.start == moved_start.replace(hour=18)
    assert master.exdates == (datetime(2026, 4, 7, 17, tzinfo=WARSAW),)
    # Carecal renames the series and removes one more occurrence: Google gets both, and the
    # exception made there stays.
    desk.edit(
        weekly.uid,
        title="Group (room 3)",
        exdates=(*master.exdates, datetime(2026, 3, 10, 17, tzinfo=WARSAW)),
    )
    assert sync_cleanly(desk, provider).pushed == 1
    on_google = stored(emu, weekly.id)
    assert on_google["summary"] == "Group (room 3)"
    assert "EXDATE;TZID=Europe/Warsaw:20260310T170000" in ",".join(on_google["recurrence"])
    exception = emu.stored(f"{master_id}_20260331T150000Z")
    assert exception is not None and exception["status"] != "cancelled"
    assert sync_cleanly(desk, provider).pulled == 0 and len(desk.by_uid(weekly.uid)) == 2
    # Deleting the moved occurrence in Carecal cancels Google's exception too.
    [override] = [e for e in desk.by_uid(weekly.uid) if e.recurrence_id is not None]
    desk.session.events.delete(occurrence_of(override), EditScope.THIS)
    assert sync_cleanly(desk, provider).pushed == 1
    exception = emu.stored(f"{master_id}_20260331T150000Z")
    assert exception is not None and exception["status"] == "cancelled"
    assert sync_cleanly(desk, provider).pulled == 0
    [only] = desk.by_uid(weekly.uid)
    assert moved_start in only.exdates and len(only.exdates) == 3


def cycle(desk: Replica, emu: GoogleCalendarEmulator) -> None:
    """One pass of the app's sync cycle; like the app, a fresh provider each time."""
    app_cycle(desk, lambda account: google_provider(emu, privacy=Privacy.FULL))


def test_two_data_dirs_sharing_one_google_calendar_converge(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk_a, desk_b = make_replica("desk-a"), make_replica("desk-b")
    shared = {
        name: desk_a.add(name, 9 + i) for i, name in enumerate(("Anna", "Piotr", "Ewa", "Jan"))
    }
    cycle(desk_a, emu)
    cycle(desk_b, emu)
    assert one_copy_view(desk_b) == one_copy_view(desk_a) and len(one_copy_view(desk_a)) == 4
    # Apart: each desk edits without syncing.
    new_a = desk_a.add("New patient (A)", 14)
    new_b = desk_b.add("New patient (B)", 15)
    desk_a.edit(shared["Anna"].uid, title="Anna (first visit)")  # same event,
    desk_b.edit(shared["Anna"].uid, location="Room 2")  # different fields
    desk_a.edit(shared["Piotr"].uid, description="Bring the referral")  # same event,
    desk_b.edit(shared["Piotr"].uid, description="Paid in advance")  # same field
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
    # Google holds one copy of everything.
    items = asyncio.run(google_provider(emu).pull(CALENDAR, None)).changed
    assert sorted(i.uid for i in items) == sorted(a)


def test_lost_answers_to_applied_writes_never_duplicate_or_conflict(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    network = DropAnswers()
    provider = google_provider(emu, transport=network)
    anna = desk.add("Anna K.", 9)
    network.drop.append("POST")
    failed = desk.sync(provider)  # type: ignore[arg-type]
    assert failed.pushed == 0 and "will try again" in " ".join(failed.errors)
    assert stored(emu, anna.id)["summary"] == "Anna K."  # Google has it all the same
    # The retried create gets 409; the engine finds the event and recognises its own write.
    assert sync_cleanly(desk, provider).pulled == 1
    assert [s for m, p, s in emu.log if m == "POST" and "/events" in p] == [200, 409]
    assert len(asyncio.run(provider.pull(CALENDAR, None)).changed) == 1
    desk.edit(anna.uid, title="Anna K. (first visit)")
    network.drop.append("PATCH")
    assert desk.sync(provider).errors  # type: ignore[arg-type]
    # The retried update sees Google moved on (its own edit): no conflict, nothing sent twice.
    report = sync_cleanly(desk, provider)
    assert report.conflicts == 0 and desk.store.open_conflicts(desk.calendar.id) == []
    assert stored(emu, anna.id)["summary"] == "Anna K. (first visit)"
    assert desk.store.pending_ops(desk.calendar.id) == []
    assert [e.title for e in desk.by_uid(anna.uid)] == ["Anna K. (first visit)"]
    assert [s for m, _, s in emu.log if m == "PATCH"] == [200]


def test_a_lost_answer_to_a_merged_push_keeps_the_other_sides_edit(
    emu: GoogleCalendarEmulator, make_replica: Callable[[str], Replica]
) -> None:
    desk = make_replica("a")
    network = DropAnswers()
    provider = google_provider(emu, transport=network)
    anna = desk.add("Anna K.", 9)
    sync_cleanly(desk, provider)
    emu.remote_patch(google_id(anna.id), {"summary": "Anna K. (theirs)"})
    desk.edit(anna.uid, location="Room 2")
    # The engine merges (their title, our room) and sends it; Google applies it, the answer
    # is lost. Carecal has not stored the merge yet when it tries again.
    network.drop.append("PATCH")
    assert desk.sync(provider).errors  # type: ignore[arg-type]
    assert stored(emu, anna.id)["summary"] == "Anna K. (theirs)"
    report = sync_cleanly(desk, provider)
    assert report.conflicts == 0
    [event] = desk.by_uid(anna.uid)
    assert (event.title, event.location) == ("Anna K. (theirs)", "Room 2")
    on_google = stored(emu, anna.id)
    assert (on_google["summary"], on_google["location"]) == ("Anna K. (theirs)", "Room 2")
