"""The Accounts dialog: the remote accounts with their conflict policy and a Remove button (for a
Google account also what Google sees, "Sign in again" and "Sign out"), "Add Google account…"
(the sign-in dialog of ui.google_signin), "Add Docplanner account…" (ui.docplanner_wizard),
and a form to add a CalDAV, iCloud, Nextcloud or
Fastmail account ("Test connection" discovers the calendars off the GUI thread; the user ticks
the ones to mirror).

Widgets: GUI thread. Discovery runs on a one-off thread (it waits on the network); database work
runs on the database lane (``ctx.tasks``). Passwords go to the OS keyring (services.secrets),
never to the database.
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.models import Account, ProviderKind
from carecal.services import accounts as svc
from carecal.services import google_accounts as google
from carecal.services.accounts import RemoteCalendar
from carecal.store.repo import Repository
from carecal.sync.conflicts import Policy, account_policy, set_policy
from carecal.ui.chrome import swatch
from carecal.ui.context import UiContext

if TYPE_CHECKING:
    from carecal.ui.docplanner_wizard import DocplannerWizard
    from carecal.ui.google_signin import GoogleSignInDialog
    from carecal.ui.outlook_signin import OutlookSignInDialog

Discover = Callable[[str, str, str, str], list[RemoteCalendar]]
"""(url, user name, password, preset) -> calendars; blocks on the network (never the GUI
thread). Raises CarecalError."""

POLICIES = (
    (Policy.ASK, "Ask me (conflict inbox)"),
    (Policy.MINE, "This computer wins"),
    (Policy.THEIRS, "The server wins"),
    (Policy.NEWEST, "The newest change wins"),
)


class _Relay(QObject):
    done = Signal(object, object)  # result, error


def run_in_thread(
    job: Callable[[], Any], on_done: Callable[[Any], None], on_error: Callable[[Exception], None]
) -> threading.Thread:
    """Run ``job`` on a new daemon thread; the callbacks run on the GUI thread. GUI thread."""
    relay = _Relay()

    def deliver(result: object, error: object) -> None:
        relay.deleteLater()
        if isinstance(error, Exception):
            on_error(error)
        else:
            on_done(result)

    relay.done.connect(deliver)

    def work() -> None:
        try:
            relay.done.emit(job(), None)
        except Exception as err:
            relay.done.emit(None, err)

    thread = threading.Thread(target=work, name="carecal-discover", daemon=True)
    thread.start()
    return thread


def privacy_combo() -> QComboBox:
    """A combo box of Google's privacy levels (data: the level). GUI thread."""
    combo = QComboBox()
    for level in google.PRIVACY_LEVELS:
        combo.addItem(google.PRIVACY_LABELS[level], level)
    combo.setCurrentIndex(combo.findData(google.DEFAULT_PRIVACY))
    return combo


def _privacy_text(level: str, service: str = "Google") -> str:
    text = (
        google.PRIVACY_HELP[level] + " A change is applied to the entries already on Google "
        "at the next sync."
    )
    return text.replace("Google", service)


def _is_outlook(account: Account) -> bool:
    return account.kind is ProviderKind.OUTLOOK


def _outlook_privacy(repo: Repository, account: Account, level: str, *, actor: str) -> Account:
    from carecal.services import outlook_accounts

    return outlook_accounts.set_privacy(repo, account, level, actor=actor)


def _state(account: Account) -> str:
    if account.settings.get("signed_out"):
        return "   — signed out"
    if account.settings.get("needs_sign_in"):
        return "   — needs sign-in"
    return ""


@dataclass(frozen=True, slots=True)
class AccountRow:
    account: Account
    calendars: tuple[str, ...]
    unsent: int


def load_accounts(repo: Repository) -> list[AccountRow]:
    """Remote accounts with their calendars and unsent changes. The Repository's thread."""
    statuses = svc.calendar_statuses(repo)
    out = []
    for account in svc.list_accounts(repo):
        mine = [s for s in statuses if s.calendar.account_id == account.id]
        out.append(
            AccountRow(account, tuple(s.calendar.name for s in mine), sum(s.pending for s in mine))
        )
    return out


