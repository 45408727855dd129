"""The Google sign-in dialog: the OAuth client, the browser sign-in with a working Cancel, then
the calendars to mirror (with their colours), the account's name and its privacy.

Three pages: "start" (client id; a sign-in again starts at once), "waiting" ("Waiting for you to
sign in in your browser…", the address to copy when no browser opened, Cancel) and "choose".
The sign-in runs on a one-off thread (``run_in_thread``: it waits on the browser and the
network); writing the account runs on the database lane (``ctx.tasks``). Widgets: GUI thread.
Tokens stay in memory until the account is written, then only in the OS keyring.
"""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
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
from carecal.services import google_accounts as google
from carecal.services.accounts import PALETTE, RemoteCalendar
from carecal.ui.accounts_page import privacy_combo, run_in_thread
from carecal.ui.chrome import swatch
from carecal.ui.context import UiContext

OK_STYLE = "color: #15803d;"
ERROR_STYLE = "color: #b91c1c;"
MUTED_STYLE = "color: #6b7280;"


class _UrlRelay(QObject):
    url = Signal(str)


def _label(text: str = "", style: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if style:
        label.setStyleSheet(style)
    return label


class GoogleSignInDialog(QDialog):
    """See the module docstring. With ``account`` it signs that account in again; otherwise it
    adds one. ``on_done(account)`` runs after the account was written (GUI thread)."""

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        account: Account | None = None,
        open_browser: Callable[[str], object] = webbrowser.open,
        timeout: float = google.DEFAULT_SIGN_IN_TIMEOUT,
        on_done: Callable[[Account], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account = account
        self._open_browser = open_browser
        self._timeout = timeout
        self._on_done = on_done
        self.cancel_handle: google.SignInCancel | None = None
        self.signin: google.GoogleSignIn | None = None
        self.result_account: Account | None = None
        self._relay = _UrlRelay(self)
        self._relay.url.connect(self._show_url)
        self.setWindowTitle("Sign in to Google again" if account else "Add a Google account")
        self.resize(560, 460)
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
        title = _label("<b>Google Calendar</b>")
        lay.addWidget(title)
        lay.addWidget(
            _label(
                "Carecal opens Google's sign-in page in your browser. Sign in there and allow "
                "Carecal to see and edit the events of your calendars, then come back here."
            )
        )
        form = QFormLayout()
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("…apps.googleusercontent.com")
        self.client_secret = QLineEdit()
        self.client_secret.setPlaceholderText("optional: the client's secret (GOCSPX-…)")
        form.addRow("OAuth client id", self.client_id)
        form.addRow("Client secret", self.client_secret)
        lay.addLayout(form)
        self.client_help = _label(
            "The client comes from a Google Cloud project: the README's “Google Calendar” "
            "section shows how to create one (once, for the whole practice).",
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
        self.sign_in_button = QPushButton("Sign in with Google…")
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
        lay.addWidget(
            _label(
                "When Google asks, allow Carecal to see and edit the events of your calendars "
                "and to see the list of your calendars. The browser then says you can go back "
                "to Carecal.",
                MUTED_STYLE,
            )
        )
        lay.addSpacing(8)
        lay.addWidget(_label("If no browser window opened, open this address in your browser:"))
        url_row = QHBoxLayout()
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setPlaceholderText("starting…")
        self.copy_button = QPushButton("Copy address")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._copy_url)
        url_row.addWidget(self.url, 1)
        url_row.addWidget(self.copy_button)
        lay.addLayout(url_row)
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
        form.addRow("What Google sees", self.privacy)
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
            self.client_id.setText(google.GoogleSettings.of(self.account).client_id)
            for w in (self.client_id, self.client_secret, self.client_help):
                w.setEnabled(False)
            return
        repo = self.ctx.session.repo

        def job() -> tuple[str, str]:
            try:
                found = google.resolve_client(repo.settings())
            except google.ClientIdMissing:
                return "", ""
            return found.client_id, found.client_secret or ""

        def show(values: tuple[str, str]) -> None:
            if not self.client_id.text():
                self.client_id.setText(values[0])
            if not self.client_secret.text():
                self.client_secret.setText(values[1])

        self.ctx.tasks.submit(job, show, self._start_failed)

    # --- signing in ------------------------------------------------------------------------

    def _browser(self, url: str) -> object:
        """Worker thread: show the address in the window, then open the browser."""
        self._relay.url.emit(url)
        return self._open_browser(url)

    def _show_url(self, url: str) -> None:
        self.url.setText(url)
        self.url.setCursorPosition(0)
        self.copy_button.setEnabled(True)

    def _copy_url(self) -> None:
        QGuiApplication.clipboard().setText(self.url.text())
        self.copy_button.setText("Copied")

    def start(self) -> None:
        """Open the browser and wait for the sign-in on a worker thread. GUI thread."""
        cancel = google.SignInCancel()
        if self.account is not None:
            account = self.account

            def job() -> Any:
                return google.sign_in_again_blocking(
                    account, open_browser=self._browser, timeout=self._timeout, cancel=cancel
                )
        else:
            try:
                settings = google.resolve_client(
                    None,
                    client_id=self.client_id.text(),
                    client_secret=self.client_secret.text(),
                )
            except CarecalError as err:
                self._start_failed(err)
                return

            def job() -> Any:
                return google.sign_in_blocking(
                    settings, open_browser=self._browser, timeout=self._timeout, cancel=cancel
                )

        self.cancel_handle = cancel
        self.url.clear()
        self.copy_button.setEnabled(False)
        self.copy_button.setText("Copy address")
        self.cancel_button.setEnabled(True)
        self.waiting.setText("<b>Waiting for you to sign in in your browser…</b>")
        self.pages.setCurrentWidget(self.waiting_page)
        run_in_thread(job, self._signed_in, self._start_failed)

    def cancel(self) -> None:
        """Stop waiting for the browser (the worker ends with "cancelled"). GUI thread."""
        if self.cancel_handle is not None:
            self.cancel_handle.cancel()
            self.cancel_button.setEnabled(False)
            self.waiting.setText("<b>Cancelling…</b>")

    def _start_failed(self, err: Exception) -> None:
        self.cancel_handle = None
        if isinstance(err, google.SignInCancelled):
            text, style = "Sign-in cancelled; nothing was added.", MUTED_STYLE
        elif isinstance(err, google.SignInTimedOut):
            text, style = "Nobody signed in within the time allowed; try again.", ERROR_STYLE
        else:
            text = str(err) if isinstance(err, CarecalError) else "The sign-in failed."
            style = ERROR_STYLE
        self.start_message.setStyleSheet(style)
        self.start_message.setText(text)
        self.pages.setCurrentWidget(self.start_page)

    def _signed_in(self, signin: google.GoogleSignIn) -> None:
        self.cancel_handle = None
        self.signin = signin
        if self.account is not None:
            self._finish_again(self.account, signin)
            return
        who = signin.email or "your Google account"
        self.signed_in.setText(f"Signed in as {who}.")
        self.name.setPlaceholderText(signin.email or "Google")
        chosen = {c.remote_id for c in google.default_choice(signin.calendars)}
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
            self.choose_message.setText("This Google account offers no calendars to Carecal.")
        self.pages.setCurrentWidget(self.choose_page)

    def _privacy_changed(self) -> None:
        level = str(self.privacy.currentData())
        self.privacy_help.setText(google.PRIVACY_HELP.get(level, ""))

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

        def done(added: google.GoogleAdded) -> None:
            self.signin = None
            self._done(added.account)

        def failed(err: Exception) -> None:
            self.add_button.setEnabled(True)
            self.choose_message.setStyleSheet(ERROR_STYLE)
            self.choose_message.setText(str(err) if isinstance(err, CarecalError) else "Failed.")

        self.ctx.tasks.submit(
            lambda: google.finish_add(
                repo, signin, chosen, name=name, privacy=privacy, actor=actor
            ),
            done,
            failed,
        )

    def _finish_again(self, account: Account, signin: google.GoogleSignIn) -> None:
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.ctx.tasks.submit(
            lambda: google.finish_sign_in_again(repo, account, signin, actor=actor),
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
        """Close: a sign-in still waiting is cancelled, one not kept is revoked."""
        self.cancel()
        signin, self.signin = self.signin, None
        if signin is not None and self.account is None:
            run_in_thread(lambda: google.discard_sign_in(signin), _ignore, _ignore)
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel()
        super().closeEvent(event)


def _ignore(_: object) -> None:
    return None
