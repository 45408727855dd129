"""``carecal docplanner mode ADDRESS slots|breaks`` and ``docplanner publish --dry-run`` in
breaks mode, through the CLI's entry function, against the Docplanner emulator."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from carecal.domain.models import Event, new_id
from carecal.services import docplanner_client as dpc
from carecal.services.docplanner_breaks import BREAK_DESCRIPTION
from carecal.services.session import open_session
from tests.cli.conftest import Run
from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_server import DocplannerEmulator


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator(clock=Clock(real=True)) as server:
        server.limits.configure(writes=1000)  # real time here: no waiting for the limiter
        monkeypatch.setenv(dpc.HOST_ENV, server.host_template)
        yield server


def carecal_breaks(emu: DocplannerEmulator) -> list[tuple[dt.datetime, dt.datetime]]:
    with emu.lock:
        return sorted(
            (b.since, b.till)
            for b in emu.state.breaks.values()
            if b.address_id == emu.ids.office and b.description == BREAK_DESCRIPTION
        )


def test_mode_switches_and_publish_shows_the_break_diff(
    run: Run, emu: DocplannerEmulator, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(emu.client_secret + "\n"))
    added = run(
        "accounts",
        "add",
        "docplanner",
        "--domain",
        "pl",
        "--client-id",
        emu.client_id,
        "--client-secret-stdin",
    )
    assert added.code == 0, added.err
    office = emu.ids.office
    mapped = run("docplanner", "map", "--address", office, "--calendar", "My practice")
    assert mapped.code == 0, mapped.err
    assert run("hours", "set", "--weekday", "all", "--from", "09:00", "--to", "17:00").code == 0
    assert run("docplanner", "publish", "--days", "3").code == 0
    before = run("docplanner", "map", "--format", "json").json()
    assert isinstance(before, list)
    assert {r["address"]["id"]: r["mode"] for r in before} == {
        office: "slots",
        emu.ids.online: None,
    }

    unknown = run("docplanner", "mode", "424242", "breaks")
    assert unknown.code == 1 and "424242 is not mapped" in unknown.err
    switched = run("docplanner", "mode", office, "breaks")
    assert switched.code == 0, switched.err
    assert "working hours stay in Docplanner" in switched.out
    assert "days of slots Carecal sent" in switched.out
    assert "MODE" in run("docplanner", "map").out and " breaks " in run("docplanner", "map").out

    zone = emu.state.zone
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).astimezone(zone).date()
    start = dt.datetime.combine(tomorrow, dt.time(10), tzinfo=zone)
    with open_session(data_dir, actor="test") as session:
        calendar = session.repo.find_calendar("My practice")
        session.events.create(
            Event(new_id(), calendar.id, "", "Supervision", start, start + dt.timedelta(hours=1))
        )
    dry = run("docplanner", "publish", "--dry-run")
    assert dry.code == 0, dry.err
    assert f"+ break {tomorrow.isoformat()} 10:00-11:00 (Gabinet" in dry.out
    assert f"- slots {tomorrow.isoformat()} (Gabinet" in dry.out
    assert "dry run: nothing was sent" in dry.out
    assert "Supervision" not in dry.out
    assert carecal_breaks(emu) == []
    sent = run("docplanner", "publish", "--format", "json").json()
    assert isinstance(sent, dict) and sent["errors"] == [] and sent["breaks_added"] == 1
    assert carecal_breaks(emu) == [(start, start + dt.timedelta(hours=1))]
    assert emu.free_starts_on(office, tomorrow.isoformat()) == []
    assert "up to date" in run("docplanner", "publish").out

    back = run("docplanner", "mode", office, "slots")
    assert back.code == 0 and "removes the 1 breaks Carecal added" in back.out
    undo = run("docplanner", "publish", "--days", "3", "--dry-run")
    assert f"- break {tomorrow.isoformat()} 10:00-11:00 (Gabinet" in undo.out
    assert run("docplanner", "publish", "--days", "3").code == 0
    assert carecal_breaks(emu) == []
    assert emu.free_starts_on(office, tomorrow.isoformat())  # slots again
