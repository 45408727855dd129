"""The appointment editor dialog (GUI thread only).

The dialog never writes: it validates its fields inline and hands back an ``EditorResult`` (the
new event, or the changed fields of an existing occurrence, plus any quick-created patients) for
the caller to store on the database lane.

An appointment booked through Docplanner shows where it came from and its visit payment, the
minutes left recounted every 30 s from the session's clock; a video visit has "Join video" next
to its link, enabled from an hour before the start until the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QStringListModel, Qt, QTime, QTimer
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from carecal.domain.models import (
    AppointmentStatus,
    Calendar,
    Event,
    Occurrence,
    Patient,
    ServiceType,
    VisitMode,
    new_id,
)
from carecal.services.docplanner_info import BookingInfo
from carecal.ui.booking_badges import (
    JoinVideoButton,
    OpenUrl,
    PaymentPill,
    booking_summary,
    docplanner_pixmap,
)
from carecal.ui.context import system_now
from carecal.ui.participants_table import ParticipantsTable
from carecal.ui.qtconv import to_date, to_time
from carecal.ui.recurrence_editor import RecurrenceEditor

PatientSearch = Callable[[str, Callable[[list[Patient]], None]], None]
REFRESH_MS = 30_000  # the payment countdown and the join window

REMINDERS = (
    ("None", None),
    ("5 minutes before", 5),
    ("15 minutes before", 15),
    ("30 minutes before", 30),
    ("1 hour before", 60),
    ("1 day before", 1440),
)


@dataclass(slots=True)
class EditorResult:
    """``event``: the full new/edited event. ``changed``: fields that differ from the original
    occurrence (empty for a new event). ``new_patients``: patients to create first."""

    event: Event
    changed: dict[str, object] = field(default_factory=dict)
    new_patients: list[Patient] = field(default_factory=list)
    is_new: bool = True


def split_name(text: str) -> tuple[str, str]:
    first, _, last = text.strip().partition(" ")
    return first, last.strip()


class AppointmentEditor(QDialog):
    """Edit a new appointment (``occ`` None) or an existing occurrence."""

    def __init__(
        self,
        *,
        calendars: Sequence[Calendar],
        services: Sequence[ServiceType],
        patients: Sequence[Patient],
        tz: ZoneInfo,
        occ: Occurrence | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        find_patients: PatientSearch | None = None,
        booking: BookingInfo | None = None,
        clock: Callable[[], datetime] = system_now,
        open_url: OpenUrl | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``patients``: those the dialog must name at once (the appointment's own);
        ``find_patients(text, on_done)``: looks patients up as the user types (may answer later);
        ``booking``: the appointment's Docplanner booking, if any; ``clock``: the session's
        clock; ``open_url``: hands the video link to the browser (None: "Join video" does
        nothing, for dialogs that cannot open links).
        """
        super().__init__(parent)
        self.find_patients = find_patients
        self.booking = booking
        self.clock = clock
        self.open_url = open_url
        self.setWindowTitle("New appointment" if occ is None else "Edit appointment")
        self.setMinimumWidth(560)
        self.tz, self.occ = tz, occ
        self.calendars = [c for c in calendars if not c.read_only] or list(calendars)
        self.services = list(services)
        self.patients = list(patients)
        self.result_value: EditorResult | None = None
        self._new_patients: dict[str, Patient] = {}
        self._build()
        if occ is not None:
            self._load(occ)
        else:
            s = start or self.clock().astimezone(tz).replace(minute=0, second=0, microsecond=0)
            self._set_times(s.astimezone(tz), (end or s + timedelta(minutes=50)).astimezone(tz))
            self.recurrence.set_rule(None, s.astimezone(tz).date(), tz)
        self._sync_mode()
        self.refresh_live()
        self._live_timer = QTimer(self)
        self._live_timer.setInterval(REFRESH_MS)
        self._live_timer.timeout.connect(self.refresh_live)
        self._live_timer.start()
        self.title.setFocus()

    # ---- construction -------------------------------------------------------------------
    def _build(self) -> None:
        heading = QLabel(self.windowTitle())
        heading.setObjectName("DialogTitle")
        self.title = QLineEdit()
        self.title.setPlaceholderText("e.g. Initial consultation")
        self.patient = QComboBox()
        self.patient.setEditable(True)
        self.patient.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.patient.addItem("", None)
        for p in sorted(self.patients, key=lambda p: p.full_name.lower()):
            self.patient.addItem(p.full_name, p.id)
        lineedit = self.patient.lineEdit()
        assert lineedit is not None
        lineedit.setPlaceholderText("Search or type a new name")
        # The completer's model holds only what the last query found (search as you type), so
        # a practice with thousands of patients never loads them all into the dialog.
        self.patient_matches = QStringListModel([p.full_name for p in self.patients], self)
        completer = QCompleter(self.patient_matches, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(10)
        self.patient.setCompleter(completer)
        self._search_serial = 0
        self.patient_hint = QLabel()
        self.patient_hint.setObjectName("Hint")
        self.patient.editTextChanged.connect(self._patient_text_changed)

        self.service = QComboBox()
        self.service.addItem("No service", None)
        for s in self.services:
            self.service.addItem(f"{s.name}  ·  {s.duration_minutes} min", s.id)
        self.service.currentIndexChanged.connect(self._service_changed)
        self.price = QLineEdit()
        self.price.setPlaceholderText("0.00")
        self.price.setMaximumWidth(110)
        self.mode = QComboBox()
        for m in VisitMode:
            self.mode.addItem(m.label, m)
        self.mode.currentIndexChanged.connect(self._sync_mode)
        self.video_url = QLineEdit()
        self.video_url.setPlaceholderText("https://meet.example.com/…")
        self.join_video = JoinVideoButton(self._open_link)
        self.video_url.textChanged.connect(self._refresh_join)
        self.location = QLineEdit()
        self.status = QComboBox()
        for st in AppointmentStatus:
            self.status.addItem(st.label, st)
        self.calendar = QComboBox()
        for c in self.calendars:
            self.calendar.addItem(c.name, c.id)
            if c.is_default:
                self.calendar.setCurrentIndex(self.calendar.count() - 1)
        self.reminder = QComboBox()
        for label, minutes in REMINDERS:
            self.reminder.addItem(label, minutes)

        self.start_date, self.end_date = QDateEdit(), QDateEdit()
        self.start_time, self.end_time = QTimeEdit(), QTimeEdit()
        for d in (self.start_date, self.end_date):
            d.setCalendarPopup(True)
            d.setDisplayFormat("ddd d MMM yyyy")
        for t in (self.start_time, self.end_time):
            t.setDisplayFormat("HH:mm")
        self.all_day = QCheckBox("All day")
        self.all_day.toggled.connect(self._sync_mode)
        when = QWidget()
        wl = QVBoxLayout(when)
        wl.setContentsMargins(0, 0, 0, 0)
        r1, r2 = QHBoxLayout(), QHBoxLayout()
        r1.addWidget(self.start_date)
        r1.addWidget(self.start_time)
        r1.addWidget(QLabel("to"))
        r1.addWidget(self.end_time)
        r1.addStretch(1)
        r2.addWidget(self.end_date)
        r2.addWidget(self.all_day)
        r2.addStretch(1)
        wl.addLayout(r1)
        wl.addLayout(r2)
        self.start_time.timeChanged.connect(self._start_changed)
        self._last_start = QTime(9, 0)
        for edit in (self.start_date, self.end_date):
            edit.dateChanged.connect(self._refresh_join)
        for tedit in (self.start_time, self.end_time):
            tedit.timeChanged.connect(self._refresh_join)

        self.recurrence = RecurrenceEditor()
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(64)
        self.notes.setPlaceholderText("Notes for this visit")

        self.capacity = QSpinBox()
        self.capacity.setRange(1, 200)
        self.capacity.setSuffix(" place(s)")
        self.capacity.setMaximumWidth(140)
        self.capacity.setToolTip("More than one place makes this a group session")
        self.capacity.valueChanged.connect(self._sync_mode)
        self.group_box = QWidget()
        gl = QVBoxLayout(self.group_box)
        gl.setContentsMargins(0, 0, 0, 0)
        self.participants = ParticipantsTable(self._name_of)
        add_row = QHBoxLayout()
        self.add_participant = QPushButton("Add patient above")
        self.add_participant.clicked.connect(self._add_participant)
        self.remove_participant = QPushButton("Remove")
        self.remove_participant.clicked.connect(self._remove_participant)
        add_row.addWidget(self.add_participant)
        add_row.addWidget(self.remove_participant)
        add_row.addStretch(1)
        gl.addWidget(self.participants)
        gl.addLayout(add_row)

        price_row = QHBoxLayout()
        price_row.addWidget(self.service, 1)
        price_row.addSpacing(6)
        price_row.addWidget(QLabel("Price"))
        price_row.addWidget(self.price)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.mode)
        mode_row.addWidget(self.video_url, 1)
        mode_row.addWidget(self.join_video)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addSpacing(6)
        status_row.addWidget(QLabel("Calendar"))
        status_row.addWidget(self.calendar, 1)

        form = QFormLayout()
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(9)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.addRow("Title", self.title)
        form.addRow("Patient", self.patient)
        form.addRow("", self.patient_hint)
        form.addRow("Service", price_row)
        form.addRow("When", when)
        form.addRow("Repeat", self.recurrence)
        form.addRow("Mode", mode_row)
        form.addRow("Location", self.location)
        form.addRow("Status", status_row)
        form.addRow("Reminder", self.reminder)
        form.addRow("Capacity", self.capacity)
        form.addRow("Participants", self.group_box)
        form.addRow("Notes", self.notes)
        self._form = form

        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        self.save = QPushButton("Save")
        self.save.setDefault(True)
        self.save.clicked.connect(self._accept)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.error, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet("color: #e5e7eb;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(22, 18, 22, 16)
        lay.setSpacing(12)
        lay.addWidget(heading)
        self.booking_box = self._booking_box()
        lay.addWidget(self.booking_box)
        lay.addLayout(form)
        lay.addWidget(line)
        lay.addLayout(buttons)

    def _booking_box(self) -> QFrame:
        """The read-only Docplanner line: source, then the payment state in its colour."""
        box = QFrame()
        box.setObjectName("BookingBox")
        box.setStyleSheet(
            "QFrame#BookingBox { background: #f0fdfa; border: 1px solid #99f6e4;"
            " border-radius: 8px; }"
        )
        row = QHBoxLayout(box)
        row.setContentsMargins(10, 7, 10, 7)
        row.setSpacing(8)
        mark = QLabel()
        mark.setPixmap(docplanner_pixmap())
        self.booking_source = QLabel()
        self.booking_source.setObjectName("BookingSource")
        self.booking_source.setStyleSheet("color: #115e59;")
        bold = self.booking_source.font()
        bold.setWeight(QFont.Weight.DemiBold)
        self.booking_source.setFont(bold)
        row.addWidget(mark)
        row.addWidget(self.booking_source)
        self.booking_payment: PaymentPill | None = None
        if self.booking is not None:
            self.booking_source.setText(self.booking.source)
            if self.booking.payment != "none":
                self.booking_payment = PaymentPill(self.booking, self.tz)
                row.addWidget(self.booking_payment)
        # The line is read at a glance: the fields below give up width before it is cut.
        for label in (self.booking_source, self.booking_payment):
            if label is not None:
                label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        row.addStretch(1)
        box.setVisible(self.booking is not None)
        return box

    def showEvent(self, event: QShowEvent) -> None:
        """Widen to what the booking line needs: the fixed minimum width would win over it, and
        it is known only once the style sheet has set the line's fonts and padding."""
        super().showEvent(event)
        need = self.minimumSizeHint().width()
        if need > self.minimumWidth():
            self.setMinimumWidth(need)

    def booking_text(self) -> str:
        """What the Docplanner line says now ("" without a booking)."""
        if self.booking is None:
            return ""
        return booking_summary(self.booking, self.clock())

    def refresh_live(self) -> None:
        """Recount the payment minutes and the join window from the clock (the dialog's timer
        calls it every 30 s). GUI thread."""
        now = self.clock()
        if self.booking_payment is not None:
            self.booking_payment.refresh(now)
        self._refresh_join()

    def _refresh_join(self) -> None:
        video = self.mode.currentData() == VisitMode.VIDEO
        self.join_video.setVisible(video)
        link = self.video_url.text().strip() if video else ""
        if link and not link.lower().startswith(("https://", "http://")):
            link = ""
        self.join_video.set_visit(link, self._field_span(), self.clock())

    def _field_span(self) -> tuple[datetime, datetime] | None:
        """The visit's start and end as the fields say (None for an all-day entry)."""
        if self.all_day.isChecked():
            return None
        d0, d1 = to_date(self.start_date.date()), to_date(self.end_date.date())
        t0, t1 = to_time(self.start_time.time()), to_time(self.end_time.time())
        start = datetime.combine(d0, time(t0.hour, t0.minute), self.tz)
        end = datetime.combine(d1, time(t1.hour, t1.minute), self.tz)
        return (start, end) if end > start else None

    def _open_link(self, link: str) -> None:
        if self.open_url is not None:
            self.open_url(link)

    # ---- loading ------------------------------------------------------------------------
    def _load(self, occ: Occurrence) -> None:
        ev = occ.event
        self.title.setText(ev.title)
        if ev.patient_id:
            self._select_combo(self.patient, ev.patient_id)
        self._select_combo(self.service, ev.service_id)
        self.price.setText("" if ev.price is None else f"{ev.price:.2f}")
        self._select_combo(self.mode, ev.mode)
        self.video_url.setText(ev.video_url)
        self.video_url.setCursorPosition(0)  # show where the link goes, not its tail
        self.location.setText(ev.location)
        self.notes.setPlainText(ev.description)
        self._select_combo(self.status, ev.status)
        self._select_combo(self.calendar, ev.calendar_id)
        self._select_combo(self.reminder, ev.reminder_minutes)
        self.capacity.setValue(ev.capacity or 1)
        self.participants.set_participants(ev.participants)
        if isinstance(occ.start, datetime) and isinstance(occ.end, datetime):
            self._set_times(occ.start.astimezone(self.tz), occ.end.astimezone(self.tz))
            first_day = occ.start.astimezone(self.tz).date()
        else:
            self.all_day.setChecked(True)
            self._set_dates(occ.start, occ.end - timedelta(days=1))
            first_day = occ.start
        self.recurrence.set_rule(ev.rrule, first_day, self.tz)
        if ev.recurrence_id is not None or occ.recurrence_id is not None:
            self.recurrence.setToolTip("Changing the repeat rule applies to the whole series.")

    @staticmethod
    def _select_combo(combo: QComboBox, value: object) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def _set_times(self, start: datetime, end: datetime) -> None:
        self._set_dates(start.date(), end.date())
        self.start_time.setTime(QTime(start.hour, start.minute))
        self.end_time.setTime(QTime(end.hour, end.minute))
        self._last_start = self.start_time.time()

    def _set_dates(self, start: date, end: date) -> None:
        self.start_date.setDate(QDate(start.year, start.month, start.day))
        self.end_date.setDate(QDate(end.year, end.month, end.day))

    # ---- reactions ----------------------------------------------------------------------
    def _patient_text_changed(self, text: str) -> None:
        self._update_patient_hint(text)
        query = text.strip()
        if self.find_patients is None or len(query) < 1:
            return
        self._search_serial += 1
        serial = self._search_serial
        self.find_patients(query, lambda found: self._patients_found(serial, found))

    def _patients_found(self, serial: int, found: list[Patient]) -> None:
        """Fill the completer with a query's answer, unless a newer query was sent since."""
        if serial != self._search_serial:
            return
        known = {p.id for p in self.patients}
        for p in found:
            if p.id in known:
                continue
            self.patients.append(p)
            # The combo must hold every name its completer offers: picking a name it lacks
            # makes QComboBox select "no item" and wipe the text the user just chose.
            self.patient.addItem(p.full_name, p.id)
        names = sorted({p.full_name for p in found}, key=str.lower)
        self.patient_matches.setStringList(names)
        self._update_patient_hint(self.patient.currentText())
        completer = self.patient.completer()
        line = self.patient.lineEdit()
        if names and completer is not None and line is not None and line.hasFocus():
            completer.complete()

    def _update_patient_hint(self, text: str) -> None:
        known = {p.full_name.lower() for p in self.patients}
        name = text.strip()
        if name and name.lower() not in known:
            self.patient_hint.setText(f"“{name}” is not a patient yet: saving adds them.")
        else:
            self.patient_hint.setText("")
        self.patient_hint.setVisible(bool(self.patient_hint.text()))

    def _service_changed(self) -> None:
        sid = self.service.currentData()
        svc = next((s for s in self.services if s.id == sid), None)
        if svc is None:
            return
        start = self.start_time.time()
        self.end_time.setTime(start.addSecs(svc.duration_minutes * 60))
        if svc.price is not None:
            self.price.setText(f"{svc.price:.2f}")
        if svc.online:
            self._select_combo(self.mode, VisitMode.VIDEO)
        if svc.capacity > 1:
            self.capacity.setValue(svc.capacity)
        if not self.title.text().strip():
            self.title.setText(svc.name)

    def _start_changed(self, new: QTime) -> None:
        # Keep the duration when the start moves, as every calendar does.
        delta = self._last_start.secsTo(new)
        self.end_time.setTime(self.end_time.time().addSecs(delta))
        self._last_start = new

    def _sync_mode(self) -> None:
        self.video_url.setEnabled(self.mode.currentData() == VisitMode.VIDEO)
        self._refresh_join()
        timed = not self.all_day.isChecked()
        self.start_time.setVisible(timed)
        self.end_time.setVisible(timed)
        group = self.capacity.value() > 1
        self.group_box.setVisible(group)
        label = self._form.labelForField(self.group_box)
        if label is not None:
            label.setVisible(group)
        self.patient_hint.setVisible(bool(self.patient_hint.text()))

    def _patient_id_from_text(self) -> str | None:
        """The chosen patient's id; a typed unknown name becomes a new patient."""
        name = self.patient.currentText().strip()
        if not name:
            return None
        for p in [*self.patients, *self._new_patients.values()]:
            if p.full_name.lower() == name.lower():
                return p.id
        first, last = split_name(name)
        patient = Patient(id=new_id(), first_name=first, last_name=last)
        self._new_patients[patient.id] = patient
        return patient.id

    def _add_participant(self) -> None:
        """Add the patient named in the Patient field, then give that field back: the picker
        must not silently make the newest participant the appointment's main patient too."""
        pid = self._patient_id_from_text()
        if pid:
            self.participants.add(pid)
            main = self.occ.event.patient_id if self.occ is not None else None
            main_name = self._name_of(main) if main else ""
            self.patient.setEditText(main_name)

    def _remove_participant(self) -> None:
        self.participants.remove_current()

    def _name_of(self, patient_id: str) -> str:
        for p in [*self.patients, *self._new_patients.values()]:
            if p.id == patient_id:
                return p.full_name
        return "Unknown patient"

    # ---- result -------------------------------------------------------------------------
    def _accept(self) -> None:
        try:
            self.result_value = self._collect()
        except ValueError as err:
            self.error.setText(str(err))
            return
        self.accept()

    def _collect(self) -> EditorResult:
        """Build the result from the fields; raises ValueError with a user-facing message."""
        patient_id = self._patient_id_from_text()
        title = self.title.text().strip()
        if not title:
            svc_name = self.service.currentText().split("  ·  ")[0]
            title = svc_name if self.service.currentData() else ""
        if not title:
            raise ValueError("Give the appointment a title.")
        d0, d1 = to_date(self.start_date.date()), to_date(self.end_date.date())
        start: datetime | date
        end: datetime | date
        if self.all_day.isChecked():
            if d1 < d0:
                raise ValueError("The end date is before the start date.")
            start, end = d0, d1 + timedelta(days=1)
        else:
            t0, t1 = to_time(self.start_time.time()), to_time(self.end_time.time())
            start = datetime.combine(d0, time(t0.hour, t0.minute), self.tz)
            end = datetime.combine(d1, time(t1.hour, t1.minute), self.tz)
            if end <= start and d1 == d0 and t1 < t0:
                raise ValueError("The end time is before the start time.")
            if end <= start:
                raise ValueError("The appointment must end after it starts.")
        price_text = self.price.text().strip().replace(",", ".")
        try:
            price = Decimal(price_text) if price_text else None
        except InvalidOperation:
            raise ValueError("The price must be a number, e.g. 120.00.") from None
        if price is not None and price < 0:
            raise ValueError("The price cannot be negative.")
        # Qt hands enum data back as plain strings.
        mode = VisitMode(self.mode.currentData())
        url = self.video_url.text().strip() if mode is VisitMode.VIDEO else ""
        if url and not url.lower().startswith(("https://", "http://")):
            raise ValueError("The video link must start with https://")
        capacity = self.capacity.value()
        participants = self.participants.participants()
        if capacity > 1 and len(participants) > capacity:
            raise ValueError(f"{len(participants)} participants do not fit in {capacity} places.")
        fields: dict[str, object] = {
            "title": title,
            "patient_id": patient_id,
            "service_id": self.service.currentData(),
            "price": price,
            "mode": mode,
            "video_url": url,
            "location": self.location.text().strip(),
            "description": self.notes.toPlainText(),
            "status": AppointmentStatus(self.status.currentData()),
            "calendar_id": self.calendar.currentData(),
            "reminder_minutes": self.reminder.currentData(),
            "start": start,
            "end": end,
            "all_day": self.all_day.isChecked(),
            "capacity": capacity if capacity > 1 else None,
            "participants": participants if capacity > 1 else (),
            "rrule": self.recurrence.rule(all_day=self.all_day.isChecked(), tz=self.tz),
        }
        if not fields["calendar_id"]:
            raise ValueError("There is no calendar to save into.")
        new_patients = [
            p
            for pid, p in self._new_patients.items()
            if pid == patient_id or pid in self.participants.patient_ids()
        ]
        if self.occ is None:
            event = Event(
                id=new_id(),
                calendar_id=str(fields["calendar_id"]),
                uid="",
                title=title,
                start=start,
                end=end,
                tzid=self.tz.key,
            )
            event = event.with_changes(**{k: v for k, v in fields.items() if k != "calendar_id"})
            return EditorResult(event, {}, new_patients, is_new=True)
        original = self.occ.event.with_changes(start=self.occ.start, end=self.occ.end)
        changed = {k: v for k, v in fields.items() if getattr(original, k) != v}
        # An instance of a series: the rule belongs to the master; keep it unless edited.
        if (
            self.occ.recurrence_id is not None
            and not original.is_override
            and changed.get("rrule", original.rrule) == original.rrule
        ):
            changed.pop("rrule", None)
        return EditorResult(original.with_changes(**changed), changed, new_patients, is_new=False)
