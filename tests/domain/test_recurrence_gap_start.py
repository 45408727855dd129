"""A series whose DTSTART falls in a DST gap (02:30 on the spring-forward Sunday in New York):
the first occurrence moves to 03:30 as RFC 5545 says and keeps the span its writer gave it
(found by the Hypothesis comparison with dateutil in test_recurrence_plain.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carecal.domain.recurrence import expand
from tests.domain.builders import NEW_YORK, WARSAW, series


def test_a_series_starting_in_a_dst_gap_keeps_its_length() -> None:
    master = series(
        "FREQ=WEEKLY;INTERVAL=2", datetime(2025, 3, 9, 2, 30, tzinfo=NEW_YORK), minutes=50
    )
    exp = expand(
        master,
        datetime(2025, 3, 9, tzinfo=UTC),
        datetime(2025, 3, 24, tzinfo=UTC),
        display_tz=WARSAW,
    )
    spans = [(o.start, o.end) for o in exp.occurrences]
    assert [s.astimezone(UTC) for s, _ in spans] == [
        datetime(2025, 3, 9, 7, 30, tzinfo=UTC),
        datetime(2025, 3, 23, 6, 30, tzinfo=UTC),
    ]
    assert all(e - s == timedelta(minutes=50) for s, e in spans)
