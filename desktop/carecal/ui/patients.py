"""The patients window: search, add, edit, and each patient's upcoming and past visits.

GUI thread only; reads and writes go through the database lane.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.changes import Changes
from carecal.domain.models import Event, Patient, new_id
from carecal.ui.context import UiContext
from carecal.ui.qtconv import to_date

NO_BIRTH_DATE = QDate(1900, 1, 1)


class PatientsWindow(QWidget):
    """A list of patients on the left, the chosen one's details and visits on the right."""

    def __init__(self, ctx: UiContext, on_error: Callable[[Exception], None]) -> None:
        super().__init__(None, Qt.WindowType.Window)
        self.ctx, self.on_error = ctx, on_error
        self.setObjectName("Patients")
        self.setWindowTitle("Patients — Carecal")
        self.resize(900, 600)
        self.current: Patient | None = None
        self.search = QLineEdit()
        self.search.setObjectName("SearchField")
        self.search.setPlaceholderText("Search patients")
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._picked)
        add = QPushButton("Add patient")
        add.setObjectName("Primary")
        add.clicked.connect(self.new_patient)
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.list, 1)
        left.addWidget(add)

        self.heading = QLabel("New patient")
        self.heading.setObjectName("DialogTitle")
        self.first, self.last = QLineEdit(), QLineEdit()
        self.phone, self.email = QLineEdit(), QLineEdit()
        self.birth = QDateEdit()
        self.birth.setCalendarPopup(True)
        self.birth.setDisplayFormat("d MMM yyyy")
        self.birth.setMinimumDate(NO_BIRTH_DATE)
        self.birth.setSpecialValueText("—")
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(70)
        form = QFormLayout()
        form.setVerticalSpacing(8)
        form.addRow("First name", self.first)
        form.addRow("Last name", self.last)
        form.addRow("Phone", self.phone)
        form.addRow("Email", self.email)
        form.addRow("Birth date", self.birth)
        form.addRow("Notes", self.notes)
        self.reminders = QCheckBox("Send e-mail reminders")
        self.reminders.setChecked(True)
        form.addRow("", self.reminders)
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("Primary")
        self.save_button.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addWidget(self.error, 1)
        buttons.addWidget(self.save_button)
        self.upcoming, self.past = QListWidget(), QListWidget()
        visits = QHBoxLayout()
        for title, box in (("Upcoming visits", self.upcoming), ("Past visits", self.past)):
            col = QVBoxLayout()
            label = QLabel(title)
            label.setObjectName("FieldLabel")
            col.addWidget(label)
            col.addWidget(box)
            visits.addLayout(col)
        right = QVBoxLayout()
        right.setSpacing(10)
        right.addWidget(self.heading)
        right.addLayout(form)
        right.addLayout(buttons)
        right.addLayout(visits, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 16)
        lay.setSpacing(18)
        lay.addLayout(left, 2)
        lay.addLayout(right, 3)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _: self._timer.start())
        ctx.events.refresh_needed.connect(self._changes)
        self.refresh()
        self.new_patient()

    def _changes(self, changes: Changes) -> None:
        if changes.patients or changes.events:
            self.refresh()

    def refresh(self) -> None:
        repo, query = self.ctx.session.repo, self.search.text().strip()
        self.ctx.tasks.submit(lambda: repo.list_patients(query), self._fill, self.on_error)

    def _fill(self, patients: list[Patient]) -> None:
        keep = self.current.id if self.current else None
        self.list.blockSignals(True)
        self.list.clear()
        for p in patients:
            item = QListWidgetItem(p.full_name + (f"\n{p.phone}" if p.phone else ""))
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.list.addItem(item)
            if p.id == keep:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def _picked(self, item: QListWidgetItem | None) -> None:
        p = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if isinstance(p, Patient):
            self.show_patient(p)

    def new_patient(self) -> None:
        self.current = None
        self.heading.setText("New patient")
        for w in (self.first, self.last, self.phone, self.email):
            w.clear()
        self.notes.clear()
        self.reminders.setChecked(True)
        self.birth.setDate(NO_BIRTH_DATE)
        self.upcoming.clear()
        self.past.clear()
        self._placeholders()
        self.first.setFocus()

    def show_patient(self, p: Patient) -> None:
        self.current = p
        self.heading.setText(p.full_name)
        self.first.setText(p.first_name)
        self.last.setText(p.last_name)
        self.phone.setText(p.phone)
        self.email.setText(p.email)
        self.notes.setPlainText(p.notes)
        self.reminders.setChecked(p.email_reminders)
        b = p.birth_date
        self.birth.setDate(QDate(b.year, b.month, b.day) if b else NO_BIRTH_DATE)
        session = self.ctx.session

        def job() -> tuple[list[Event], ZoneInfo]:
            return session.repo.events_for_patient(p.id), session.events.display_zone()

        self.ctx.tasks.submit(job, self._visits, self.on_error)

    def _visits(self, loaded: tuple[list[Event], ZoneInfo]) -> None:
        events, tz = loaded
        now = self.ctx.clock()
        self.upcoming.clear()
        self.past.clear()
        for ev in sorted(events, key=lambda e: _instant(e.start)):
            text = f"{visit_stamp(ev.start, tz)}\n{ev.title} · {ev.status.label}"
            if _instant(ev.start) >= now:
                self.upcoming.addItem(text)
            else:
                self.past.insertItem(0, text)  # most recent first
        self._placeholders()

    def _placeholders(self) -> None:
        for box, text in ((self.upcoming, "No upcoming visits"), (self.past, "No past visits")):
            if box.count() == 0:
                item = QListWidgetItem(text)
                item.setFlags(Qt.ItemFlag.NoItemFlags)
                item.setForeground(QColor("#9ca3af"))
                box.addItem(item)

    def save(self) -> None:
        first = self.first.text().strip()
        if not first:
            self.error.setText("A first name is needed.")
            return
        self.error.setText("")
        birth = to_date(self.birth.date())
        patient = Patient(
            id=self.current.id if self.current else new_id(),
            first_name=first,
            last_name=self.last.text().strip(),
            phone=self.phone.text().strip(),
            email=self.email.text().strip(),
            birth_date=None if birth == to_date(NO_BIRTH_DATE) else birth,
            notes=self.notes.toPlainText(),
            email_reminders=self.reminders.isChecked(),
        )
        repo, actor, is_new = self.ctx.session.repo, self.ctx.actor, self.current is None
        self.current = patient

        def job() -> Changes:
            if is_new:
                return repo.add_patient(patient, actor=actor)
            return repo.update_patient(patient, actor=actor)

        def done(changes: Changes) -> None:
            self.heading.setText(patient.full_name)
            self.ctx.events.changes_applied.emit(changes)

        self.ctx.tasks.submit(job, done, self.on_error)


def visit_stamp(when: date, tz: ZoneInfo) -> str:
    """A visit's start as the practitioner reads it: in the display zone, not the event's."""
    if isinstance(when, datetime):
        local = when.astimezone(tz)
        return f"{local:%a %-d %b %Y  %H:%M}"
    return f"{when:%a %-d %b %Y}  ·  all day"


def _instant(value: date) -> datetime:
    if isinstance(value, datetime):
        return value
    from datetime import UTC, time

    return datetime.combine(value, time(), UTC)
