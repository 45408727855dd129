"""Screenshots of the demo practice for a person to look at (written to tests/ui/screenshots)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

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
