"""The Reminders settings tab: templates checked, the password to the keyring only."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from carecal.domain.models import Settings
from carecal.services.email_reminders import SMTP_SECRET_ID
from carecal.ui.reminder_settings import ReminderSettingsPage
from carecal.ui.settings_dialog import SettingsDialog

SHOTS = Path(__file__).parent / "screenshots"


def test_page_saves_fields_and_keeps_the_password_out_of_settings(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = ReminderSettingsPage(Settings())
    qtbot.addWidget(page)
    page.email.setChecked(True)
    page.host.setText("smtp.example.test")
    page.from_address.setText("desk@example.test")
    page.password.setText("pw-123")
    page.minutes.setValue(15)
    saved = page.apply(Settings())
    assert (saved.smtp_host, saved.notify_before_minutes, saved.email_subject) == (
        "smtp.example.test",
        15,
        "",  # the built-in template stays the built-in one
    )
    assert "pw-123" not in repr(saved)
    assert keyring.get_password("Carecal", SMTP_SECRET_ID) == "pw-123"
    page.subject.setText("See you at {tiem}")
    with pytest.raises(ValueError, match=r"unknown placeholder \{tiem\}"):
        page.apply(Settings())


def test_settings_dialog_has_the_reminders_tab(qtbot, qapp) -> None:  # type: ignore[no-untyped-def]
    from carecal.ui.theme import apply_theme

    apply_theme(qapp)
    dialog = SettingsDialog(Settings(), [], [], [])
    qtbot.addWidget(dialog)
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert "Reminders" in tabs
    dialog.tabs.setCurrentIndex(tabs.index("Reminders"))
    dialog.resize(760, 820)
    dialog.show()
    qtbot.waitExposed(dialog)
    SHOTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(SHOTS / "settings_reminders.png"))
