"""Edit scopes of a recurring series: this occurrence, this and following, all."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from carecal.domain.editing import EditPlan, plan_occurrence_delete, plan_occurrence_edit
from carecal.domain.errors import ValidationError
from carecal.domain.models import EditScope, Event
from carecal.domain.recurrence import expand
from tests.domain.builders import WARSAW, local, series, utc

WINDOW = (utc(2026, 5, 1), utc(2026, 9, 1))


def weekly(rule: str = "FREQ=WEEKLY;COUNT=10") -> Event:
    return series(rule, local(2026, 6, 1, 9))  # Mondays 09:00


def occurrences(plan: EditPlan, *extra: Event) -> list[tuple[str, datetime]]:
    """(title, start) of every occurrence the planned rows produce, by series."""
    events = {e.id: e for e in extra}
    events.update({e.id: e for e in plan.upserts})
    for gone in plan.deletes:
        events.pop(gone, None)
    out: list[tuple[str, datetime]] = []
    for master in (e for e in events.values() if e.rrule):
        ovs = [e for e in events.values() if e.master_id == master.id]
        for occ in expand(master, *WINDOW, ovs, display_tz=WARSAW).occurrences:
            assert isinstance(occ.start, datetime)
            out.append((occ.event.title, occ.start))
    return sorted(out, key=lambda t: t[1])


def test_this_creates_an_override_of_that_instance() -> None:
    master = weekly()
    plan = plan_occurrence_edit(
        master,
        [],
        local(2026, 6, 8, 9),
        {"start": local(2026, 6, 9, 11), "end": local(2026, 6, 9, 12), "title": "Moved"},
        EditScope.THIS,
    )
    assert plan.deletes == ()
    (override,) = plan.upserts
    assert override.id != master.id and len(override.id) == 32
    assert override.master_id == master.id and override.uid == master.uid
    assert override.recurrence_id == local(2026, 6, 8, 9)
    assert override.rrule is None and override.raw is None
    got = occurrences(plan, master)
    assert len(got) == 10
    assert ("Moved", local(2026, 6, 9, 11)) in got
    assert ("Therapy", local(2026, 6, 8, 9)) not in got


def test_this_on_an_existing_override_updates_it_in_place() -> None:
    master = weekly()
    first = plan_occurrence_edit(master, [], local(2026, 6, 8, 9), {"title": "A"}, EditScope.THIS)
    (override,) = first.upserts
    again = plan_occurrence_edit(
        master, [override], utc(2026, 6, 8, 7), {"location": "Room 2"}, EditScope.THIS
    )
    (updated,) = again.upserts
    assert updated.id == override.id and updated.title == "A" and updated.location == "Room 2"


def test_following_splits_into_two_series_and_keeps_the_total_count() -> None:
    master = weekly()
    keep = plan_occurrence_edit(
        master, [], local(2026, 6, 8, 9), {"location": "Room 7"}, EditScope.THIS
    ).upserts[0]
    later = plan_occurrence_edit(
        master, [], local(2026, 7, 6, 9), {"title": "Special"}, EditScope.THIS
    ).upserts[0]
    plan = plan_occurrence_edit(
        master,
        [keep, later],
        local(2026, 6, 22, 9),
        {"start": local(2026, 6, 23, 10), "end": local(2026, 6, 23, 11), "title": "Tuesdays"},
        EditScope.THIS_AND_FOLLOWING,
    )
    old, new, moved = plan.upserts
    assert old.id == master.id and "COUNT" not in (old.rrule or "")
    assert "UNTIL=20260622T065959Z" in (old.rrule or "")
    assert new.id not in (master.id, old.id) and new.uid != master.uid
    assert new.uid.endswith("@carecal")
    assert "COUNT=7" in (new.rrule or "") and "BYDAY" not in (new.rrule or "")
    assert moved.id == later.id and moved.master_id == new.id and moved.uid == new.uid
    assert moved.recurrence_id == local(2026, 7, 7, 10)
    got = occurrences(plan, keep)
    assert len(got) == 10
    assert [s for _, s in got[:3]] == [local(2026, 6, d, 9) for d in (1, 8, 15)]
    assert [s for _, s in got[3:]] == [
        local(2026, 6, 23, 10) + timedelta(weeks=w) for w in range(7)
    ]
    assert [t for t, _ in got[3:]] == ["Tuesdays", "Tuesdays", "Special"] + ["Tuesdays"] * 4


def test_following_with_until_and_byday_moves_the_weekday_and_the_until() -> None:
    master = weekly("FREQ=WEEKLY;BYDAY=MO;UNTIL=20260727T070000Z")
    plan = plan_occurrence_edit(
        master,
        [],
        local(2026, 7, 6, 9),
        {"start": local(2026, 7, 7, 9), "end": local(2026, 7, 7, 10)},
        EditScope.THIS_AND_FOLLOWING,
    )
    _old, new = plan.upserts
    assert "BYDAY=TU" in (new.rrule or "") and "UNTIL=20260728T070000Z" in (new.rrule or "")
    got = [s for _, s in occurrences(plan)]
    assert got == [local(2026, 6, d, 9) for d in (1, 8, 15, 22, 29)] + [
        local(2026, 7, d, 9) for d in (7, 14, 21, 28)
    ]


def test_following_on_the_first_instance_edits_the_whole_series() -> None:
    master = weekly()
    plan = plan_occurrence_edit(
        master, [], local(2026, 6, 1, 9), {"title": "Renamed"}, EditScope.THIS_AND_FOLLOWING
    )
    (only,) = plan.upserts
    assert only.id == master.id and only.title == "Renamed"


def test_all_with_a_time_move_shifts_the_series_and_overrides_keep_their_changes() -> None:
    master = weekly()
    moved_one = plan_occurrence_edit(
        master,
        [],
        local(2026, 6, 15, 9),
        {"start": local(2026, 6, 16, 14), "end": local(2026, 6, 16, 15)},
        EditScope.THIS,
    ).upserts[0]
    renamed_one = plan_occurrence_edit(
        master, [], local(2026, 6, 22, 9), {"title": "Own title"}, EditScope.THIS
    ).upserts[0]
    plan = plan_occurrence_edit(
        master,
        [moved_one, renamed_one],
        local(2026, 6, 8, 9),
        {"start": local(2026, 6, 8, 10, 30), "end": local(2026, 6, 8, 11, 30), "title": "Late"},
        EditScope.ALL,
    )
    updated = {e.id: e for e in plan.upserts}
    assert updated[master.id].start == local(2026, 6, 1, 10, 30)
    assert updated[moved_one.id].start == local(2026, 6, 16, 14)  # moved itself: stays
    assert updated[moved_one.id].recurrence_id == local(2026, 6, 15, 10, 30)
    assert updated[moved_one.id].title == "Late"
    assert updated[renamed_one.id].title == "Own title"
    assert updated[renamed_one.id].start == local(2026, 6, 22, 10, 30)
    got = occurrences(plan)
    assert len(got) == 10
    assert ("Late", local(2026, 6, 16, 14)) in got
    assert ("Own title", local(2026, 6, 22, 10, 30)) in got
    assert sum(1 for _, s in got if s.hour == 10 and s.minute == 30) == 9


def test_all_day_series_split() -> None:
    master = series("FREQ=DAILY;COUNT=6", date(2026, 6, 1), tz=None)
    plan = plan_occurrence_edit(
        master, [], date(2026, 6, 3), {"title": "Later"}, EditScope.THIS_AND_FOLLOWING
    )
    old, new = plan.upserts
    assert "UNTIL=20260602" in (old.rrule or "") and "COUNT=4" in (new.rrule or "")
    assert new.start == date(2026, 6, 3) and new.end == date(2026, 6, 4)


def test_edit_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValidationError):
        plan_occurrence_edit(
            weekly(),
            [],
            local(2026, 6, 8, 9),
            {"start": local(2026, 6, 8, 9), "end": local(2026, 6, 8, 8)},
            EditScope.THIS,
        )


# --- deletes -------------------------------------------------------------------------------------


def test_delete_this_adds_an_exdate_and_drops_its_override() -> None:
    master = weekly()
    override = plan_occurrence_edit(
        master, [], local(2026, 6, 8, 9), {"title": "x"}, EditScope.THIS
    ).upserts[0]
    plan = plan_occurrence_delete(master, [override], utc(2026, 6, 8, 7), EditScope.THIS)
    assert plan.deletes == (override.id,)
    assert [s for _, s in occurrences(plan)].count(local(2026, 6, 8, 9)) == 0
    assert len(occurrences(plan)) == 9


def test_delete_following_ends_the_series_and_deletes_later_overrides() -> None:
    master = weekly()
    early = plan_occurrence_edit(master, [], local(2026, 6, 8, 9), {"title": "e"}, EditScope.THIS)
    late = plan_occurrence_edit(master, [], local(2026, 7, 6, 9), {"title": "l"}, EditScope.THIS)
    plan = plan_occurrence_delete(
        master,
        [early.upserts[0], late.upserts[0]],
        local(2026, 6, 22, 9),
        EditScope.THIS_AND_FOLLOWING,
    )
    assert plan.deletes == (late.upserts[0].id,)
    got = occurrences(plan, early.upserts[0])
    assert [s for _, s in got] == [local(2026, 6, d, 9) for d in (1, 8, 15)]


def test_delete_all_deletes_master_and_overrides() -> None:
    master = weekly()
    ov = plan_occurrence_edit(master, [], local(2026, 6, 8, 9), {"title": "x"}, EditScope.THIS)
    plan = plan_occurrence_delete(master, ov.upserts, local(2026, 6, 8, 9), EditScope.ALL)
    assert plan.upserts == () and set(plan.deletes) == {master.id, ov.upserts[0].id}
