"""The Google parts of the Accounts dialog and the sign-in dialog, against the emulator, with
screenshots of each new state in tests/ui/screenshots."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from carecal.net.tokens import TokenSet
from carecal.services import google_accounts as google
from carecal.services.accounts import RemoteCalendar
from carecal.store.syncstate import SyncStore
from carecal.ui.accounts_page import AccountsDialog
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.fakes.google_oauth import CALENDAR
from tests.google_signin_helpers import Browser, client, emulator, endpoints, keyring_entries
from tests.ui.test_screenshots import _assert_not_blank, _save

FOUND = (
    RemoteCalendar("practitioner@example.com", "Practice", "#9fe1e7"),
    RemoteCalendar("c0ffee@group.calendar.google.com", "Home visits", "#f691b2"),
    RemoteCalendar(
        "en.polish#holiday@group.v.calendar.google.com", "Holidays in Poland", "#16a765", True
    ),
)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleCalendarEmulator]:
    with emulator() as server:
        for key, url in endpoints(server).items():
            monkeypatch.setenv(google.ENDPOINT_ENV[key], url)
        monkeypatch.setenv(google.CLIENT_ID_ENV, server.oauth.client_id)
        monkeypatch.setenv(google.CLIENT_SECRET_ENV, server.oauth.client_secret)
        yield server


def granted(emu: GoogleCalendarEmulator) -> google.GoogleSignIn:
    with emu.lock:
        access, refresh = emu.oauth.issue((CALENDAR + ".events",))
    tokens = TokenSet(access_token=access, refresh_token=refresh, expires_at=time.time() + 3500)
    return google.GoogleSignIn(client(emu), tokens, FOUND, google.guess_email(FOUND))


def dialog_with(ctx, qtbot) -> AccountsDialog:  # type: ignore[no-untyped-def]
    dialog = AccountsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_add_google_waits_for_the_browser_and_cancels(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    accounts = dialog_with(ctx, qtbot)
    held = Browser(hold=True)
    accounts.open_browser = held
    sign_in = accounts.add_google()
    qtbot.addWidget(sign_in)
    assert sign_in.client_id.text() == emu.oauth.client_id  # from $CARECAL_GOOGLE_CLIENT_ID
    shots = [_save(sign_in, "google_signin_start")]
    sign_in.start()
    assert sign_in.pages.currentWidget() is sign_in.waiting_page
    qtbot.waitUntil(lambda: sign_in.url.text().startswith(emu.auth_uri), timeout=5000)
    # The address reaches the window before the worker thread hands it to the browser.
    qtbot.waitUntil(lambda: bool(held.urls), timeout=5000)
    assert held.urls == [sign_in.url.text()] and sign_in.copy_button.isEnabled()
    assert "Waiting for you to sign in in your browser" in sign_in.waiting.text()
    shots.append(_save(sign_in, "google_signin_waiting"))
    sign_in.cancel()
    qtbot.waitUntil(lambda: sign_in.pages.currentWidget() is sign_in.start_page, timeout=5000)
    assert "cancelled" in sign_in.start_message.text()
    assert google.google_accounts(ctx.session.repo) == []
    for path in shots:
        _assert_not_blank(path)


def test_a_missing_client_id_is_said_on_the_start_page(ctx, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(google.CLIENT_ID_ENV, raising=False)
    accounts = dialog_with(ctx, qtbot)
    sign_in = accounts.add_google()
    qtbot.addWidget(sign_in)
    assert sign_in.client_id.text() == ""
    sign_in.start()
    assert sign_in.pages.currentWidget() is sign_in.start_page
    assert "no Google OAuth client id" in sign_in.start_message.text()


def test_refusal_in_the_browser_comes_back_as_a_message(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    emu.oauth.deny_consent = True
    accounts = dialog_with(ctx, qtbot)
    accounts.open_browser = Browser()
    sign_in = accounts.add_google()
    qtbot.addWidget(sign_in)
    sign_in.start()
    qtbot.waitUntil(lambda: "access_denied" in sign_in.start_message.text(), timeout=5000)
    assert sign_in.pages.currentWidget() is sign_in.start_page


def test_choosing_calendars_adds_the_account_with_its_privacy(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    accounts = dialog_with(ctx, qtbot)
    sign_in = accounts.add_google()
    qtbot.addWidget(sign_in)
    sign_in._signed_in(granted(emu))  # what the worker hands over after the browser sign-in
    assert sign_in.pages.currentWidget() is sign_in.choose_page
    assert "practitioner@example.com" in sign_in.signed_in.text()
    states = [sign_in.calendars.item(i).checkState() for i in range(3)]
    assert states == [Qt.CheckState.Checked, Qt.CheckState.Checked, Qt.CheckState.Unchecked]
    assert not sign_in.calendars.item(0).icon().isNull()  # the calendar's colour
    assert "initials" in sign_in.privacy_help.text()
    sign_in.privacy.setCurrentIndex(sign_in.privacy.findData("busy"))
    assert "only “Busy”" in sign_in.privacy_help.text()
    sign_in.calendars.item(1).setCheckState(Qt.CheckState.Unchecked)
    shots = [_save(sign_in, "google_signin_choose")]
    sign_in.add_account()
    [account] = google.google_accounts(repo)
    assert google.privacy_of(account) == "busy" and sign_in.result_account == account
    assert [c.name for c in repo.list_calendars() if c.account_id == account.id] == ["Practice"]
    assert account.id in keyring_entries() and "ya29" not in str(account.settings)
    assert "is signed in" in accounts.account_message.text()

    # The account in the list: privacy selector with its sentence, Sign out; no Sign in again.
    assert "practitioner@example.com" in accounts.accounts.item(0).text()
    assert accounts.google_controls.isVisible() and accounts.sign_in_button.isHidden()
    assert "only “Busy”" in accounts.privacy_help.text()
    accounts.privacy.setCurrentIndex(accounts.privacy.findData("initials"))
    accounts._privacy_chosen(accounts.privacy.currentIndex())
    assert google.privacy_of(SyncStore(repo).account(account.id)) == "initials"
    assert "patient's initials" in accounts.privacy_help.text()
    shots.append(_save(accounts, "google_accounts_privacy"))
    for path in shots:
        _assert_not_blank(path)


def test_needs_sign_in_shows_sign_in_again_and_sign_out_revokes(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    added = google.finish_add(repo, granted(emu), list(FOUND[:1]), actor="test")
    SyncStore(repo).update_account_settings(added.account.id, {"needs_sign_in": True}, actor="sync")
    accounts = dialog_with(ctx, qtbot)
    assert "needs sign-in" in accounts.accounts.item(0).text()
    assert accounts.sign_in_button.isVisible() and accounts.sign_out_button.isEnabled()
    shot = _save(accounts, "google_accounts_needs_sign_in")
    asked: list[str] = []
    accounts.confirm = lambda text: asked.append(text) is None
    accounts.sign_out_selected()
    qtbot.waitUntil(lambda: "signed out" in accounts.accounts.item(0).text(), timeout=5000)
    assert asked and "revoked at Google" in asked[0]
    assert ("POST", "/revoke", 200) in emu.log
    assert added.account.id not in keyring_entries()
    assert not accounts.sign_out_button.isEnabled() and accounts.sign_in_button.isVisible()
    _assert_not_blank(shot)


def test_removing_a_google_account_signs_out_first(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    google.finish_add(repo, granted(emu), list(FOUND[:1]), actor="test")
    accounts = dialog_with(ctx, qtbot)
    asked: list[str] = []
    accounts.confirm = lambda text: asked.append(text) is None
    accounts.remove_selected()
    qtbot.waitUntil(lambda: google.google_accounts(repo) == [], timeout=5000)
    assert "signs out of Google first" in asked[0]
    assert ("POST", "/revoke", 200) in emu.log


def test_add_google_end_to_end_in_the_window(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    emu.add_calendar("c0ffee@group.calendar.google.com", "Home visits")
    changed: list[int] = []
    accounts = AccountsDialog(ctx, after_change=lambda: changed.append(1))
    qtbot.addWidget(accounts)
    accounts.show()
    browser = Browser()
    accounts.open_browser = browser
    sign_in = accounts.add_google()
    qtbot.addWidget(sign_in)
    sign_in.start()
    qtbot.waitUntil(lambda: sign_in.pages.currentWidget() is sign_in.choose_page, timeout=10000)
    assert browser.urls and sign_in.calendars.count() == 2
    sign_in.add_account()
    [account] = google.google_accounts(repo)
    assert changed == [1] and not sign_in.isVisible()
    mirrored = sorted(c.name for c in repo.list_calendars() if c.account_id == account.id)
    assert mirrored == ["Home visits", "Practice"]

    # Needs sign-in: "Sign in again…" opens the browser at once and clears the mark.
    SyncStore(repo).update_account_settings(account.id, {"needs_sign_in": True}, actor="sync")
    accounts.reload()
    assert accounts.sign_in_button.isVisible()
    again = accounts.sign_in_again()
    assert again is not None
    qtbot.addWidget(again)
    qtbot.waitUntil(
        lambda: not SyncStore(repo).account(account.id).settings["needs_sign_in"], timeout=10000
    )
    assert len(browser.urls) == 2 and accounts.sign_in_button.isHidden()
    assert len(google.google_accounts(repo)) == 1
