"""A change of availability reaches Docplanner within seconds: new working hours saved in the
Settings dialog, and a local appointment for an address in breaks mode, each start a debounced
sync cycle (the sync lane listens to ``changes_applied``) that publishes the affected days.
Real sync worker, real settings dialog, the Docplanner emulator on a real clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from PySide6.QtCore import QTime
from PySide6.QtWidgets import QWidget

from carecal.domain.models import Account, Event, WorkingHours, new_id
from carecal.services import docplanner_client as dpc
from carecal.services.docplanner_breaks import BREAK_DESCRIPTION, set_publish_mode
from carecal.services.docplanner_mapping import find_node, list_tree, map_address
from carecal.ui.context import UiContext
from carecal.ui.settings_dialog import SettingsDialog, open_settings
from carecal.ui.sync_runner import SyncRunner
from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_server import DocplannerEmulator

SECONDS = 10.0  # what "within seconds" allows here, the 0.2 s debounce and a loaded machine


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator(clock=Clock(real=True)) as server:
        server.limits.configure(writes=1000)  # a first publish sends 12 weeks of days
        monkeypatch.setenv(dpc.HOST_ENV, server.host_template)
        yield server


def mapped_account(ctx: UiContext, emu: DocplannerEmulator) -> Account:
    repo = ctx.session.repo
    account, _ = dpc.add_account(
        repo, domain="pl", client_id=emu.client_id, client_secret=emu.client_secret, actor="t"
    )
    api = dpc.api_for(account)

    async def tree() -> list[object]:
        try:
            return list(await list_tree(api))
        finally:
            await api.close()

    node = find_node(asyncio.run(tree()), emu.ids.office)  # type: ignore[arg-type]
    map_address(repo, account, node, repo.ensure_local_calendar(), create_services=True, actor="t")
    every_day = [WorkingHours(new_id(), wd, clock_time(9), clock_time(17)) for wd in range(7)]
    repo.set_working_hours(every_day, actor="t")
    return account


def tomorrow(emu: DocplannerEmulator) -> str:
    return (datetime.now(UTC) + timedelta(days=1)).astimezone(emu.state.zone).date().isoformat()


@pytest.fixture
def runner(ctx: UiContext) -> Iterator[SyncRunner]:
    def no_calendar_server(account: object) -> object:
        raise AssertionError("only Docplanner is synced here")

    lane = SyncRunner(ctx.session.db, no_calendar_server, interval=3600, debounce=0.2)  # type: ignore[arg-type]
    lane.attach(ctx.events)
    yield lane
    lane.stop()


def first_cycle(qtbot, runner: SyncRunner) -> None:  # type: ignore[no-untyped-def]
    runner.start()
    qtbot.waitUntil(lambda: runner.last is not None, timeout=60_000)
    assert runner.last is not None and runner.last.ok, runner.last.errors if runner.last else None


def test_new_working_hours_in_settings_republish_within_seconds(ctx, qtbot, emu, runner) -> None:  # type: ignore[no-untyped-def]
    mapped_account(ctx, emu)
    first_cycle(qtbot, runner)
    day = tomorrow(emu)
    assert emu.free_starts_on(emu.ids.office, day)[0].hour == 9
    parent = QWidget()
    qtbot.addWidget(parent)
    errors: list[Exception] = []
    open_settings(ctx, parent, errors.append)
    dialog: SettingsDialog = parent.property("settingsDialog")
    for on, start, _end in dialog.day_rows:
        assert on.isChecked()
        start.setTime(QTime(12, 0))
    for wd, rows in enumerate(dialog.break_rows):
        for row in list(rows):
            dialog.remove_break(wd, row)
    saved = time.monotonic()
    with qtbot.waitSignal(ctx.events.changes_applied, timeout=5000):
        dialog._accept()
    assert errors == []

    def from_noon() -> bool:
        starts = emu.free_starts_on(emu.ids.office, day)
        return bool(starts) and starts[0].hour == 12

    qtbot.waitUntil(from_noon, timeout=int(SECONDS * 1000))
    assert time.monotonic() - saved < SECONDS


def test_a_local_appointment_becomes_a_break_within_seconds(ctx, qtbot, emu, runner) -> None:  # type: ignore[no-untyped-def]
    account = mapped_account(ctx, emu)
    set_publish_mode(ctx.session.repo, account, emu.ids.office, "breaks")
    first_cycle(qtbot, runner)
    zone = emu.state.zone
    start = datetime.fromisoformat(f"{tomorrow(emu)}T10:00:00").replace(tzinfo=zone)
    calendar = ctx.session.repo.ensure_local_calendar()
    event = Event(new_id(), calendar.id, "", "Supervision", start, start + timedelta(hours=1))
    changes = ctx.session.events.create(event)
    saved = time.monotonic()
    ctx.events.changes_applied.emit(changes)  # what every edit in the window does

    def blocked() -> bool:
        with emu.lock:
            return [
                (b.since, b.till)
                for b in emu.state.breaks.values()
                if b.description == BREAK_DESCRIPTION
            ] == [(start, start + timedelta(hours=1))]

    qtbot.waitUntil(blocked, timeout=int(SECONDS * 1000))
    assert time.monotonic() - saved < SECONDS
