"""``events update|delete ID --occurrence DATE [--scope ...]`` on one occurrence of a series."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Result, Run


def _one_line_error(result: Result, code: int) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("carecal: ")
    assert "Traceback" not in result.err + result.out


def _series(run: Run) -> str:
    added = run(
        "events", "add", "--title", "Supervision", "--start", "2025-03-10T16:00",
        "--duration", "60", "--rrule", "FREQ=DAILY;COUNT=5", "--format", "json",
    )  # fmt: skip
    assert added.code == 0, added.err
    record = added.json()
    assert isinstance(record, dict)
    return str(record["id"])


def _week(run: Run) -> list[dict[str, object]]:
    listed = run("events", "list", "--from", "2025-03-10", "--to", "2025-03-16", "--format", "json")
    assert listed.code == 0, listed.err
    items = listed.json()
    assert isinstance(items, list)
    return items


def _starts(run: Run) -> list[str]:
    return [str(i["start"]) for i in _week(run) if i["status"] != "cancelled"]


def test_delete_one_occurrence_keeps_the_others(run: Run) -> None:
    series = _series(run)
    deleted = run("events", "delete", series, "--occurrence", "2025-03-12")
    assert deleted.code == 0, deleted.err
    assert "Wed 2025-03-12 16:00" in deleted.out
    assert [s[:10] for s in _starts(run)] == [
        "2025-03-10",
        "2025-03-11",
        "2025-03-13",
        "2025-03-14",
    ]


def test_delete_this_and_following_by_start_time(run: Run) -> None:
    series = _series(run)
    deleted = run(
        "events", "delete", series, "--occurrence", "2025-03-13T16:00", "--scope", "following"
    )
    assert deleted.code == 0, deleted.err
    assert [s[:10] for s in _starts(run)] == ["2025-03-10", "2025-03-11", "2025-03-12"]


def test_delete_all_through_an_occurrence(run: Run) -> None:
    series = _series(run)
    assert run("events", "delete", series, "--occurrence", "2025-03-11", "--scope", "all").code == 0
    assert _week(run) == []


def test_update_one_occurrence_moves_only_it(run: Run) -> None:
    series = _series(run)
    moved = run(
        "events", "update", series, "--occurrence", "2025-03-11", "--start", "2025-03-11T18:00",
        "--title", "Moved supervision",
    )  # fmt: skip
    assert moved.code == 0, moved.err
    items = _week(run)
    assert [i["start"] for i in items] == [
        "2025-03-10T16:00:00+01:00",
        "2025-03-11T18:00:00+01:00",
        "2025-03-12T16:00:00+01:00",
        "2025-03-13T16:00:00+01:00",
        "2025-03-14T16:00:00+01:00",
    ]
    assert items[1]["end"] == "2025-03-11T19:00:00+01:00"  # keeps its hour
    assert [i["title"] for i in items].count("Moved supervision") == 1
    assert items[1]["series_id"] == series and items[1]["id"] != series
    # The moved occurrence is still found by its date, and again by its new start time.
    status = run("events", "update", series, "--occurrence", "2025-03-11T18:00", "--status",
                 "confirmed")  # fmt: skip
    assert status.code == 0, status.err
    assert _week(run)[1]["status"] == "confirmed"


def test_update_following_and_all(run: Run) -> None:
    series = _series(run)
    following = run(
        "events", "update", series, "--occurrence", "2025-03-13", "--scope", "following",
        "--title", "Later", "--format", "json",
    )  # fmt: skip
    assert following.code == 0, following.err
    assert isinstance(following.json(), list)
    assert [i["title"] for i in _week(run)] == ["Supervision"] * 3 + ["Later"] * 2
    every = run("events", "update", series, "--occurrence", "2025-03-10", "--scope", "all",
                "--status", "confirmed")  # fmt: skip
    assert every.code == 0, every.err
    assert [i["status"] for i in _week(run)][:3] == ["confirmed"] * 3


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (("--occurrence", "2025-03-20"), 1, "no occurrence on 2025-03-20"),
        (("--occurrence", "2025-03-11T09:00"), 1, "no occurrence at 2025-03-11T09:00"),
        (("--occurrence", "banana"), 2, "not a date-time"),
        (("--occurrence", "2025-03-11", "--scope", "sometimes"), 2, "invalid choice"),
        (("--scope", "all"), 2, "--scope needs --occurrence"),
    ],
)
def test_bad_occurrence_input_is_one_line(
    run: Run, argv: tuple[str, ...], code: int, words: str
) -> None:
    series = _series(run)
    for command in ("delete", "update"):
        extra = ("--title", "x") if command == "update" else ()
        result = run("events", command, series, *argv, *extra)
        _one_line_error(result, code)
        assert words in result.err
    assert len(_week(run)) == 5  # nothing was changed


def test_occurrence_of_a_single_event_is_refused(run: Run) -> None:
    added = run("events", "add", "--title", "One", "--start", "2025-03-10T09:00",
                "--duration", "30", "--format", "json")  # fmt: skip
    event_id = str(added.json()["id"])  # type: ignore[index]
    result = run("events", "delete", event_id, "--occurrence", "2025-03-10")
    _one_line_error(result, 2)
    assert "not a recurring series" in result.err
    assert len(_week(run)) == 1


def test_a_day_with_two_occurrences_asks_for_the_time(run: Run) -> None:
    series = _series(run)
    # Moving Tuesday's occurrence to Monday evening puts two occurrences on Monday.
    moved = run("events", "update", series, "--occurrence", "2025-03-11",
                "--start", "2025-03-10T20:00")  # fmt: skip
    assert moved.code == 0, moved.err
    result = run("events", "delete", series, "--occurrence", "2025-03-10")
    _one_line_error(result, 1)
    assert "16:00, 20:00" in result.err and "--occurrence 2025-03-10T16:00" in result.err
    assert run("events", "delete", series, "--occurrence", "2025-03-10T20:00").code == 0
    assert [s[:16] for s in _starts(run)] == [
        "2025-03-10T16:00",
        "2025-03-12T16:00",
        "2025-03-13T16:00",
        "2025-03-14T16:00",
    ]
