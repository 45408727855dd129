"""UI test fixtures: a real session in tmp_path, the inline lane, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from carecal.services.session import Session, open_session
from carecal.ui.context import UiContext
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.tasks import InlineRunner
from carecal.ui.theme import apply_theme

# A Wednesday morning, so the week view has days before and after "now".
FIXED_NOW = datetime(2025, 5, 14, 8, 37, tzinfo=UTC)
TODAY = date(2025, 5, 14)


@pytest.fixture()
def session(data_dir: Path) -> Iterator[Session]:
    s = open_session(data_dir, actor="user")
    s.repo.save_settings(s.repo.settings().__class__(display_tz="Europe/Warsaw"), actor="test")
    yield s
    s.close()


@pytest.fixture()
def ctx(qapp: QApplication, session: Session) -> UiContext:
    apply_theme(qapp)
    return UiContext(
        session=session,
        tasks=InlineRunner(),
        events=AppEvents(debounce_ms=0),
        clock=lambda: FIXED_NOW,
    )


@pytest.fixture()
def window(qtbot, ctx: UiContext) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(ctx)
    w.ops.show_errors = False
    w.ops.ask_scope = lambda parent, verb: None
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def settle(window: MainWindow) -> None:
    """Deliver debounced changes now (the inline lane makes everything else synchronous)."""
    window.ctx.events.flush()
    QApplication.processEvents()
