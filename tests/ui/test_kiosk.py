"""The front-desk kiosk window, offscreen and synchronous (inline database lane, fixed clock).

Flows: staff check-in (single and group), no-show only after the start, self check-in (right and
wrong details), walk-in booking, the idle reset, leaving with the PIN, no way to settings, and the
command line refusing without a PIN. Screenshots at 1280x800 go to tests/ui/screenshots/.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QWidget,
)

from carecal.domain.models import AppointmentStatus, Attendance
from carecal.services.kiosk import KioskService, clear_pin
from carecal.ui.context import UiContext
from carecal.ui.kiosk_window import KioskWindow
from carecal.ui.main_window import MainWindow
from tests.services.kiosk_practice import PIN, TODAY, Practice, build_practice

SHOTS = Path(__file__).parent / "screenshots"
SIZE = (1280, 800)
# Every name of the practice, as any kiosk setting could show it.
NAMES = ("Anna", "Nowak", "Marek", "Zieliński", "Zofia", "Tomasz", "Ewa", "Łukasik", "Jan", "Kos")


@pytest.fixture()
def practice(ctx: UiContext) -> Practice:
    return build_practice(ctx.session)


@pytest.fixture()
def kiosk(qtbot, ctx: UiContext, practice: Practice) -> Iterator[KioskWindow]:  # type: ignore[no-untyped-def]
    service = KioskService(ctx.session.repo, clock=ctx.clock)
    window = KioskWindow(ctx, service, ctx.session.repo.settings())
    qtbot.addWidget(window)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.shutdown()


def texts(root: QWidget) -> str:
    """Every text a live widget under ``root`` holds (shown or not): labels, buttons, fields,
    placeholders, tooltips."""
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    parts: list[str] = []
    for w in root.findChildren(QWidget):
        parts.append(w.toolTip())
        if isinstance(w, QLabel | QAbstractButton):
            parts.append(w.text())
        elif isinstance(w, QLineEdit):
            parts += [w.text(), w.placeholderText()]
    return "\n".join(parts)


def visible_texts(root: QWidget) -> str:
    QApplication.processEvents()  # widgets added to a shown layout appear on the next turn
    return "\n".join(
        w.text()
        for w in root.findChildren(QLabel) + root.findChildren(QAbstractButton)
        if w.isVisibleTo(root)
    )


def shot(widget: QWidget, name: str) -> Path:
    QApplication.processEvents()
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def open_front_desk(kiosk: KioskWindow) -> None:
    kiosk.start.front_desk.click()
    assert kiosk.stack.currentWidget() is kiosk.pin  # self check-in is on: staff need the PIN
    kiosk.pin.type_pin(PIN)
    assert kiosk.stack.currentWidget() is kiosk.staff


def status_of(ctx: UiContext, event_id: str) -> AppointmentStatus:
    return ctx.session.repo.get_event(event_id).status


# --- start screen and staff list -----------------------------------------------------------------


def test_start_screen_holds_no_patient_data(kiosk: KioskWindow) -> None:
    assert kiosk.stack.currentWidget() is kiosk.start
    assert kiosk.start.clock.text() == "10:37"
    assert not any(name in texts(kiosk) for name in NAMES)
    assert kiosk.start.self_check_in.height() >= 48 and kiosk.start.front_desk.height() >= 48
    shot(kiosk, "kiosk_start")


def test_staff_check_in_and_group_check_in(
    qtbot, kiosk: KioskWindow, ctx: UiContext, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    open_front_desk(kiosk)
    shown = visible_texts(kiosk.staff)
    assert "Marek Z." in shown and "Zieliński" not in shown  # first name + last initial
    assert "Dentist" not in shown and "Anna Nowak" not in shown  # no private entry, no title
    marek = next(k for k in kiosk.staff.buttons if k[0][0] == practice.marek_11.id)
    arrive, _ = kiosk.staff.buttons[marek]
    assert arrive.height() >= 48
    with qtbot.waitSignal(ctx.events.changes_applied):
        arrive.click()
    assert status_of(ctx, practice.marek_11.id) is AppointmentStatus.ARRIVED
    assert kiosk.staff.message.text() == "Marked as arrived."
    arrive, _ = kiosk.staff.buttons[marek]  # the list was redrawn
    assert arrive.isHidden()

    group_key = next(k[0] for k in kiosk.staff.buttons if k[0][0] == practice.group_12.id)
    kiosk.staff.buttons_for(group_key, practice.tomasz.id)[0].click()
    stored = ctx.session.repo.get_event(practice.group_12.id)
    assert [p.attendance for p in stored.participants] == [
        Attendance.EXPECTED,
        Attendance.ARRIVED,
        Attendance.EXPECTED,
    ]
    assert not kiosk.staff.buttons_for(group_key, practice.zofia.id)[0].isHidden()
    shot(kiosk, "kiosk_day_list")


def test_no_show_only_after_the_start(
    kiosk: KioskWindow, ctx: UiContext, practice: Practice
) -> None:
    open_front_desk(kiosk)
    later = next(k for k in kiosk.staff.buttons if k[0][0] == practice.marek_11.id)
    _, no_show = kiosk.staff.buttons[later]
    assert not no_show.isEnabled() and "start time" in no_show.toolTip()
    kiosk.no_show(later[0], TODAY, practice.marek.id)  # even if asked directly
    assert "after its start" in kiosk.staff.message.text()
    assert status_of(ctx, practice.marek_11.id) is AppointmentStatus.CONFIRMED

    past = next(k for k in kiosk.staff.buttons if k[0][0] == practice.anna_9.id)
    _, no_show = kiosk.staff.buttons[past]
    assert no_show.isEnabled()
    no_show.click()
    assert status_of(ctx, practice.anna_9.id) is AppointmentStatus.NO_SHOW


def test_next_days_show_times_without_names(kiosk: KioskWindow, practice: Practice) -> None:
    open_front_desk(kiosk)
    kiosk.staff.day_group.buttons()[1].click()  # tomorrow
    shown = visible_texts(kiosk.staff)
    assert "09:00" in shown and "Booked" in shown and "Anna" not in shown
    assert not kiosk.staff.buttons  # no check-in on another day


# --- self check-in -----------------------------------------------------------------------------


def test_self_check_in_with_date_of_birth_and_initials(
    qtbot, kiosk: KioskWindow, ctx: UiContext, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    kiosk.start.self_check_in.click()
    page = kiosk.self_page
    page.enter(date(1990, 7, 21), "")
    qtbot.keyClicks(page.initials, "mz")
    assert page.initials.text() == "MZ"
    page.find_button.click()
    assert page.greeting.text() == "Hello, Marek!"
    assert "Therapy session today at 11:00" in page.details.text()
    others = [n for n in NAMES if n not in ("Marek", "Zieliński")]
    assert not any(name in texts(kiosk) for name in others)
    assert "Zieliński" not in texts(kiosk)  # not even the patient's own last name
    shot(kiosk, "kiosk_self_check_in")
    page.confirm.click()
    assert status_of(ctx, practice.marek_11.id) is AppointmentStatus.ARRIVED
    assert "checked in" in page.done.text()
    kiosk._thanks.setInterval(10)
    qtbot.waitUntil(lambda: kiosk.stack.currentWidget() is kiosk.start)
    assert "Marek" not in texts(kiosk)


@pytest.mark.parametrize(
    ("born", "initials"),
    [(date(1990, 7, 21), "AN"), (date(1990, 7, 22), "MZ"), (date(1985, 3, 2), "AN")],
)
def test_self_check_in_wrong_details_show_nothing(
    kiosk: KioskWindow, ctx: UiContext, practice: Practice, born: date, initials: str
) -> None:
    kiosk.start.self_check_in.click()
    kiosk.self_page.enter(born, initials)
    kiosk.self_page.find_button.click()
    assert "could not find" in kiosk.self_page.message.text()
    assert kiosk.self_page.result.isHidden()
    assert not any(name in texts(kiosk) for name in NAMES)
    assert status_of(ctx, practice.marek_11.id) is AppointmentStatus.CONFIRMED


# --- walk-in -----------------------------------------------------------------------------------


def test_walk_in_books_a_free_slot_which_is_then_gone(
    kiosk: KioskWindow, ctx: UiContext, practice: Practice
) -> None:
    open_front_desk(kiosk)
    kiosk.staff.walk_in.click()
    page = kiosk.walk_in
    assert kiosk.stack.currentWidget() is page
    therapy = next(b for b in page.service_group.buttons() if "Therapy session" in b.text())
    therapy.click()
    first = next(iter(page.slot_buttons))
    assert page.slot_buttons[first].text() == "Today 13:30"
    page.slot_buttons[first].click()
    page.first.setText("Jan")
    page.last.setText("Kos")
    page.birth.setText("01.02.1970")
    shot(kiosk, "kiosk_walk_in")
    page.book.click()
    assert "Booked: Therapy session, Today 13:30" in page.confirmation.text()
    assert page.first.text() == ""
    assert first not in page.slot_buttons  # the taken time is no longer offered
    booked = [
        e
        for e in ctx.session.repo.events_in_window(*_today_window())
        if e.patient_id and ctx.session.repo.get_patient(e.patient_id).full_name == "Jan Kos"
    ]
    assert len(booked) == 1 and booked[0].start == first
    assert ctx.session.repo.get_patient(booked[0].patient_id or "").birth_date == date(1970, 2, 1)


def _today_window():  # type: ignore[no-untyped-def]
    from carecal.services.events import day_bounds
    from tests.services.kiosk_practice import WARSAW

    return day_bounds(TODAY, WARSAW)


# --- idle reset ----------------------------------------------------------------------------------


def test_idle_timeout_returns_to_start_and_forgets_patients(
    qtbot, kiosk: KioskWindow, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    assert kiosk.idle.interval() == 60_000  # the default
    open_front_desk(kiosk)
    assert "Marek Z." in texts(kiosk)
    kiosk.staff.walk_in.click()
    kiosk.walk_in.first.setText("Jan")
    kiosk.walk_in.last.setText("Kos")
    kiosk.idle.setInterval(30)
    kiosk.idle.start()
    qtbot.waitUntil(lambda: kiosk.stack.currentWidget() is kiosk.start, timeout=2000)
    left = texts(kiosk)
    assert not any(name in left for name in NAMES), "a patient name survived the idle reset"
    assert not kiosk.staff.buttons
    # The front desk needs the PIN again.
    kiosk.start.front_desk.click()
    assert kiosk.stack.currentWidget() is kiosk.pin


# --- leaving and what cannot be reached -----------------------------------------------------------


def test_leaving_needs_the_pin(qtbot, kiosk: KioskWindow) -> None:  # type: ignore[no-untyped-def]
    kiosk.close()  # Alt+F4 and the like
    assert kiosk.isVisible() and kiosk.stack.currentWidget() is kiosk.pin
    kiosk.pin.type_pin("1111")
    assert kiosk.isVisible() and "Wrong PIN" in kiosk.pin.message.text()
    shot(kiosk, "kiosk_pin")
    qtbot.keyClicks(kiosk, PIN)  # a keyboard works too
    with qtbot.waitSignal(kiosk.exited):
        qtbot.keyClick(kiosk, Qt.Key.Key_Return)
    assert not kiosk.isVisible()


def test_escape_does_not_leave(qtbot, kiosk: KioskWindow) -> None:  # type: ignore[no-untyped-def]
    open_front_desk(kiosk)
    qtbot.keyClick(kiosk, Qt.Key.Key_Escape)
    assert kiosk.isVisible()


def test_no_menu_no_shortcuts_in_the_kiosk(kiosk: KioskWindow) -> None:
    assert not kiosk.findChildren(QMenuBar) and not kiosk.findChildren(QMenu)
    assert all(a.shortcut().isEmpty() for a in kiosk.findChildren(QAction))
    for forbidden in ("Settings", "Accounts", "Export", "Audit"):
        assert forbidden not in texts(kiosk)


def test_from_the_calendar_window_settings_and_export_are_unreachable(
    qtbot, window: MainWindow, practice: Practice
) -> None:  # type: ignore[no-untyped-def]
    window.open_patients()  # a window full of patient data, open when the kiosk starts
    patients = window.patients_window
    assert patients is not None and patients.isVisible()
    window.open_kiosk()
    kiosk = window.property("kioskWindow")
    assert isinstance(kiosk, KioskWindow) and kiosk.isVisible()
    assert not window.isVisible() and not patients.isVisible()
    actions = window.findChildren(QAction)
    assert actions and not any(a.isEnabled() for a in actions if a.text())
    for key in (Qt.Key.Key_Comma, Qt.Key.Key_E, Qt.Key.Key_P, Qt.Key.Key_Q):
        qtbot.keyClick(kiosk, key, Qt.KeyboardModifier.ControlModifier)
    assert window.property("settingsDialog") is None
    assert not [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()
    ]
    assert kiosk.isVisible()
    kiosk.ask_exit()
    kiosk.pin.type_pin(PIN)
    assert window.isVisible() and not kiosk.isVisible() and patients.isVisible()
    settings_action = next(a for a in actions if a.text() == "&Settings…")
    assert settings_action.isEnabled()


def test_menu_refuses_without_a_pin(window: MainWindow, ctx: UiContext) -> None:
    build_practice(ctx.session, pin=False)
    window.ops.show_errors = False
    window.open_kiosk()
    assert window.property("kioskWindow") is None and window.isVisible()
    assert "needs a PIN" in str(window.property("kioskMessage"))
    for box in QApplication.topLevelWidgets():
        if isinstance(box, QDialog) and box.isVisible():
            box.close()


# --- settings and the command line ----------------------------------------------------------------


def test_settings_tab_hashes_the_pin(qapp, ctx: UiContext) -> None:  # type: ignore[no-untyped-def]
    from carecal.services.kiosk import verify_pin
    from carecal.ui.settings_dialog import SettingsDialog

    repo = ctx.session.repo
    dialog = SettingsDialog(repo.settings(), [], [], [])
    page = dialog.kiosk_page
    page.pin.setText("97531")
    page.pin_again.setText("97530")
    with pytest.raises(ValueError, match="differ"):
        dialog.collect()
    page.pin_again.setText("97531")
    page.names.setCurrentIndex(page.names.findData("initials"))
    page.idle.setValue(120)
    settings = dialog.collect()[0]
    assert "97531" not in settings.kiosk_pin_hash and verify_pin("97531", settings.kiosk_pin_hash)
    assert (settings.kiosk_names, settings.kiosk_idle_seconds) == ("initials", 120)
    dialog.deleteLater()


def test_cli_kiosk_refuses_without_a_pin(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from carecal import app, cli

    opened: list[object] = []
    monkeypatch.setattr(app, "kiosk_main", lambda args: opened.append(args) or 0)
    assert cli.main(["kiosk", "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("carecal: error: The front-desk kiosk needs a PIN first")
    assert "carecal kiosk set-pin" in err and not opened

    monkeypatch.setattr("sys.stdin", io.StringIO("12\n"))
    assert cli.main(["kiosk", "set-pin", "--pin-stdin", "--data-dir", str(data_dir)]) == 1
    assert "4 to 12 digits" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PIN}\n"))
    assert cli.main(["kiosk", "set-pin", "--pin-stdin", "--data-dir", str(data_dir)]) == 0
    assert cli.main(["kiosk", "--data-dir", str(data_dir)]) == 0
    assert len(opened) == 1


def test_clearing_the_pin_closes_the_way_in(ctx: UiContext, practice: Practice) -> None:
    clear_pin(ctx.session.repo, actor="test")
    assert ctx.session.repo.settings().kiosk_pin_hash == ""
