"""The "Kiosk" tab of the settings dialog: names, self check-in, idle timeout, exit PIN.

GUI thread only. The PIN typed here is hashed (salted scrypt, about 50 ms) when the dialog is
saved; only the hash reaches the settings. Leaving the PIN fields empty keeps the current PIN.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from carecal.domain.errors import ValidationError
from carecal.domain.models import Settings
from carecal.services.kiosk import IDLE_MAX_SECONDS, IDLE_MIN_SECONDS, NameStyle, hash_pin


class KioskSettingsPage(QWidget):
    """Edits the kiosk fields of a Settings; ``apply`` returns the changed copy."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names = QComboBox()
        for style in NameStyle:
            self.names.addItem(style.label, style.value)
        self.names.setCurrentIndex(max(0, self.names.findData(settings.kiosk_names)))
        self.self_checkin = QCheckBox("Patients may check themselves in (date of birth + initials)")
        self.self_checkin.setChecked(settings.kiosk_self_checkin)
        self.idle = QSpinBox()
        self.idle.setRange(IDLE_MIN_SECONDS, IDLE_MAX_SECONDS)
        self.idle.setSuffix(" s")
        self.idle.setValue(settings.kiosk_idle_seconds)
        self.pin, self.pin_again = QLineEdit(), QLineEdit()
        for edit in (self.pin, self.pin_again):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setMaxLength(12)
        has_pin = bool(settings.kiosk_pin_hash)
        self.pin.setPlaceholderText("unchanged" if has_pin else "4 to 12 digits")
        state = "A PIN is set." if has_pin else "No PIN yet: the kiosk will not open without one."
        self.pin_state = QLabel(state)
        self.pin_state.setObjectName("Hint")
        form = QFormLayout(self)
        form.setContentsMargins(16, 16, 16, 16)
        form.setVerticalSpacing(10)
        form.addRow("Patient names", self.names)
        form.addRow("", self.self_checkin)
        form.addRow("Back to the start screen after", self.idle)
        form.addRow("New PIN to leave the kiosk", self.pin)
        form.addRow("New PIN again", self.pin_again)
        form.addRow("", self.pin_state)
        hint = QLabel(
            "The kiosk (Tools > Front desk kiosk…, or carecal kiosk) shows today's list and the "
            "next days without settings, accounts or exports."
        )
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        form.addRow("", hint)

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the kiosk fields of this page. Raises ValueError (PIN typos)."""
        pin, again = self.pin.text().strip(), self.pin_again.text().strip()
        hashed = settings.kiosk_pin_hash
        if pin or again:
            if pin != again:
                raise ValueError("The two kiosk PINs differ.")
            try:
                hashed = hash_pin(pin)
            except ValidationError as err:
                raise ValueError(str(err)) from err
        return replace(
            settings,
            kiosk_names=str(self.names.currentData()),
            kiosk_self_checkin=self.self_checkin.isChecked(),
            kiosk_idle_seconds=self.idle.value(),
            kiosk_pin_hash=hashed,
        )
