"""The main window's front-desk extras: the follow-up offer, the recall list, the booking-request
inbox with its watched folder, and the e-mail reminder log.

Kept apart from ``main_window`` so that window only adds the menu items and one hook. GUI thread
only.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from carecal.domain.models import Occurrence
from carecal.ui.context import UiContext
from carecal.ui.followup_offer import FollowupDialog, offer_followup
from carecal.ui.operations import Operations
from carecal.ui.requests_inbox import RequestFolderWatcher, RequestsWindow


class FrontDeskWindows:
    """Opens (once each) and closes the front-desk windows of one calendar window."""

    def __init__(self, ctx: UiContext, parent: QWidget, ops: Operations) -> None:
        self.ctx, self.parent, self.ops = ctx, parent, ops
        self.recalls: QWidget | None = None
        self.requests: RequestsWindow | None = None
        self.reminder_log: QWidget | None = None
        self.followup: FollowupDialog | None = None
        self.offer_followups = True
        self.watcher = RequestFolderWatcher(ctx, parent)
        self.watcher.scanned.connect(self._scanned)
        ops.on_completed = self.offer_followup
        self.watcher.start()

    def add_menu_items(self, menu: QMenu) -> None:
        """Tools > Recall list…, Booking requests…, E-mail reminder log…"""
        for text, slot in (
            ("&Recall list…", self.open_recalls),
            ("Booking &requests…", self.open_requests),
            ("E-mail reminder &log…", self.open_reminder_log),
        ):
            action = QAction(text, self.parent)
            action.triggered.connect(slot)
            menu.addAction(action)

    def offer_followup(self, occ: Occurrence) -> None:
        """After a visit was marked completed: offer to book its follow-up."""
        if self.offer_followups:
            offer_followup(self.ctx, occ, self.parent, self.ops.fail, self._shown)

    def _shown(self, dialog: FollowupDialog) -> None:
        if self.followup is not None:
            self.followup.close()
        self.followup = dialog
        dialog.finished.connect(lambda _: setattr(self, "followup", None))

    def open_recalls(self) -> None:
        from carecal.ui.recalls import RecallWindow

        if self.recalls is None:
            self.recalls = RecallWindow(self.ctx, self.ops.fail)
        self.recalls.show()
        self.recalls.raise_()

    def open_requests(self) -> None:
        if self.requests is None:
            self.requests = RequestsWindow(self.ctx, self.ops.fail, self.watcher)
        self.requests.show()
        self.requests.raise_()

    def open_reminder_log(self) -> None:
        from carecal.ui.reminder_log import ReminderLogWindow

        if self.reminder_log is None:
            self.reminder_log = ReminderLogWindow(self.ctx, self.ops.fail)
        else:
            self.reminder_log.refresh()  # type: ignore[attr-defined]
        self.reminder_log.show()
        self.reminder_log.raise_()

    def _scanned(self, reports: list[object]) -> None:
        added = sum(getattr(r, "added", 0) for r in reports)
        if added:
            plural = "s" if added != 1 else ""
            self.ctx.events.status_message.emit(
                f"{added} new booking request{plural} (Tools > Booking requests)."
            )

    def close(self) -> None:
        """Stop the folder watcher and close the open windows."""
        self.watcher.stop()
        for window in (self.recalls, self.requests, self.reminder_log):
            if window is not None:
                window.close()
