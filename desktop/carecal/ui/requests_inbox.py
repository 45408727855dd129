"""The booking-requests inbox window, and the watcher of the requests folder.

The window lists open requests (or, with "Show history", booked and declined ones too). The
chosen request shows its details, a service choice (the one it names, when known), and free
slots: inside its preferred windows first, then the next ones. One click on a slot books it
(patient matched or created, appointment through EventService); "Decline" keeps it in the
history. "Import file…" imports a JSON/CSV file and shows each bad row with its line number.

``RequestFolderWatcher`` scans the folder named in the settings: on a timer, and soon after a
``QFileSystemWatcher`` reports a change. Scans run on the database lane; files still being
written are retried on a later scan (see ``services.requests``). GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.models import ServiceType
from carecal.services.docplanner_requests import DocplannerRequestBooking
from carecal.services.requests import Booked, ImportReport, RequestService, RequestSlots
from carecal.store.requests import BookingRequest, RequestState
from carecal.ui.context import UiContext
from carecal.ui.operations import error_text
from carecal.ui.slot_picker import SlotPicker, slot_line

SCAN_INTERVAL_MS = 30_000
WATCH_DELAY_MS = 1_500


def _windows_text(request: BookingRequest) -> str:
    parts = []
    for w in request.windows:
        day = datetime.fromisoformat(w.day)
        text = f"{day:%a} {day.day} {day:%b}"
        parts.append(f"{text}, {w.start}–{w.end}" if w.start else f"{text}, any time")
    return "; ".join(parts) or "No preferred time"


def report_lines(reports: list[ImportReport]) -> list[str]:
    """A report per file plus its bad rows, for the inbox's message area."""
    lines: list[str] = []
    for r in reports:
        lines.append(r.summary())
        lines.extend(f"    {e}" for e in r.errors)
    return lines


class RequestFolderWatcher(QObject):
    """Scans the requests folder on the database lane (timer + file system watcher)."""

    scanned = Signal(object)  # list[ImportReport] of a scan that found files

    def __init__(self, ctx: UiContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.folder: Path | None = None
        self.last: list[ImportReport] = []
        self._running = False
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(WATCH_DELAY_MS)
        self._soon.timeout.connect(self.scan)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _: self._soon.start())
        self.timer = QTimer(self)
        self.timer.setInterval(SCAN_INTERVAL_MS)
        self.timer.timeout.connect(self.scan)

    def start(self) -> None:
        """Scan now and then every ``SCAN_INTERVAL_MS``."""
        self.timer.start()
        self.scan()

    def stop(self) -> None:
        self.timer.stop()
        self._soon.stop()

    def scan(self) -> None:
        """One scan of the folder named in the settings (nothing when none is set)."""
        if self._running:
            return
        self._running = True
        repo = self.ctx.session.repo
        svc = RequestService(self.ctx.session.events, self.ctx.session.db, clock=self.ctx.clock)

        def job() -> tuple[Path | None, list[ImportReport]]:
            name = repo.settings().requests_folder.strip()
            folder = Path(name).expanduser() if name else None
            if folder is None or not folder.is_dir():
                return folder, []
            return folder, svc.scan_folder(folder)

        def done(result: tuple[Path | None, list[ImportReport]]) -> None:
            self._running = False
            folder, reports = result
            self._watch(folder)
            if reports:
                self.last = reports
                self.scanned.emit(reports)

        def failed(err: Exception) -> None:
            self._running = False
            self.ctx.events.status_message.emit(f"Requests folder: {error_text(err)}")

        self.ctx.tasks.submit(job, done, failed)

    def _watch(self, folder: Path | None) -> None:
        if folder == self.folder:
            return
        if self.watcher.directories():
            self.watcher.removePaths(self.watcher.directories())
        self.folder = folder
        if folder is not None and folder.is_dir():
            self.watcher.addPath(str(folder))


