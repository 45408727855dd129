"""The side-by-side layout of overlapping appointments (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from carecal.ui.layout import Placement, layout_columns

T0 = datetime(2025, 5, 14, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_lone_item_takes_the_whole_width() -> None:
    assert layout_columns([("a", at(0), at(50))]) == {"a": Placement(0, 1, 1)}


def test_two_overlapping_items_go_side_by_side() -> None:
    place = layout_columns([("a", at(0), at(60)), ("b", at(30), at(90))])
    assert place["a"] == Placement(0, 2, 1)
    assert place["b"] == Placement(1, 2, 1)


def test_touching_items_share_a_column() -> None:
    place = layout_columns([("a", at(0), at(50)), ("b", at(50), at(100))])
    assert place["a"] == place["b"] == Placement(0, 1, 1)


def test_columns_are_reused_and_free_columns_widen_an_item() -> None:
    # a overlaps b and c; b and c do not overlap each other; d starts after b ends.
    place = layout_columns(
        [("a", at(0), at(120)), ("b", at(0), at(30)), ("c", at(10), at(40)), ("d", at(60), at(90))]
    )
    assert place["a"].columns == place["b"].columns == place["c"].columns == 3
    assert {place["a"].column, place["b"].column, place["c"].column} == {0, 1, 2}
    # d reuses a freed column and spans the free space to its right.
    assert place["d"].column + place["d"].span == 3


def test_separate_clusters_are_laid_out_independently() -> None:
    place = layout_columns([("a", at(0), at(60)), ("b", at(30), at(90)), ("c", at(120), at(150))])
    assert place["c"] == Placement(0, 1, 1)


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(1, 180)), max_size=25))
def test_overlapping_items_never_share_a_column(spans: list[tuple[int, int]]) -> None:
    items = [(i, at(s), at(s + d)) for i, (s, d) in enumerate(spans)]
    place = layout_columns(items)
    assert set(place) == {i for i, _, _ in items}
    for i, s1, e1 in items:
        p1 = place[i]
        assert p1.column >= 0 and p1.column + p1.span <= p1.columns
        for j, s2, e2 in items:
            if i < j and s1 < e2 and s2 < e1:
                p2 = place[j]
                cols1 = set(range(p1.column, p1.column + p1.span))
                cols2 = set(range(p2.column, p2.column + p2.span))
                assert p1.columns == p2.columns
                assert not cols1 & cols2, (i, j, p1, p2)
