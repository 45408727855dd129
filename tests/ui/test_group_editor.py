"""The editor keeps each group participant's attendance, and lets the practitioner set it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from carecal.domain.models import Attendance, Event, Participant, Patient, new_id
from carecal.ui.editor import AppointmentEditor
from carecal.ui.main_window import MainWindow
from carecal.ui.participants_table import ATTENDANCE_LABELS
from tests.ui.conftest import TODAY, settle
from tests.ui.test_calendar_window import add, local

LEFT = Qt.MouseButton.LeftButton


def patient(window: MainWindow, first: str, last: str) -> Patient:
    p = Patient(id=new_id(), first_name=first, last_name=last)
    window.ctx.session.repo.add_patient(p, actor="test")
    return p


def group_session(window: MainWindow) -> tuple[Event, list[Patient]]:
    people = [
        patient(window, "Anna", "Nowak"),
        patient(window, "Piotr", "Zieliński"),
        patient(window, "Ewa", "Mazur"),
    ]
    states = (Attendance.ARRIVED, Attendance.NO_SHOW, Attendance.EXPECTED)
    ev = add(
        window,
        "Group therapy",
        local(TODAY, 17),
        90,
        capacity=6,
        participants=tuple(Participant(p.id, a) for p, a in zip(people, states, strict=True)),
    )
    return ev, people


def open_editor(window: MainWindow, ev: Event) -> AppointmentEditor:
    assert window.data is not None
    occ = next(o for o in window.data.occurrences if o.event.id == ev.id)
    window.ops.open_editor(occ)
    editor = window.ops.editor
    assert editor is not None
    return editor


def stored_participants(window: MainWindow, ev: Event) -> tuple[Participant, ...]:
    return window.ctx.session.repo.get_event(ev.id).participants


def test_saving_unchanged_keeps_every_attendance(window: MainWindow, qtbot: QtBot) -> None:
    ev, _ = group_session(window)
    before = stored_participants(window, ev)
    editor = open_editor(window, ev)
    table = editor.participants
    assert table.names() == ["Anna Nowak", "Piotr Zieliński", "Ewa Mazur"]
    shown = [table.attendance_combo(r).currentText() for r in range(table.rowCount())]
    assert shown == ["Arrived", "No-show", "Expected"]
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    assert stored_participants(window, ev) == before
    assert [p.attendance for p in before] == [
        Attendance.ARRIVED,
        Attendance.NO_SHOW,
        Attendance.EXPECTED,
    ]


def test_changing_one_attendance_is_stored(window: MainWindow, qtbot: QtBot) -> None:
    ev, people = group_session(window)
    editor = open_editor(window, ev)
    combo = editor.participants.attendance_combo(2)
    assert combo.count() == len(ATTENDANCE_LABELS)
    combo.setCurrentIndex(combo.findText("Attended"))
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    assert [(p.patient_id, p.attendance) for p in stored_participants(window, ev)] == [
        (people[0].id, Attendance.ARRIVED),
        (people[1].id, Attendance.NO_SHOW),
        (people[2].id, Attendance.ATTENDED),
    ]
    # Undo puts the earlier attendance back, as for any other edit.
    window.ops.undo()
    settle(window)
    assert stored_participants(window, ev)[2].attendance is Attendance.EXPECTED


def test_removing_a_participant_keeps_the_others_attendance(
    window: MainWindow, qtbot: QtBot
) -> None:
    ev, people = group_session(window)
    editor = open_editor(window, ev)
    editor.participants.selectRow(0)
    qtbot.mouseClick(editor.remove_participant, LEFT)
    assert editor.participants.names() == ["Piotr Zieliński", "Ewa Mazur"]
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    assert [(p.patient_id, p.attendance) for p in stored_participants(window, ev)] == [
        (people[1].id, Attendance.NO_SHOW),
        (people[2].id, Attendance.EXPECTED),
    ]


def test_a_participant_found_by_search_shows_their_name(window: MainWindow, qtbot: QtBot) -> None:
    ev, people = group_session(window)
    newcomer = patient(window, "Dorota", "Wójcik")  # not among those the editor loads
    editor = open_editor(window, ev)
    assert all(p.id != newcomer.id for p in editor.patients)
    line = editor.patient.lineEdit()
    assert line is not None
    line.setFocus()
    qtbot.keyClicks(line, "Doro")  # each key asks the database; the answer fills the completer
    completer = editor.patient.completer()
    assert completer is not None
    assert editor.patient_matches.stringList() == ["Dorota Wójcik"]
    popup = completer.popup()
    assert popup.isVisible()
    index = completer.completionModel().index(0, 0)
    popup.setCurrentIndex(index)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert editor.patient.currentText() == "Dorota Wójcik"
    assert editor.patient_hint.text() == ""  # a known patient: nobody new is created
    qtbot.mouseClick(editor.add_participant, LEFT)
    assert editor.participants.names()[-1] == "Dorota Wójcik"
    assert editor.participants.attendance_combo(3).currentText() == "Expected"
    assert editor.patient.currentText() == ""  # the picker leaves no main patient behind
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    stored = stored_participants(window, ev)
    assert [p.patient_id for p in stored] == [*(p.id for p in people), newcomer.id]
    assert stored[0].attendance is Attendance.ARRIVED
    assert window.ctx.session.repo.get_event(ev.id).patient_id is None
    names = {p.full_name for p in window.ctx.session.repo.list_patients("Dorota")}
    assert names == {"Dorota Wójcik"}  # picked, not duplicated


def test_the_editor_reads_the_stored_event_not_the_views_copy(
    window: MainWindow, qtbot: QtBot
) -> None:
    ev, _ = group_session(window)
    assert window.data is not None
    occ = next(o for o in window.data.occurrences if o.event.id == ev.id)
    # Another part of the app changed it after the view was painted.
    stored = window.ctx.session.repo.get_event(ev.id)
    window.ctx.session.events.update(stored.with_changes(title="Group therapy (moved room)"))
    window.ops.open_editor(occ)
    editor = window.ops.editor
    assert editor is not None
    assert editor.title.text() == "Group therapy (moved room)"
