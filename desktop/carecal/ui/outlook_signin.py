"""The Outlook / Microsoft 365 sign-in dialog: the app registration's client id, the sign-in
(in the browser, or with a code entered on another device) with a working Cancel, then the
calendars to mirror, the account's name and what Outlook sees.

Three pages: "start" (client id, how to sign in; a sign-in again starts at once), "waiting"
(the browser's address to copy, or the device code in large type with Microsoft's address;
Cancel) and "choose". The sign-in runs on a one-off thread (``run_in_thread``: MSAL waits on
the browser or on Microsoft); writing the account runs on the database lane (``ctx.tasks``).
Widgets: GUI thread. MSAL's cache stays in memory until the account is written, then only in
the OS keyring.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.errors import CarecalError
from carecal.domain.models import Account
from carecal.services import outlook_accounts as outlook
from carecal.services import outlook_client
from carecal.ui.accounts_page import run_in_thread
from carecal.ui.context import UiContext
from carecal.ui.signin_dialog import (
    MUTED_STYLE,
    CalendarSignInDialog,
)
from carecal.ui.signin_dialog import label as _label

CODE_STYLE = "font-size: 26px; font-weight: 600; letter-spacing: 3px;"


class OutlookSignInDialog(CalendarSignInDialog):
    """See the module docstring. With ``account`` it signs that account in again; otherwise it
    adds one. ``on_done(account)`` runs after the account was written (GUI thread)."""

    service = outlook
    remote_name = "Outlook"
    account_noun = "Microsoft account"

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        account: Account | None = None,
        open_browser: Callable[[str], object] = webbrowser.open,
        timeout: float = outlook_client.DEFAULT_SIGN_IN_TIMEOUT,
        on_done: Callable[[Account], None] | None = None,
    ) -> None:
        super().__init__(
            ctx,
            parent,
            account=account,
            open_browser=open_browser,
            timeout=timeout,
            on_done=on_done,
        )
        self._relay.code.connect(self._show_code)
        self.setWindowTitle("Sign in to Outlook again" if account else "Add an Outlook account")
        self.resize(560, 470)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 14)
        self.pages = QStackedWidget()
        lay.addWidget(self.pages, 1)
        self._build_start()
        self._build_waiting()
        self._build_choose()
        self._load_client()

    # --- pages ---------------------------------------------------------------------------

    def _build_start(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(_label("<b>Outlook and Microsoft 365</b>"))
        lay.addWidget(
            _label(
                "Carecal opens Microsoft's sign-in page in your browser. Sign in there with "
                "your Outlook.com or work account and allow Carecal to read and change your "
                "calendars, then come back here."
            )
        )
        form = QFormLayout()
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("Application (client) ID from Microsoft Entra")
        form.addRow("Client id", self.client_id)
        lay.addLayout(form)
        self.device_code = QCheckBox("Sign in with a code on another device (no browser here)")
        lay.addWidget(self.device_code)
        self.client_help = _label(
            "The client id comes from an app registration in Microsoft Entra: the README's "
            "“Outlook and Microsoft 365” section shows how (once, for the whole practice).",
            MUTED_STYLE,
        )
        lay.addWidget(self.client_help)
        self.start_message = _label()
        lay.addWidget(self.start_message)
        lay.addStretch(1)
        lay.addLayout(self._start_buttons("Sign in with Microsoft…"))
        self.start_page = page
        self.pages.addWidget(page)

    def _build_waiting(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.waiting = _label("<b>Waiting for you to sign in in your browser…</b>")
        lay.addWidget(self.waiting)
        self.busy = self._busy_bar()
        lay.addWidget(self.busy)
        # The browser's address (browser sign-in) ...
        self.url_box = QWidget()
        ub = QVBoxLayout(self.url_box)
        ub.setContentsMargins(0, 8, 0, 0)
        ub.addWidget(_label("If no browser window opened, open this address in your browser:"))
        ub.addLayout(self._url_row())
        lay.addWidget(self.url_box)
        # ... or the device code.
        self.code_box = QWidget()
        cb = QVBoxLayout(self.code_box)
        cb.setContentsMargins(0, 8, 0, 0)
        self.code_where = _label("On your phone or another computer, open the address below.")
        cb.addWidget(self.code_where)
        self.code_url = QLineEdit()
        self.code_url.setReadOnly(True)
        cb.addWidget(self.code_url)
        cb.addWidget(_label("and enter this code:"))
        self.code = QLineEdit()
        self.code.setReadOnly(True)
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code.setStyleSheet(CODE_STYLE)
        self.code.setMinimumHeight(48)
        cb.addWidget(self.code)
        self.code_box.setVisible(False)
        lay.addWidget(self.code_box)
        lay.addWidget(
            _label(
                "When Microsoft asks, allow Carecal to read and write your calendars. Carecal "
                "never sees your Microsoft password.",
                MUTED_STYLE,
            )
        )
        lay.addStretch(1)
        lay.addLayout(self._cancel_row())
        self.waiting_page = page
        self.pages.addWidget(page)

    def _load_client(self) -> None:
        if self.account is not None:
            self.client_id.setText(outlook_client.OutlookSettings.of(self.account).client_id)
            for w in (self.client_id, self.client_help):
                w.setEnabled(False)
            return
        repo = self.ctx.session.repo

        def job() -> str:
            try:
                return outlook_client.resolve_client(repo.settings()).client_id
            except outlook_client.ClientIdMissing:
                return ""

        def show(value: str) -> None:
            if not self.client_id.text():
                self.client_id.setText(value)

        self.ctx.tasks.submit(job, show, self._start_failed)

    # --- signing in ------------------------------------------------------------------------

    def _device(self, code: outlook.DeviceCode) -> None:
        """Worker thread: show the code in the window."""
        self._relay.code.emit(code)

    def _show_code(self, code: object) -> None:
        assert isinstance(code, outlook.DeviceCode)
        self.code_url.setText(code.verification_uri)
        self.code.setText(code.user_code)
        minutes = max(1, code.expires_in // 60)
        self.code_where.setText(
            f"On your phone or another computer, open the address below (the code works for "
            f"{minutes} minutes)."
        )

    def start(self) -> None:
        """Start the sign-in on a worker thread. GUI thread."""
        cancel = outlook.SignInCancel()
        device = self.device_code.isChecked()
        if self.account is not None:
            settings = outlook_client.OutlookSettings.of(self.account)
        else:
            try:
                settings = outlook_client.resolve_client(None, client_id=self.client_id.text())
            except CarecalError as err:
                self._start_failed(err)
                return

        def job() -> Any:
            if device:
                return outlook.sign_in_blocking(
                    settings, device=True, show_code=self._device, timeout=self._timeout,
                    cancel=cancel,
                )  # fmt: skip
            return outlook.sign_in_blocking(
                settings, open_browser=self._browser, timeout=self._timeout, cancel=cancel
            )

        self.cancel_handle = cancel
        self.url.clear()
        self.code.clear()
        self.code_url.clear()
        self.copy_button.setEnabled(False)
        self.copy_button.setText("Copy address")
        self.cancel_button.setEnabled(True)
        self.url_box.setVisible(not device)
        self.code_box.setVisible(device)
        self.waiting.setText(
            "<b>Waiting for you to sign in on the other device…</b>"
            if device
            else "<b>Waiting for you to sign in in your browser…</b>"
        )
        self.pages.setCurrentWidget(self.waiting_page)
        run_in_thread(job, self._signed_in, self._start_failed)

    def _privacy_text(self, level: str) -> str:
        return outlook_client.PRIVACY_HELP.get(level, "")

    # --- keeping it ------------------------------------------------------------------------

    def reject(self) -> None:
        """Close: a sign-in still waiting is cancelled; one not kept is simply dropped (its
        cache was only in memory)."""
        self.cancel()
        self.signin = None
        super().reject()
