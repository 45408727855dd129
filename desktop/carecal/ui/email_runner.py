"""Running patient e-mail reminder passes from the app: every five minutes, off the GUI thread.

The passes run on their own worker thread (an SMTP session can take seconds; the database lane
must not wait for it) with their own connection to the database. A pass that sent or failed
something says so in the status bar. GUI thread for everything here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from carecal.services.email_reminders import EmailReminderService, PassResult
from carecal.store.repo import Repository
from carecal.ui.context import UiContext
from carecal.ui.tasks import DbWorker, TaskRunner

INTERVAL_MS = 5 * 60_000
FIRST_MS = 20_000


class EmailReminderRunner(QObject):
    """Runs ``EmailReminderService.run_pass`` on a timer (see the module docstring)."""

    def __init__(self, ctx: UiContext, lane: TaskRunner | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self._own_lane = lane is None
        self.lane: TaskRunner = lane or DbWorker("carecal-mail")
        self._service: EmailReminderService | None = None
        self._busy = False
        self.last: PassResult | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.run_now)

    def start(self) -> None:
        """First pass shortly after start-up, then every five minutes."""
        self.timer.start(FIRST_MS)

    def run_now(self) -> None:
        """Queue one pass unless one is running."""
        self.timer.setInterval(INTERVAL_MS)
        if self._busy:
            return
        self._busy = True
        session, now = self.ctx.session, self.ctx.clock()

        def job() -> PassResult:
            if self._service is None:
                self._service = EmailReminderService(Repository(session.db), session.db)
            return self._service.run_pass(now)

        self.lane.submit(job, self._done, self._failed)

    def _done(self, result: PassResult) -> None:
        self._busy = False
        self.last = result
        if result.sent or result.failed or result.unknown:
            self.ctx.events.status_message.emit(f"E-mail reminders: {result.summary()}")

    def _failed(self, err: Exception) -> None:
        self._busy = False
        self.ctx.events.status_message.emit(f"E-mail reminders: {err}")

    def stop(self) -> None:
        """Stop the timer and the worker (a running pass finishes first)."""
        self.timer.stop()
        if self._own_lane:
            self.lane.shutdown()
