"""Application-wide Qt signals, so views refresh only what a mutation changed."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from carecal.domain.changes import Changes


class AppEvents(QObject):
    """Signals shared by the windows of one session; create and use on the GUI thread.

    ``changes_applied`` fires at once after each mutation; ``refresh_needed`` fires once per burst
    of changes (debounced by a single-shot timer) with the combined record.
    """

    changes_applied = Signal(object)  # Changes
    refresh_needed = Signal(object)  # Changes, debounced
    error = Signal(str)  # a user-facing sentence
    status_message = Signal(str)

    def __init__(self, debounce_ms: int = 30) -> None:
        super().__init__()
        self._pending = Changes()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._fire)
        self.changes_applied.connect(self._collect)

    def _collect(self, changes: Changes) -> None:
        self._pending = self._pending | changes
        self._timer.start()

    def flush(self) -> None:
        """Deliver pending changes now (tests, and before closing)."""
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def _fire(self) -> None:
        pending, self._pending = self._pending, Changes()
        if not pending.empty:
            self.refresh_needed.emit(pending)
