"""The main window's sync controls: the status bar indicator, Sync now (F5), Cancel, and the
Accounts, Pending changes and Conflicts windows. GUI thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from carecal.domain.changes import Changes
from carecal.services.syncing import CycleResult, SyncStatus, read_status
from carecal.ui.context import UiContext
from carecal.ui.sync_runner import refresh_after
from carecal.ui.sync_status import SyncIndicator

if TYPE_CHECKING:
    from carecal.ui.accounts_page import AccountsDialog
    from carecal.ui.conflicts_view import ConflictInbox
    from carecal.ui.pending_panel import PendingPanel


class SyncControls:
    """Builds the sync menu items into ``menu`` and the indicator into the window's status
    bar; follows ``ctx.sync`` (None: no sync lane, the indicator still shows the stored state).
    ``on_error`` shows a failure the usual way."""

    def __init__(self, ctx: UiContext, window: QMainWindow, menu: QMenu, on_error: object) -> None:
        self.ctx = ctx
        self.window = window
        self._on_error = on_error
        self._checked_at: str | None = None  # end of the last clean sync cycle (ISO)
        self.indicator = SyncIndicator()
        window.statusBar().addPermanentWidget(self.indicator)
        self.accounts: AccountsDialog | None = None
        self.pending: PendingPanel | None = None
        self.inbox: ConflictInbox | None = None
        self.sync_action = self._add(menu, "S&ync now", "F5", self.sync_now)
        self.cancel_action = self._add(menu, "&Cancel sync", None, self.cancel)
        self.cancel_action.setEnabled(False)
        menu.addSeparator()
        self._add(menu, "&Accounts…", None, self.open_accounts)
        self._add(menu, "P&ending changes…", None, self.open_pending)
        self._add(menu, "C&onflicts…", None, self.open_conflicts)
        self.indicator.clicked.connect(self.open_pending)
        self.indicator.conflicts_clicked.connect(self.open_conflicts)
        runner = ctx.sync
        if runner is not None:
            runner.started.connect(self._started)
            runner.progress.connect(self.indicator.set_progress)
            runner.finished.connect(self._finished)
        ctx.events.refresh_needed.connect(lambda _c: self.refresh())
        self.refresh()

    def _add(self, menu: QMenu, text: str, keys: str | None, slot: object) -> QAction:
        action = QAction(text, self.window)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(slot)
        self.window.addAction(action)
        menu.addAction(action)
        return action

    def _fail(self, err: Exception) -> None:
        if callable(self._on_error):
            self._on_error(err)

    def _tz(self) -> ZoneInfo:
        return self.ctx.session.events.display_zone()

    # --- status -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the stored sync state on the database lane (after local edits)."""
        repo = self.ctx.session.repo
        last = self.ctx.sync.last if self.ctx.sync is not None else None
        offline = last.offline if last is not None else False
        checked = self._checked_at
        self.ctx.tasks.submit(
            lambda: read_status(repo, offline=offline, checked_at=checked), self._show, self._fail
        )

    def _show(self, status: SyncStatus) -> None:
        self.indicator.show_status(status, self._tz(), self.ctx.clock())

    def _started(self) -> None:
        self.cancel_action.setEnabled(True)
        self.indicator.set_busy(True)
        self._show(self.indicator.status)

    def _finished(self, result: CycleResult) -> None:
        if result.checked_at is not None:
            self._checked_at = result.checked_at
        self.cancel_action.setEnabled(False)
        self.indicator.set_busy(False)
        if result.status is not None:
            self._show(result.status)
        for line in result.errors:
            self.ctx.events.status_message.emit(line)
        refresh_after(result, self.ctx.events)
        for panel in (self.pending, self.inbox):
            if panel is not None and panel.isVisible():
                panel.reload()

    # --- actions -------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.ctx.sync is None:
            self.ctx.events.status_message.emit("Sync is not running.")
            return
        self.ctx.sync.sync_now()
        self.ctx.events.status_message.emit("Syncing…")

    def cancel(self) -> None:
        if self.ctx.sync is not None:
            self.ctx.sync.cancel()

    def _after_account_change(self) -> None:
        self.ctx.events.refresh_needed.emit(Changes(calendars=True))
        self.sync_now()

    def open_accounts(self) -> AccountsDialog:
        from carecal.ui.accounts_page import AccountsDialog

        if self.accounts is None:
            self.accounts = AccountsDialog(
                self.ctx, self.window, after_change=self._after_account_change, on_error=self._fail
            )
        self.accounts.reload()
        self.accounts.show()
        self.accounts.raise_()
        return self.accounts

    def open_pending(self) -> PendingPanel:
        from carecal.ui.pending_panel import PendingPanel

        if self.pending is None:
            self.pending = PendingPanel(
                self.ctx, self.window, sync_now=self.sync_now, on_error=self._fail
            )
        self.pending.reload()
        self.pending.show()
        self.pending.raise_()
        return self.pending

    def open_conflicts(self) -> ConflictInbox:
        from carecal.ui.conflicts_view import ConflictInbox

        if self.inbox is None:
            self.inbox = ConflictInbox(
                self.ctx, self.window, after_resolve=self.refresh, on_error=self._fail
            )
        self.inbox.reload()
        self.inbox.show()
        self.inbox.raise_()
        return self.inbox
