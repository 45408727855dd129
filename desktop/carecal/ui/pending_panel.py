"""The Pending changes panel: every local change not yet on its server, with its error and
next attempt; Retry (now) and Discard (revert the appointment to the last version agreed with
the server).

The queries and the discard use case live in services.pending. Widgets: GUI thread; queries and
writes run on the database lane (``ctx.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.services.pending import PendingRow, discard_change, load_pending, retry_change
from carecal.ui.context import UiContext

_KIND = {"create": "New", "update": "Changed", "delete": "Deleted"}


def _when(iso: str | None, tz: ZoneInfo) -> str:
    if not iso:
        return "next sync"
    try:
        return f"{datetime.fromisoformat(iso).astimezone(tz):%-d %b %H:%M:%S}"
    except ValueError:
        return iso


class PendingPanel(QDialog):
    """The list of unsent changes. ``sync_now`` is called after Retry (None: no sync lane)."""

    COLUMNS = ("Calendar", "Change", "Appointment", "State", "Error", "Next attempt")

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        sync_now: Callable[[], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._sync_now = sync_now
        self._on_error = on_error
        self.rows: list[PendingRow] = []
        self.setWindowTitle("Pending changes")
        self.resize(920, 420)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        self.summary = QLabel()
        self.summary.setObjectName("PanelSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for col in range(len(self.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection)
        lay.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.retry_button = QPushButton("Retry now")
        self.retry_button.setToolTip("Send the selected change again at once")
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button = QPushButton("Discard change…")
        self.discard_button.setToolTip(
            "Undo the local change: the appointment goes back to the server's version"
        )
        self.discard_button.clicked.connect(self.discard_selected)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setEnabled(sync_now is not None)
        self.sync_button.clicked.connect(self._sync)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        for b in (self.retry_button, self.discard_button, self.sync_button, close):
            b.setAutoDefault(False)  # a default button is restyled and its label clipped
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sync_button)
        buttons.addWidget(close)
        lay.addLayout(buttons)
        self.confirm: Callable[[str], bool] = self._ask
        self.reload()

    # --- data ----------------------------------------------------------------------------

    def reload(self) -> None:
        repo = self.ctx.session.repo
        self.ctx.tasks.submit(lambda: load_pending(repo), self._show, self._fail)

    def _fail(self, err: Exception) -> None:
        if self._on_error is not None:
            self._on_error(err)

    def _tz(self) -> ZoneInfo:
        return self.ctx.session.events.display_zone()

    def _show(self, rows: list[PendingRow]) -> None:
        self.rows = rows
        tz = self._tz()
        self.table.setRowCount(len(rows))
        refused = sum(1 for r in rows if r.state == "refused")
        if not rows:
            self.summary.setText("Nothing waiting: every change has reached its server.")
        else:
            text = f"{len(rows)} change{'s' if len(rows) != 1 else ''} not yet on the server."
            if refused:
                text += f" {refused} refused by the server: fix, retry or discard them."
            self.summary.setText(text + " Your changes are safe on this computer meanwhile.")
        states = {"waiting": "Waiting", "refused": "Refused", "conflict": "In conflict inbox"}
        for i, r in enumerate(rows):
            cells = (
                r.calendar,
                _KIND.get(r.kind, r.kind),
                r.title,
                states[r.state]
                + (
                    f" ({r.attempts} {'try' if r.attempts == 1 else 'tries'})" if r.attempts else ""
                ),
                r.error or "—",
                "waits for you" if r.state != "waiting" else _when(r.next_attempt_at, tz),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if r.state == "refused" and col in (3, 4):
                    item.setForeground(QColor("#b91c1c"))
                self.table.setItem(i, col, item)
        self.table.resizeRowsToContents()
        self._selection()

    def selected(self) -> PendingRow | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        return self.rows[rows.pop()]

    def _selection(self) -> None:
        row = self.selected()
        self.retry_button.setEnabled(row is not None and row.state != "conflict")
        self.discard_button.setEnabled(row is not None and row.state != "conflict")

    # --- actions -------------------------------------------------------------------------

    def _sync(self) -> None:
        if self._sync_now is not None:
            self._sync_now()

    def retry_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        repo = self.ctx.session.repo

        def done(_: object) -> None:
            self._sync()
            self.reload()

        self.ctx.tasks.submit(lambda: retry_change(repo, row.seq), done, self._fail)

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Discard change",
            text,
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    def discard_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        text = (
            f"Discard every unsent change to “{row.title}”? It goes back to the version on the "
            "server"
            + (" (it was never sent, so it is removed here)." if row.kind == "create" else ".")
            + " This cannot be undone."
        )
        if not self.confirm(text):
            return
        repo, actor, events = self.ctx.session.repo, self.ctx.actor, self.ctx.events

        def done(changes: Changes) -> None:
            events.refresh_needed.emit(changes | Changes(calendars=True))
            self.reload()

        self.ctx.tasks.submit(
            lambda: discard_change(repo, row.calendar_id, row.uid, actor=actor), done, self._fail
        )


__all__ = ["PendingPanel"]
