"""Background lanes: the single database worker thread, and an inline runner for tests.

Every query and write goes through a ``TaskRunner``. ``DbWorker`` runs them one after another on
one thread (peewee keeps one connection per thread; SQLite in WAL mode lets that writer and the
GUI's rare reads coexist) and delivers results on the GUI thread through a queued Qt signal.
``InlineRunner`` runs the job at once on the caller's thread, so UI tests stay synchronous.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")
OnDone = Callable[[Any], None]
OnError = Callable[[Exception], None]


class TaskRunner(Protocol):
    """Runs ``job`` off the GUI thread (or inline) and calls back on the GUI thread."""

    def submit(
        self,
        job: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
    ) -> None: ...

    def shutdown(self) -> None: ...


def _report(err: Exception, on_error: OnError | None) -> None:
    if on_error is None:
        log.error("background job failed: %s", type(err).__name__)
    else:
        on_error(err)


class InlineRunner:
    """Runs each job immediately on the caller's (GUI) thread. For tests and tiny jobs."""

    def submit(
        self,
        job: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Runs on the GUI thread; job errors go to ``on_error`` (never raised here)."""
        try:
            result = job()
        except Exception as err:  # the callback decides how to show it
            _report(err, on_error)
            return
        if on_done is not None:
            on_done(result)

    def shutdown(self) -> None:
        """Nothing to stop."""


@dataclass(slots=True)
class _Outcome:
    result: object
    error: Exception | None
    on_done: OnDone | None
    on_error: OnError | None


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the worker arrive here queued."""

    finished = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._deliver)

    def _deliver(self, outcome: _Outcome) -> None:
        if outcome.error is not None:
            _report(outcome.error, outcome.on_error)
        elif outcome.on_done is not None:
            outcome.on_done(outcome.result)


class DbWorker:
    """One worker thread that runs database jobs in order; create and use it on the GUI thread."""

    def __init__(self, name: str = "carecal-db") -> None:
        self._jobs: queue.Queue[tuple[Callable[[], object], OnDone | None, OnError | None] | None]
        self._jobs = queue.Queue()
        self._relay = _Relay()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(
        self,
        job: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: OnError | None = None,
    ) -> None:
        """Queue ``job``; called on the GUI thread, callbacks run later on the GUI thread."""
        self._jobs.put((job, on_done, on_error))

    def shutdown(self) -> None:
        """Finish queued jobs (writes must land) and stop the thread. GUI thread; blocks briefly."""
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, on_done, on_error = item
            try:
                outcome = _Outcome(job(), None, on_done, on_error)
            except Exception as err:
                outcome = _Outcome(None, err, on_done, on_error)
            self._relay.finished.emit(outcome)
