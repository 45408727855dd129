"""``carecal hours`` and ``carecal breaks``, and what ``carecal free`` says without them."""

from __future__ import annotations

import pytest

from carecal.cli.schema import BREAK_KEYS, HOURS_KEYS
from tests.cli.conftest import Result, Run


def _one_line_error(result: Result, code: int) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("carecal: ")
    assert "Traceback" not in result.err + result.out


def _service(run: Run) -> None:
    assert run("services", "add", "--name", "Therapy", "--duration", "50").code == 0


def _slots(run: Run, day: str) -> list[str]:
    result = run("free", "--date", day, "--service", "Therapy", "--format", "json")
    assert result.code == 0, result.err
    items = result.json()
    assert isinstance(items, list)
    return [str(i["start"])[11:16] for i in items]


def test_free_without_working_hours_says_how_to_set_them(run: Run) -> None:
    _service(run)
    table = run("free", "--date", "2025-03-11", "--service", "Therapy")
    assert table.code == 0
    assert "no working hours are set" in table.out and "carecal hours set" in table.out
    as_json = run("free", "--date", "2025-03-11", "--service", "Therapy", "--format", "json")
    assert as_json.code == 0 and as_json.json() == []
    assert "no working hours are set" in as_json.err


def test_hours_and_breaks_shape_the_free_slots(run: Run) -> None:
    _service(run)
    assert run("hours", "list").out.startswith("No working hours are set")
    assert run("hours", "set", "--weekday", "mon-fri", "--from", "08:00", "--to", "10:00").code == 0
    assert run("hours", "add", "--weekday", "tue", "--from", "12", "--to", "13:00").code == 0
    listed = run("hours", "list", "--format", "json").json()
    assert isinstance(listed, list) and len(listed) == 6
    assert {"weekday": "tue", "from": "12:00", "to": "13:00"}.items() <= listed[2].items()
    table = run("hours", "list").out
    assert "Tue  08:00-10:00, 12:00-13:00" in table and "Sat  off" in table
    # 2025-03-11 is a Tuesday.
    assert _slots(run, "2025-03-11") == ["08:00", "08:15", "08:30", "08:45", "09:00", "12:00"]
    added = run("breaks", "add", "--weekday", "tue", "--from", "08:30", "--to", "09:00",
                "--label", "Calls", "--format", "json")  # fmt: skip
    assert added.code == 0, added.err
    break_id = str(added.json()[0]["id"])  # type: ignore[index]
    assert _slots(run, "2025-03-11") == ["09:00", "12:00"]
    assert _slots(run, "2025-03-10") == ["08:00", "08:15", "08:30", "08:45", "09:00"]
    day_off = run("breaks", "add", "--date", "2025-03-10", "--from", "08:00", "--to", "10:00")
    assert day_off.code == 0, day_off.err
    assert _slots(run, "2025-03-10") == []
    breaks = run("breaks", "list")
    assert "Calls" in breaks.out and "2025-03-10" in breaks.out
    assert run("breaks", "remove", break_id[:6]).code == 0
    assert _slots(run, "2025-03-11")[:2] == ["08:00", "08:15"]
    assert run("hours", "clear", "--weekday", "tue").code == 0
    cleared = run("free", "--date", "2025-03-11", "--service", "Therapy")
    assert "not a working day" in cleared.out
    assert run("audit", "verify").code == 0


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (("hours", "set", "--weekday", "funday", "--from", "8", "--to", "9"), 2, "not a weekday"),
        (("hours", "set", "--weekday", "fri-mon", "--from", "8", "--to", "9"), 2, "backwards"),
        (("hours", "set", "--weekday", "mon", "--from", "25:00", "--to", "26"), 2, "time of day"),
        (("hours", "set", "--weekday", "mon", "--from", "8:5", "--to", "9"), 2, "time of day"),
        (("hours", "set", "--weekday", "mon", "--from", "16:00", "--to", "08:00"), 1, "after"),
        (("hours", "set", "--from", "08:00", "--to", "09:00"), 2, "--weekday"),
        (("breaks", "add", "--from", "12:00", "--to", "13:00"), 2, "--weekday"),
        (
            (
                "breaks",
                "add",
                "--weekday",
                "mon",
                "--date",
                "2025-03-10",
                "--from",
                "12:00",
                "--to",
                "13:00",
            ),
            2,
            "not both",
        ),
        (("breaks", "remove", "nope"), 1, "no break with id nope"),
    ],
)
def test_bad_schedule_input_is_one_line(
    run: Run, argv: tuple[str, ...], code: int, words: str
) -> None:
    result = run(*argv)
    _one_line_error(result, code)
    assert words in result.err


def test_overlapping_hours_are_refused(run: Run) -> None:
    assert run("hours", "set", "--weekday", "mon", "--from", "08:00", "--to", "16:00").code == 0
    result = run("hours", "add", "--weekday", "mon", "--from", "15:00", "--to", "17:00")
    _one_line_error(result, 1)
    assert "overlaps" in result.err
    assert len(run("hours", "list", "--format", "json").json()) == 1  # type: ignore[arg-type]


def test_json_keys_are_the_documented_ones(run: Run) -> None:
    assert run("hours", "set", "--weekday", "mon", "--from", "08:00", "--to", "16:00").code == 0
    assert run("breaks", "add", "--weekday", "mon", "--from", "12:00", "--to", "12:30").code == 0
    hours = run("hours", "list", "--format", "json").json()
    breaks = run("breaks", "list", "--format", "json").json()
    assert isinstance(hours, list) and isinstance(breaks, list)
    assert tuple(hours[0]) == HOURS_KEYS and tuple(breaks[0]) == BREAK_KEYS
