"""The conflict inbox: appointments changed here and on the server in ways that overlap.

Both versions side by side with the differing fields highlighted (fields both sides changed in
red, fields only one side changed in yellow); Keep mine, Take theirs, Keep both, Edit merged (a
form prefilled with the merge of what does not overlap). Every resolution goes through
``sync.conflicts.resolve`` (one audited transaction); the next sync sends it.

Widgets: GUI thread; loading and resolving run on the database lane (``ctx.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.merge import merge_item
from carecal.domain.models import Event
from carecal.store.repo import Repository
from carecal.sync.conflicts import ConflictRecord, Take, list_conflicts, resolve
from carecal.ui.context import UiContext

SHOWN_FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "Title"),
    ("start", "Starts"),
    ("end", "Ends"),
    ("all_day", "All day"),
    ("location", "Location"),
    ("description", "Notes"),
    ("status", "Status"),
    ("patient_id", "Patient"),
    ("service_id", "Service"),
    ("mode", "Visit"),
    ("video_url", "Video link"),
    ("price", "Price"),
    ("rrule", "Repeats"),
    ("exdates", "Skipped dates"),
    ("reminder_minutes", "Reminder"),
)
BOTH_CHANGED = QColor("#fde2e2")
ONE_CHANGED = QColor("#fef3c7")
_KIND = {
    "edit": "Changed here and on the server",
    "remote_deleted": "Changed here, deleted on the server",
    "local_deleted": "Deleted here, changed on the server",
}


@dataclass(frozen=True, slots=True)
class ConflictEntry:
    """One open conflict with what the inbox shows of it (built on the database lane)."""

    record: ConflictRecord
    calendar: str
    title: str
    names: Mapping[str, str]  # patient and service ids -> names


def load_conflicts(repo: Repository) -> list[ConflictEntry]:
    """Open conflicts, oldest first. The Repository's thread; disk I/O; raises StoreError."""
    calendars = {c.id: c.name for c in repo.list_calendars()}
    names: dict[str, str] = {s.id: s.name for s in repo.list_services()}
    out = []
    for record in list_conflicts(repo):
        for side in (record.local, record.remote, record.base):
            for ev in (side or {}).values():
                if ev.patient_id and ev.patient_id not in names:
                    try:
                        names[ev.patient_id] = repo.get_patient(ev.patient_id).full_name
                    except Exception:  # a dangling patient reference shows as its id
                        names[ev.patient_id] = ev.patient_id
        side = record.local or record.remote or record.base or {}
        title = next(iter(side.values())).title if side else record.uid
        out.append(ConflictEntry(record, calendars.get(record.calendar_id, ""), title, names))
    return out


def _text(value: object, tz: ZoneInfo, names: Mapping[str, str]) -> str:
    if value is None or value == "" or value == ():
        return "—"
    if isinstance(value, datetime):
        return f"{value.astimezone(tz):%a %-d %b %Y, %H:%M}"
    if isinstance(value, date):
        return f"{value:%a %-d %b %Y}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(_text(v, tz, names) for v in value)
    if isinstance(value, str) and value in names:
        return names[value]
    if hasattr(value, "value"):  # an enum: "in_person" reads "In person"
        return str(value.value).replace("_", " ").capitalize()
    return str(value)


def merged_events(record: ConflictRecord) -> dict[str, Event]:
    """The item with every non-overlapping change of both sides taken; where both changed a
    field, this computer's value (the form shows the server's beside it). Any thread."""
    if record.local is None:
        return dict(record.remote or {})
    if record.remote is None:
        return dict(record.local)
    return dict(merge_item(record.base, record.local, record.remote).merged)


def _to_qdt(value: datetime, tz: ZoneInfo) -> QDateTime:
    local = value.astimezone(tz)
    return QDateTime(local.year, local.month, local.day, local.hour, local.minute, 0)


