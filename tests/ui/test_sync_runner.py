"""The sync lane: cycles on a worker thread with its own loop, progress, cancel, the indicator."""

from __future__ import annotations

import gc
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QTimer

from carecal.domain.errors import AuthExpired, TransientError
from carecal.domain.models import Account, Event, ProviderKind, new_id
from carecal.services.syncing import CycleResult
from carecal.ui.context import UiContext
from carecal.ui.sync_runner import DOCPLANNER_INTERVAL, SyncRunner
from carecal.ui.sync_status import describe
from tests.services.sync_helpers import REMOTE, fill, make_remote

TZ_NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)


def _runner(ctx: UiContext, provider: object, **kw: float) -> SyncRunner:
    return SyncRunner(ctx.session.db, lambda _account: provider, interval=3600, **kw)  # type: ignore[arg-type,return-value]


def test_long_sync_runs_off_the_gui_thread_and_the_ui_keeps_ticking(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    remote = make_remote(ctx.session.repo)
    fill(remote, 20_000)  # the size for a first sync that must not freeze the window
    runner = _runner(ctx, remote.provider)
    # As the app does after start-up (ui/application.py): what already exists is out of the
    # collector's reach. Without it, a full collection over this test process's heap (over a
    # thousand tests' worth) holds the GIL for 0.3-0.45 s, a pause the app never has.
    gc.collect()
    gc.freeze()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    progress: list[tuple[str, int, int]] = []
    threads: set[str] = set()
    runner.progress.connect(
        lambda s, d, t: (progress.append((s, d, t)), threads.add(threading.current_thread().name))
    )
    timer.start()
    started = time.monotonic()
    runner.start()
    try:
        with qtbot.waitSignal(runner.finished, timeout=60_000) as blocker:
            pass
    finally:
        runner.stop()
        timer.stop()
        gc.unfreeze()
    elapsed = time.monotonic() - started
    result: CycleResult = blocker.args[0]
    assert result.ok and result.changed
    assert result.reports[0].calendars[0].pulled == 20_000
    assert len(ctx.session.repo.find_by_uid(remote.calendar.id, "item-19999@test")) == 1
    # Progress arrived on the GUI thread, throttled (not one signal per item).
    assert threads == {threading.main_thread().name}
    assert progress and len(progress) < 1000
    # The GUI thread kept serving its timer all along: no gap longer than a fraction of a second.
    assert elapsed > 0.5
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > elapsed / 0.1
    assert max(gaps) < 0.3, f"the GUI froze for {max(gaps):.2f} s"


def test_an_edit_is_sent_a_debounced_moment_later(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    remote = make_remote(ctx.session.repo)
    runner = _runner(ctx, remote.provider, debounce=0.05)
    runner.attach(ctx.events)
    runner.start()
    try:
        qtbot.waitUntil(lambda: runner.last is not None, timeout=10_000)
        event = Event(
            id=new_id(),
            calendar_id=remote.calendar.id,
            uid=f"{new_id()}@carecal",
            title="Physio: Jan Nowak",
            start=TZ_NOW + timedelta(hours=3),
            end=TZ_NOW + timedelta(hours=4),
        )
        changes = ctx.session.events.create(event)
        ctx.events.changes_applied.emit(changes)
        qtbot.waitUntil(lambda: len(remote.provider.items(REMOTE.remote_id)) == 1, timeout=10_000)
        qtbot.waitUntil(lambda: not runner.busy and runner.last is not None, timeout=10_000)
    finally:
        runner.stop()
    item = next(iter(remote.provider.items(REMOTE.remote_id).values()))
    assert "Physio: Jan Nowak" in item.raw


def test_a_network_failure_shows_offline_and_keeps_the_change(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    remote = make_remote(ctx.session.repo)
    remote.provider.fail_next = [TransientError("the server did not answer")]
    runner = _runner(ctx, remote.provider)
    runner.start()
    try:
        with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
            pass
    finally:
        runner.stop()
    result: CycleResult = blocker.args[0]
    assert result.offline and not result.ok
    assert result.status is not None and result.status.offline
    text = describe(result.status, TZ_NOW.tzinfo, TZ_NOW)  # type: ignore[arg-type]
    assert text.startswith("Offline")


def test_expired_credentials_show_needs_sign_in(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    remote = make_remote(ctx.session.repo)
    remote.provider.fail_next = [AuthExpired("401 Unauthorized")]
    runner = _runner(ctx, remote.provider)
    runner.start()
    try:
        with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
            pass
    finally:
        runner.stop()
    status = blocker.args[0].status
    assert status.needs_sign_in == ("Clinic server",)
    assert describe(status, TZ_NOW.tzinfo, TZ_NOW).startswith("Needs sign-in")  # type: ignore[arg-type]


def test_cancel_stops_between_items_and_keeps_what_was_stored(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    remote = make_remote(ctx.session.repo)
    fill(remote, 2000)
    runner = _runner(ctx, remote.provider)
    runner.progress.connect(
        lambda stage, done, total: runner.cancel() if stage == "pull" and done > 0 else None
    )
    runner.start()
    try:
        with qtbot.waitSignal(runner.finished, timeout=60_000) as blocker:
            pass
    finally:
        runner.stop()
    result: CycleResult = blocker.args[0]
    assert result.cancelled
    stored = sum(
        1 for i in range(2000) if ctx.session.repo.find_by_uid(remote.calendar.id, f"item-{i}@test")
    )
    assert stored < 2000


def test_window_has_sync_now_and_an_indicator(window) -> None:  # type: ignore[no-untyped-def]
    shortcuts = {a.shortcut().toString(): a.text() for a in window.actions()}
    assert shortcuts.get("F5") == "S&ync now"
    assert window.sync.indicator.button.text() == "Not syncing (this computer only)"
    remote = make_remote(window.ctx.session.repo)
    assert remote.account.name == "Clinic server"
    window.sync.refresh()
    assert window.sync.indicator.button.text() == "Not synced yet"


def test_with_a_docplanner_account_the_calendars_are_polled_every_minute(ctx, qtbot) -> None:  # type: ignore[no-untyped-def]
    remote = make_remote(ctx.session.repo)
    runner = _runner(ctx, remote.provider)
    runner.start()
    try:
        with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
            pass
        assert not blocker.args[0].docplanner
        assert runner._scheduler._interval == 3600  # only calendar accounts: as configured
        account = Account(new_id(), ProviderKind.DOCPLANNER, "Docplanner (pl)", {"domain": "pl"})
        ctx.session.repo.add_account(account, actor="test")
        with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
            runner.sync_now()
    finally:
        runner.stop()
    assert blocker.args[0].docplanner
    assert runner._scheduler._interval == DOCPLANNER_INTERVAL == 60
