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

from PySide6.QtWidgets import (
    QFormLayout,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.errors import CarecalError
from carecal.domain.models import Account
from carecal.services import google_accounts as google
from carecal.ui.accounts_page import run_in_thread
from carecal.ui.context import UiContext
from carecal.ui.signin_dialog import (
    MUTED_STYLE,
    CalendarSignInDialog,
)
from carecal.ui.signin_dialog import label as _label


class GoogleSignInDialog(CalendarSignInDialog):
    """See the module docstring. With ``account`` it signs that account in again; otherwise it
    adds one. ``on_done(account)`` runs after the account was written (GUI thread)."""

    service = google
    remote_name = "Google"
    account_noun = "Google account"

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
        super().__init__(
            ctx,
            parent,
            account=account,
            open_browser=open_browser,
            timeout=timeout,
            on_done=on_done,
        )
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
        lay.addLayout(self._start_buttons("Sign in with Google…"))
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
        lay.addLayout(self._url_row())
        lay.addStretch(1)
        lay.addLayout(self._cancel_row())
        self.waiting_page = page
        self.pages.addWidget(page)

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

    def _privacy_text(self, level: str) -> str:
        return google.PRIVACY_HELP.get(level, "")

    # --- keeping it ------------------------------------------------------------------------

    def reject(self) -> None:
        """Close: a sign-in still waiting is cancelled, one not kept is revoked."""
        self.cancel()
        signin, self.signin = self.signin, None
        if signin is not None and self.account is None:
            run_in_thread(lambda: google.discard_sign_in(signin), _ignore, _ignore)
        super().reject()


def _ignore(_: object) -> None:
    return None
