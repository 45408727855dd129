"""The "Add Docplanner account" dialog of the Accounts page against the Docplanner emulator:
a wrong secret, the test, adding (secret in the keyring only), mapping one address; with
screenshots of each step in tests/ui/screenshots."""

from __future__ import annotations

import json
from collections.abc import Iterator

import keyring
import pytest

from carecal.services import docplanner_client as dpc
from carecal.store.docplanner import DocplannerStore
from carecal.ui.accounts_page import AccountsDialog
from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.ui.test_screenshots import _assert_not_blank, _save


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator(clock=Clock(real=True)) as server:
        monkeypatch.setenv(dpc.HOST_ENV, server.host_template)
        yield server


def test_add_docplanner_account_and_map_one_address(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    changed: list[int] = []
    accounts = AccountsDialog(ctx, after_change=lambda: changed.append(1))
    qtbot.addWidget(accounts)
    accounts.show()
    assert accounts.docplanner_button.text() == "Add Docplanner account…"
    wizard = accounts.add_docplanner()
    qtbot.addWidget(wizard)
    shots = [_save(wizard, "docplanner_wizard_start")]
    assert not wizard.test_button.isEnabled()
    wizard.domain.setCurrentIndex(wizard.domain.findData("znanylekarz.pl"))
    wizard.client_id.setText(emu.client_id)
    wizard.client_secret.setText("not-the-secret")
    wizard.test_connection()
    qtbot.waitUntil(lambda: wizard.test_button.isEnabled(), timeout=10000)
    assert "refused" in wizard.test_result.text() and not wizard.add_button.isEnabled()
    assert "not-the-secret" not in wizard.test_result.text()
    shots.append(_save(wizard, "docplanner_wizard_wrong_secret"))
    wizard.client_secret.setText(emu.client_secret)
    wizard.test_connection()
    qtbot.waitUntil(lambda: wizard.add_button.isEnabled(), timeout=10000)
    assert "Connected" in wizard.test_result.text()
    assert "Gabinet Psychoterapii" in wizard.test_result.text()
    shots.append(_save(wizard, "docplanner_wizard_connected"))
    wizard.add_account()
    [account] = dpc.docplanner_accounts(repo)
    assert changed == [1] and wizard.pages.currentWidget() is wizard.map_page
    stored = keyring.get_password("Carecal", account.id)
    assert stored is not None and json.loads(stored)["client_secret"] == emu.client_secret
    assert emu.client_secret not in json.dumps(account.settings)
    assert wizard.client_secret.text() == ""
    assert "Docplanner · znanylekarz.pl" in accounts.accounts.item(0).text()
    qtbot.waitUntil(lambda: len(wizard.tree_nodes) == 2, timeout=10000)
    assert wizard.calendar.count() >= 1
    wizard.select_address(emu.ids.online)
    node = wizard.selected_node()
    assert node is not None and node.address.id == emu.ids.online
    item = wizard.tree.currentItem()
    assert item is not None and item.text(1) == "online only · visit payments"
    assert item.text(2) == "not mapped"
    assert wizard.services.rowCount() == len(emu.ids.online_services)
    shots.append(_save(wizard, "docplanner_wizard_map"))
    wizard.map_selected()
    store = DocplannerStore(repo)
    [mapped] = store.addresses(account.id)
    assert mapped.address_id == emu.ids.online and mapped.online_only and mapped.visit_payment
    assert mapped.calendar_id == wizard.calendar.currentData()
    services = store.services(account.id, emu.ids.online)
    assert {s.address_service_id for s in services} == set(emu.ids.online_services)
    assert all(s.service_type_id for s in services)  # created: none had a same-name type
    item = wizard.tree.currentItem()
    assert item is not None and item.text(2) == wizard.calendar.currentText()
    assert "Mapped" in wizard.map_result.text()
    shots.append(_save(wizard, "docplanner_wizard_mapped"))
    shots.append(_save(accounts, "docplanner_accounts_list"))
    for path in shots:
        _assert_not_blank(path)


def test_map_an_address_in_breaks_mode_and_back(ctx, qtbot, emu) -> None:  # type: ignore[no-untyped-def]
    repo = ctx.session.repo
    accounts = AccountsDialog(ctx, after_change=lambda: None)
    qtbot.addWidget(accounts)
    wizard = accounts.add_docplanner()
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.client_id.setText(emu.client_id)
    wizard.client_secret.setText(emu.client_secret)
    wizard.add_account()
    [account] = dpc.docplanner_accounts(repo)
    qtbot.waitUntil(lambda: len(wizard.tree_nodes) == 2, timeout=10000)
    wizard.select_address(emu.ids.office)
    labels = [wizard.mode.itemText(i) for i in range(wizard.mode.count())]
    assert labels == [
        "Publish free slots from Carecal (recommended)",
        "Keep working hours in Docplanner; Carecal adds breaks for busy time",
    ]
    assert wizard.mode.currentData() == "slots"  # the default for an address not mapped yet
    wizard.mode.setCurrentIndex(wizard.mode.findData("breaks"))
    wizard.map_selected()
    store = DocplannerStore(repo)
    [mapped] = store.addresses(account.id)
    assert mapped.address_id == emu.ids.office and mapped.publish_mode == "breaks"
    item = wizard.tree.currentItem()
    assert item is not None and item.text(3) == "breaks"
    assert "blocked with breaks" in wizard.map_result.text()
    shots = [_save(wizard, "docplanner_wizard_breaks_mode")]
    # Another address selected and back: the choice shown is the stored one.
    wizard.select_address(emu.ids.online)
    assert wizard.mode.currentData() == "slots"
    wizard.select_address(emu.ids.office)
    assert wizard.mode.currentData() == "breaks"
    wizard.mode.setCurrentIndex(wizard.mode.findData("slots"))
    wizard.map_selected()
    [again] = store.addresses(account.id)
    assert again.publish_mode == "slots" and again.calendar_id == mapped.calendar_id
    assert "free time is published" in wizard.map_result.text()
    item = wizard.tree.currentItem()
    assert item is not None and item.text(3) == "free slots"
    for path in shots:
        _assert_not_blank(path)
