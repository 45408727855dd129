"""The command line end to end, in-process, against real SQLite files in a tmp data dir."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time
from pathlib import Path

import pytest

from carecal.cli import cmd_events
from carecal.cli.schema import EVENT_KEYS, PATIENT_KEYS, SERVICE_KEYS
from carecal.domain.models import Break, WorkingHours, new_id
from carecal.services.session import open_session
from tests.cli.conftest import Result, Run


def _one_line_error(result: Result, code: int) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("carecal: ")
    assert "Traceback" not in result.err + result.out


def test_add_list_update_delete_round_trip(run: Run) -> None:
    added = run(
        "events", "add", "--title", "Therapy", "--start", "2025-03-10T09:00",
        "--duration", "50", "--format", "json",
    )  # fmt: skip
    assert added.code == 0, added.err
    record = added.json()
    assert isinstance(record, dict)
    event_id = record["id"]
    assert record["start"] == "2025-03-10T09:00:00+01:00"
    assert record["end"] == "2025-03-10T09:50:00+01:00"
    assert record["calendar"] == "My practice"

    listed = run("events", "list", "--from", "2025-03-10", "--to", "2025-03-10", "--format", "json")
    assert listed.code == 0
    items = listed.json()
    assert isinstance(items, list) and [i["id"] for i in items] == [event_id]
    assert set(items[0]) == set(EVENT_KEYS)

    updated = run("events", "update", event_id, "--title", "Moved", "--start", "2025-03-10T11:00")
    assert updated.code == 0, updated.err
    table = run("events", "list", "--from", "2025-03-10", "--to", "2025-03-10")
    assert "11:00-11:50" in table.out and "Moved" in table.out and event_id in table.out

    status = run("events", "update", event_id, "--status", "completed", "--format", "json")
    assert status.json()["status"] == "completed"  # type: ignore[index]

    deleted = run("events", "delete", event_id)
    assert deleted.code == 0
    empty = run("events", "list", "--from", "2025-03-10", "--to", "2025-03-10", "--format", "json")
    assert empty.json() == []


def test_recurring_add_is_expanded_and_offsets_follow_dst(run: Run) -> None:
    added = run(
        "events", "add", "--title", "Supervision", "--start", "2025-03-24T16:00",
        "--end", "2025-03-24T17:00", "--rrule", "FREQ=WEEKLY;COUNT=3",
    )  # fmt: skip
    assert added.code == 0, added.err
    items = run("events", "list", "--from", "2025-03-20", "--to", "2025-04-30", "--format", "json")
    starts = [i["start"] for i in items.json()]  # type: ignore[union-attr, index]
    # Warsaw switches to summer time on 2025-03-30: the wall-clock time stays 16:00.
    assert starts == [
        "2025-03-24T16:00:00+01:00",
        "2025-03-31T16:00:00+02:00",
        "2025-04-07T16:00:00+02:00",
    ]


def test_all_day_and_offset_input(run: Run) -> None:
    assert run("events", "add", "--title", "Course", "--start", "2025-05-02", "--all-day").code == 0
    timed = run(
        "events", "add", "--title", "Call", "--start", "2025-05-02T07:00Z",
        "--duration", "30", "--format", "json",
    )  # fmt: skip
    assert timed.json()["start"] == "2025-05-02T09:00:00+02:00"  # type: ignore[index]
    items = run("events", "list", "--from", "2025-05-02", "--to", "2025-05-02", "--format", "json")
    course = next(i for i in items.json() if i["title"] == "Course")  # type: ignore[union-attr]
    assert course["all_day"] is True
    assert (course["start"], course["end"]) == ("2025-05-02", "2025-05-03")


def test_patients_and_services(run: Run) -> None:
    assert run("patients", "add", "--first", "Zofia", "--last", "Testowa").code == 0
    assert (
        run("services", "add", "--name", "Therapy", "--duration", "50", "--price", "180").code == 0
    )
    patients = run("patients", "list", "--search", "zof", "--format", "json").json()
    assert isinstance(patients, list) and len(patients) == 1
    assert set(patients[0]) == set(PATIENT_KEYS)
    services = run("services", "list", "--format", "json").json()
    assert isinstance(services, list) and set(services[0]) == set(SERVICE_KEYS)
    assert services[0]["price"] == "180"
    added = run(
        "events", "add", "--title", "Session", "--start", "2025-03-12T10:00",
        "--patient", "zofia testowa", "--service", "Therapy", "--format", "json",
    )  # fmt: skip
    assert added.code == 0, added.err
    record = added.json()
    assert isinstance(record, dict)
    assert record["patient"] == "Zofia Testowa"
    assert record["service"] == "Therapy"
    assert record["end"] == "2025-03-12T10:50:00+01:00"
    assert (
        "Zofia Testowa" in run("events", "list", "--from", "2025-03-12", "--to", "2025-03-12").out
    )


def test_import_twice_is_idempotent(run: Run, sample_ics: Path) -> None:
    first = run("import", str(sample_ics))
    assert first.code == 0, first.err
    assert "2 added, 0 updated, 0 unchanged" in first.out
    second = run("import", str(sample_ics))
    assert "0 added, 0 updated, 2 unchanged" in second.out
    items = run("events", "list", "--from", "2025-03-10", "--to", "2025-04-30", "--format", "json")
    assert len(items.json()) == 5  # type: ignore[arg-type]


def test_export_then_import_elsewhere_round_trips(
    run: Run, sample_ics: Path, tmp_path: Path, data_dir: Path
) -> None:
    assert run("import", str(sample_ics)).code == 0
    assert run("events", "add", "--title", "Local", "--start", "2025-03-12T08:00",
               "--duration", "30").code == 0  # fmt: skip
    out_file = tmp_path / "out.ics"
    exported = run("export", "-o", str(out_file))
    assert exported.code == 0, exported.err
    assert "Wrote 3 events" in exported.out
    assert "X-TESTS-KEEP:keep me" in out_file.read_text(encoding="utf-8")
    other = tmp_path / "other-data"
    assert run("import", str(out_file), data_dir=other).code == 0

    def listing(where: Path) -> list[tuple[str, str, str]]:
        items = run("events", "list", "--from", "2025-03-01", "--to", "2025-04-30",
                    "--format", "json", data_dir=where).json()  # fmt: skip
        assert isinstance(items, list)
        return sorted((i["uid"], i["start"], i["title"]) for i in items)

    assert listing(other) == listing(data_dir)
    assert len(listing(other)) == 6


def test_export_one_calendar_and_range(run: Run, sample_ics: Path, tmp_path: Path) -> None:
    assert run("import", str(sample_ics)).code == 0
    out_file = tmp_path / "range.ics"
    result = run("export", "--calendar", "my practice", "--from", "2025-03-10", "--to",
                 "2025-03-10", "-o", str(out_file))  # fmt: skip
    assert result.code == 0, result.err
    text = out_file.read_text(encoding="utf-8")
    assert "single-1@tests.example" in text and "weekly-1@tests.example" not in text


def test_free_slots_respect_working_hours_breaks_and_appointments(run: Run, data_dir: Path) -> None:
    assert run("services", "add", "--name", "Therapy", "--duration", "50").code == 0
    with open_session(data_dir, actor="user") as session:
        monday = 0
        session.repo.set_working_hours(
            [WorkingHours(id=new_id(), weekday=monday, start=time(9), end=time(13))], actor="user"
        )
        session.repo.set_breaks(
            [Break(id=new_id(), start=time(11), end=time(11, 30), weekday=monday)], actor="user"
        )
    assert run("events", "add", "--title", "Busy", "--start", "2025-03-10T10:00",
               "--duration", "30").code == 0  # fmt: skip
    result = run("free", "--date", "2025-03-10", "--service", "therapy", "--format", "json")
    assert result.code == 0, result.err
    slots = result.json()
    assert isinstance(slots, list) and slots
    for slot in slots:
        start = datetime.fromisoformat(slot["start"])
        end = datetime.fromisoformat(slot["end"])
        assert start.date() == date(2025, 3, 10)
        assert time(9) <= start.time() and end.time() <= time(13)
        assert end.time() <= time(10) or start.time() >= time(10, 30)  # the appointment
        assert end.time() <= time(11) or start.time() >= time(11, 30)  # the break
    assert slots[0]["start"] == "2025-03-10T09:00:00+01:00"
    sunday = run("free", "--date", "2025-03-09", "--service", "Therapy")
    assert sunday.code == 0 and "No free slot" in sunday.out


def test_audit_csv_verify_and_tampering(run: Run, data_dir: Path) -> None:
    assert run("patients", "add", "--first", "Ala").code == 0
    csv_out = run("audit", "--format", "csv")
    assert csv_out.code == 0
    assert csv_out.out.splitlines()[0].startswith("id,at,actor,action,entity_kind")
    assert ",cli,create,patient," in csv_out.out or ",cli," in csv_out.out
    assert len(run("audit", "--limit", "1", "--format", "json").json()) == 1  # type: ignore[arg-type]
    ok = run("audit", "verify")
    assert ok.code == 0 and "OK" in ok.out
    with sqlite3.connect(data_dir / "carecal.db") as con:
        # Someone with the file in hand: drop the append-only guards, then rewrite history.
        triggers = con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        ).fetchall()
        for (name,) in triggers:
            con.execute(f'DROP TRIGGER "{name}"')
        con.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = 1")
    broken = run("audit", "verify")
    _one_line_error(broken, 1)
    assert "BROKEN" in broken.err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["events", "list", "--from", "2025-02-30"], 2),
        (["events", "list", "--from", "2025-03-10", "--to", "2025-03-01"], 1),
        (["events", "list", "--calendar", "No such calendar"], 1),
        (
            [
                "events",
                "add",
                "--title",
                "x",
                "--start",
                "2025-03-10T10:00",
                "--end",
                "2025-03-10T09:00",
            ],
            1,
        ),
        (
            [
                "events",
                "add",
                "--title",
                "x",
                "--start",
                "2025-03-10T10:00",
                "--duration",
                "30",
                "--rrule",
                "FREQ=SOMETIMES",
            ],
            1,
        ),
        (["events", "add", "--title", "x", "--start", "2025-03-10", "--duration", "30"], 1),
        (["events", "add", "--title", "x", "--start", "2025-03-10T10:00"], 2),
        (
            [
                "events",
                "add",
                "--title",
                "x",
                "--start",
                "2025-03-10T10:00",
                "--duration",
                "30",
                "--patient",
                "Nobody Known",
            ],
            1,
        ),
        (["events", "update", "0" * 32, "--title", "x"], 1),
        (["events", "delete", "0" * 32], 1),
        (["import", "/nonexistent/file.ics"], 1),
        (["free", "--date", "2025-03-10", "--service", "Nope"], 1),
        (["audit", "--limit", "0"], 2),
    ],
)
def test_bad_input_gives_one_line(run: Run, argv: list[str], code: int) -> None:
    _one_line_error(run(*argv), code)


def test_malformed_ics_fails_cleanly(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "broken.ics"
    bad.write_bytes(b"this is not a calendar\x00\xff")
    result = run("import", str(bad))
    _one_line_error(result, 1)
    assert "broken.ics" in result.err
    assert run("events", "list", "--from", "2025-01-01", "--to", "2025-12-31",
               "--format", "json").json() == []  # fmt: skip


def test_internal_error_is_one_line_and_logged(
    run: Run, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(cmd_events, "list_events", explode)
    result = run("events", "list")
    _one_line_error(result, 1)
    assert result.err.startswith("carecal: internal error: RuntimeError: boom")
    log_text = (data_dir / "carecal.log").read_text(encoding="utf-8")
    assert "Traceback" in log_text and "boom" in log_text
