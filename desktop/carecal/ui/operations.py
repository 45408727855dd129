"""Edits the user makes from the calendar views, run on the database lane (GUI thread API).

Every write goes through ``Operations``: it asks the scope for series, runs the service call on
the database lane, keeps the undo stack, announces the Changes, and shows errors as messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from carecal.domain.changes import Changes
from carecal.domain.errors import CarecalError
from carecal.domain.models import AppointmentStatus, EditScope, Occurrence, Patient
from carecal.services.docplanner_info import booking_infos
from carecal.services.patients import add_or_reuse_patients, with_patient_ids
from carecal.ui.context import UiContext
from carecal.ui.editor import AppointmentEditor, EditorResult
from carecal.ui.tray import open_in_browser

if TYPE_CHECKING:
    from carecal.services.events import Undo

log = logging.getLogger(__name__)

PATIENT_MATCHES = 30  # completer rows; more than a popup can usefully show

ScopeAsker = Callable[[QWidget, str], EditScope | None]


def is_series_instance(occ: Occurrence) -> bool:
    return occ.recurrence_id is not None or occ.event.is_override


def ask_scope_dialog(parent: QWidget, verb: str) -> EditScope | None:
    """Ask which occurrences of a series an edit applies to. GUI thread; blocks in a dialog."""
    box = QMessageBox(parent)
    box.setWindowTitle("Repeating appointment")
    box.setText(f"{verb} this repeating appointment:")
    this = box.addButton("This occurrence", QMessageBox.ButtonRole.AcceptRole)
    following = box.addButton("This and following", QMessageBox.ButtonRole.AcceptRole)
    every = box.addButton("All occurrences", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    choice: dict[object, EditScope] = {
        this: EditScope.THIS,
        following: EditScope.THIS_AND_FOLLOWING,
        every: EditScope.ALL,
    }
    return choice.get(box.clickedButton())


def error_text(err: Exception) -> str:
    """A user-facing sentence for any error (foreign ones are logged, never shown raw)."""
    if isinstance(err, CarecalError):
        return str(err)
    log.error("unexpected error in a background job", exc_info=err)
    return f"Something went wrong ({type(err).__name__}). Details are in the log file."


class Operations:
    """The write path of the calendar window. Create and call on the GUI thread."""

    def __init__(self, ctx: UiContext, parent: QWidget) -> None:
        self.ctx = ctx
        self.parent = parent
        self.ask_scope: ScopeAsker = ask_scope_dialog
        self.undo_stack: list[Undo] = []
        self.last_error: str | None = None
        self.editor: AppointmentEditor | None = None
        self.show_errors = True
        # Called (GUI thread) after a visit was marked completed: the follow-up offer.
        self.on_completed: Callable[[Occurrence], None] | None = None

    # ---- plumbing -----------------------------------------------------------------------
    def fail(self, err: Exception) -> None:
        self.last_error = error_text(err)
        self.ctx.events.error.emit(self.last_error)
        if self.show_errors:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Carecal",
                self.last_error,
                QMessageBox.StandardButton.Ok,
                self.parent,
            )
            box.open()

    def _write(
        self,
        job: Callable[[], tuple[Changes, Undo | None]],
        message: str,
        completed: Occurrence | None = None,
    ) -> None:
        def done(result: tuple[Changes, Undo | None]) -> None:
            changes, undo = result
            if undo is not None and not undo.empty:
                self.undo_stack.append(undo)
                del self.undo_stack[:-50]
            self.ctx.events.changes_applied.emit(changes)
            self.ctx.events.status_message.emit(message)
            if completed is not None and self.on_completed is not None:
                self.on_completed(completed)

        self.ctx.tasks.submit(job, done, self.fail)

    def _scope_for(self, occ: Occurrence, verb: str) -> EditScope | None:
        return self.ask_scope(self.parent, verb) if is_series_instance(occ) else EditScope.THIS

    # ---- edits --------------------------------------------------------------------------
    def move(self, occ: Occurrence, start: datetime, end: datetime) -> None:
        scope = self._scope_for(occ, "Move")
        if scope is None:
            self.ctx.events.changes_applied.emit(Changes.of_events(occ.event.id))  # snap back
            return
        svc = self.ctx.session.events
        self._write(
            lambda: svc.move_with_undo(occ, start, end, scope),
            f"Moved “{occ.event.title}” to {start:%a %-d %b, %H:%M}.",
        )

    def delete(self, occ: Occurrence) -> None:
        scope = self._scope_for(occ, "Delete")
        if scope is None:
            return
        svc = self.ctx.session.events
        self._write(lambda: svc.delete(occ, scope), f"Deleted “{occ.event.title}”.")

    def set_status(self, occ: Occurrence, status: AppointmentStatus) -> None:
        """Give this one occurrence a new status (never the whole series); undoable."""
        if occ.event.status is status:
            return
        svc = self.ctx.session.events
        done = status is AppointmentStatus.COMPLETED
        self._write(
            lambda: svc.set_status_with_undo(occ, status),
            f"“{occ.event.title}” marked {status.label.lower()}.",
            Occurrence(occ.event.with_changes(status=status), occ.start, occ.end) if done else None,
        )

    def undo(self) -> None:
        if not self.undo_stack:
            self.ctx.events.status_message.emit("Nothing to undo.")
            return
        undo = self.undo_stack.pop()
        svc = self.ctx.session.events

        def done(changes: Changes) -> None:
            self.ctx.events.changes_applied.emit(changes)
            self.ctx.events.status_message.emit(f"Undone: {undo.label}.")

        self.ctx.tasks.submit(lambda: svc.undo(undo), done, self.fail)

    # ---- the editor ---------------------------------------------------------------------
    def open_editor(
        self,
        occ: Occurrence | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> None:
        """Load what the editor lists, then show it (non-blocking; saved on accept)."""
        repo = self.ctx.session.repo

        def load() -> tuple[Any, ...]:
            """Database lane: every read the dialog needs, the stored event included."""
            fresh = occ
            if occ is not None:
                # Edit the stored version: the view's copy may be older.
                with contextlib.suppress(CarecalError):
                    fresh = Occurrence(
                        repo.get_event(occ.event.id), occ.start, occ.end, occ.recurrence_id
                    )
            named = []
            for pid in fresh.event.patient_ids() if fresh is not None else ():
                with contextlib.suppress(CarecalError):
                    named.append(repo.get_patient(pid))
            return (
                repo.list_calendars(),
                repo.list_services(),
                named,
                self.ctx.session.events.display_zone(),
                fresh,
                booking_infos(repo, [fresh.event.id]).get(fresh.event.id) if fresh else None,
            )

        def show(loaded: tuple[Any, ...]) -> None:
            calendars, services, patients, tz, fresh, booking = loaded
            dialog = AppointmentEditor(
                calendars=calendars,
                services=services,
                patients=patients,
                tz=tz,
                occ=fresh,
                start=start,
                end=end,
                find_patients=self.find_patients,
                booking=booking,
                clock=self.ctx.clock,
                open_url=open_in_browser,
                parent=self.parent,
            )
            dialog.accepted.connect(lambda: self._save_editor(dialog))
            dialog.finished.connect(lambda _: setattr(self, "editor", None))
            self.editor = dialog
            dialog.open()

        self.ctx.tasks.submit(load, show, self.fail)

    def find_patients(self, text: str, on_done: Callable[[list[Patient]], None]) -> None:
        """Look patients up on the database lane for the editor's search-as-you-type."""
        repo = self.ctx.session.repo
        self.ctx.tasks.submit(
            lambda: repo.list_patients(text)[:PATIENT_MATCHES], on_done, self.fail
        )

    def _save_editor(self, dialog: AppointmentEditor) -> None:
        result = dialog.result_value
        if result is None:
            return
        scope = EditScope.THIS
        occ = dialog.occ
        if not result.is_new and occ is not None and is_series_instance(occ):
            asked = self.ask_scope(self.parent, "Change")
            if asked is None:
                return
            scope = asked
        self.save(result, occ, scope)

    def save(self, result: EditorResult, occ: Occurrence | None, scope: EditScope) -> None:
        """Store what the editor produced (patients first, then the appointment)."""
        repo, svc, actor = self.ctx.session.repo, self.ctx.session.events, self.ctx.actor

        def job() -> tuple[Changes, Undo | None]:
            replaced, changes = add_or_reuse_patients(repo, result.new_patients, actor=actor)
            event = with_patient_ids(result.event, replaced)
            if result.is_new or occ is None:
                created, undo = svc.create_with_undo(event)
                return changes | created, undo
            changed = {
                name: getattr(event, name) if name in ("patient_id", "participants") else value
                for name, value in result.changed.items()
            }
            if not changed:
                return changes, None
            edited, undo = svc.edit_with_undo(occ, changed, scope)
            return changes | edited, undo

        verb = "Added" if result.is_new else "Saved"
        completed = None
        if result.changed.get("status") is AppointmentStatus.COMPLETED and occ is not None:
            completed = Occurrence(result.event, occ.start, occ.end, occ.recurrence_id)
        self._write(job, f"{verb} “{result.event.title}”.", completed)


def undo_button(parent: QWidget, on_click: Callable[[], None]) -> QPushButton:
    """The flat "Undo" link shown in the status bar after a delete."""
    button = QPushButton("Undo", parent)
    button.setObjectName("UndoButton")
    button.clicked.connect(on_click)
    return button
