"""The Outlook parts of the Accounts dialog and the Outlook sign-in dialog, against the Graph
emulator (MSAL talking to its identity endpoints), with screenshots of each new state in
tests/ui/screenshots."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from carecal.services import outlook_accounts as outlook
from carecal.services import outlook_client
from carecal.store.syncstate import SyncStore
from carecal.ui.accounts_page import AccountsDialog
from tests.fakes.graph_server import GraphEmulator
from tests.google_signin_helpers import keyring_entries
from tests.outlook_signin_helpers import MsBrowser
from tests.providers.outlook_support import running_emulator
from tests.ui.test_screenshots import _assert_not_blank, _save


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphEmulator]:
    with running_emulator() as server:
        monkeypatch.setenv(outlook_client.CLIENT_ID_ENV, server.identity.client_id)
        monkeypatch.setenv(outlook_client.AUTHORITY_ENV, server.authority)
        monkeypatch.setenv(outlook_client.API_BASE_ENV, server.api_base)
        server.add_calendar("Home visits")
        yield server


def dialog_with(ctx, qtbot) -> AccountsDialog:  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_add_outlook_in_the_browser_choose_calendars_and_privacy(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    changed: list[int] = []
    accounts = AccountsDialog(ctx, after_change=lambda: changed.append(1))
    qtbot.addWidget(accounts)
    accounts.show()
    assert accounts.outlook_button.text() == "Add Outlook account…"
    browser = MsBrowser()
    accounts.open_browser = browser
    sign_in = accounts.add_outlook()
    qtbot.addWidget(sign_in)
    assert sign_in.client_id.text() == emu.identity.client_id  # from $CARECAL_MS_CLIENT_ID
    shots = [_save(sign_in, "outlook_signin_start")]
    sign_in.start()
    qtbot.waitUntil(lambda: sign_in.pages.currentWidget() is sign_in.choose_page, timeout=10000)
    assert browser.opened and "practitioner@example.com" in sign_in.signed_in.text()
    assert sign_in.calendars.count() == 2
    states = [sign_in.calendars.item(i).checkState() for i in range(2)]
    assert states == [Qt.CheckState.Checked, Qt.CheckState.Checked]
    sign_in.calendars.item(1).setCheckState(Qt.CheckState.Unchecked)
    sign_in.privacy.setCurrentIndex(sign_in.privacy.findData("busy"))
    assert "Outlook sees only “Busy”" in sign_in.privacy_help.text()
    shots.append(_save(sign_in, "outlook_signin_choose"))
    sign_in.add_account()
    [account] = outlook.outlook_accounts(repo)
    assert changed == [1] and not sign_in.isVisible() and sign_in.result_account == account
    assert outlook_client.privacy_of(account) == "busy"
    assert [c.name for c in repo.list_calendars() if c.account_id == account.id] == ["Calendar"]
    assert keyring_entries()[account.id].startswith("msal:")
    assert "msal" not in str(account.settings)
    # The account in the list: Outlook, what it sees, Sign out; no Sign in again.
    text = accounts.accounts.item(0).text()
    assert "Outlook · Outlook sees: only “busy”" in text and "Calendar" in text
    assert accounts.google_controls.isVisible() and accounts.sign_in_button.isHidden()
    assert accounts.privacy_label.text() == "What Outlook sees:"
    assert "Google" not in accounts.privacy_help.text()
    accounts.privacy.setCurrentIndex(accounts.privacy.findData("initials"))
    accounts._privacy_chosen(accounts.privacy.currentIndex())
    assert outlook_client.privacy_of(SyncStore(repo).account(account.id)) == "initials"
    shots.append(_save(accounts, "outlook_accounts_list"))
    for path in shots:
        _assert_not_blank(path)
    # Removing it forgets every keyring part of MSAL's cache, not only the account's own entry.
    assert len([k for k in keyring_entries() if k.startswith(account.id)]) >= 2
    accounts.accounts.setCurrentRow(0)
    accounts.confirm = lambda text: True
    accounts.remove_selected()
    assert outlook.outlook_accounts(repo) == []
    assert not [k for k in keyring_entries() if k.startswith(account.id)]


def test_device_code_is_shown_big_and_the_sign_in_finishes_when_entered(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    emu.identity.device_interval = 1
    accounts = dialog_with(ctx, qtbot)
    sign_in = accounts.add_outlook()
    qtbot.addWidget(sign_in)
    sign_in.device_code.setChecked(True)
    sign_in.start()
    qtbot.waitUntil(lambda: bool(sign_in.code.text()), timeout=10000)
    assert sign_in.code_box.isVisible() and not sign_in.url_box.isVisible()
    assert sign_in.code_url.text().startswith("http")
    assert "on the other device" in sign_in.waiting.text()
    shot = _save(sign_in, "outlook_signin_device_code")
    emu.approve_device_code(sign_in.code.text())
    qtbot.waitUntil(lambda: sign_in.pages.currentWidget() is sign_in.choose_page, timeout=10000)
    assert "practitioner@example.com" in sign_in.signed_in.text()
    _assert_not_blank(shot)


def test_waiting_can_be_cancelled_and_nothing_is_added(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    accounts = dialog_with(ctx, qtbot)
    opened: list[str] = []
    accounts.open_browser = opened.append  # a browser that never comes back
    sign_in = accounts.add_outlook()
    qtbot.addWidget(sign_in)
    sign_in.start()
    qtbot.waitUntil(lambda: sign_in.url.text().startswith(emu.authorize_uri), timeout=5000)
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    assert opened == [sign_in.url.text()] and sign_in.copy_button.isEnabled()
    shot = _save(sign_in, "outlook_signin_waiting")
    sign_in.cancel()
    qtbot.waitUntil(lambda: sign_in.pages.currentWidget() is sign_in.start_page, timeout=5000)
    assert "cancelled" in sign_in.start_message.text()
    assert outlook.outlook_accounts(ctx.session.repo) == []
    _assert_not_blank(shot)


def test_a_missing_client_id_is_said_on_the_start_page(ctx, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(outlook_client.CLIENT_ID_ENV, raising=False)
    accounts = dialog_with(ctx, qtbot)
    sign_in = accounts.add_outlook()
    qtbot.addWidget(sign_in)
    assert sign_in.client_id.text() == ""
    sign_in.start()
    assert sign_in.pages.currentWidget() is sign_in.start_page
    assert "no Microsoft client id" in sign_in.start_message.text()


def test_needs_sign_in_then_sign_in_again_and_sign_out(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    signin = outlook.sign_in_blocking(
        outlook_client.resolve_client(None), open_browser=MsBrowser(), timeout=20
    )
    account = outlook.finish_add(repo, signin, signin.calendars[:1], actor="test").account
    SyncStore(repo).update_account_settings(account.id, {"needs_sign_in": True}, actor="sync")
    accounts = dialog_with(ctx, qtbot)
    accounts.open_browser = MsBrowser()
    assert "needs sign-in" in accounts.accounts.item(0).text()
    assert accounts.sign_in_button.isVisible()
    shot = _save(accounts, "outlook_accounts_needs_sign_in")
    again = accounts.sign_in_again()
    assert again is not None and not again.client_id.isEnabled()
    qtbot.addWidget(again)
    again.start()
    qtbot.waitUntil(
        lambda: not SyncStore(repo).account(account.id).settings["needs_sign_in"], timeout=10000
    )
    qtbot.waitUntil(lambda: accounts.sign_in_button.isHidden(), timeout=5000)
    asked: list[str] = []
    accounts.confirm = lambda text: asked.append(text) is None
    accounts.sign_out_selected()
    qtbot.waitUntil(lambda: "signed out" in accounts.accounts.item(0).text(), timeout=5000)
    assert asked and "removed from this computer" in asked[0]
    assert account.id not in keyring_entries()
    _assert_not_blank(shot)