class MergedEditor(QDialog):
    """Edit the merged version's main fields (title, times, place, notes); a field both sides
    changed shows the server's value under it. GUI thread."""

    def __init__(self, record: ConflictRecord, tz: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit the merged version")
        self.record, self.tz = record, tz
        self.events = merged_events(record)
        key = "" if "" in self.events else next(iter(self.events))
        self.key = key
        event = self.events[key]
        remote = (record.remote or {}).get(key)
        form = QFormLayout(self)
        intro = QLabel(
            "Changes that do not overlap are already combined. Where both sides changed a "
            "field, your version is filled in and the server's is shown below it."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.title = QLineEdit(event.title)
        self.location = QLineEdit(event.location)
        self.notes = QPlainTextEdit(event.description)
        self.notes.setFixedHeight(80)
        self.start = QDateTimeEdit()
        self.end = QDateTimeEdit()
        timed = isinstance(event.start, datetime) and isinstance(event.end, datetime)
        for edit, value in ((self.start, event.start), (self.end, event.end)):
            edit.setDisplayFormat("ddd d MMM yyyy  HH:mm")
            edit.setCalendarPopup(True)
            if isinstance(value, datetime):
                edit.setDateTime(_to_qdt(value, tz))
            edit.setEnabled(timed)
        for name, label, widget in (
            ("title", "Title", self.title),
            ("start", "Starts", self.start),
            ("end", "Ends", self.end),
            ("location", "Location", self.location),
            ("description", "Notes", self.notes),
        ):
            form.addRow(label, widget)
            if name in record.fields and remote is not None:
                hint = QLabel(f"Server: {_text(getattr(remote, name), tz, {})}")
                hint.setObjectName("ServerValue")
                hint.setStyleSheet("color: #b91c1c;")
                hint.setWordWrap(True)
                form.addRow("", hint)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def result_events(self) -> list[Event]:
        """The merged item with the form's values (master first)."""
        event = self.events[self.key]
        changes: dict[str, object] = {
            "title": self.title.text().strip() or event.title,
            "location": self.location.text().strip(),
            "description": self.notes.toPlainText(),
        }
        if isinstance(event.start, datetime) and isinstance(event.end, datetime):
            qs, qe = self.start.dateTime(), self.end.dateTime()
            start = datetime(
                qs.date().year(), qs.date().month(), qs.date().day(),
                qs.time().hour(), qs.time().minute(), tzinfo=self.tz,
            )  # fmt: skip
            end = datetime(
                qe.date().year(), qe.date().month(), qe.date().day(),
                qe.time().hour(), qe.time().minute(), tzinfo=self.tz,
            )  # fmt: skip
            if start.astimezone(event.start.tzinfo) != event.start:
                changes["start"] = start.astimezone(event.start.tzinfo)
            if end.astimezone(event.end.tzinfo) != event.end:
                changes["end"] = end.astimezone(event.end.tzinfo)
        events = dict(self.events)
        events[self.key] = event.with_changes(**changes)
        return sorted(events.values(), key=lambda e: e.recurrence_id is not None)


class ConflictInbox(QDialog):
    """Open conflicts on the left, the selected one side by side on the right."""

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        after_resolve: Callable[[], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._after = after_resolve
        self._on_error = on_error
        self.entries: list[ConflictEntry] = []
        self.setWindowTitle("Conflicts")
        self.resize(1060, 560)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        split = QSplitter()
        self.list = QListWidget()
        self.list.setMinimumWidth(300)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._show_current)
        split.addWidget(self.list)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(8, 0, 0, 0)
        self.heading = QLabel()
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.heading.setFont(font)
        self.heading.setWordWrap(True)
        rl.addWidget(self.heading)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["", "On this computer (mine)", "On the server"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        rl.addWidget(self.table, 1)
        legend = QLabel(
            "<span style='background:#fde2e2'>&nbsp;changed on both sides&nbsp;</span>"
            "&nbsp;&nbsp;<span style='background:#fef3c7'>&nbsp;changed on one side (merged by "
            "itself)&nbsp;</span>"
        )
        rl.addWidget(legend)
        buttons = QHBoxLayout()
        self.mine = QPushButton("Keep mine")
        self.theirs = QPushButton("Take theirs")
        self.both = QPushButton("Keep both")
        self.merged = QPushButton("Edit merged…")
        self.mine.setToolTip("Send this computer's version to the server")
        self.theirs.setToolTip("Replace this computer's version with the server's")
        self.both.setToolTip("Keep the server's version and add yours as a separate appointment")
        self.merged.setToolTip("Combine both versions yourself")
        self.mine.clicked.connect(lambda: self.resolve_current(Take.MINE))
        self.theirs.clicked.connect(lambda: self.resolve_current(Take.THEIRS))
        self.both.clicked.connect(lambda: self.resolve_current(Take.BOTH))
        self.merged.clicked.connect(self.edit_merged)
        for b in (self.mine, self.theirs, self.both, self.merged):
            b.setAutoDefault(False)  # a default button is restyled and its label clipped
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        rl.addLayout(buttons)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        lay.addWidget(split, 1)
        self.make_editor: Callable[[ConflictRecord], MergedEditor] = lambda record: MergedEditor(
            record, self._tz(), self
        )
        self.reload()

    def _tz(self) -> ZoneInfo:
        return self.ctx.session.events.display_zone()

    def _fail(self, err: Exception) -> None:
        if self._on_error is not None:
            self._on_error(err)

    def reload(self) -> None:
        repo = self.ctx.session.repo
        self.ctx.tasks.submit(lambda: load_conflicts(repo), self._show, self._fail)

    def _show(self, entries: list[ConflictEntry]) -> None:
        self.entries = entries
        self.list.clear()
        for e in entries:
            item = QListWidgetItem(f"{e.title}\n{e.calendar}\n{_KIND.get(e.record.kind, '')}")
            self.list.addItem(item)
        if entries:
            self.summary.setText(
                f"{len(entries)} appointment{'s' if len(entries) != 1 else ''} changed here and "
                "on the server in ways Carecal cannot combine by itself. Both versions are kept "
                "until you choose."
            )
            self.list.setCurrentRow(0)
        else:
            self.summary.setText("No conflicts: every change has been combined.")
            self._show_current(-1)

    def current(self) -> ConflictEntry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _show_current(self, row: int) -> None:
        entry = self.entries[row] if 0 <= row < len(self.entries) else None
        for b in (self.mine, self.theirs, self.both, self.merged):
            b.setEnabled(entry is not None)
        self.table.setRowCount(0)
        if entry is None:
            self.heading.setText("")
            return
        record = entry.record
        self.heading.setText(f"{entry.title}  —  {_KIND.get(record.kind, record.kind)}")
        self.merged.setEnabled(record.local is not None and record.remote is not None)
        self._fill(record, entry.names)

    def _fill(self, record: ConflictRecord, names: Mapping[str, str]) -> None:
        tz = self._tz()
        local, remote, base = record.local or {}, record.remote or {}, record.base or {}
        keys = list(dict.fromkeys([*local, *remote]))
        rows: list[tuple[str, str, str, QColor | None]] = []
        for key in keys:
            mine, theirs, was = local.get(key), remote.get(key), base.get(key)
            prefix = "" if key == "" else f"{key[:10]}: "
            if mine is None or theirs is None:
                rows.append(
                    (
                        prefix + "Appointment",
                        "deleted" if mine is None else "kept",
                        "deleted" if theirs is None else "kept",
                        BOTH_CHANGED,
                    )
                )
                if key != "" and (mine is None) != (theirs is None):
                    continue
            for name, label in SHOWN_FIELDS:
                a = getattr(mine, name) if mine is not None else None
                b = getattr(theirs, name) if theirs is not None else None
                if a in (None, "", ()) and b in (None, "", ()):
                    continue
                color = None
                if mine is not None and theirs is not None and a != b:
                    old = getattr(was, name) if was is not None else None
                    both = was is None or (a != old and b != old)
                    color = BOTH_CHANGED if both else ONE_CHANGED
                rows.append(
                    (
                        prefix + label,
                        _text(a, tz, names) if mine is not None else "—",
                        _text(b, tz, names) if theirs is not None else "—",
                        color,
                    )
                )
        self.table.setRowCount(len(rows))
        for i, (label, a_text, b_text, color) in enumerate(rows):
            for col, text in enumerate((label, a_text, b_text)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col == 0:
                    item.setForeground(QColor("#6b7280"))
                elif color is not None:
                    item.setBackground(color)
                    item.setData(Qt.ItemDataRole.UserRole, "changed")
                self.table.setItem(i, col, item)
        self.table.resizeRowsToContents()

    def highlighted_rows(self) -> list[str]:
        """Labels of the rows shown as different (for tests and accessibility)."""
        out = []
        for i in range(self.table.rowCount()):
            cell = self.table.item(i, 1)
            label = self.table.item(i, 0)
            if cell is not None and label is not None and cell.data(Qt.ItemDataRole.UserRole):
                out.append(label.text())
        return out

    # --- resolving -------------------------------------------------------------------------

    def resolve_current(self, take: Take, merged: Sequence[Event] | None = None) -> None:
        entry = self.current()
        if entry is None:
            return
        repo, actor, cid = self.ctx.session.repo, self.ctx.actor, entry.record.id
        events = self.ctx.events

        def job() -> None:
            resolve(repo, cid, take, actor=actor, merged=merged)

        def done(_: None) -> None:
            from carecal.domain.changes import Changes

            # changes_applied: a resolution is a local edit to send, so the sync lane hears it.
            events.changes_applied.emit(Changes(calendars=True))
            if self._after is not None:
                self._after()
            self.reload()

        self.ctx.tasks.submit(job, done, self._fail)

    def edit_merged(self) -> None:
        entry = self.current()
        if entry is None or entry.record.local is None or entry.record.remote is None:
            return
        editor = self.make_editor(entry.record)
        if editor.exec() != QDialog.DialogCode.Accepted:
            return
        self.resolve_current(Take.MERGED, editor.result_events())
