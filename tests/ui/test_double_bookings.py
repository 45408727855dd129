"""The Docplanner double-bookings window and its notification, against the emulator: a booking
made over time busy in another calendar is flagged by a real sync; the window names it with
the patient and proposes free starts; one click queues the move and asks for a sync now; the
next sync sends it. Actions Docplanner refused are listed with Retry and Discard. The
notification after a cycle shows times only and opens the window."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout

from carecal.domain.models import Event, new_id
from carecal.services import docplanner_actions as acts
from carecal.services.syncing import CycleResult
from carecal.store.docplanner_actions import ActionStore
from carecal.ui.context import UiContext
from carecal.ui.double_bookings import QUEUED, DoubleBookingsWindow
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.sync_runner import SyncRunner
from carecal.ui.tasks import InlineRunner
from carecal.ui.theme import apply_theme
from carecal.ui.tray import install_reminders
from tests.services.test_docplanner_sync import PATIENT, WARSAW, Practice, practice

__all__ = ["practice"]

SHOTS = Path(__file__).parent / "screenshots"  # for a person to look at; not in git


def _ctx(practice: Practice, sync: SyncRunner | None = None) -> UiContext:
    return UiContext(
        session=practice.session,
        tasks=InlineRunner(),
        events=AppEvents(debounce_ms=0),
        clock=practice.time.now,
        sync=sync,
    )


def _double_booked(practice: Practice) -> tuple[dict[str, object], list[str]]:
    """A Google-mirror event, then a patient booking the same time on Docplanner: the next
    sync flags it. The booking and the sync's lines about new double bookings."""
    emu, repo = practice.emu, practice.session.repo
    assert practice.sync().ok
    free = practice.free(emu.ids.office, "2026-11-10")
    other, _ = repo.add_calendar("Google (mirror)", "#ff0000", actor="test")
    practice.session.events.create(
        Event(new_id(), other.id, "", "Dentist", free[1], free[1] + (free[2] - free[1]))
    )
    booked = emu.patient_books(emu.ids.office, free[1], patient=PATIENT)
    assert booked is not None
    report = practice.sync()
    assert report.conflicts, report.errors
    return booked, report.conflicts


def _refused_confirm(practice: Practice, booking_id: str) -> int:
    """A confirm Docplanner refuses for real (already confirmed in its panel): parked."""
    practice.emu.doctor_confirms(booking_id)
    repo = practice.session.repo
    seq = acts.queue_simple(repo, practice.account, "confirm", booking_id, now=practice.time.now())
    practice.sync(publish=False)
    action = ActionStore(repo).get(seq)
    assert action is not None and action.state == "parked"
    return seq


def _texts(window: DoubleBookingsWindow) -> list[str]:
    return [label.text() for label in window.content.findChildren(QLabel)]


def _save(widget: object, name: str) -> None:
    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))  # type: ignore[attr-defined]


