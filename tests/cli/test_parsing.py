"""Argument parsing and output helpers of the command line (no database needed)."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecal import cli
from carecal.cli.output import render_table, write_csv
from carecal.cli.timeparse import localize, parse_date, parse_datetime_text, parse_zone


def test_no_command_means_gui() -> None:
    args = cli.parse_args([])
    assert args.command == "gui"
    assert args.demo is False


def test_data_dir_before_or_after_the_command(tmp_path: object) -> None:
    before = cli.parse_args(["--data-dir", "/x/a", "events", "list"])
    after = cli.parse_args(["events", "list", "--data-dir", "/x/b"])
    assert str(before.data_dir) == "/x/a"
    assert str(after.data_dir) == "/x/b"


def test_usage_errors_are_one_line_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["events", "list", "--from", "2025-13-40"],
        ["events", "frobnicate"],
        ["events", "add", "--title", "x"],
        ["free", "--date", "tomorrow"],
        ["events", "add", "--title", "x", "--start", "2025-01-01T09:00", "--tz", "Mars/Base"],
        ["services", "add", "--name", "x", "--duration", "-5"],
    ):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith("carecal: error: ")
        assert "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("carecal 0.")


def test_parse_date_words_and_iso() -> None:
    assert parse_date("2025-03-14") == date(2025, 3, 14)
    assert parse_date("tomorrow") == date.today() + timedelta(days=1)
    with pytest.raises(argparse.ArgumentTypeError, match="not a date"):
        parse_date("14.03.2025")


def test_parse_datetime_with_and_without_offset() -> None:
    warsaw = ZoneInfo("Europe/Warsaw")
    naive = parse_datetime_text("2025-03-30T02:30")
    assert isinstance(naive, datetime) and naive.tzinfo is None
    with_offset = parse_datetime_text("2025-07-01T09:00+00:00")
    assert isinstance(with_offset, datetime)
    assert localize(with_offset, warsaw).hour == 11
    assert localize(datetime(2025, 7, 1, 9), warsaw).utcoffset() == timedelta(hours=2)
    assert parse_datetime_text("2025-07-01 09:15Z") == datetime.fromisoformat("2025-07-01T09:15Z")
    assert parse_datetime_text("2025-07-01") == date(2025, 7, 1)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_datetime_text("next tuesday")


def test_parse_zone() -> None:
    assert parse_zone("America/New_York") == "America/New_York"
    for bad in ("Nowhere/City", "../etc/passwd", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_zone(bad)


def test_table_aligns_and_never_cuts_the_last_column() -> None:
    long_id = "f" * 32
    text = render_table(("A", "TITLE", "ID"), [("x", "t" * 80, long_id), ("yy", "short", "1")])
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[1].endswith(long_id)
    assert "…" in lines[1]
    assert lines[0].index("TITLE") == lines[1].index("t") == lines[2].index("short")


def test_csv_writes_nested_values_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(("id", "after"), [{"id": 1, "after": {"title": "a,b"}}])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "id,after"
    assert json.loads(out[1].split(",", 1)[1].strip('"').replace('""', '"')) == {"title": "a,b"}
