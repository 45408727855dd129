"""Side-by-side layout of overlapping appointments in a day column (pure logic, no Qt).

Appointments that overlap, directly or through a chain of overlaps, form a cluster. Inside a
cluster each item takes the first column that is free at its start; every item in the cluster is
then as narrow as the cluster's column count, and an item widens to the right over columns that
stay free for its whole duration (as the big calendar apps do). Safe on any thread.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an item goes: ``column`` of ``columns`` equal columns, ``span`` columns wide."""

    column: int
    columns: int
    span: int = 1

    @property
    def left(self) -> float:
        """Left edge as a fraction of the day column's width."""
        return self.column / self.columns

    @property
    def width(self) -> float:
        """Width as a fraction of the day column's width."""
        return self.span / self.columns


def layout_columns(items: Sequence[tuple[K, datetime, datetime]]) -> dict[K, Placement]:
    """Place ``(key, start, end)`` items (half-open intervals) into side-by-side columns.

    Items that only touch (one ends when the next starts) share a column. Runs on any thread;
    raises nothing for well-formed input (an end before its start counts as zero length).
    """
    order = sorted(items, key=lambda it: (it[1], -(it[2] - it[1]).total_seconds()))
    result: dict[K, Placement] = {}
    cluster: list[tuple[K, datetime, datetime, int]] = []
    col_ends: list[datetime] = []
    cluster_end: datetime | None = None

    def flush() -> None:
        n = len(col_ends)
        for key, start, end, col in cluster:
            span = 1
            # Widen over neighbouring columns that nobody in the cluster uses during [start, end).
            while col + span < n and not any(
                c == col + span and s < end and start < e for _, s, e, c in cluster
            ):
                span += 1
            result[key] = Placement(col, n, span)
        cluster.clear()
        col_ends.clear()

    for key, start, end in order:
        end = max(end, start)
        if cluster_end is not None and start >= cluster_end:
            flush()
            cluster_end = None
        for i, col_end in enumerate(col_ends):
            if col_end <= start:
                col_ends[i] = end
                col = i
                break
        else:
            col_ends.append(end)
            col = len(col_ends) - 1
        cluster.append((key, start, end, col))
        cluster_end = end if cluster_end is None else max(cluster_end, end)
    flush()
    return result