class RequestsWindow(QWidget):
    """The inbox. ``watcher`` (optional) feeds it the watched folder's scans."""

    changed = Signal()  # after an import, a booking or a decline

    def __init__(
        self,
        ctx: UiContext,
        on_error: Callable[[Exception], None],
        watcher: RequestFolderWatcher | None = None,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.ctx, self.on_error = ctx, on_error
        self.watcher = watcher
        self.setObjectName("Requests")
        self.setWindowTitle("Booking requests — Carecal")
        self.resize(1040, 660)
        self.zone = ctx.session.events.display_zone()
        self.requests: list[BookingRequest] = []
        self.services: list[ServiceType] = []
        self.current: BookingRequest | None = None

        self.history = QCheckBox("Show history")
        self.history.toggled.connect(lambda _: self.refresh())
        self.list = QListWidget()
        self.list.setObjectName("RequestList")
        self.list.setSpacing(2)
        self.list.currentRowChanged.connect(self._picked)
        import_button = QPushButton("Import file…")
        import_button.clicked.connect(self.import_dialog)
        self.folder_label = QLabel()
        self.folder_label.setObjectName("Hint")
        self.folder_label.setWordWrap(True)
        folder_button = QPushButton("Watched folder…")
        folder_button.clicked.connect(self.choose_folder)
        left = QVBoxLayout()
        left.addWidget(self.history)
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(import_button)
        row.addWidget(folder_button)
        left.addLayout(row)
        left.addWidget(self.folder_label)

        self.heading = QLabel("No request selected")
        self.heading.setObjectName("DialogTitle")
        self.state = QLabel()
        self.state.setObjectName("Hint")
        self.contact, self.wish, self.note, self.origin = QLabel(), QLabel(), QLabel(), QLabel()
        for label in (self.contact, self.wish, self.note, self.origin):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.service = QComboBox()
        self.service.currentIndexChanged.connect(lambda _: self._load_slots())
        form = QFormLayout()
        form.setVerticalSpacing(7)
        form.addRow("Contact", self.contact)
        form.addRow("Service", self.service)
        form.addRow("Wishes", self.wish)
        form.addRow("Note", self.note)
        form.addRow("From", self.origin)
        self.preferred_title = QLabel("In the preferred time")
        self.preferred_title.setObjectName("FieldLabel")
        self.preferred = SlotPicker(columns=5)
        self.preferred.picked.connect(self.book)
        self.others_title = QLabel("Next free times")
        self.others_title.setObjectName("FieldLabel")
        self.others = SlotPicker(columns=5)
        self.others.picked.connect(self.book)
        self.decline_button = QPushButton("Decline")
        self.decline_button.setObjectName("Danger")
        self.decline_button.clicked.connect(self.decline)
        self.message = QLabel()
        self.message.setObjectName("Hint")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.error, 1)
        actions.addWidget(self.decline_button)
        right = QVBoxLayout()
        right.setSpacing(10)
        right.addWidget(self.heading)
        right.addWidget(self.state)
        right.addLayout(form)
        right.addWidget(self.preferred_title)
        right.addWidget(self.preferred)
        right.addWidget(self.others_title)
        right.addWidget(self.others)
        right.addStretch(1)
        right.addLayout(actions)
        right.addWidget(self.message)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 16)
        lay.setSpacing(18)
        lay.addLayout(left, 2)
        lay.addLayout(right, 3)
        if watcher is not None:
            watcher.scanned.connect(self._scanned)
        self.refresh()

    def _service(self, docplanner: DocplannerRequestBooking | None = None) -> RequestService:
        return RequestService(
            self.ctx.session.events,
            self.ctx.session.db,
            clock=self.ctx.clock,
            external=[docplanner] if docplanner is not None else [],
        )

    # ---- the list ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the requests, the services and the folder setting on the database lane."""
        svc, repo, history = self._service(), self.ctx.session.repo, self.history.isChecked()
        keep = self.current.id if self.current is not None else None

        def job() -> tuple[list[BookingRequest], list[ServiceType], str]:
            return svc.inbox(history=history), repo.list_services(), repo.settings().requests_folder

        def done(result: tuple[list[BookingRequest], list[ServiceType], str]) -> None:
            self.requests, self.services, folder = result
            self.folder_label.setText(
                f"Watching {folder}" if folder else "No watched folder: requests come from files."
            )
            self.list.blockSignals(True)
            self.list.clear()
            for r in self.requests:
                mark = "" if r.state is RequestState.OPEN else f"  ·  {r.state.value}"
                item = QListWidgetItem(f"{r.name}{mark}\n{r.service} · {_windows_text(r)}")
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                if r.state is not RequestState.OPEN:
                    item.setForeground(Qt.GlobalColor.gray)
                self.list.addItem(item)
            self.list.blockSignals(False)
            if not self.requests:
                self.list.addItem(QListWidgetItem("No requests waiting."))
                self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
                self._show(None)
                return
            ids = [r.id for r in self.requests]
            self.list.setCurrentRow(ids.index(keep) if keep in ids else 0)
            self._picked(self.list.currentRow())

        self.ctx.tasks.submit(job, done, self.on_error)

    def _picked(self, row: int) -> None:
        self._show(self.requests[row] if 0 <= row < len(self.requests) else None)

    def _show(self, request: BookingRequest | None) -> None:
        self.current = request
        self.error.clear()
        is_open = request is not None and request.state is RequestState.OPEN
        self.decline_button.setEnabled(is_open)
        self.service.setEnabled(is_open)
        for w in (self.preferred_title, self.preferred, self.others_title, self.others):
            w.setVisible(is_open)
        if request is None:
            self.heading.setText("No request selected")
            self.state.clear()
            for label in (self.contact, self.wish, self.note, self.origin):
                label.clear()
            return
        self.heading.setText(request.name)
        received = request.received_at.astimezone(self.zone) if request.received_at else None
        state = f"Received {slot_line(received, self.zone)}" if received else ""
        if request.state is not RequestState.OPEN:
            state += f" · {request.state.value}"
        self.state.setText(state)
        self.contact.setText(" · ".join(p for p in (request.phone, request.email) if p))
        self.wish.setText(_windows_text(request))
        self.note.setText(request.note or "—")
        self.origin.setText(" · ".join(p for p in (request.source, request.origin) if p))
        self.service.blockSignals(True)
        self.service.clear()
        match = -1
        for i, s in enumerate(self.services):
            self.service.addItem(s.name, s.id)
            if s.name.casefold() == request.service.casefold():
                match = i
        if match < 0:
            self.service.insertItem(0, f"{request.service} (unknown: choose one)", None)
            match = 0
        self.service.setCurrentIndex(match)
        self.service.blockSignals(False)
        if is_open:
            self._load_slots()

    def _chosen_service(self) -> ServiceType | None:
        sid = self.service.currentData()
        return next((s for s in self.services if s.id == sid), None)

    def _load_slots(self) -> None:
        request, service = self.current, self._chosen_service()
        if request is None or request.state is not RequestState.OPEN:
            return
        if service is None:
            self.preferred.set_slots([], self.zone, "Choose a service to see free times.")
            self.others.set_slots([], self.zone, "")
            return
        svc = self._service()

        def done(found: RequestSlots) -> None:
            if self.current is None or self.current.id != request.id:
                return
            self.preferred.set_slots(
                found.preferred,
                self.zone,
                "Nothing free in the wished times." if request.windows else "No wished times.",
            )
            self.others.set_slots(found.others, self.zone, "No free time in the next six weeks.")

        self.ctx.tasks.submit(lambda: svc.slots(request, service), done, self._failed)

    # ---- deciding ---------------------------------------------------------------------------
    def book(self, start: datetime) -> None:
        """Book the current request at ``start`` with the chosen service."""
        request, service = self.current, self._chosen_service()
        if request is None or service is None:
            return
        # On a calendar mapped to Docplanner the booking is queued there too; the sync that
        # ``changes_applied`` schedules sends it.
        docplanner = DocplannerRequestBooking(self.ctx.session.repo, clock=self.ctx.clock)
        svc = self._service(docplanner)
        for picker in (self.preferred, self.others):
            picker.set_busy(True)

        def done(booked: Booked) -> None:
            self.ctx.events.changes_applied.emit(booked.changes)
            text = f"Booked {booked.patient.full_name} for {slot_line(start, self.zone)}."
            if docplanner.queued:
                text += " It goes to Docplanner at the next sync."
            if booked.external_error:
                text += f" Not booked on Docplanner: {booked.external_error}."
            self.message.setText(text)
            self.ctx.events.status_message.emit(text)
            self.current = None
            self.changed.emit()
            self.refresh()

        self.ctx.tasks.submit(lambda: svc.book(request.id, start, service), done, self._failed)

    def decline(self) -> None:
        """Decline the current request (it stays in the history)."""
        request = self.current
        if request is None:
            return
        svc = self._service()

        def done(_declined: BookingRequest) -> None:
            self.message.setText(f"Declined the request of {request.name}.")
            self.current = None
            self.changed.emit()
            self.refresh()

        self.ctx.tasks.submit(lambda: svc.decline(request.id), done, self._failed)

    def _failed(self, err: Exception) -> None:
        for picker in (self.preferred, self.others):
            picker.set_busy(False)
        self.error.setText(error_text(err))
        self._load_slots()

    # ---- importing --------------------------------------------------------------------------
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import booking requests", "", "Requests (*.json *.csv)"
        )
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path) -> None:
        """Import one file on the database lane and show its report."""
        svc = self._service()

        def done(report: ImportReport) -> None:
            self._scanned([report])

        def failed(err: Exception) -> None:
            self.message.setText(f"{path.name}: {error_text(err)}")

        self.ctx.tasks.submit(lambda: svc.import_file(path), done, failed)

    def _scanned(self, reports: list[ImportReport]) -> None:
        self.message.setText("\n".join(report_lines(reports)))
        self.changed.emit()
        self.refresh()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of booking-request files")
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str) -> None:
        """Save ``folder`` as the watched folder and scan it."""
        repo, actor = self.ctx.session.repo, self.ctx.actor

        def job() -> None:
            repo.save_settings(replace(repo.settings(), requests_folder=folder), actor=actor)

        def done(_: None) -> None:
            if self.watcher is not None:
                self.watcher.scan()
            self.refresh()

        self.ctx.tasks.submit(job, done, self.on_error)
