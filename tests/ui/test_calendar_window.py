"""The calendar window driven like a user would: mouse drags, keys, the editor, undo, search."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from carecal.domain.errors import NotFound
from carecal.domain.models import AppointmentStatus, EditScope, Event, VisitMode, new_id
from carecal.ui.main_window import MainWindow
from carecal.ui.navigation import ViewMode
from tests.ui.conftest import TODAY, settle

TZ = ZoneInfo("Europe/Warsaw")
LEFT = Qt.MouseButton.LeftButton


def local(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), TZ)


def add(window: MainWindow, title: str, start: datetime, minutes: int = 50, **kw: object) -> Event:
    repo = window.ctx.session.repo
    ev = Event(
        id=new_id(),
        calendar_id=repo.ensure_local_calendar().id,
        uid="",
        title=title,
        start=start,
        end=start + timedelta(minutes=minutes),
        tzid="Europe/Warsaw",
    )
    ev = ev.with_changes(**kw)
    window.ctx.session.events.create(ev)
    window.reload()
    settle(window)
    return ev


def stored(window: MainWindow, title: str) -> list[Event]:
    svc = window.ctx.session.events
    occs = svc.occurrences(local(TODAY - timedelta(days=7), 0), local(TODAY + timedelta(days=7), 0))
    return [o.event for o in occs if o.event.title == title]


def drag(qtbot: QtBot, widget: object, a: QPoint, b: QPoint) -> None:
    qtbot.mousePress(widget, LEFT, pos=a)
    qtbot.mouseMove(widget, pos=(a + b) / 2)
    qtbot.mouseMove(widget, pos=b)
    qtbot.mouseRelease(widget, LEFT, pos=b)


def test_drag_on_empty_time_opens_the_editor_and_saves(window: MainWindow, qtbot: QtBot) -> None:
    canvas = window.week.canvas
    drag(qtbot, canvas, canvas.point_for(TODAY, 10 * 60), canvas.point_for(TODAY, 10 * 60 + 55))
    editor = window.ops.editor
    assert editor is not None
    assert editor.start_time.time().toString("HH:mm") == "10:00"
    assert editor.end_time.time().toString("HH:mm") == "11:00"
    editor.title.setText("Assessment")
    editor.patient.setEditText("Zofia Nowicka")  # not a patient yet: quick-created
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    [ev] = stored(window, "Assessment")
    assert ev.start == local(TODAY, 10) and ev.end == local(TODAY, 11)
    patient = window.ctx.session.repo.get_patient(ev.patient_id or "")
    assert patient.full_name == "Zofia Nowicka"
    assert canvas.card_rect((ev.id, "")) is not None


def test_drag_a_card_moves_it_snapped(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    canvas = window.week.canvas
    rect = canvas.card_rect((ev.id, ""))
    assert rect is not None
    start = rect.center().toPoint()
    # One day to the right, 62 minutes down: lands on 10:00 next day (snapped to 15 min).
    target = QPoint(
        int(start.x() + canvas.column_width()), start.y() + round(62 * canvas.hour_height / 60)
    )
    drag(qtbot, canvas, start, target)
    settle(window)
    moved = window.ctx.session.repo.get_event(ev.id)
    assert moved.start == local(TODAY + timedelta(days=1), 10)
    assert moved.end == local(TODAY + timedelta(days=1), 10, 50)


def test_drag_the_bottom_edge_resizes(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    canvas = window.week.canvas
    rect = canvas.card_rect((ev.id, ""))
    assert rect is not None
    edge = QPoint(int(rect.center().x()), int(rect.bottom()) - 2)
    drag(qtbot, canvas, edge, QPoint(edge.x(), canvas.y_of(10 * 60 + 37)))
    settle(window)
    assert window.ctx.session.repo.get_event(ev.id).end == local(TODAY, 10, 30)


def test_edit_in_the_dialog_stores_the_fields(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    [occ] = [o for o in window.data.occurrences if o.event.id == ev.id]  # type: ignore[union-attr]
    window.ops.open_editor(occ)
    editor = window.ops.editor
    assert editor is not None
    editor.title.setText("Follow-up")
    editor.status.setCurrentIndex(editor.status.findData(AppointmentStatus.CONFIRMED))
    editor.mode.setCurrentIndex(editor.mode.findData(VisitMode.VIDEO))
    editor.video_url.setText("https://meet.example.com/abc")
    editor.price.setText("120,50")
    editor.notes.setPlainText("Bring the MRI results")
    qtbot.mouseClick(editor.save, LEFT)
    settle(window)
    saved = window.ctx.session.repo.get_event(ev.id)
    assert saved.title == "Follow-up"
    assert saved.status is AppointmentStatus.CONFIRMED
    assert saved.mode is VisitMode.VIDEO and saved.video_url == "https://meet.example.com/abc"
    assert str(saved.price) == "120.50"
    assert saved.description == "Bring the MRI results"


def test_editor_shows_validation_inline(window: MainWindow, qtbot: QtBot) -> None:
    window.ops.open_editor(None, local(TODAY, 9), local(TODAY, 10))
    editor = window.ops.editor
    assert editor is not None
    editor.title.setText("Visit")
    editor.end_time.setTime(editor.start_time.time().addSecs(-3600))
    qtbot.mouseClick(editor.save, LEFT)
    assert editor.isVisible()
    assert "before" in editor.error.text()
    editor.price.setText("abc")
    editor.end_time.setTime(editor.start_time.time().addSecs(3600))
    qtbot.mouseClick(editor.save, LEFT)
    assert "price" in editor.error.text()
    assert stored(window, "Visit") == []


def test_view_keys_switch_views(window: MainWindow, qtbot: QtBot) -> None:
    for key, mode in (
        (Qt.Key.Key_D, ViewMode.DAY),
        (Qt.Key.Key_M, ViewMode.MONTH),
        (Qt.Key.Key_A, ViewMode.AGENDA),
        (Qt.Key.Key_W, ViewMode.WEEK),
    ):
        qtbot.keyClick(window.week.canvas, key)
        assert window.mode is mode
    assert window.stack.currentWidget() is window.week
    qtbot.keyClick(window.week.canvas, Qt.Key.Key_M)
    assert window.stack.currentWidget() is window.month


def test_navigation_keys(window: MainWindow, qtbot: QtBot) -> None:
    canvas = window.week.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_J)
    assert window.anchor == TODAY + timedelta(days=7)
    assert canvas.days[0] == date(2025, 5, 19)
    qtbot.keyClick(canvas, Qt.Key.Key_K)
    qtbot.keyClick(canvas, Qt.Key.Key_K)
    assert window.anchor == TODAY - timedelta(days=7)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_T)
    assert window.anchor == TODAY
    assert window.toolbar.period.text() == "12 – 18 May 2025"


def test_delete_then_undo_restores(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    canvas = window.week.canvas
    rect = canvas.card_rect((ev.id, ""))
    assert rect is not None
    qtbot.mouseClick(canvas, LEFT, pos=rect.center().toPoint())
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    settle(window)
    with pytest.raises(NotFound):
        window.ctx.session.repo.get_event(ev.id)
    assert canvas.card_rect((ev.id, "")) is None
    assert "Deleted" in window.status_label.text() and window.undo_link.isVisibleTo(window)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(window)
    assert window.ctx.session.repo.get_event(ev.id).start == local(TODAY, 9)
    assert canvas.card_rect((ev.id, "")) is not None


def test_search_finds_and_jumps(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Shoulder rehab", local(TODAY + timedelta(days=9), 13))
    qtbot.keyClick(window.week.canvas, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.toolbar.search.hasFocus()
    qtbot.keyClicks(window.toolbar.search, "shoulder")
    qtbot.keyClick(window.toolbar.search, Qt.Key.Key_Return)
    results = window.sidebar.results
    assert results.count() == 1 and "Shoulder rehab" in results.item(0).text()
    window._result_activated(results.item(0))
    settle(window)
    assert window.anchor == TODAY + timedelta(days=9)
    assert window.week.canvas.card_rect((ev.id, "")) is not None
    assert window.week.canvas.selected_key == (ev.id, "")


def test_overlapping_appointments_sit_side_by_side(window: MainWindow) -> None:
    a = add(window, "First", local(TODAY, 9))
    b = add(window, "Second", local(TODAY, 9, 30))
    c = add(window, "Later", local(TODAY, 14))
    canvas = window.week.canvas
    ra, rb, rc = (canvas.card_rect((e.id, "")) for e in (a, b, c))
    assert ra is not None and rb is not None and rc is not None
    assert ra.right() <= rb.left() + 1  # side by side, no overlap
    assert abs(ra.width() - rb.width()) < 2
    assert ra.top() < rb.top() < ra.bottom()
    assert rc.width() > ra.width() * 1.8  # alone: full column width
    assert window.data is not None and (a.id, "") in window.data.double_booked


def test_moving_a_series_occurrence_asks_the_scope(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(
        window, "Weekly therapy", local(TODAY - timedelta(days=7), 9), rrule="FREQ=WEEKLY;COUNT=5"
    )
    asked: list[str] = []

    def answer(parent: object, verb: str) -> EditScope:
        asked.append(verb)
        return EditScope.THIS

    window.ops.ask_scope = answer
    canvas = window.week.canvas
    key = next(o.key for o in window.data.occurrences if o.event.id == ev.id)  # type: ignore[union-attr]
    rect = canvas.card_rect(key)
    assert rect is not None
    start = rect.center().toPoint()
    drag(qtbot, canvas, start, QPoint(start.x(), start.y() + canvas.hour_height))
    settle(window)
    assert asked == ["Move"]
    master, overrides = window.ctx.session.repo.get_series(ev.id)
    assert master.start == local(TODAY - timedelta(days=7), 9)
    assert [o.start for o in overrides] == [local(TODAY, 10)]
