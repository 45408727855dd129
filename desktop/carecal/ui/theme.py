"""Colours, the style sheet and the drawn icons of the light theme. GUI thread only."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication

from carecal.ui.resources import resources_dir

log = logging.getLogger(__name__)


def _icons() -> Path | None:
    folder = resources_dir()
    return None if folder is None else folder / "icons"


TEXT = QColor("#1f2937")
TEXT_MUTED = QColor("#6b7280")
TEXT_FAINT = QColor("#9ca3af")
GRID_LINE = QColor("#e9ebef")
GRID_LINE_SOFT = QColor("#f3f4f6")
OFF_HOURS = QColor("#f6f7f9")
BREAK_FILL = QColor("#eef0f3")
ACCENT = QColor("#2563eb")
TODAY_BG = QColor("#eff6ff")
NOW_LINE = QColor("#ef4444")
BADGE = QColor("#dc2626")
SELECTION = QColor("#1d4ed8")


def icon(name: str) -> QIcon:
    """An SVG icon from resources/icons (an empty icon when the file is missing)."""
    icons = _icons()
    if icons is None:
        return QIcon()
    path = icons / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def apply_theme(app: QApplication) -> None:
    """Install the style sheet and app icon. A missing sheet only logs (the app still works)."""
    app.setStyle("Fusion")
    folder = resources_dir()
    try:
        if folder is None:
            raise FileNotFoundError("carecal.qss")
        text = (folder / "carecal.qss").read_text(encoding="utf-8")
    except OSError:
        log.warning("style sheet not found; using the plain style")
        return
    app.setStyleSheet(text.replace("@ICONS@", (folder / "icons").as_posix()))
    app.setWindowIcon(icon("carecal"))


def card_colors(base: str) -> tuple[QColor, QColor, QColor]:
    """(fill, bar, text) for an appointment card of calendar/service colour ``base``."""
    bar = QColor(base)
    if not bar.isValid():
        bar = QColor("#3b82f6")
    fill = QColor(bar)
    h, s, v = bar.hsvHueF(), bar.hsvSaturationF(), bar.valueF()
    fill.setHsvF(h, max(0.0, s * 0.22), 1.0)
    text = QColor.fromHsvF(h, min(1.0, s * 0.9 + 0.1), max(0.0, v * 0.42))
    return fill, bar, text
