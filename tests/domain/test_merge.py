"""Three-way merge of events and items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carecal.domain.merge import merge_event, merge_item
from carecal.domain.models import Event

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def ev(**fields: object) -> Event:
    base = Event(
        id="e1", calendar_id="c", uid="u", title="T", start=START, end=START + timedelta(hours=1)
    )
    return base.with_changes(**fields) if fields else base


def test_disjoint_field_edits_merge() -> None:
    result = merge_event(ev(), ev(title="Mine"), ev(location="Room 2", raw="R"))
    assert result.conflicts == ()
    assert (result.merged.title, result.merged.location, result.merged.raw) == (
        "Mine",
        "Room 2",
        "R",
    )


def test_overlapping_edits_conflict_and_equal_edits_do_not() -> None:
    assert merge_event(ev(), ev(title="A"), ev(title="B")).conflicts == ("title",)
    assert merge_event(ev(), ev(title="A"), ev(title="A")).conflicts == ()


def test_without_base_any_difference_conflicts() -> None:
    assert merge_event(None, ev(title="A"), ev(location="x")).conflicts == ("title", "location")
    assert merge_event(None, ev(), ev()).conflicts == ()


def test_override_added_on_one_side_is_taken() -> None:
    rid = START + timedelta(days=7)
    override = ev(id="o1", recurrence_id=rid, title="Moved")
    result = merge_item({"": ev()}, {"": ev(), "r": override}, {"": ev(title="Renamed")})
    assert result.clean
    assert result.merged[""].title == "Renamed" and result.merged["r"].title == "Moved"


def test_deleted_on_one_side_edited_on_the_other_is_reported() -> None:
    result = merge_item({"": ev()}, {}, {"": ev(title="Edited")})
    assert not result.clean and result.deleted_vs_edited == [""]
    untouched = merge_item({"": ev(), "r": ev(id="o")}, {"": ev()}, {"": ev(), "r": ev(id="o")})
    assert untouched.clean and list(untouched.merged) == [""]
