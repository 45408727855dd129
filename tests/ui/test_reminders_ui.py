"""The practitioner's reminders on screen: the in-window banner where there is no system tray,
"Join video" only from an hour before a visit until its end, and each tray message's click
doing what that message offers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication, QVBoxLayout

from carecal.domain.models import VisitMode
from carecal.services.reminders import Notice
from carecal.services.session import Session
from carecal.ui.context import UiContext
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.tasks import InlineRunner
from carecal.ui.theme import apply_theme
from carecal.ui.tray import ReminderBanner, ReminderTray, install_reminders
from tests.services.kiosk_practice import Practice, at, build_practice

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


def _video_practice(session: Session, notify_before: int) -> tuple[Practice, str]:
    practice = build_practice(session)
    repo = session.repo
    settings = replace(repo.settings(), summary_enabled=False, notify_before_minutes=notify_before)
    repo.save_settings(settings, actor="test")
    url = "https://meet.example.test/marek"
    session.events.update(practice.marek_11.with_changes(mode=VisitMode.VIDEO, video_url=url))
    return practice, url


def test_banner_join_video_opens_an_hour_before_and_closes_at_the_end(
    qtbot, qapp, session: Session
) -> None:  # type: ignore[no-untyped-def]
    _practice, url = _video_practice(session, notify_before=120)  # announced at 09:00
    apply_theme(qapp)
    clock = Clock("09:30")
    ctx = _ctx(session, clock)
    opened: list[str] = []
    banner = ReminderBanner(opened.append)
    qtbot.addWidget(banner)
    reminders = ReminderTray(ctx, banner, use_tray=False, open_url=opened.append)
    reminders.check()
    assert banner.title.text() == "Marek Z. · Therapy session"
    assert banner.join.isVisible() and not banner.join.isEnabled()
    assert "opens an hour before the visit, at 10:00" in banner.join.toolTip()
    assert banner.timer.isActive()  # it follows the clock by itself
    banner.join.click()
    banner._join()  # even when called directly: the room is not open yet
    assert opened == []

    clock.set("09:59")
    banner.refresh()
    assert not banner.join.isEnabled()
    clock.set("10:00")
    banner.refresh()
    assert banner.join.isEnabled()
    assert banner.join.toolTip() == "Open the video room in the browser."
    banner.join.click()
    assert opened == [url]

    clock.set("11:49")
    banner.timer.timeout.emit()  # what the timer does when it fires
    assert banner.join.isEnabled()
    clock.set("11:50")  # the visit's end
    banner.timer.timeout.emit()
    assert not banner.join.isEnabled() and banner.join.toolTip() == "The visit is over."
    banner.join.click()
    assert opened == [url]
    banner.dismiss.click()
    assert not banner.isVisible() and not banner.timer.isActive()
    reminders.stop()


def test_tray_join_video_and_message_clicks_follow_the_last_message(
    qtbot, qapp, session: Session
) -> None:  # type: ignore[no-untyped-def]
    _practice, url = _video_practice(session, notify_before=120)
    clock = Clock("09:30")
    ctx = _ctx(session, clock)
    opened: list[str] = []
    banner = ReminderBanner(opened.append)
    qtbot.addWidget(banner)
    reminders = ReminderTray(ctx, banner, use_tray=True, open_url=opened.append)
    try:
        assert reminders.tray is not None and reminders.join_action is not None
        join = reminders.join_action
        assert not join.isEnabled()  # nothing announced yet
        reminders.check()
        assert join.text() == "Join video: Marek Z. · Therapy session"
        assert not join.isEnabled() and "at 10:00" in join.toolTip()
        assert not banner.isVisible()  # the tray has it
        reminders.tray.messageClicked.emit()  # too early: the click opens nothing
        join.trigger()
        assert opened == []

        clock.set("10:05")
        reminders.refresh_join()  # what opening the tray menu and every check do
        assert join.isEnabled()
        reminders.tray.messageClicked.emit()
        assert opened == [url]

        # Another message since: clicking it does what it offers, not the video.
        other: list[str] = []
        notice = Notice("double-booking:x", "double_booking", "Double booking", "Open it.")
        reminders.show(notice, lambda: other.append("open"))
        reminders.tray.messageClicked.emit()
        assert other == ["open"] and opened == [url]
        join.trigger()  # the menu still joins the last video
        assert opened == [url, url]
        reminders.show(Notice("summary:x", "summary", "Today", "Nothing to click."))
        reminders.tray.messageClicked.emit()
        assert other == ["open"] and opened == [url, url]

        clock.set("11:50")
        reminders.refresh_join()
        assert not join.isEnabled() and join.toolTip() == "The visit is over."
    finally:
        reminders.stop()
