"""``carecal docplanner actions|retry|discard`` against the Docplanner emulator: an action
Docplanner refuses is parked and listed with its reason, a retry sends it again at once (and
parks it again when refused again), a discard keeps it for the record only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from carecal.services.session import open_session
from carecal.store.docplanner_actions import ActionStore
from tests.cli.conftest import Run
from tests.cli.test_docplanner_cli import add, emu
from tests.fakes.docplanner_server import DocplannerEmulator

__all__ = ["emu"]


def _booked(run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    """An account with the office mapped and published, and one patient booking synced in."""
    assert add(run, emu, monkeypatch, emu.client_secret).code == 0  # type: ignore[attr-defined]
    mapped = run(
        "docplanner", "map", "--address", emu.ids.office, "--calendar", "My practice",
        "--create-services",
    )  # fmt: skip
    assert mapped.code == 0, mapped.err
    assert run("hours", "set", "--weekday", "all", "--from", "09:00", "--to", "17:00").code == 0
    assert run("docplanner", "publish", "--days", "3").code == 0
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).astimezone(emu.state.zone)
    start = emu.free_starts_on(emu.ids.office, tomorrow.date().isoformat())[0]
    booked = emu.patient_books(emu.ids.office, start)
    assert booked is not None
    synced = run("sync")
    assert synced.code == 0, synced.err
    return str(booked["id"])


def test_a_refused_action_is_listed_retried_and_discarded(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    booking = _booked(run, emu, monkeypatch)
    assert "Nothing waiting or refused." in run("docplanner", "actions").out
    emu.doctor_confirms(booking)  # in the Docplanner panel, before Carecal heard of it
    refused = run("docplanner", "confirm", booking)
    assert refused.code == 1 and "already confirmed" in refused.err
    listed = run("docplanner", "actions", "--json").json()
    assert isinstance(listed, list)
    (row,) = listed
    seq = row["seq"]
    assert row["state"] == "parked" and row["kind"] == "confirm"
    assert "409" in row["error"] and row["what"].startswith("Confirm the booking of ")
    table = run("docplanner", "actions")
    assert f"{seq:>5}  REFUSED" in table.out and "The booking is already confirmed" in table.out
    confirms = lambda: len([p for m, p, _ in emu.log if m == "PUT" and p.endswith("/confirm")])  # noqa: E731
    assert confirms() == 1

    again = run("docplanner", "retry", str(seq))  # sent at once, refused once more
    assert again.code == 1 and "already confirmed" in again.err
    assert confirms() == 2
    assert run("docplanner", "actions", "--format", "json").json()[0]["state"] == "parked"  # type: ignore[index]

    dropped = run("docplanner", "discard", str(seq))
    assert dropped.code == 0 and f"Discarded action {seq}" in dropped.out
    assert "Nothing waiting or refused." in run("docplanner", "actions").out
    (kept,) = run("docplanner", "actions", "--all", "--json").json()  # type: ignore[misc]
    assert kept["state"] == "discarded" and "already confirmed" in kept["error"]
    assert kept["done"] is not None
    twice = run("docplanner", "discard", str(seq))
    assert twice.code == 1 and "only a refused (parked) one" in twice.err
    assert run("docplanner", "retry", str(seq)).code == 1
    assert run("docplanner", "retry", "9999").code == 1
    assert run("sync").code == 0
    assert confirms() == 2  # a discarded action never goes out


def test_a_retry_after_a_passing_refusal_goes_through_and_keeps_attempted(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    booking = _booked(run, emu, monkeypatch)
    emu.fail_next(1, 422, path_contains="/confirm", method="PUT")
    refused = run("docplanner", "confirm", booking)
    assert refused.code == 1 and "422" in refused.err
    (row,) = run("docplanner", "actions", "--json").json()  # type: ignore[misc]
    assert row["state"] == "parked" and not row["attempted"]
    done = run("docplanner", "retry", str(row["seq"]))
    assert done.code == 0, done.err
    assert "Done: confirm" in done.out
    answers = [s for m, p, s in emu.log if m == "PUT" and p.endswith("/confirm")]
    assert len(answers) == 2 and answers[-1] is not None and answers[-1] < 300, answers
    assert "Nothing waiting or refused." in run("docplanner", "actions").out
    (kept,) = run("docplanner", "actions", "--all", "--json").json()  # type: ignore[misc]
    assert kept["state"] == "done" and kept["error"] is None

    # A lost answer, then a refusal while checking: the retry keeps the "attempted" mark, so
    # it lists the day first, finds the first call went through and sends nothing again.
    emu.timeout_after_commit(path_contains="/presence/patient", method="POST")
    lost = run("docplanner", "presence", booking, "present")
    assert lost.code == 0 and "goes out at the next sync" in lost.out
    (waiting,) = run("docplanner", "actions", "--json").json()  # type: ignore[misc]
    assert waiting["state"] == "pending" and waiting["attempted"]
    emu.fail_next(1, 403, path_contains="/bookings?", method="GET")
    assert run("docplanner", "cancel", booking, "--reason", "test").code == 0
    (parked,) = run("docplanner", "actions", "--json").json()  # type: ignore[misc]
    assert parked["seq"] == waiting["seq"] and parked["state"] == "parked"
    assert parked["attempted"] and "403" in parked["error"]
    presence = lambda: [p for m, p, _ in emu.log if m == "POST" and "/presence/" in p]  # noqa: E731
    assert len(presence()) == 1
    retried = run("docplanner", "retry", str(parked["seq"]))
    assert retried.code == 0, retried.err
    assert len(presence()) == 1  # found done by listing, never sent twice
    assert emu.booking(booking)["presence"] == "present"
    with open_session(data_dir, actor="test") as session:
        after = ActionStore(session.repo).get(parked["seq"])
        assert after is not None and after.attempted and after.state == "done"
