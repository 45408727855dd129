"""File > Import / Export .ics and dropped .ics files (GUI thread API, work on the db lane)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.domain.errors import CarecalError
from carecal.ui.context import UiContext

if TYPE_CHECKING:
    from carecal.ui.operations import Operations


class ReportDialog(QDialog):
    """A readable summary of an import: counts per file, then the warnings."""

    def __init__(self, title: str, summary: str, details: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumSize(520, 320 if details else 160)
        heading = QLabel(title)
        heading.setObjectName("DialogTitle")
        text = QLabel(summary)
        text.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(22, 18, 22, 16)
        lay.addWidget(heading)
        lay.addWidget(text)
        if details:
            box = QPlainTextEdit(details)
            box.setReadOnly(True)
            lay.addWidget(box, 1)
        ok = QPushButton("OK")
        ok.setDefault(True)
        ok.clicked.connect(self.accept)
        lay.addWidget(ok)


class IcsActions:
    """Import and export through ``services.ics_io``; results shown in a report dialog."""

    def __init__(self, ctx: UiContext, parent: QWidget, ops: Operations) -> None:
        self.ctx, self.parent, self.ops = ctx, parent, ops
        self.last_report: ReportDialog | None = None

    def import_dialog(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self.parent,
            "Import calendar files",
            str(Path.home()),
            "iCalendar files (*.ics);;All files (*)",
        )
        if names:
            self.import_paths([Path(n) for n in names])

    def import_paths(self, paths: Sequence[Path], calendar_id: str | None = None) -> None:
        """Import each file (atomic per file) into ``calendar_id`` or the default calendar."""
        repo, actor = self.ctx.session.repo, self.ctx.actor

        def job() -> tuple[list[Any], list[str]]:
            from carecal.services.ics_io import import_file

            target = calendar_id or repo.ensure_local_calendar().id
            reports: list[Any] = []
            failures: list[str] = []
            for path in paths:
                try:
                    reports.append(import_file(repo, path, target, actor=actor))
                except CarecalError as err:
                    failures.append(str(err))
            return reports, failures

        self.ctx.tasks.submit(job, self._imported, self.ops.fail)

    def _imported(self, result: tuple[list[Any], list[str]]) -> None:
        reports, failures = result
        lines, details = [], []
        for r in reports:
            lines.append(
                f"{Path(r.source).name}: {r.added} added, {r.updated} updated, "
                f"{r.unchanged} unchanged"
            )
            details.extend(r.warnings)
        lines.extend(f"Not imported: {f}" for f in failures)
        self.ctx.events.changes_applied.emit(Changes(calendars=True, events=frozenset({"*"})))
        self.ctx.events.status_message.emit(
            lines[0] if len(lines) == 1 else f"Imported {len(reports)} file(s)."
        )
        title = "Import finished" if not failures else "Import finished with problems"
        if details:
            details.insert(0, "Warnings:")
        dialog = ReportDialog(title, "\n".join(lines), "\n".join(details), self.parent)
        self.last_report = dialog
        dialog.open()

    def export_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self.parent,
            "Export calendar",
            str(Path.home() / "carecal.ics"),
            "iCalendar files (*.ics)",
        )
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> None:
        repo = self.ctx.session.repo

        def job() -> int:
            from carecal.services.ics_io import export_file

            return int(export_file(repo, path))

        def done(count: int) -> None:
            self.ctx.events.status_message.emit(f"Exported {count} events to {path.name}.")

        self.ctx.tasks.submit(job, done, self.ops.fail)
