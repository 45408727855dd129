"""``carecal docplanner book|move|cancel|confirm|presence|conflicts`` through the CLI's entry
function against the Docplanner emulator: what each prints and what the emulator holds after;
offline (connection dropped, 503) the action is queued (exit 0) and the next ``carecal sync``
sends it; a refusal (409) is one readable line on stderr with exit 1."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from carecal.services import docplanner_client as dpc
from carecal.services.session import open_session
from carecal.store.docplanner_actions import ActionStore
from tests.cli.conftest import Result, Run
from tests.cli.test_docplanner_cli import add, emu
from tests.fakes.docplanner_server import DocplannerEmulator

__all__ = ["emu"]

PATIENT = {"name": "Ewa", "surname": "Zielińska", "phone": "+48600700800", "email": "ewa@ex.pl"}


@dataclass
class Desk:
    run: Run
    emu: DocplannerEmulator
    data_dir: Path
    day: str  # a local day two days ahead, with published slots

    @property
    def office(self) -> str:
        return self.emu.ids.office

    def free(self) -> list[dt.datetime]:
        return self.emu.free_starts_on(self.office, self.day)

    def local(self, when: dt.datetime) -> str:
        """A start as typed at the command line: local wall time without an offset."""
        return when.astimezone(self.emu.state.zone).strftime("%Y-%m-%dT%H:%M")

    def patient_books(self, index: int, **patient: str) -> str:
        booked = self.emu.patient_books(self.office, self.free()[index], patient=patient or PATIENT)
        assert booked is not None
        synced = self.run("sync")
        assert synced.code == 0, synced.err
        return str(booked["id"])

    def stored(self, booking_id: str) -> Any:
        return self.emu.state.bookings[booking_id]

    def actions(self) -> list[Any]:
        with open_session(self.data_dir, actor="test") as session:
            account = dpc.find_account(session.repo, None)
            return ActionStore(session.repo).actions(account.id)


@pytest.fixture
def desk(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> Desk:
    assert add(run, emu, monkeypatch, emu.client_secret).code == 0  # type: ignore[attr-defined]
    mapped = run(
        "docplanner",
        "map",
        "--address",
        emu.ids.office,
        "--calendar",
        "My practice",
        "--create-services",
    )
    assert mapped.code == 0, mapped.err
    assert run("hours", "set", "--weekday", "all", "--from", "09:00", "--to", "17:00").code == 0
    published = run("docplanner", "publish", "--days", "4")
    assert published.code == 0, published.err
    assert run("patients", "add", "--first", "Adam", "--last", "Nowak").code == 0
    soon = dt.datetime.now(dt.UTC).astimezone(emu.state.zone) + dt.timedelta(days=2)
    found = Desk(run, emu, data_dir, soon.date().isoformat())
    assert len(found.free()) >= 6
    return found


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.err and "Traceback" not in result.out


def _done_id(result: Result, kind: str) -> str:
    assert result.code == 0, result.err
    prefix = f"Done: {kind} (booking "
    assert result.out.startswith(prefix), result.out
    return result.out.strip().removeprefix(prefix).removesuffix(").")


def test_book_sends_the_booking_and_keeps_it_as_an_appointment(desk: Desk) -> None:
    start = desk.free()[2]
    booked = desk.run(
        "docplanner",
        "book",
        "--address",
        desk.office,
        "--at",
        desk.local(start),
        "--patient",
        "Adam Nowak",
        "--comment",
        "first visit",
    )
    booking_id = _done_id(booked, "book")
    held = desk.emu.booking(booking_id)
    assert held["status"] == "booked" and held["booked_by"] == "integration"
    assert dt.datetime.fromisoformat(held["start_at"]) == start
    assert held["patient"]["name"] == "Adam" and held["patient"]["surname"] == "Nowak"
    assert held["comment"] == "first visit"
    assert start not in desk.free()  # the slot is taken on the marketplace
    listed = desk.run("events", "list", "--from", desk.day, "--to", desk.day, "--format", "json")
    events = listed.json()
    assert isinstance(events, list) and len(events) == 1
    assert events[0]["start"].startswith(desk.local(start))
    assert [a.state for a in desk.actions()] == ["done"]


def test_confirm_presence_move_and_cancel(desk: Desk) -> None:
    booking_id = desk.patient_books(0)
    assert _done_id(desk.run("docplanner", "confirm", booking_id), "confirm") == booking_id
    assert desk.stored(booking_id).confirmed_by == "admin"
    absent = desk.run("docplanner", "presence", booking_id, "absent")
    assert _done_id(absent, "presence") == booking_id
    assert desk.emu.booking(booking_id)["presence"] == "absent"
    present = desk.run("docplanner", "presence", booking_id, "present")
    assert _done_id(present, "presence") == booking_id
    assert desk.emu.booking(booking_id)["presence"] == "present"
    target = desk.free()[3]
    moved = desk.run("docplanner", "move", booking_id, "--to", desk.local(target))
    new_id = _done_id(moved, "move")
    assert new_id != booking_id
    assert desk.emu.booking(booking_id)["status"] == "canceled"
    after = desk.emu.booking(new_id)
    assert after["status"] == "booked"
    assert dt.datetime.fromisoformat(after["start_at"]) == target
    cancelled = desk.run("docplanner", "cancel", new_id, "--reason", "doctor ill")
    assert _done_id(cancelled, "cancel") == new_id
    assert desk.emu.booking(new_id)["status"] == "canceled"
    assert desk.stored(new_id).cancel_reason == "doctor ill"
    listed = desk.run("events", "list", "--from", desk.day, "--to", desk.day, "--format", "json")
    events = listed.json()
    assert isinstance(events, list) and len(events) == 1  # one appointment across the move
    assert events[0]["status"] == "cancelled"
    assert [a.kind for a in desk.actions()] == ["confirm", "presence", "presence", "move", "cancel"]


def test_conflicts_lists_double_bookings_with_free_starts(desk: Desk) -> None:
    quiet = desk.run("docplanner", "conflicts")
    assert quiet.code == 0 and quiet.out.strip() == "No double bookings."
    start = desk.free()[1]
    made = desk.run(
        "events",
        "add",
        "--title",
        "Dentist",
        "--start",
        desk.local(start),
        "--duration",
        "30",
        "--calendar",
        "My practice",
    )
    assert made.code == 0, made.err
    # The patient books the same time before Carecal's next publish takes it off the market.
    booking_id = desk.patient_books(1)
    shown = desk.run("docplanner", "conflicts")
    assert shown.code == 0, shown.err
    (line,) = shown.out.strip().splitlines()
    assert f"double booking: Docplanner booking {booking_id} at {desk.local(start)[:10]}" in line
    assert "overlaps busy time; free: " in line
    assert f"carecal docplanner move {booking_id} --to DATETIME" in line
    assert "Zielińska" not in line and "Ewa" not in line
    data = desk.run("docplanner", "conflicts", "--format", "json").json()
    assert isinstance(data, list) and len(data) == 1
    (flag,) = data
    assert flag["booking"] == booking_id
    assert dt.datetime.fromisoformat(flag["start"]) == start
    assert flag["free"] and all(dt.datetime.fromisoformat(f) != start for f in flag["free"])
    # Moving to the first free start resolves it.
    target = dt.datetime.fromisoformat(flag["free"][0])
    _done_id(desk.run("docplanner", "move", booking_id, "--to", desk.local(target)), "move")
    assert desk.run("docplanner", "conflicts").out.strip() == "No double bookings."


def test_offline_actions_are_queued_and_the_next_sync_sends_them(desk: Desk) -> None:
    booking_id = desk.patient_books(0)
    desk.emu.drop_before_next(path_contains="/confirm")
    dropped = desk.run("docplanner", "confirm", booking_id)
    assert dropped.code == 0, dropped.err
    _no_traceback(dropped)
    assert dropped.out.startswith("Queued (action ")
    assert "it goes out at the next sync" in dropped.out
    assert desk.stored(booking_id).confirmed_by is None
    start = desk.free()[3]
    # Still down: the queue goes out in order, so the confirm waiting first fails again and
    # the booking waits behind it.
    desk.emu.fail_next(1, 503)
    faulted = desk.run(
        "docplanner",
        "book",
        "--address",
        desk.office,
        "--at",
        desk.local(start),
        "--patient",
        "Adam Nowak",
    )
    assert faulted.code == 0, faulted.err
    _no_traceback(faulted)
    assert faulted.out.startswith("Queued (action ") and "next sync" in faulted.out
    assert [a.state for a in desk.actions()] == ["pending", "pending"]
    assert start in desk.free()
    synced = desk.run("sync", "--format", "json")
    assert synced.code == 0, synced.err
    assert desk.stored(booking_id).confirmed_by == "admin"
    mine = [
        b
        for b in desk.emu.bookings_at(desk.office)
        if b["booked_by"] == "integration" and b["status"] == "booked"
    ]
    assert [dt.datetime.fromisoformat(b["start_at"]) for b in mine] == [start]
    assert [a.state for a in desk.actions()] == ["done", "done"]
    assert len([p for m, p, _ in desk.emu.log if m == "POST" and p.endswith("/book")]) == 1


def test_a_refusal_is_one_readable_line_and_exit_1(desk: Desk) -> None:
    booking_id = desk.patient_books(0)
    assert _done_id(desk.run("docplanner", "confirm", booking_id), "confirm") == booking_id
    twice = desk.run("docplanner", "confirm", booking_id)
    assert twice.code == 1
    _no_traceback(twice)
    assert twice.out == ""
    (line,) = twice.err.strip().splitlines()
    assert line.startswith("carecal: error: action ")
    assert "confirming the booking (409)" in line and "already confirmed" in line
    assert [a.state for a in desk.actions()] == ["done", "parked"]
    unknown = desk.run("docplanner", "cancel", "987654", "--reason", "x")
    assert unknown.code == 1
    _no_traceback(unknown)
    assert "no Docplanner booking 987654 is known here" in unknown.err
    desk.emu.patient_cancels(booking_id)
    assert desk.run("sync").code == 0
    late = desk.run("docplanner", "presence", booking_id, "present")
    assert late.code == 1
    _no_traceback(late)
    assert "marking presence (409)" in late.err
    assert "Ewa" not in late.err and "Zielińska" not in late.err
