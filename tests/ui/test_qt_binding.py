"""A guard on the Qt binding itself: PySide6-Essentials 6.12.0 on Python 3.11 drops a reference
to None on every call of a Qt method that returns nothing (QPainter.save, QWidget.update ...).
After a few thousand repaints None's count reaches zero and the interpreter aborts with
"none_dealloc"; the calendar window died within seconds of scrolling. pyproject.toml excludes that
release; this test fails if an installed binding (a future one too) has the same leak.
On Python 3.12+ None is immortal and its count never moves, so the test then passes trivially.
"""

from __future__ import annotations

import sys

from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QWidget


def test_void_qt_calls_do_not_leak_references_to_none(qapp: QApplication) -> None:
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    widget = QWidget()
    try:
        before = sys.getrefcount(None)
        for _ in range(2_000):
            painter.save()
            painter.restore()
            widget.update()
        after = sys.getrefcount(None)
    finally:
        painter.end()
        widget.deleteLater()
    # A correct binding leaves the count where it was (give or take the interpreter's own
    # bookkeeping); the broken one loses 6,000 here.
    assert after - before > -100, f"None lost {before - after} references in 6,000 Qt calls"