def _add_row(
    layout: QVBoxLayout, text: str, button_text: str, slot: Callable[[], object]
) -> QPushButton:
    """One "add an account of this kind" row: a muted sentence and its button. GUI thread."""
    row = QHBoxLayout()
    sentence = QLabel(text)
    sentence.setWordWrap(True)
    sentence.setStyleSheet("color: #6b7280;")
    row.addWidget(sentence, 1)
    button = QPushButton(button_text)
    button.clicked.connect(slot)
    row.addWidget(button)
    layout.addLayout(row)
    return button


class AccountsDialog(QDialog):
    """See the module docstring. ``after_change`` runs after an account was added or removed
    (the window syncs and reloads its calendars)."""

    def __init__(
        self,
        ctx: UiContext,
        parent: QWidget | None = None,
        *,
        discover: Discover = svc.discover_blocking,
        after_change: Callable[[], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._discover = discover
        self._after = after_change
        self._on_error = on_error
        self.rows: list[AccountRow] = []
        self.found: list[RemoteCalendar] = []
        self.discovery: threading.Thread | None = None
        self.confirm: Callable[[str], bool] = self._ask
        # The sign-in dialog's browser and wait (tests give a client that follows the redirect).
        self.open_browser: Callable[[str], object] = webbrowser.open
        self.sign_in_timeout = google.DEFAULT_SIGN_IN_TIMEOUT
        self.google_dialog: GoogleSignInDialog | None = None
        self.outlook_dialog: OutlookSignInDialog | None = None
        self.docplanner_dialog: DocplannerWizard | None = None
        self.revoking: threading.Thread | None = None
        self.setWindowTitle("Accounts")
        self.resize(780, 840)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 14)

        existing = QGroupBox("Accounts on this computer")
        el = QVBoxLayout(existing)
        self.accounts = QListWidget()
        self.accounts.setMaximumHeight(96)
        self.accounts.currentRowChanged.connect(self._account_selected)
        el.addWidget(self.accounts)
        row = QHBoxLayout()
        row.addWidget(QLabel("When both sides changed the same field:"))
        self.policy = QComboBox()
        for policy, label in POLICIES:
            self.policy.addItem(label, policy.value)
        self.policy.activated.connect(self._policy_chosen)
        row.addWidget(self.policy, 1)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addWidget(self.remove_button)
        el.addLayout(row)
        el.addWidget(self._google_controls())
        self.account_message = QLabel()
        self.account_message.setWordWrap(True)
        self.account_message.setVisible(False)
        el.addWidget(self.account_message)
        self.google_button = _add_row(
            el,
            "Google Calendar: you sign in to Google in your browser; Carecal never sees your "
            "Google password.",
            "Add Google account…",
            self.add_google,
        )
        self.outlook_button = _add_row(
            el,
            "Outlook and Microsoft 365: you sign in to Microsoft in your browser, or with a code "
            "on another device.",
            "Add Outlook account…",
            self.add_outlook,
        )
        self.docplanner_button = _add_row(
            el,
            "Docplanner (ZnanyLekarz, Doctoralia, MioDottore, jameda…): bookings come in, your "
            "free time is published.",
            "Add Docplanner account…",
            self.add_docplanner,
        )
        lay.addWidget(existing)

        add = QGroupBox("Add a CalDAV account (iCloud, Nextcloud, Fastmail, any server)")
        form = QFormLayout(add)
        self.preset = QComboBox()
        self._presets = svc.presets()
        for key in ("icloud", "nextcloud", "fastmail", "generic"):
            self.preset.addItem(self._presets[key].label, key)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.url = QLineEdit()
        self.username = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.help.setObjectName("PasswordHelp")
        self.help.setStyleSheet("color: #6b7280;")
        self.name = QLineEdit()
        self.name.setPlaceholderText("optional, e.g. Practice iCloud")
        form.addRow("Service", self.preset)
        form.addRow("Server", self.url)
        form.addRow("User name", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.help)
        form.addRow("Account name", self.name)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        form.addRow(test_row)
        self.calendars = QListWidget()
        self.calendars.setMinimumHeight(96)
        form.addRow("Calendars", self.calendars)
        self.add_button = QPushButton("Add account")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.add_account)
        add_row = QHBoxLayout()
        add_row.addStretch(1)
        add_row.addWidget(self.add_button)
        form.addRow(add_row)
        lay.addWidget(add, 1)

        bottom = QHBoxLayout()
        bottom.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom.addWidget(close)
        for b in (
            self.remove_button,
            self.test_button,
            self.add_button,
            close,
            self.google_button,
            self.outlook_button,
            self.docplanner_button,
            self.sign_in_button,
            self.sign_out_button,
        ):
            b.setAutoDefault(False)  # a default button is restyled and its label clipped
        lay.addLayout(bottom)
        self._preset_changed()
        self.reload()

    # --- existing accounts -------------------------------------------------------------------

    def _fail(self, err: Exception) -> None:
        if self._on_error is not None:
            self._on_error(err)

    def reload(self) -> None:
        repo = self.ctx.session.repo
        self.ctx.tasks.submit(lambda: load_accounts(repo), self._show, self._fail)

    def _show(self, rows: list[AccountRow]) -> None:
        self.rows = rows
        self.accounts.clear()
        for r in rows:
            lines = [r.account.name + _state(r.account)]
            if google.is_google(r.account):
                level = google.privacy_of(r.account)
                who = google.email_of(r.account)
                detail = f"Google sees: {google.PRIVACY_LABELS[level].lower()}"
                if who and who.casefold() != r.account.name.casefold():
                    detail = f"{who} · {detail}"
                detail = f"Google · {detail}"
            elif _is_outlook(r.account):
                level = google.privacy_of(r.account)
                who = str(r.account.settings.get("email") or "")
                detail = f"Outlook sees: {google.PRIVACY_LABELS[level].lower()}"
                if who and who.casefold() != r.account.name.casefold():
                    detail = f"{who} · {detail}"
                detail = f"Outlook · {detail}"
            elif r.account.kind is ProviderKind.DOCPLANNER:
                domain = str(r.account.settings.get("domain") or "")
                detail = f"Docplanner · {domain}"
            else:
                settings = svc.CalDAVSettings.of(r.account)
                detail = f"{settings.username} · {settings.url}"
            if r.calendars:
                detail += " · " + ", ".join(r.calendars)
            if r.unsent:
                detail += f" · {r.unsent} unsent"
            lines.append(detail)
            self.accounts.addItem(QListWidgetItem("\n".join(lines)))
        if not rows:
            item = QListWidgetItem("No accounts yet: this computer's calendars are not synced.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.accounts.addItem(item)
        else:
            self.accounts.setCurrentRow(0)
        self._account_selected(self.accounts.currentRow())

    def selected(self) -> AccountRow | None:
        row = self.accounts.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _account_selected(self, _row: int) -> None:
        row = self.selected()
        self.policy.setEnabled(row is not None)
        self.remove_button.setEnabled(row is not None)
        if row is not None:
            self.policy.setCurrentIndex(
                max(0, self.policy.findData(account_policy(row.account).value))
            )
        is_google = row is not None and (google.is_google(row.account) or _is_outlook(row.account))
        self.google_controls.setVisible(is_google)
        if row is not None and is_google:
            level = google.privacy_of(row.account)
            self.privacy.setCurrentIndex(max(0, self.privacy.findData(level)))
            service = "Outlook" if _is_outlook(row.account) else "Google"
            self.privacy_label.setText(f"What {service} sees:")
            self.privacy_help.setText(_privacy_text(level, service))
            needs = bool(row.account.settings.get("needs_sign_in"))
            self.sign_in_button.setVisible(needs)
            self.sign_out_button.setEnabled(not row.account.settings.get("signed_out"))

    def _policy_chosen(self, index: int) -> None:
        row = self.selected()
        if row is None:
            return
        policy = Policy(str(self.policy.itemData(index)))
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.ctx.tasks.submit(
            lambda: set_policy(repo, row.account.id, policy, actor=actor),
            lambda _: self.reload(),
            self._fail,
        )

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Accounts",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def remove_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        text = (
            f"Remove “{row.account.name}” from this computer? Its calendars and appointments "
            "are removed here; nothing is deleted on the server."
        )
        if row.unsent:
            text += (
                f"\n\n{row.unsent} change{'s' if row.unsent != 1 else ''} not yet sent will be "
                "LOST. Sync first to keep them."
            )
        if google.is_google(row.account):
            text += "\n\nCarecal signs out of Google first (its access is revoked)."
        if not self.confirm(text):
            return
        repo, actor, account = self.ctx.session.repo, self.ctx.actor, row.account

        def removal() -> object:
            if _is_outlook(account):  # MSAL's cache lies in several keyring entries
                from carecal.services import outlook_accounts

                return outlook_accounts.remove_outlook_account(
                    repo, account, actor=actor, discard_unsent=True
                )
            return svc.remove_account(repo, account, actor=actor, discard_unsent=True)

        def remove(_: object = None) -> None:
            self.ctx.tasks.submit(removal, lambda _: self._changed(), self._fail)

        if google.is_google(account):
            self.remove_button.setEnabled(False)
            self._say(f"Signing out of “{account.name}”…", "")
            self.revoking = run_in_thread(lambda: google.revoke_sign_in(account), remove, remove)
        else:
            remove()

    def _changed(self) -> None:
        self.reload()
        if self._after is not None:
            self._after()

    # --- Docplanner ------------------------------------------------------------------------

    def add_docplanner(self) -> DocplannerWizard:
        """Open the "Add Docplanner account" dialog (ui.docplanner_wizard). GUI thread."""
        from carecal.ui.docplanner_wizard import DocplannerWizard

        if self.docplanner_dialog is not None:
            self.docplanner_dialog.close()
        dialog = DocplannerWizard(
            self.ctx, self, run_in_thread=run_in_thread, on_done=lambda _: self._changed()
        )
        self.docplanner_dialog = dialog
        dialog.show()
        return dialog

    # --- Outlook ---------------------------------------------------------------------------

    def _open_outlook(self, account: Account | None) -> OutlookSignInDialog:
        from carecal.ui.outlook_signin import OutlookSignInDialog

        if self.outlook_dialog is not None:
            self.outlook_dialog.close()
        dialog = OutlookSignInDialog(
            self.ctx,
            self,
            account=account,
            open_browser=self.open_browser,
            timeout=self.sign_in_timeout,
            on_done=self._google_done,
        )
        self.outlook_dialog = dialog
        dialog.show()
        return dialog

    def add_outlook(self) -> OutlookSignInDialog:
        """Open the Outlook sign-in dialog. GUI thread."""
        return self._open_outlook(None)

    def _sign_out_outlook(self, account: Account) -> None:
        if not self.confirm(
            f"Sign out of “{account.name}”? Its sign-in is removed from this computer. The "
            "calendars stay here but do not sync until you sign in again."
        ):
            return
        from carecal.services import outlook_accounts

        repo, actor = self.ctx.session.repo, self.ctx.actor

        def done(_: object) -> None:
            self._say(f"Signed out of “{account.name}”.", "")
            self._changed()

        self.ctx.tasks.submit(
            lambda: outlook_accounts.sign_out(repo, account, actor=actor), done, self._fail
        )

    # --- Google ----------------------------------------------------------------------------

    def _google_controls(self) -> QWidget:
        box = QWidget()
        gl = QVBoxLayout(box)
        gl.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.privacy_label = QLabel("What Google sees:")
        row.addWidget(self.privacy_label)
        self.privacy = privacy_combo()
        self.privacy.activated.connect(self._privacy_chosen)
        row.addWidget(self.privacy, 1)
        self.sign_in_button = QPushButton("Sign in again…")
        self.sign_in_button.clicked.connect(self.sign_in_again)
        row.addWidget(self.sign_in_button)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out_selected)
        row.addWidget(self.sign_out_button)
        gl.addLayout(row)
        self.privacy_help = QLabel()
        self.privacy_help.setWordWrap(True)
        self.privacy_help.setStyleSheet("color: #6b7280;")
        gl.addWidget(self.privacy_help)
        self.google_controls = box
        box.setVisible(False)
        return box

    def _say(self, text: str, style: str) -> None:
        self.account_message.setStyleSheet(style)
        self.account_message.setText(text)
        self.account_message.setVisible(bool(text))

    def _open_google(self, account: Account | None) -> GoogleSignInDialog:
        from carecal.ui.google_signin import GoogleSignInDialog

        if self.google_dialog is not None:
            self.google_dialog.close()
        dialog = GoogleSignInDialog(
            self.ctx,
            self,
            account=account,
            open_browser=self.open_browser,
            timeout=self.sign_in_timeout,
            on_done=self._google_done,
        )
        self.google_dialog = dialog
        dialog.show()
        return dialog

    def add_google(self) -> GoogleSignInDialog:
        """Open the Google sign-in dialog. GUI thread."""
        return self._open_google(None)

    def sign_in_again(self) -> GoogleSignInDialog | OutlookSignInDialog | None:
        """Sign the selected Google account in again (the browser opens at once), or open the
        Outlook sign-in for an Outlook account. GUI thread."""
        row = self.selected()
        if row is not None and _is_outlook(row.account):
            return self._open_outlook(row.account)
        if row is None or not google.is_google(row.account):
            return None
        dialog = self._open_google(row.account)
        dialog.start()
        return dialog

    def _google_done(self, account: Account) -> None:
        self._say(f"“{account.name}” is signed in. Its calendars sync now.", "color: #15803d;")
        self._changed()

    def _privacy_chosen(self, index: int) -> None:
        row = self.selected()
        if row is None or not (google.is_google(row.account) or _is_outlook(row.account)):
            return
        level = str(self.privacy.itemData(index))
        repo, actor, account = self.ctx.session.repo, self.ctx.actor, row.account
        self.privacy_help.setText(
            _privacy_text(level, "Outlook" if _is_outlook(account) else "Google")
        )
        setter = _outlook_privacy if _is_outlook(account) else google.set_privacy
        self.ctx.tasks.submit(
            lambda: setter(repo, account, level, actor=actor),
            lambda _: self.reload(),
            self._fail,
        )

    def sign_out_selected(self) -> None:
        """Revoke the selected Google account's access (worker thread) and mark it signed
        out; its calendars stay. GUI thread."""
        row = self.selected()
        if row is not None and _is_outlook(row.account):
            self._sign_out_outlook(row.account)
            return
        if row is None or not google.is_google(row.account):
            return
        account = row.account
        if not self.confirm(
            f"Sign out of “{account.name}”? Carecal's access is revoked at Google and the "
            "sign-in is removed from this computer. The calendars stay here but do not sync "
            "until you sign in again."
        ):
            return
        repo, actor = self.ctx.session.repo, self.ctx.actor
        self.sign_out_button.setEnabled(False)

        def revoked(confirmed: object) -> None:
            if confirmed:
                self._say(f"Signed out of “{account.name}”.", "")
            else:
                self._say(
                    f"Signed out of “{account.name}” here; Google could not confirm it, so "
                    f"you may remove Carecal's access at {google.PERMISSIONS_PAGE}.",
                    "color: #b45309;",
                )
            self.ctx.tasks.submit(
                lambda: google.mark_signed_out(repo, account, actor=actor),
                lambda _: self._changed(),
                self._fail,
            )

        def failed(err: Exception) -> None:
            self.sign_out_button.setEnabled(True)
            self._say(str(err), "color: #b91c1c;")

        self.revoking = run_in_thread(lambda: google.revoke_sign_in(account), revoked, failed)

    # --- adding ----------------------------------------------------------------------------

    def _preset_changed(self) -> None:
        key = str(self.preset.currentData())
        preset = self._presets[key]
        self.help.setText(preset.password_help)
        self.url.setPlaceholderText(preset.url or "https://calendar.example.org/ or a domain")
        if preset.url and not self.url.text().strip():
            self.url.setText(preset.url)
        elif not preset.url and self.url.text().strip() in {
            p.url for p in self._presets.values() if p.url
        }:
            self.url.clear()
        self.username.setPlaceholderText(
            "Apple ID (e-mail)" if key == "icloud" else "user name or e-mail"
        )

    def _form(self) -> tuple[str, str, str, str]:
        return (
            self.url.text().strip(),
            self.username.text().strip(),
            self.password.text(),
            str(self.preset.currentData()),
        )

    def test_connection(self) -> None:
        """Discover the account's calendars on a worker thread. GUI thread; returns at once."""
        url, user, password, preset = self._form()
        self.test_button.setEnabled(False)
        self.add_button.setEnabled(False)
        self.calendars.clear()
        self.test_result.setStyleSheet("")
        self.test_result.setText("Connecting…")
        discover = self._discover
        self.discovery = run_in_thread(
            lambda: discover(url, user, password, preset), self._found, self._not_found
        )

    def _found(self, calendars: Sequence[RemoteCalendar]) -> None:
        self.test_button.setEnabled(True)
        self.found = list(calendars)
        self.calendars.clear()
        for i, cal in enumerate(self.found):
            color = cal.color or svc.PALETTE[i % len(svc.PALETTE)]
            label = cal.name + ("   (read-only)" if cal.read_only else "")
            item = QListWidgetItem(swatch(color[:7]), label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.calendars.addItem(item)
        self.test_result.setStyleSheet("color: #15803d;")
        if self.found:
            self.test_result.setText(
                f"Connected: {len(self.found)} calendar{'s' if len(self.found) != 1 else ''} "
                "found. Tick the ones to keep on this computer."
            )
        else:
            self.test_result.setText("Connected, but the account has no event calendars.")
        self.add_button.setEnabled(bool(self.found))

    def _not_found(self, err: Exception) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet("color: #b91c1c;")
        self.test_result.setText(str(err) or "The connection failed.")

    def chosen(self) -> list[RemoteCalendar]:
        return [
            cal
            for i, cal in enumerate(self.found)
            if (item := self.calendars.item(i)) is not None
            and item.checkState() == Qt.CheckState.Checked
        ]

    def add_account(self) -> None:
        chosen = self.chosen()
        if not chosen:
            self.test_result.setStyleSheet("color: #b91c1c;")
            self.test_result.setText("Tick at least one calendar.")
            return
        url, user, password, preset = self._form()
        name = self.name.text().strip() or None
        repo, actor = self.ctx.session.repo, self.ctx.actor

        def job() -> Account:
            account, _ = svc.add_caldav_account(
                repo,
                url=url,
                username=user,
                password=password,
                preset=preset,
                calendars=chosen,
                name=name,
                actor=actor,
            )
            return account

        def done(account: Account) -> None:
            self.password.clear()
            self.calendars.clear()
            self.found = []
            self.add_button.setEnabled(False)
            self.test_result.setStyleSheet("color: #15803d;")
            self.test_result.setText(f"Added “{account.name}”. Its calendars sync now.")
            self._changed()

        def failed(err: Exception) -> None:
            self.test_result.setStyleSheet("color: #b91c1c;")
            self.test_result.setText(str(err))

        self.ctx.tasks.submit(job, done, failed)
