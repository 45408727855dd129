"""Screenshots of the demo practice for a person to look at (written to tests/ui/screenshots)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint
from PySide6.QtGui import QContextMenuEvent, QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget

from carecal.domain.models import Attendance, Participant
from carecal.services.demo import fill_demo_week
from carecal.ui.main_window import MainWindow
from carecal.ui.navigation import ViewMode
from tests.ui.conftest import TODAY, settle

OUT = Path(__file__).parent / "screenshots"


def _save(widget: QWidget, name: str) -> Path:
    QApplication.processEvents()
    path = OUT / f"{name}.png"
    OUT.mkdir(exist_ok=True)
    assert widget.grab().save(str(path))
    return path


def _save_with_menu(window: MainWindow, name: str) -> Path:
    """The window with its open popup menu painted where it stands (popups are own windows)."""
    menu = window.appointment_menu.menu
    assert menu is not None and menu.isVisible()
    QApplication.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(menu.pos() - window.mapToGlobal(QPoint(0, 0)), menu.grab())
    painter.end()
    path = OUT / f"{name}.png"
    OUT.mkdir(exist_ok=True)
    assert shot.save(str(path))
    return path


def _assert_not_blank(path: Path) -> None:
    img = QImage(str(path))
    assert img.width() > 300 and img.height() > 200
    colors = set()
    for y in range(0, img.height(), 7):
        for x in range(0, img.width(), 7):
            colors.add(img.pixel(x, y))
    assert len(colors) > 40, f"{path.name} looks blank ({len(colors)} colours)"


def test_screenshots_of_demo_week(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    fill_demo_week(window.ctx.session.repo, TODAY)
    window.reload()
    settle(window)
    shots = []
    for mode, name in (
        (ViewMode.WEEK, "week"),
        (ViewMode.MONTH, "month"),
        (ViewMode.AGENDA, "agenda"),
        (ViewMode.DAY, "day"),
        (ViewMode.WORK_WEEK, "work_week"),
    ):
        window.set_mode(mode)
        settle(window)
        qtbot.wait(5)
        shots.append(_save(window, name))
    window.set_mode(ViewMode.WEEK)
    settle(window)
    occ = next(o for o in window.data.occurrences if o.event.patient_id)  # type: ignore[union-attr]
    window.ops.open_editor(occ)
    editor = window.ops.editor
    assert editor is not None
    editor.adjustSize()
    shots.append(_save(editor, "editor"))
    editor.reject()
    # The context menu over a card of the week view, as a right click opens it.
    canvas = window.week.canvas
    card = next(h for h in canvas.hits if h.occ.event.patient_id and h.rect.height() > 40)
    pos = card.rect.center().toPoint()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, canvas.mapToGlobal(pos))
    QApplication.sendEvent(canvas, event)
    shots.append(_save_with_menu(window, "context_menu"))
    window.appointment_menu.menu.close()  # type: ignore[union-attr]
    # The demo's group session, its participants in different attendance states.
    group = next(o for o in window.data.occurrences if o.event.participants)  # type: ignore[union-attr]
    states = (Attendance.ATTENDED, Attendance.ARRIVED, Attendance.NO_SHOW, Attendance.CANCELLED)
    marked = tuple(
        Participant(p.patient_id, states[i % len(states)])
        for i, p in enumerate(group.event.participants)
    )
    window.ctx.session.events.update(
        window.ctx.session.repo.get_event(group.event.id).with_changes(participants=marked)
    )
    window.ops.open_editor(group)
    editor = window.ops.editor
    assert editor is not None
    editor.adjustSize()
    shots.append(_save(editor, "editor_group"))
    editor.reject()
    window.open_patients()
    pw = window.patients_window
    assert pw is not None
    pw.list.setCurrentRow(0)
    settle(window)
    shots.append(_save(pw, "patients"))
    window.open_settings()
    dialog = window.property("settingsDialog")
    shots.append(_save(dialog, "settings"))
    for index, name in ((1, "settings_services"), (2, "settings_hours")):
        dialog.tabs.setCurrentIndex(index)
        shots.append(_save(dialog, name))
    dialog.reject()
    pw.close()
    window.toolbar.search.setText("therapy")
    window.search("therapy")
    settle(window)
    shots.append(_save(window, "search"))
    for path in shots:
        _assert_not_blank(path)
