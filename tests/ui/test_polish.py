"""The gaps closed in the second pass: visits in the display zone, spanning all-day bars, month
clicks, settings editors, patient search, the agenda's details, .ics drop/export, cross-day moves.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from carecal.domain.models import AppointmentStatus, Event, Patient, ServiceType, VisitMode, new_id
from carecal.ical.reader import read_ics
from carecal.ui.agendaview import AgendaRow, agenda_details
from carecal.ui.main_window import MainWindow
from carecal.ui.monthview import CHIP_H, CHIPS_TOP, chips_that_fit
from carecal.ui.navigation import ViewMode
from carecal.ui.patients import visit_stamp
from carecal.ui.resources import resources_dir
from carecal.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import TODAY, settle
from tests.ui.test_calendar_window import LEFT, add, drag, local

TZ = ZoneInfo("Europe/Warsaw")


def _patient(window: MainWindow, first: str, last: str) -> Patient:
    p = Patient(id=new_id(), first_name=first, last_name=last)
    window.ctx.session.repo.add_patient(p, actor="test")
    return p


def test_patient_visits_use_the_display_zone_and_say_when_empty(
    window: MainWindow, qtbot: QtBot
) -> None:
    p = _patient(window, "Anna", "Nowak")
    ny = ZoneInfo("America/New_York")
    # 09:00 in New York is 15:00 in Warsaw (the display zone).
    add(window, "Call", datetime.combine(TODAY + timedelta(days=1), time(9), ny), patient_id=p.id)
    assert visit_stamp(datetime(2025, 5, 15, 9, tzinfo=ny), TZ).endswith("15:00")
    window.open_patients()
    pw = window.patients_window
    assert pw is not None
    pw.show_patient(p)
    assert "15:00" in pw.upcoming.item(0).text()
    assert pw.past.count() == 1 and pw.past.item(0).text() == "No past visits"
    pw.new_patient()
    assert pw.upcoming.item(0).text() == "No upcoming visits"
    pw.close()


def test_multi_day_all_day_event_is_one_spanning_bar(window: MainWindow) -> None:
    monday = TODAY - timedelta(days=TODAY.weekday())
    repo = window.ctx.session.repo
    ev = Event(
        id=new_id(),
        calendar_id=repo.ensure_local_calendar().id,
        uid="",
        title="Training",
        start=monday + timedelta(days=1),
        end=monday + timedelta(days=4),  # Tue, Wed, Thu
        all_day=True,
    )
    window.ctx.session.events.create(ev)
    window.reload()
    settle(window)
    bars = [(r, o) for r, o in window.week.all_day.rows if o.event.title == "Training"]
    assert len(bars) == 1
    rect = bars[0][0]
    c = window.week.canvas
    assert rect.left() < c.column_x(2) < c.column_x(3) < rect.right()
    assert rect.right() < c.column_x(4)


def test_month_clicks_select_create_and_open(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    window.set_mode(ViewMode.MONTH)
    settle(window)
    month = window.month
    [(rect, _occ)] = [(r, o) for r, o in month.chips if o.event.id == ev.id]
    qtbot.mouseClick(month, LEFT, pos=rect.center().toPoint())
    assert window.selected is not None and window.selected.event.id == ev.id
    qtbot.keyClick(month, Qt.Key.Key_Return)
    editor = window.ops.editor
    assert editor is not None and editor.occ is not None and editor.title.text() == "Physio"
    editor.reject()
    window.ops.editor = None
    # Double-click an empty day: the editor opens for a new appointment that day.
    target = TODAY + timedelta(days=2)
    cell = month.cell_rect((target - month.first_day).days)
    qtbot.mouseDClick(month, LEFT, pos=cell.bottomLeft().toPoint() + QPoint(10, -10))
    editor = window.ops.editor
    assert editor is not None and editor.occ is None
    assert editor.start_date.date().toPython() == target
    editor.reject()
    assert window.mode is ViewMode.MONTH


def test_month_cells_fill_with_chips_then_more(window: MainWindow, qtbot: QtBot) -> None:
    assert chips_that_fit(CHIPS_TOP + 3 * (CHIP_H + 1) + 3, 3) == 3
    assert chips_that_fit(CHIPS_TOP + 3 * (CHIP_H + 1) + 3, 9) == 2
    for h in range(8, 18):
        add(window, f"Visit {h}", local(TODAY, h), minutes=30)
    window.set_mode(ViewMode.MONTH)
    settle(window)
    month = window.month
    month.repaint()
    cell = month.cell_rect((TODAY - month.first_day).days)
    shown = [o for r, o in month.chips if cell.contains(r.center())]
    assert len(shown) == chips_that_fit(cell.height(), 10) and len(shown) >= 3
    [(more_rect, _day)] = [(r, d) for r, d in month.more if d == TODAY]
    assert more_rect.bottom() <= cell.bottom()
    qtbot.mouseClick(month, LEFT, pos=more_rect.center().toPoint())
    assert window.mode is ViewMode.DAY and window.anchor == TODAY


def test_settings_several_breaks_colour_and_validation(window: MainWindow, qtbot: QtBot) -> None:
    repo = window.ctx.session.repo
    repo.save_service(ServiceType(id=new_id(), name="Therapy", duration_minutes=50), actor="t")
    window.open_settings()
    dialog: SettingsDialog = window.property("settingsDialog")
    on, _a, _b = dialog.day_rows[0]
    on.setChecked(True)
    for row in list(dialog.break_rows[0]):
        dialog.remove_break(0, row)
    dialog.add_break(0, time(10, 0), time(10, 15))
    dialog.add_break(0, time(13, 0), time(13, 30))
    page = dialog.services_page
    page.list.setCurrentRow(0)
    page.duration.setValue(60)
    page.buffer.setValue(10)
    page.online.setChecked(True)
    page.set_color("#ff0000")
    dialog.slot.setCurrentIndex(dialog.slot.findData(30))
    dialog._accept()
    settle(window)
    mondays = [x for x in repo.breaks() if x.weekday == 0]
    assert sorted((x.start, x.end) for x in mondays) == [
        (time(10), time(10, 15)),
        (time(13), time(13, 30)),
    ]
    [svc] = repo.list_services()
    assert (svc.duration_minutes, svc.buffer_minutes, svc.online, svc.color) == (
        60,
        10,
        True,
        "#ff0000",
    )
    assert repo.settings().slot_minutes == 30
    assert window.week.canvas.slot_minutes == 30

    window.open_settings()
    dialog = window.property("settingsDialog")
    assert len(dialog.break_rows[0]) == 2
    dialog.add_break(0, time(13, 15), time(13, 45))  # overlaps 13:00-13:30
    dialog._accept()
    assert "overlap" in dialog.error.text()
    dialog.services_page.name.setText("")
    dialog.services_page.name.textEdited.emit("")
    dialog._accept()
    assert "needs a name" in dialog.error.text()
    dialog.reject()


def test_settings_working_hours_reshade_the_grid(window: MainWindow) -> None:
    window.open_settings()
    dialog: SettingsDialog = window.property("settingsDialog")
    wd = TODAY.weekday()
    on, a, b = dialog.day_rows[wd]
    on.setChecked(True)
    a.setTime(a.time().fromString("11:00", "HH:mm"))
    b.setTime(b.time().fromString("15:00", "HH:mm"))
    for row in list(dialog.break_rows[wd]):
        dialog.remove_break(wd, row)
    dialog.day_start.setValue(6)
    dialog._accept()
    settle(window)
    assert window.data is not None
    assert window.data.working[TODAY] == [(11 * 60, 15 * 60)]
    assert window.week.canvas.first_hour == 6


def test_editor_searches_patients_as_you_type(window: MainWindow, qtbot: QtBot) -> None:
    _patient(window, "Anna", "Nowak")
    _patient(window, "Jan", "Kowalski")
    window.ops.open_editor(None, local(TODAY, 10), local(TODAY, 11))
    editor = window.ops.editor
    assert editor is not None
    assert editor.patient_matches.stringList() == []  # nothing loaded up front
    editor.patient.setEditText("kowal")
    assert editor.patient_matches.stringList() == ["Jan Kowalski"]
    editor.patient.setEditText("Jan Kowalski")
    assert editor.patient_hint.text() == ""  # known: no quick-create hint
    editor.title.setText("Visit")
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    occ = next(o for o in window.data.occurrences if o.event.title == "Visit")  # type: ignore[union-attr]
    assert window.ctx.session.repo.get_patient(occ.event.patient_id or "").last_name == "Kowalski"


def test_agenda_details_and_status_pills(window: MainWindow) -> None:
    p = _patient(window, "Ewa", "Lis")
    add(window, "Call", local(TODAY, 9), mode=VisitMode.PHONE, location="Phone", patient_id=p.id)
    add(window, "Bank", local(TODAY, 12))
    add(window, "Gone", local(TODAY, 14), patient_id=p.id, status=AppointmentStatus.CANCELLED)
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    rows = {r.occ.event.title: r for r in window.agenda.rows}
    assert window.data is not None
    assert agenda_details(rows["Call"].occ, window.data).count("Phone") == 1
    assert rows["Bank"].pill is None
    call_pill = rows["Call"].pill
    gone_pill = rows["Gone"].pill
    assert call_pill is not None and call_pill.text() == AppointmentStatus.SCHEDULED.label
    assert gone_pill is not None and gone_pill.text() == AppointmentStatus.CANCELLED.label
    assert isinstance(rows["Gone"], AgendaRow)
    assert any("9ca3af" in w.styleSheet() for w in rows["Gone"].findChildren(QLabel))


ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//test//EN\r
BEGIN:VEVENT\r
UID:drop-1@test\r
DTSTAMP:20250501T000000Z\r
DTSTART:20250515T080000Z\r
DTEND:20250515T090000Z\r
SUMMARY:Dropped visit\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_dropping_an_ics_imports_it(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "visit.ics"
    path.write_bytes(ICS)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(
        QPointF(400, 400),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    settle(window)
    repo = window.ctx.session.repo
    [ev] = repo.find_by_uid(repo.ensure_local_calendar().id, "drop-1@test")
    assert ev.title == "Dropped visit"
    assert window.ics.last_report is not None
    window.ics.last_report.reject()
    window.dropEvent(drop)  # idempotent by UID
    settle(window)
    assert len(repo.find_by_uid(repo.ensure_local_calendar().id, "drop-1@test")) == 1
    assert window.ics.last_report is not None
    window.ics.last_report.reject()


def test_export_writes_a_file_that_reads_back(window: MainWindow, tmp_path: Path) -> None:
    ev = add(window, "Exported", local(TODAY, 10))
    out = tmp_path / "out.ics"
    window.ics.export_to(out)
    parsed = read_ics(out.read_bytes(), source=out.name, calendar_id="x")
    titles = {e.title for e in parsed.events}
    assert "Exported" in titles
    [back] = [e for e in parsed.events if e.title == "Exported"]
    assert back.start == ev.start


def test_drag_a_card_to_another_day(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Moving", local(TODAY, 9))
    canvas = window.week.canvas
    rect = canvas.card_rect((ev.id, ""))
    assert rect is not None
    tomorrow = TODAY + timedelta(days=1)
    a = rect.center().toPoint()
    b = QPoint(canvas.point_for(tomorrow, 11 * 60).x(), a.y() + canvas.hour_height * 2)
    drag(qtbot, canvas, a, b)
    settle(window)
    [moved] = [
        e
        for e in window.ctx.session.repo.events_in_window(
            local(TODAY, 0), local(TODAY + timedelta(days=3), 0)
        )
        if e.title == "Moving"
    ]
    assert moved.start == local(tomorrow, 11)
    assert moved.end == local(tomorrow, 11, 50)


def test_resources_are_found_in_a_checkout() -> None:
    folder = resources_dir()
    assert folder is not None and (folder / "carecal.qss").is_file()
    assert (folder / "icons" / "carecal.svg").is_file()
