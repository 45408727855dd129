"""The "Reminders" tab of the settings dialog: desktop notifications and patient e-mails.

GUI thread only. The SMTP password typed here goes straight to the system keyring when the
dialog is saved (``apply``); it never reaches the settings or the database. Leaving it empty
keeps the stored one.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from carecal.domain.errors import CarecalError
from carecal.domain.models import Settings
from carecal.services import email_templates
from carecal.services.reminders import parse_clock

_SECURITY = (
    ("STARTTLS (port 587)", "starttls"),
    ("SSL/TLS (port 465)", "ssl"),
    ("None (local relay only)", "none"),
)


class ReminderSettingsPage(QWidget):
    """Edits the reminder fields of a Settings; ``apply`` returns the changed copy."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        s = settings
        self.notify = QCheckBox("Notify me before each appointment")
        self.notify.setChecked(s.notify_before_enabled)
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 240)
        self.minutes.setSuffix(" min before")
        self.minutes.setValue(s.notify_before_minutes)
        self.summary = QCheckBox("Morning summary of the day")
        self.summary.setChecked(s.summary_enabled)
        self.summary_time = QTimeEdit()
        self.summary_time.setDisplayFormat("HH:mm")
        at = parse_clock(s.summary_time)
        self.summary_time.setTime(QTime(at.hour, at.minute) if at else QTime(7, 30))
        self.email = QCheckBox("Send e-mail reminders to patients")
        self.email.setChecked(s.email_reminders_enabled)
        self.hours = QSpinBox()
        self.hours.setRange(1, 14 * 24)
        self.hours.setSuffix(" hours before the visit")
        self.hours.setValue(s.email_lead_hours)
        self.host, self.user, self.from_address = (
            QLineEdit(s.smtp_host),
            QLineEdit(s.smtp_user),
            QLineEdit(s.smtp_from),
        )
        self.host.setPlaceholderText("smtp.example.com")
        self.from_address.setPlaceholderText("reception@example.com")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(s.smtp_port)
        self.security = QComboBox()
        for label, value in _SECURITY:
            self.security.addItem(label, value)
        self.security.setCurrentIndex(max(0, self.security.findData(s.smtp_security)))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept in the system keyring; empty = unchanged")
        self.practitioner = QLineEdit(s.practitioner_name)
        self.subject = QLineEdit(s.email_subject or email_templates.DEFAULT_SUBJECT)
        self.body = QPlainTextEdit(s.email_body or email_templates.DEFAULT_BODY)
        self.body.setFixedHeight(150)
        fields = QLabel("Placeholders: " + ", ".join("{" + f + "}" for f in email_templates.FIELDS))
        fields.setObjectName("Hint")
        fields.setWordWrap(True)
        for narrow in (self.minutes, self.summary_time, self.hours, self.port, self.security):
            narrow.setMaximumWidth(240)
        form = QFormLayout(self)
        form.setContentsMargins(16, 16, 16, 16)
        form.setVerticalSpacing(8)
        form.addRow("", self.notify)
        form.addRow("Remind me", self.minutes)
        form.addRow("", self.summary)
        form.addRow("Summary at", self.summary_time)
        form.addRow("", self.email)
        form.addRow("Send", self.hours)
        form.addRow("Mail server", self.host)
        form.addRow("Port", self.port)
        form.addRow("Security", self.security)
        form.addRow("User name", self.user)
        form.addRow("Password", self.password)
        form.addRow("From address", self.from_address)
        form.addRow("Your name", self.practitioner)
        form.addRow("Subject", self.subject)
        form.addRow("Message", self.body)
        form.addRow("", fields)

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with this page's fields; a typed password goes to the keyring.

        Raises ValueError (unknown placeholder, missing server, no keyring)."""
        subject, body = self.subject.text().strip(), self.body.toPlainText()
        try:
            email_templates.check_template(subject, "subject")
            email_templates.check_template(body, "body")
        except CarecalError as err:
            raise ValueError(f"Reminders: {err}.") from err
        enabled = self.email.isChecked()
        if enabled and (not self.host.text().strip() or "@" not in self.from_address.text()):
            raise ValueError("Reminders: e-mail reminders need a mail server and a from address.")
        if self.password.text():
            from carecal.services.email_reminders import store_smtp_password

            try:
                store_smtp_password(self.password.text())
            except CarecalError as err:
                raise ValueError(f"Reminders: {err}") from err
            self.password.clear()
        t = self.summary_time.time()
        return replace(
            settings,
            notify_before_enabled=self.notify.isChecked(),
            notify_before_minutes=self.minutes.value(),
            summary_enabled=self.summary.isChecked(),
            summary_time=f"{t.hour():02d}:{t.minute():02d}",
            email_reminders_enabled=enabled,
            email_lead_hours=self.hours.value(),
            smtp_host=self.host.text().strip(),
            smtp_port=self.port.value(),
            smtp_security=str(self.security.currentData()),
            smtp_user=self.user.text().strip(),
            smtp_from=self.from_address.text().strip(),
            practitioner_name=self.practitioner.text().strip(),
            email_subject="" if subject == email_templates.DEFAULT_SUBJECT else subject,
            email_body="" if body == email_templates.DEFAULT_BODY else body,
        )
