"""What the Google and Outlook sign-in dialogs share: the "choose" page (calendars with their
colours, the account's name, what the remote sees), the browser address relay, cancel and the
failure messages, and keeping the account. Each dialog builds its own "start" and "waiting"
pages (from the rows here: sign-in buttons, busy bar, address, Cancel) and starts its own
sign-in.

A subclass sets ``service`` (its services module: ``default_choice``, ``finish_add``,
``finish_sign_in_again``, ``SignInCancelled``, ``SignInTimedOut``), the wording attributes and
``_privacy_text``. Widgets and slots: GUI thread; writing the account runs on the database lane
(``ctx.tasks``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
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
from carecal.services.accounts import PALETTE, RemoteCalendar
from carecal.ui.accounts_page import privacy_combo
from carecal.ui.chrome import swatch
from carecal.ui.context import UiContext

OK_STYLE = "color: #15803d;"
ERROR_STYLE = "color: #b91c1c;"
MUTED_STYLE = "color: #6b7280;"


class Relay(QObject):
    """Carries what a worker thread learns (the browser's address, a device code) to the GUI."""

    url = Signal(str)
    code = Signal(object)


def label(text: str = "", style: str = "") -> QLabel:
    widget = QLabel(text)
    widget.setWordWrap(True)
    if style:
        widget.setStyleSheet(style)
    return widget


class CalendarSignInDialog(QDialog):
    """The shared part of a remote account's sign-in dialog (see the module docstring)."""

    service: ModuleType
    remote_name = ""  # "Google": what the privacy row and the name placeholder say
    account_noun = ""  # "Google account": in "Signed in as your Google account."

    # Set up by the subclass's pages (the last four through the builders below).
    pages: QStackedWidget
    start_page: QWidget
    start_message: QLabel
    waiting_page: QWidget
    waiting: QLabel
    sign_in_button: QPushButton
    url: QLineEdit
    copy_button: QPushButton
    cancel_button: QPushButton

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None,
        *,
        account: Account | None,
        open_browser: Callable[[str], object],
        timeout: float,
        on_done: Callable[[Account], None] | None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.account = account
        self._open_browser = open_browser
        self._timeout = timeout
        self._on_done = on_done
        self.cancel_handle: Any = None
        self.signin: Any = None
        self.result_account: Account | None = None
        self._relay = Relay(self)
        self._relay.url.connect(self._show_url)

    def _privacy_text(self, level: str) -> str:
        raise NotImplementedError  # each dialog words its own remote's privacy levels

    def start(self) -> None:
        raise NotImplementedError  # each dialog starts its own sign-in

    # --- pieces of the start and waiting pages ---------------------------------------------

    def _start_buttons(self, sign_in_text: str) -> QHBoxLayout:
        """Close and ``sign_in_button`` (runs ``start``), right-aligned."""
        row = QHBoxLayout()
        row.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        self.sign_in_button = QPushButton(sign_in_text)
        self.sign_in_button.clicked.connect(self.start)
        for b in (close, self.sign_in_button):
            b.setAutoDefault(False)
            row.addWidget(b)
        return row

    def _busy_bar(self) -> QProgressBar:
        """A thin progress bar that only says "busy"."""
        busy = QProgressBar()
        busy.setRange(0, 0)
        busy.setTextVisible(False)
        busy.setMaximumHeight(8)
        return busy

    def _url_row(self) -> QHBoxLayout:
        """The browser's address (``url``, filled by ``_show_url``) and ``copy_button``."""
        row = QHBoxLayout()
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.url.setPlaceholderText("starting…")
        self.copy_button = QPushButton("Copy address")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self._copy_url)
        self.copy_button.setAutoDefault(False)
        row.addWidget(self.url, 1)
        row.addWidget(self.copy_button)
        return row

    def _cancel_row(self) -> QHBoxLayout:
        """``cancel_button`` (runs ``cancel``), right-aligned."""
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setAutoDefault(False)
        row.addWidget(self.cancel_button)
        return row

    # --- the choose page -------------------------------------------------------------------

    def _build_choose(self) -> None:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.signed_in = label("", OK_STYLE)
        lay.addWidget(self.signed_in)
        lay.addWidget(label("Calendars to keep on this computer:"))
        self.calendars = QListWidget()
        self.calendars.setMinimumHeight(120)
        lay.addWidget(self.calendars, 1)
        form = QFormLayout()
        self.name = QLineEdit()
        self.privacy = privacy_combo()
        self.privacy.currentIndexChanged.connect(self._privacy_changed)
        form.addRow("Account name", self.name)
        form.addRow(f"What {self.remote_name} sees", self.privacy)
        lay.addLayout(form)
        self.privacy_help = label("", MUTED_STYLE)
        lay.addWidget(self.privacy_help)
        self.choose_message = label()
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

    def _privacy_changed(self) -> None:
        self.privacy_help.setText(self._privacy_text(str(self.privacy.currentData())))

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

    def cancel(self) -> None:
        """Stop waiting (the worker ends with "cancelled"). GUI thread."""
        if self.cancel_handle is not None:
            self.cancel_handle.cancel()
            self.cancel_button.setEnabled(False)
            self.waiting.setText("<b>Cancelling…</b>")

    def _start_failed(self, err: Exception) -> None:
        self.cancel_handle = None
        if isinstance(err, self.service.SignInCancelled):
            text, style = "Sign-in cancelled; nothing was added.", MUTED_STYLE
        elif isinstance(err, self.service.SignInTimedOut):
            text, style = "Nobody signed in within the time allowed; try again.", ERROR_STYLE
        else:
            text = str(err) if isinstance(err, CarecalError) else "The sign-in failed."
            style = ERROR_STYLE
        self.start_message.setStyleSheet(style)
        self.start_message.setText(text)
        self.pages.setCurrentWidget(self.start_page)

    def _signed_in(self, signin: Any) -> None:
        self.cancel_handle = None
        self.signin = signin
        if self.account is not None:
            self._finish_again(self.account, signin)
            return
        who = signin.email or f"your {self.account_noun}"
        self.signed_in.setText(f"Signed in as {who}.")
        self.name.setPlaceholderText(signin.email or self.remote_name)
        chosen = {c.remote_id for c in self.service.default_choice(signin.calendars)}
        self.calendars.clear()
        for i, cal in enumerate(signin.calendars):
            color = cal.color or PALETTE[i % len(PALETTE)]
            text = cal.name + ("   (read-only)" if cal.read_only else "")
            item = QListWidgetItem(swatch(color[:7]), text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = cal.remote_id in chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.calendars.addItem(item)
        self.choose_message.setText("")
        self.add_button.setEnabled(bool(signin.calendars))
        if not signin.calendars:
            self.choose_message.setStyleSheet(ERROR_STYLE)
            self.choose_message.setText(f"This {self.account_noun} offers no calendars to Carecal.")
        self.pages.setCurrentWidget(self.choose_page)

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

        def done(added: Any) -> None:
            self.signin = None
            self._done(added.account)

        def failed(err: Exception) -> None:
            self.add_button.setEnabled(True)
            self.choose_message.setStyleSheet(ERROR_STYLE)
            self.choose_message.setText(str(err) if isinstance(err, CarecalError) else "Failed.")

        self.ctx.tasks.submit(
            lambda: self.service.finish_add(
                repo, signin, chosen, name=name, privacy=privacy, actor=actor
            ),
            done,
            failed,
        )

    def _finish_again(self, account: Account, signin: Any) -> None:
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.ctx.tasks.submit(
            lambda: self.service.finish_sign_in_again(repo, account, signin, actor=actor),
            self._done,
            self._start_failed,
        )

    def _done(self, account: Account) -> None:
        self.signin = None
        self.result_account = account
        if self._on_done is not None:
            self._on_done(account)
        self.accept()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.cancel()
        super().closeEvent(event)
