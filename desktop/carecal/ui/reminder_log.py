"""The patient e-mail reminder log window (Tools > E-mail reminder log…).

Top: every queued reminder with its state (sent, failed, queued, unknown, ...), the visit, the
patient (first name and last initial), the attempts and the last error, filterable by state.
"Send again" queues a chosen ``unknown`` (interrupted mid-send: the server may have it) or
``failed`` row once more; that is the user's explicit choice, never automatic (see
``store.reminders``). Bottom: the newest log lines, as ``carecal reminders log`` prints them.
Reads and the requeue run on the database lane. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.errors import NotFound
from carecal.services.email_reminders import EmailReminderService
from carecal.store.reminders import LogLine, QueuedReminder, ReminderState
from carecal.ui.context import UiContext
from carecal.ui.operations import error_text

LOG_LINES = 200
RESENDABLE = (ReminderState.UNKNOWN, ReminderState.FAILED)
_LABELS = {
    ReminderState.PENDING: "Queued",
    ReminderState.SENDING: "Sending",
    ReminderState.SENT: "Sent",
    ReminderState.FAILED: "Failed",
    ReminderState.CANCELLED: "Cancelled",
    ReminderState.EXPIRED: "Too late",
    ReminderState.UNKNOWN: "Unknown",
}
_COLORS = {
    ReminderState.SENT: "#047857",
    ReminderState.FAILED: "#b91c1c",
    ReminderState.UNKNOWN: "#b45309",
    ReminderState.PENDING: "#1d4ed8",
}
FILTERS = (
    ("All", None),
    ("Sent", ReminderState.SENT),
    ("Failed", ReminderState.FAILED),
    ("Queued", ReminderState.PENDING),
    ("Unknown", ReminderState.UNKNOWN),
)


@dataclass(frozen=True, slots=True)
class LogData:
    rows: list[QueuedReminder]
    lines: list[LogLine]
    names: dict[str, str]


class ReminderLogWindow(QWidget):
    """The reminder queue and its log. ``ctx`` carries the session, the lanes and the clock."""

    def __init__(self, ctx: UiContext, on_error: Callable[[Exception], None]) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.ctx, self.on_error = ctx, on_error
        self.setObjectName("ReminderLog")
        self.setWindowTitle("E-mail reminder log — Carecal")
        self.resize(980, 640)
        self.zone = ctx.session.events.display_zone()
        self.data = LogData([], [], {})
        title = QLabel("Patient e-mail reminders")
        title.setObjectName("DialogTitle")
        self.filter = QComboBox()
        for text, state in FILTERS:
            self.filter.addItem(text, state)
        self.filter.currentIndexChanged.connect(lambda _: self._fill_queue())
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(QLabel("Show"))
        head.addWidget(self.filter)
        head.addWidget(refresh)
        self.queue = self._table(("State", "Visit", "Patient", "Attempts", "Last error"))
        self.queue.currentCellChanged.connect(lambda *_: self._sync_button())
        self.resend = QPushButton("Send again")
        self.resend.setObjectName("Primary")
        self.resend.setToolTip(
            "Queue this reminder once more. An 'unknown' one was cut off while sending: "
            "the patient may already have it."
        )
        self.resend.clicked.connect(self.send_again)
        self.note = QLabel()
        self.note.setObjectName("Hint")
        self.note.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.note, 1)
        actions.addWidget(self.resend)
        history = QLabel("History")
        history.setObjectName("FieldLabel")
        self.log = self._table(("When", "Outcome", "Visit", "Patient", "Detail"))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 16)
        lay.setSpacing(10)
        lay.addLayout(head)
        lay.addWidget(self.queue, 1)
        lay.addLayout(actions)
        lay.addWidget(history)
        lay.addWidget(self.log, 1)
        self.refresh()

    @staticmethod
    def _table(headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return table

    def _service(self) -> EmailReminderService:
        return EmailReminderService(self.ctx.session.repo, self.ctx.session.db)

    def refresh(self) -> None:
        """Load the queue, the log and the patients' short names on the database lane."""
        svc, repo = self._service(), self.ctx.session.repo

        def job() -> LogData:
            rows = svc.queue.all()
            lines = svc.queue.log(LOG_LINES)
            names: dict[str, str] = {}
            for pid in {r.patient_id for r in rows} | {ln.patient_id or "" for ln in lines}:
                if not pid:
                    continue
                try:
                    names[pid] = repo.get_patient(pid).short_name
                except NotFound:
                    names[pid] = "(removed)"
            return LogData(rows, lines, names)

        self.ctx.tasks.submit(job, self._show, self.on_error)

    def _when(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"

    def _show(self, data: LogData) -> None:
        self.data = data
        self._fill_queue()
        self.log.setRowCount(len(data.lines))
        for i, line in enumerate(data.lines):
            cells = (
                self._when(line.at),
                line.outcome,
                self._when(line.starts_at),
                data.names.get(line.patient_id or "", ""),
                line.detail,
            )
            for col, text in enumerate(cells):
                self.log.setItem(i, col, QTableWidgetItem(text))

    def visible_rows(self) -> list[QueuedReminder]:
        state = self.filter.currentData()
        rows = self.data.rows
        # Newest visits first: what the front desk asks about is usually today's.
        rows = sorted(rows, key=lambda r: r.starts_at, reverse=True)
        return [r for r in rows if not state or r.state == state]

    def _fill_queue(self) -> None:
        rows = self.visible_rows()
        self.queue.setRowCount(len(rows))
        for i, r in enumerate(rows):
            state = QTableWidgetItem(_LABELS.get(r.state, r.state.value))
            state.setData(Qt.ItemDataRole.UserRole, r.id)
            color = _COLORS.get(r.state)
            if color:
                state.setForeground(QColor(color))
            cells = (
                state,
                QTableWidgetItem(self._when(r.starts_at)),
                QTableWidgetItem(self.data.names.get(r.patient_id, "")),
                QTableWidgetItem(str(r.attempts)),
                QTableWidgetItem(r.last_error or ""),
            )
            for col, cell in enumerate(cells):
                self.queue.setItem(i, col, cell)
        counts = {s: sum(1 for r in self.data.rows if r.state is s) for s in ReminderState}
        self.note.setText(
            f"{counts[ReminderState.SENT]} sent · {counts[ReminderState.FAILED]} failed · "
            f"{counts[ReminderState.PENDING]} queued · {counts[ReminderState.UNKNOWN]} unknown"
            if self.data.rows
            else "No reminders yet. They are queued two days ahead when e-mail reminders are on."
        )
        self._sync_button()

    def selected(self) -> QueuedReminder | None:
        row = self.queue.currentRow()
        rows = self.visible_rows()
        return rows[row] if 0 <= row < len(rows) else None

    def _sync_button(self) -> None:
        chosen = self.selected()
        self.resend.setEnabled(chosen is not None and chosen.state in RESENDABLE)

    def send_again(self) -> None:
        """Queue the selected unknown/failed reminder again (the next pass sends it)."""
        chosen = self.selected()
        if chosen is None or chosen.state not in RESENDABLE:
            return
        svc, now = self._service(), self.ctx.clock()

        def done(ok: bool) -> None:
            self.ctx.events.status_message.emit(
                "Reminder queued again; it goes out with the next pass."
                if ok
                else "This reminder can no longer be sent again."
            )
            self.refresh()

        def failed(err: Exception) -> None:
            self.note.setText(error_text(err))

        self.ctx.tasks.submit(lambda: svc.queue.requeue(chosen.id, now), done, failed)
