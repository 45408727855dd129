"""The practitioner's reminders on screen: the in-window banner where there is no system tray."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication, QVBoxLayout

from carecal.domain.models import VisitMode
from carecal.services.session import Session
from carecal.ui.context import UiContext
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.tasks import InlineRunner
from carecal.ui.theme import apply_theme
from carecal.ui.tray import ReminderBanner, ReminderTray, install_reminders
from tests.services.kiosk_practice import at, build_practice

SHOTS = Path(__file__).parent / "screenshots"


class Clock:
    def __init__(self, hhmm: str) -> None:
        self.now = at(hhmm).astimezone(UTC)

    def set(self, hhmm: str) -> None:
        self.now = at(hhmm).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


def _ctx(session: Session, clock: Clock) -> UiContext:
    return UiContext(
        session=session, tasks=InlineRunner(), events=AppEvents(debounce_ms=0), clock=clock
    )


def test_banner_shows_due_reminders_once_and_joins_video(qtbot, qapp, session: Session) -> None:  # type: ignore[no-untyped-def]
    practice = build_practice(session)
    repo = session.repo
    repo.save_settings(replace(repo.settings(), summary_time="07:30"), actor="test")
    url = "https://meet.example.test/marek"
    session.events.update(practice.marek_11.with_changes(mode=VisitMode.VIDEO, video_url=url))
    apply_theme(qapp)
    clock = Clock("07:45")
    ctx = _ctx(session, clock)
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    opened: list[str] = []
    banner = ReminderBanner(opened.append, window)
    layout = window.centralWidget().layout()
    assert isinstance(layout, QVBoxLayout)
    layout.insertWidget(1, banner)
    reminders = ReminderTray(ctx, banner, use_tray=False, open_url=opened.append)
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)

    reminders.check()
    assert banner.isVisible()
    assert banner.title.text() == "Today: 4 appointments"
    assert not banner.join.isVisible()
    reminders.check()
    assert len(banner.notices) == 1  # the summary is shown once

    clock.set("10:51")
    reminders.check()
    assert banner.title.text() == "Marek Z. · Therapy session"
    assert banner.join.isVisible() and banner.more.text() == "+1 more"
    QApplication.processEvents()
    SHOTS.mkdir(exist_ok=True)
    assert window.grab().save(str(SHOTS / "reminder_banner.png"))
    banner.join.click()
    assert opened == [url]
    banner.dismiss.click()
    assert banner.title.text() == "Today: 4 appointments"
    banner.dismiss.click()
    assert not banner.isVisible()

    # After a restart nothing shown before comes back.
    again = ReminderTray(ctx, ReminderBanner(opened.append), use_tray=False)
    again.check()
    assert again.shown == []


def test_install_reminders_puts_the_banner_under_the_toolbar(qtbot, session: Session) -> None:  # type: ignore[no-untyped-def]
    build_practice(session)
    ctx = _ctx(session, Clock("10:55"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    reminders = install_reminders(ctx, window)
    try:
        layout = window.centralWidget().layout()
        assert isinstance(layout, QVBoxLayout)
        assert layout.itemAt(0).widget() is window.toolbar
        assert layout.itemAt(1).widget() is reminders.banner
        if reminders.tray is None:  # offscreen: no system tray, so the banner took it
            assert reminders.banner.title.text() == "Marek Z. · Therapy session"
        assert reminders.timer.isActive()
    finally:
        reminders.stop()
