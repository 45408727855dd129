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

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.errors import CarecalError
from carecal.domain.models import Account
from carecal.services import google_client, outlook_client
from carecal.services import outlook_accounts as outlook
from carecal.services.accounts import PALETTE, RemoteCalendar
from carecal.ui.accounts_page import privacy_combo, run_in_thread
from carecal.ui.chrome import swatch
from carecal.ui.context import UiContext

OK_STYLE = "color: #15803d;"
ERROR_STYLE = "color: #b91c1c;"
MUTED_STYLE = "color: #6b7280;"
CODE_STYLE = "font-size: 26px; font-weight: 600; letter-spacing: 3px;"


class _Relay(QObject):
    url = Signal(str)
    code = Signal(object)


def _label(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if style:
        label.setStyleSheet(style)
    return label


def privacy_help(level: str) -> str:
    return google_client.PRIVACY_HELP.get(level, "").replace("Google", "Outlook")


class OutlookSignInDialog(QDialog):
    """See the module docstring. With ``account`` it signs that account in again; otherwise it
    adds one. ``on_done(account)`` runs after the account was written (GUI thread)."""

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
        super().__init__(parent)
        self.ctx = ctx
        self.account = account
        self._open_browser = open_browser
        self._timeout = timeout
        self._on_done = on_done
        self.cancel_handle: outlook.SignInCancel | None = None
        self.signin: outlook.OutlookSignIn | None = None
        self.result_account: Account | None = None
        self._relay = _Relay(self)
        self._relay.url.connect(self._show_url)
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
        row = QHBoxLayout()
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.sign_in_button = QPushButton("Sign in with Microsoft…")
        self.sign_in_button.clicked.connect(self.start)
        for b in (close, self.sign_in_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        lay.addLayout(row)
        self.start_page = page
        self.pages.addWidget(page)

    def _build_waiting(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.waiting = _label("<b>Waiting for you to sign in in your browser…</b>")
        lay.addWidget(self.waiting)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        lay.addWidget(self.busy)
        # The browser's address (browser sign-in) ...
        self.url_box = QWidget()
        ub = QVBoxLayout(self.url_box)
        ub.setContentsMargins(0, 8, 0, 0)
        ub.addWidget(_label("If no browser window opened, open this address in your browser:"))
        url_row = QHBoxLayout()
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setPlaceholderText("starting…")
        self.copy_button = QPushButton("Copy address")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._copy_url)
        url_row.addWidget(self.url, 1)
        url_row.addWidget(self.copy_button)
        ub.addLayout(url_row)
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
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        for b in (self.copy_button, self.cancel_button):
            b.setAutoDefault(False)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.waiting_page = page
        self.pages.addWidget(page)

    def _build_choose(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.signed_in = _label("", OK_STYLE)
        lay.addWidget(self.signed_in)
        lay.addWidget(_label("Calendars to keep on this computer:"))
        self.calendars = QListWidget()
        self.calendars.setMinimumHeight(120)
        lay.addWidget(self.calendars, 1)
        form = QFormLayout()
        self.name = QLineEdit()
        self.privacy = privacy_combo()
        self.privacy.currentIndexChanged.connect(self._privacy_changed)
        form.addRow("Account name", self.name)
        form.addRow("What Outlook sees", self.privacy)
        lay.addLayout(form)
        self.privacy_help = _label("", MUTED_STYLE)
        lay.addWidget(self.privacy_help)
        self.choose_message = _label()
        lay.addWidget(self.choose_message)
        row = QHBoxLayout()
        row.addStretch(1)
        discard = QPushButton("Cancel")
        discard.clicked.connect(self.reject)
        self.add_button = QPushButton("Add account")
        self.add_button.clicked.connect(self.add_account)
        for b in (discard, self.add_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        lay.addLayout(row)
        self.choose_page = page
        self.pages.addWidget(page)
        self._privacy_changed()

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

    def _browser(self, url: str) -> object:
        """Worker thread: show the address in the window, then open the browser."""
        self._relay.url.emit(url)
        return self._open_browser(url)

    def _device(self, code: outlook.DeviceCode) -> None:
        """Worker thread: show the code in the window."""
        self._relay.code.emit(code)

    def _show_url(self, url: str) -> None:
        self.url.setText(url)
        self.url.setCursorPosition(0)
        self.copy_button.setEnabled(True)

    def _show_code(self, code: object) -> None:
        assert isinstance(code, outlook.DeviceCode)
        self.code_url.setText(code.verification_uri)
        self.code.setText(code.user_code)
        minutes = max(1, code.expires_in // 60)
        self.code_where.setText(
            f"On your phone or another computer, open the address below (the code works for "
            f"{minutes} minutes)."
        )

    def _copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.url.text())
        self.copy_button.setText("Copied")

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

    def cancel(self) -> None:
        """Stop waiting (the worker ends with "cancelled"). GUI thread."""
        if self.cancel_handle is not None:
            self.cancel_handle.cancel()
            self.cancel_button.setEnabled(False)
            self.waiting.setText("<b>Cancelling…</b>")

    def _start_failed(self, err: Exception) -> None:
        self.cancel_handle = None
        if isinstance(err, outlook.SignInCancelled):
            text, style = "Sign-in cancelled; nothing was added.", MUTED_STYLE
        elif isinstance(err, outlook.SignInTimedOut):
            text, style = "Nobody signed in within the time allowed; try again.", ERROR_STYLE
        else:
            text = str(err) if isinstance(err, CarecalError) else "The sign-in failed."
            style = ERROR_STYLE
        self.start_message.setStyleSheet(style)
        self.start_message.setText(text)
        self.pages.setCurrentWidget(self.start_page)

    def _signed_in(self, signin: outlook.OutlookSignIn) -> None:
        self.cancel_handle = None
        self.signin = signin
        if self.account is not None:
            self._finish_again(self.account, signin)
            return
        who = signin.email or "your Microsoft account"
        self.signed_in.setText(f"Signed in as {who}.")
        self.name.setPlaceholderText(signin.email or "Outlook")
        chosen = {c.remote_id for c in outlook.default_choice(signin.calendars)}
        self.calendars.clear()
        for i, cal in enumerate(signin.calendars):
            color = cal.color or PALETTE[i % len(PALETTE)]
            label = cal.name + ("   (read-only)" if cal.read_only else "")
            item = QListWidgetItem(swatch(color[:7]), label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = cal.remote_id in chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.calendars.addItem(item)
        self.choose_message.setText("")
        self.add_button.setEnabled(bool(signin.calendars))
        if not signin.calendars:
            self.choose_message.setStyleSheet(ERROR_STYLE)
            self.choose_message.setText("This Microsoft account offers no calendars to Carecal.")
        self.pages.setCurrentWidget(self.choose_page)

    def _privacy_changed(self) -> None:
        self.privacy_help.setText(privacy_help(str(self.privacy.currentData())))

    # --- keeping it ------------------------------------------------------------------------

    def chosen(self) -> list[RemoteCalendar]:
        found = self.signin.calendars if self.signin is not None else ()
        return [
            cal
            for i, cal in enumerate(found)
            if (item := self.calendars.item(i)) is not None
            and item.checkState() == Qt.CheckState.Checked
        ]

    def add_account(self) -> None:
        """Write the account and its mirrors on the database lane. GUI thread."""
        signin = self.signin
        chosen = self.chosen()
        if signin is None:
            return
        if not chosen:
            self.choose_message.setStyleSheet(ERROR_STYLE)
            self.choose_message.setText("Tick at least one calendar.")
            return
        name = self.name.text().strip() or None
        privacy = str(self.privacy.currentData())
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.add_button.setEnabled(False)

        def done(added: outlook.OutlookAdded) -> None:
            self.signin = None
            self._done(added.account)

        def failed(err: Exception) -> None:
            self.add_button.setEnabled(True)
            self.choose_message.setStyleSheet(ERROR_STYLE)
            self.choose_message.setText(str(err) if isinstance(err, CarecalError) else "Failed.")

        self.ctx.tasks.submit(
            lambda: outlook.finish_add(
                repo, signin, chosen, name=name, privacy=privacy, actor=actor
            ),
            done,
            failed,
        )

    def _finish_again(self, account: Account, signin: outlook.OutlookSignIn) -> None:
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.ctx.tasks.submit(
            lambda: outlook.finish_sign_in_again(repo, account, signin, actor=actor),
            self._done,
            self._start_failed,
        )

    def _done(self, account: Account) -> None:
        self.signin = None
        self.result_account = account
        if self._on_done is not None:
            self._on_done(account)
        self.accept()

    def reject(self) -> None:
        """Close: a sign-in still waiting is cancelled; one not kept is simply dropped (its
        cache was only in memory)."""
        self.cancel()
        self.signin = None
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel()
        super().closeEvent(event)
