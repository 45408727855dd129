"""The appointment's right-click menu in every view: status, video link, delete, undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, QRect, Qt, QUrl
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QWidget
from pytestqt.qtbot import QtBot

from carecal.domain.errors import NotFound
from carecal.domain.models import AppointmentStatus, VisitMode
from carecal.ui.appointment_menu import action_named
from carecal.ui.main_window import MainWindow
from carecal.ui.navigation import ViewMode
from tests.ui.conftest import TODAY, settle
from tests.ui.test_calendar_window import add, local

RIGHT = Qt.MouseButton.RightButton


def right_click(qtbot: QtBot, widget: QWidget, pos: QPoint) -> None:
    """A right click as the platform delivers it: the press, then the context-menu event
    (QTest sends only the mouse events)."""
    qtbot.mouseClick(widget, RIGHT, pos=pos)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)


def shown_menu(window: MainWindow) -> QMenu:
    menu = window.appointment_menu.menu
    assert menu is not None and menu.isVisible()
    return menu


def card_point(window: MainWindow, key: tuple[str, str]) -> QPoint:
    rect = window.week.canvas.card_rect(key)
    assert rect is not None
    return rect.center().toPoint()


def choose(qtbot: QtBot, menu: QMenu, text: str) -> None:
    """Click the menu entry ``text`` as a user would (the menu closes)."""
    action = action_named(menu, text)
    assert action.isEnabled(), text
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    assert not menu.isVisible()
    # The offscreen platform leaves the closed popup as the active window; a desktop hands
    # activation back to the calendar, so do that here for the keys that follow.
    parent = menu.parentWidget()
    assert parent is not None
    parent.activateWindow()


def checked_status(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if a.isCheckable() and a.isChecked()]


def test_right_click_a_card_and_choose_arrived(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9), status=AppointmentStatus.CONFIRMED)
    right_click(qtbot, window.week.canvas, card_point(window, (ev.id, "")))
    menu = shown_menu(window)
    assert window.week.canvas.selected_key == (ev.id, "")
    assert checked_status(menu) == ["Confirmed"]
    choose(qtbot, menu, "Arrived")
    settle(window)
    assert window.ctx.session.repo.get_event(ev.id).status is AppointmentStatus.ARRIVED
    right_click(qtbot, window.week.canvas, card_point(window, (ev.id, "")))
    assert checked_status(shown_menu(window)) == ["Arrived"]


def test_status_on_a_series_changes_one_occurrence_and_undo_restores(
    window: MainWindow, qtbot: QtBot
) -> None:
    ev = add(
        window, "Weekly therapy", local(TODAY - timedelta(days=7), 9), rrule="FREQ=WEEKLY;COUNT=5"
    )
    asked: list[str] = []
    window.ops.ask_scope = lambda parent, verb: asked.append(verb)  # type: ignore[func-returns-value]
    assert window.data is not None
    key = next(o.key for o in window.data.occurrences if o.event.id == ev.id)
    right_click(qtbot, window.week.canvas, card_point(window, key))
    choose(qtbot, shown_menu(window), "No-show")
    settle(window)
    assert asked == []  # a status is never a series-wide edit, so nothing to ask
    repo = window.ctx.session.repo
    master, overrides = repo.get_series(ev.id)
    assert master.status is AppointmentStatus.SCHEDULED
    assert [(o.start, o.status) for o in overrides] == [
        (local(TODAY, 9), AppointmentStatus.NO_SHOW)
    ]
    qtbot.keyClick(window.week.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(window)
    master, overrides = repo.get_series(ev.id)
    assert overrides == [] and master.status is AppointmentStatus.SCHEDULED
    statuses = {o.event.status for o in window.data.occurrences if o.event.title == ev.title}
    assert statuses == {AppointmentStatus.SCHEDULED}


def test_video_actions_open_and_copy_the_link(window: MainWindow, qtbot: QtBot) -> None:
    url = "https://meet.example.com/abc-123"
    video = add(window, "Online", local(TODAY, 11), mode=VisitMode.VIDEO, video_url=url)
    office = add(window, "In office", local(TODAY, 14))
    opened: list[QUrl] = []
    window.appointment_menu.open_url = lambda u: opened.append(u) is None
    right_click(qtbot, window.week.canvas, card_point(window, (office.id, "")))
    menu = shown_menu(window)
    assert not action_named(menu, "Join video").isEnabled()
    assert not action_named(menu, "Copy video link").isEnabled()
    right_click(qtbot, window.week.canvas, card_point(window, (video.id, "")))
    menu = shown_menu(window)
    choose(qtbot, menu, "Join video")
    assert [u.toString() for u in opened] == [url]
    right_click(qtbot, window.week.canvas, card_point(window, (video.id, "")))
    menu = shown_menu(window)
    choose(qtbot, menu, "Copy video link")
    assert QGuiApplication.clipboard().text() == url


def test_open_and_delete_from_the_menu(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    right_click(qtbot, window.week.canvas, card_point(window, (ev.id, "")))
    choose(qtbot, shown_menu(window), "Open…")
    assert window.ops.editor is not None and window.ops.editor.title.text() == "Physio"
    window.ops.editor.reject()
    right_click(qtbot, window.week.canvas, card_point(window, (ev.id, "")))
    choose(qtbot, shown_menu(window), "Delete")
    settle(window)
    with pytest.raises(NotFound):
        window.ctx.session.repo.get_event(ev.id)
    assert window.selected is None


def test_right_click_on_empty_time_shows_no_menu(window: MainWindow, qtbot: QtBot) -> None:
    right_click(qtbot, window.week.canvas, window.week.canvas.point_for(TODAY, 16 * 60))
    assert window.appointment_menu.menu is None


def test_month_chip_menu(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    window.set_mode(ViewMode.MONTH)
    settle(window)
    window.month.repaint()
    rect = window.month.chip_rect((ev.id, ""))
    assert rect is not None
    right_click(qtbot, window.month, rect.center().toPoint())
    assert window.selected is not None and window.selected.key == (ev.id, "")
    choose(qtbot, shown_menu(window), "Completed")
    settle(window)
    assert window.ctx.session.repo.get_event(ev.id).status is AppointmentStatus.COMPLETED


def test_agenda_row_menu(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    row = window.agenda.row_for((ev.id, ""))
    assert row is not None
    right_click(qtbot, row, row.rect().center())
    assert window.agenda.selected_key == (ev.id, "")
    choose(qtbot, shown_menu(window), "Cancelled")
    settle(window)
    assert window.ctx.session.repo.get_event(ev.id).status is AppointmentStatus.CANCELLED


def test_shift_f10_opens_the_menu_of_the_selected_card(window: MainWindow, qtbot: QtBot) -> None:
    ev = add(window, "Physio", local(TODAY, 9))
    canvas = window.week.canvas
    qtbot.keyClick(canvas, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert window.appointment_menu.menu is None
    assert "Select an appointment" in window.status_label.text()
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=card_point(window, (ev.id, "")))
    qtbot.keyClick(canvas, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    menu = shown_menu(window)
    card = canvas.card_rect((ev.id, ""))
    assert card is not None
    on_screen = QRect(canvas.mapToGlobal(card.topLeft().toPoint()), card.size().toSize())
    assert menu.geometry().intersects(on_screen)  # beside the card, not in a corner
    choose(qtbot, menu, "Confirmed")
    settle(window)
    assert window.ctx.session.repo.get_event(ev.id).status is AppointmentStatus.CONFIRMED