def test_one_click_queues_the_move_and_the_next_sync_resolves_it(
    qtbot, qapp, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    apply_theme(qapp)
    booked, _lines = _double_booked(practice)
    repo = practice.session.repo
    (flag,) = ActionStore(repo).conflicts()
    synced: list[str] = []
    window = DoubleBookingsWindow(_ctx(practice), sync_now=lambda: synced.append("now"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    texts = _texts(window)
    assert any("Ewa Zielińska" in t for t in texts)  # the practitioner's own window
    assert "Not accepted by Docplanner" not in texts
    starts = [s for _r, s, _b in window.move_buttons]
    assert starts == flag.proposals and starts
    first = window.move_buttons[0][2]
    target = flag.proposals[0].astimezone(WARSAW)
    assert first.text() == f"Move to {target:%a %-d %b %H:%M}"

    first.click()
    (move,) = ActionStore(repo).pending(practice.account.id)
    assert move.kind == "move" and move.booking_id == booked["id"]
    assert datetime.fromisoformat(move.payload["to"]) == flag.proposals[0]
    assert synced == ["now"]
    assert window.message.text() == QUEUED
    assert window.move_buttons == []  # no second move offered while one waits
    assert any(t.startswith(f"Move to {target:%a %-d %b %H:%M} queued") for t in _texts(window))
    _save(window, "double_bookings_move_queued")

    assert practice.sync().ok
    window.reload()
    assert window.rows == [] and "No double bookings." in _texts(window)
    (moved,) = [e for e in practice.appointments() if e.calendar_id == practice.calendar.id]
    assert moved.start == flag.proposals[0]


def test_refused_actions_are_retried_or_discarded(qtbot, qapp, practice: Practice) -> None:  # type: ignore[no-untyped-def]
    apply_theme(qapp)
    booked, _lines = _double_booked(practice)
    seq = _refused_confirm(practice, str(booked["id"]))
    repo = practice.session.repo
    synced: list[str] = []
    window = DoubleBookingsWindow(_ctx(practice), sync_now=lambda: synced.append("now"))
    qtbot.addWidget(window)
    window.resize(760, 560)
    window.show()
    qtbot.waitExposed(window)
    texts = _texts(window)
    assert "Not accepted by Docplanner" in texts
    assert any(t.startswith("Confirm the booking of Tue 10 Nov") for t in texts), texts
    assert any("The booking is already confirmed" in t for t in texts)
    assert not any("/facilities/" in t for t in texts)  # no API paths for a person
    _save(window, "double_bookings_window")

    window.retry_buttons[seq].click()
    again = ActionStore(repo).get(seq)
    assert again is not None and again.state == "pending" and again.error is None
    assert synced == ["now"]
    assert seq not in window.retry_buttons  # waiting again, no longer refused
    practice.sync(publish=False)  # Docplanner refuses it once more
    window.reload()
    window.discard_buttons[seq].click()
    gone = ActionStore(repo).get(seq)
    assert (
        gone is not None and gone.state == "discarded" and "already confirmed" in (gone.error or "")
    )
    assert synced == ["now"]  # a discard sends nothing
    assert "Not accepted by Docplanner" not in _texts(window)
    assert window.message.text().startswith("Discarded")


def test_the_notification_names_times_only_and_opens_the_window(
    qtbot, qapp, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    apply_theme(qapp)
    repo = practice.session.repo
    quiet = replace(repo.settings(), summary_enabled=False, notify_before_enabled=False)
    repo.save_settings(quiet, actor="test")  # only the double booking may show
    _booked, lines = _double_booked(practice)
    (flag,) = ActionStore(repo).conflicts()
    runner = SyncRunner(practice.session.db)  # not started: its signal is emitted by hand
    ctx = _ctx(practice, runner)
    window = MainWindow(ctx)
    window.ops.show_errors = False
    qtbot.addWidget(window)
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)
    reminders = install_reminders(ctx, window, use_tray=False)
    try:
        banner = reminders.banner
        layout = window.centralWidget().layout()
        assert isinstance(layout, QVBoxLayout) and layout.itemAt(1).widget() is banner
        runner.finished.emit(CycleResult())  # a cycle without new double bookings: silence
        assert not banner.isVisible()
        # What services.syncing puts in the cycle's result for a Docplanner account.
        runner.finished.emit(
            CycleResult(
                double_bookings=[f"{practice.account.name}: {x}" for x in lines],
                double_booking_ids=[(practice.account.id, flag.booking_id)],
            )
        )
        assert banner.isVisible()
        assert banner.title.text() == "Double booking on Docplanner"
        start = flag.start.astimezone(WARSAW)
        assert banner.body.text() == (
            f"The Docplanner booking on {start:%a %-d %b %H:%M} overlaps another appointment. "
            "Open to move it."
        )
        assert "Ewa" not in banner.body.text() + banner.title.text()
        assert "Zieli" not in banner.body.text() + banner.title.text()
        assert banner.open.isVisible() and not banner.join.isVisible()
        _save(window, "double_booking_banner")
        assert window.double_bookings is None
        banner.open.click()
        opened = window.double_bookings
        assert opened is not None and opened.isVisible()
        assert [r.conflict.booking_id for r in opened.rows] == [flag.booking_id]
        assert not banner.isVisible()  # opened: the message is done
    finally:
        reminders.stop()


def test_the_window_is_in_the_tools_menu_and_empty_says_so(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    actions = {a.text(): a for a in window.actions()}
    actions["Docplanner &double bookings…"].trigger()
    opened = window.double_bookings
    assert opened is not None and opened.isVisible()
    assert _texts(opened)[0] == "No double bookings."
    assert "Not accepted by Docplanner" not in _texts(opened)
    _save(opened, "double_bookings_empty")


def test_the_status_bar_links_to_double_bookings_and_refusals(
    qtbot, qapp, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    apply_theme(qapp)
    booked, _lines = _double_booked(practice)
    window = MainWindow(_ctx(practice))
    window.ops.show_errors = False
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    link = window.sync.indicator.docplanner
    assert link.isVisible() and link.text() == "1 double booking"
    _refused_confirm(practice, str(booked["id"]))
    acts.queue_simple(
        practice.session.repo, practice.account, "cancel", str(booked["id"]), reason="ill"
    )
    window.sync.refresh()
    assert link.text() == "1 double booking  ·  1 refused by Docplanner"
    assert "1 unsent" in window.sync.indicator.button.text()  # the cancel, not yet sent
    _save(window.statusBar(), "status_bar_docplanner")
    link.click()
    opened = window.double_bookings
    assert opened is not None and opened.isVisible()
