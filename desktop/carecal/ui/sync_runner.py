"""The sync lane: sync cycles on a dedicated worker thread with its own asyncio loop.

The GUI thread never waits on it. ``SyncRunner`` wraps ``sync.scheduler.SyncScheduler`` (a cycle
at start, a few seconds after each local edit, every N minutes, and on "Sync now"), and delivers
progress and each cycle's result on the GUI thread through queued Qt signals. The cycle itself is
``services.syncing.run_cycle``; it opens its own ``Repository`` on the shared ``Database``
(SQLite in WAL mode lets it write beside the database lane).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from PySide6.QtCore import QObject, Signal

from carecal.domain.changes import Changes
from carecal.services.syncing import CycleResult, ProviderFactory, keyring_providers, run_cycle
from carecal.store.db import Database
from carecal.sync.engine import CancelToken
from carecal.sync.scheduler import SyncScheduler
from carecal.ui.events import AppEvents

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.05  # the GUI needs no more than ~20 progress updates a second
# With a Docplanner account, busy time added in Google, Outlook or iCloud must close its slots on
# Docplanner quickly, and those calendars cannot tell a desktop app about a change: poll them
# every minute (a quiet cycle is one small request per calendar).
DOCPLANNER_INTERVAL = 60.0


class SyncRunner(QObject):
    """Create, connect and drive on the GUI thread; cycles run on the worker thread.

    Signals (delivered on the GUI thread): ``started`` when a cycle begins, ``progress(stage,
    done, total)`` while it runs (throttled), ``finished(CycleResult)`` after it.
    """

    started = Signal()
    progress = Signal(str, int, int)
    finished = Signal(object)  # CycleResult

    def __init__(
        self,
        db: Database,
        providers: ProviderFactory = keyring_providers,
        *,
        interval: float = 300.0,
        debounce: float = 3.0,
    ) -> None:
        super().__init__()
        self._db = db
        self._providers = providers
        self._interval = interval
        self._scheduler = SyncScheduler(self._cycle, interval=interval, debounce=debounce)
        self._thread: threading.Thread | None = None
        self._token: CancelToken | None = None
        self._last_progress = 0.0
        self.busy = False  # GUI thread's view: between ``started`` and ``finished``
        self.last: CycleResult | None = None
        self.started.connect(self._on_started)
        self.finished.connect(self._on_finished)

    # --- GUI thread -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker (its first cycle runs at once). GUI thread; returns immediately."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._main, name="carecal-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel the running cycle between items and end the worker. GUI thread; waits at
        most ``timeout`` seconds for the current item to finish (at quit only)."""
        if self._thread is None:
            return
        self._scheduler.stop()
        self._thread.join(timeout)
        self._thread = None

    def attach(self, events: AppEvents) -> None:
        """Sync a few seconds after each local edit. GUI thread."""
        events.changes_applied.connect(lambda _changes: self.notify_edit())

    def notify_edit(self) -> None:
        """Any thread: schedule a debounced cycle."""
        self._scheduler.notify_edit()

    def sync_now(self) -> None:
        """Any thread: a cycle now, retrying items still waiting for their backoff."""
        self._scheduler.sync_now()

    def network_back(self) -> None:
        """Any thread: connectivity returned."""
        self._scheduler.network_back()

    def cancel(self) -> None:
        """Any thread: stop the running cycle between items (what is stored stays)."""
        token = self._token
        if token is not None:
            token.cancel()

    def _on_started(self) -> None:
        self.busy = True

    def _on_finished(self, result: CycleResult) -> None:
        self.busy = False
        self.last = result

    # --- worker thread --------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._scheduler.run())
        except Exception:  # never take the process down from the worker
            log.exception("the sync worker stopped")

    def _report_progress(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_progress < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress = now
        self.progress.emit(stage, done, total)

    async def _cycle(self, token: CancelToken, force: bool) -> CycleResult:
        """One pass over every remote account (services.syncing.run_cycle) between ``started``
        and ``finished``. Sync worker thread; raises nothing."""
        self._token = token
        self.started.emit()
        try:
            result = await run_cycle(self._db, self._providers, token, force, self._report_progress)
        finally:
            self._token = None
            self._db.close()  # this thread's connection; the next cycle opens it again
        fast = min(self._interval, DOCPLANNER_INTERVAL)
        self._scheduler.set_interval(fast if result.docplanner else self._interval)
        self.finished.emit(result)
        return result


def refresh_after(result: CycleResult, events: AppEvents) -> None:
    """Redraw the views after a cycle that changed local data. GUI thread.

    Uses ``refresh_needed`` (not ``changes_applied``): a change that came from the server must
    not schedule another sync as a local edit would.
    """
    if result.changed:
        events.refresh_needed.emit(Changes(calendars=True))
