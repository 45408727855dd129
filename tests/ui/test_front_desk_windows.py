"""The follow-up offer, the recall list, the requests inbox and the e-mail reminder log on screen
(offscreen, inline lane), with screenshots for a person to look at."""

from __future__ import annotations

import os
from datetime import UTC, date, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from carecal.domain.changes import Changes
from carecal.domain.models import AppointmentStatus, EditScope, Occurrence
from carecal.services.email_reminders import reminder_id
from carecal.store.reminders import EmailQueue, PlannedReminder, ReminderState
from carecal.store.requests import RequestState
from carecal.ui.appointment_menu import action_named
from carecal.ui.editor import EditorResult
from carecal.ui.followup_offer import FollowupDialog
from carecal.ui.main_window import MainWindow
from carecal.ui.recalls import RecallWindow
from carecal.ui.reminder_log import ReminderLogWindow
from carecal.ui.requests_inbox import RequestsWindow
from tests.services.desk_practice import Desk, at, build_desk, private, visit
from tests.ui.conftest import settle

SHOTS = Path(__file__).parent / "screenshots"
REQUESTS_JSON = """[
  {"id": "w-1", "name": "Jan Kowalski", "phone": "+48 700 800 900", "service": "Physiotherapy",
   "preferred": [{"date": "2025-05-16", "from": "12:00", "to": "15:00"}],
   "note": "Knee pain after running; prefers early afternoon.", "source": "website"},
  {"id": "w-2", "name": "Anna Nowak", "email": "anna@example.org", "service": "Massage",
   "preferred": "2025-05-19 09:00-11:00", "source": "website"},
  {"id": "w-3", "name": "Piotr Wrona", "phone": "603 000 111", "service": "Yoga",
   "source": "phone"},
  {"name": "No contact", "service": "Massage"}
]
"""


def _shot(widget: QWidget, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    QApplication.processEvents()
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def _desk(window: MainWindow) -> Desk:
    desk = build_desk(window.ctx.session)
    settle(window)
    return desk


def test_marking_completed_offers_a_follow_up_that_books_in_one_click(
    window: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    session = window.ctx.session
    desk = _desk(window)
    done = visit(session, desk.anna, desk.physio, at(date(2025, 5, 14), "09:00"))
    private(session, at(date(2025, 6, 8), "00:00"), at(date(2025, 6, 9), "11:00"))
    window.reload()
    occ = Occurrence(done, done.start, done.end)
    menu = window.appointment_menu.build(occ)
    action_named(menu, "Completed").trigger()
    settle(window)
    dialog = window.front_desk.followup
    assert isinstance(dialog, FollowupDialog)
    qtbot.waitExposed(dialog)
    assert dialog.offer.weeks == 4 and dialog.offer.target == date(2025, 6, 11)
    assert session.repo.get_event(done.id).status is AppointmentStatus.COMPLETED
    buttons = dialog.slots.buttons
    assert len(buttons) == 8
    assert buttons[0].text() == "Mon 9 Jun\n11:00"  # busy until 11:00 that Monday
    _shot(dialog, "followup_offer")
    buttons[1].click()
    settle(window)
    assert dialog.booked is not None and window.front_desk.followup is None
    booked = session.repo.get_event(dialog.booked.id)
    assert booked.patient_id == desk.anna.id and booked.service_id == desk.physio.id
    assert booked.start == at(date(2025, 6, 9), "11:30")
    assert "Follow-up booked" in window.status_label.text()


def test_completing_in_the_editor_offers_too_and_weeks_can_change(
    window: MainWindow,
) -> None:
    session = window.ctx.session
    desk = _desk(window)
    done = visit(session, desk.marek, desk.massage, at(date(2025, 5, 14), "08:00"))
    occ = Occurrence(done, done.start, done.end)
    result = EditorResult(
        event=done.with_changes(status=AppointmentStatus.COMPLETED),
        changed={"status": AppointmentStatus.COMPLETED},
        is_new=False,
    )
    window.ops.save(result, occ, EditScope.THIS)
    settle(window)
    dialog = window.front_desk.followup
    assert isinstance(dialog, FollowupDialog)
    assert dialog.offer.weeks == 4  # Massage has no interval: the default setting
    dialog.weeks.setValue(2)
    assert dialog.offer.target == date(2025, 5, 28)
    assert dialog.slots.buttons[0].text() == "Mon 26 May\n08:00"
    dialog.later.click()
    assert window.front_desk.followup is None


def test_recall_window_books_the_next_free_slot_in_one_click(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.ctx.session
    desk = _desk(window)
    visit(
        session, desk.anna, desk.physio, at(date(2025, 5, 2), "10:00"), AppointmentStatus.COMPLETED
    )
    visit(
        session,
        desk.marek,
        desk.physio,
        at(date(2025, 4, 10), "10:00"),
        AppointmentStatus.COMPLETED,
    )
    visit(
        session,
        desk.zofia,
        desk.physio,
        at(date(2025, 4, 29), "12:00"),
        AppointmentStatus.COMPLETED,
    )
    visit(session, desk.zofia, desk.massage, at(date(2025, 5, 27), "09:00"))  # rebooked
    window.front_desk.open_recalls()
    recalls = window.front_desk.recalls
    assert isinstance(recalls, RecallWindow)
    qtbot.waitExposed(recalls)
    names = [recalls.table.item(i, 1).text() for i in range(recalls.table.rowCount())]
    assert names == ["Marek Zieliński", "Anna Nowak"]
    assert recalls.table.item(0, 0).text() == "Thu 8 May · 6 days overdue"
    assert recalls.table.item(1, 0).text() == "Fri 30 May · in 16 days"
    first = recalls.table.cellWidget(0, 5).findChild(QPushButton)
    assert first.text() == "Book Wed 14 May, 11:00"
    assert [b.text() for b in recalls.choices.buttons][:2] == [
        "Wed 14 May\n11:00",
        "Wed 14 May\n11:30",
    ]
    recalls.resize(1020, 460)
    _shot(recalls, "recall_list")
    first.click()
    settle(window)
    assert [recalls.table.item(i, 1).text() for i in range(recalls.table.rowCount())] == [
        "Anna Nowak"
    ]
    # A choice among a few: pick Anna's third slot.
    third = recalls.choices.buttons[2]
    third.click()
    settle(window)
    assert recalls.table.rowCount() == 0
    assert recalls.count.text() == "Nobody is due."
    booked = [
        o
        for o in session.events.occurrences(
            at(date(2025, 5, 14), "00:00"), at(date(2025, 7, 1), "00:00")
        )
        if o.event.patient_id in (desk.anna.id, desk.marek.id)
    ]
    assert len(booked) == 2


def test_closed_recall_window_loads_again_only_when_shown(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window.ctx.session
    desk = _desk(window)
    window.front_desk.open_recalls()
    recalls = window.front_desk.recalls
    assert isinstance(recalls, RecallWindow)
    qtbot.waitExposed(recalls)
    assert recalls.table.rowCount() == 0
    recalls.close()
    loads: list[None] = []
    real_refresh = recalls.refresh
    recalls.refresh = lambda: (loads.append(None), real_refresh())[1]  # type: ignore[method-assign]
    visit(
        session, desk.anna, desk.physio, at(date(2025, 5, 2), "10:00"), AppointmentStatus.COMPLETED
    )
    window.ctx.events.changes_applied.emit(Changes(events=frozenset({"any"})))
    settle(window)
    assert loads == []  # nobody sees the list: no load
    window.front_desk.open_recalls()
    qtbot.waitExposed(recalls)
    assert len(loads) == 1
    assert [recalls.table.item(i, 1).text() for i in range(recalls.table.rowCount())] == [
        "Anna Nowak"
    ]


def test_requests_inbox_imports_books_and_declines(
    window: MainWindow, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    session = window.ctx.session
    desk = _desk(window)
    private(session, at(date(2025, 5, 16), "12:00"), at(date(2025, 5, 16), "13:00"))
    path = tmp_path / "leads.json"
    path.write_text(REQUESTS_JSON, encoding="utf-8")
    window.front_desk.open_requests()
    inbox = window.front_desk.requests
    assert isinstance(inbox, RequestsWindow)
    qtbot.waitExposed(inbox)
    assert inbox.list.item(0).text() == "No requests waiting."
    inbox.import_path(path)
    assert "3 new requests, 1 bad row" in inbox.message.text()
    assert "line 9: needs a phone number or an e-mail address" in inbox.message.text()
    assert inbox.list.count() == 3
    inbox.list.setCurrentRow(0)
    assert inbox.heading.text() == "Jan Kowalski"
    assert [b.text() for b in inbox.preferred.buttons] == ["Fri 16 May\n13:30", "Fri 16 May\n14:00"]
    assert inbox.others.buttons[0].text() == "Fri 16 May\n08:00"
    _shot(inbox, "requests_inbox")
    inbox.preferred.buttons[0].click()
    settle(window)
    assert "Booked Jan Kowalski for Fri 16 May, 13:30." in inbox.message.text()
    assert inbox.list.count() == 2
    # The unknown service must be chosen before there are slots.
    inbox.list.setCurrentRow(1)
    assert inbox.heading.text() == "Piotr Wrona"
    assert inbox.service.currentText() == "Yoga (unknown: choose one)"
    assert inbox.preferred.buttons == []
    inbox.service.setCurrentIndex(inbox.service.findText("Massage"))
    assert inbox.others.buttons
    inbox.decline_button.click()
    assert inbox.list.count() == 1
    inbox.history.setChecked(True)
    states = {r.name: r.state for r in inbox.requests}
    assert states == {
        "Jan Kowalski": RequestState.BOOKED,
        "Anna Nowak": RequestState.OPEN,
        "Piotr Wrona": RequestState.DECLINED,
    }
    jan = session.repo.list_patients("Kowalski")
    assert len(jan) == 1 and jan[0].phone == "+48 700 800 900"
    assert desk.anna.id in {p.id for p in session.repo.list_patients("Anna")}


def test_watched_folder_feeds_the_inbox(window: MainWindow, tmp_path: Path) -> None:
    _desk(window)
    folder = tmp_path / "drop"
    folder.mkdir()
    window.front_desk.open_requests()
    inbox = window.front_desk.requests
    assert inbox is not None
    inbox.set_folder(str(folder))
    assert inbox.folder_label.text() == f"Watching {folder}"
    assert window.front_desk.watcher.folder == folder
    file = folder / "leads.json"
    file.write_text(REQUESTS_JSON, encoding="utf-8")
    old = file.stat().st_mtime - 30
    os.utime(file, (old, old))
    window.front_desk.watcher.scan()
    assert (folder / "processed" / "leads.json").exists()
    assert inbox.list.count() == 3
    assert "3 new booking requests" in window.status_label.text()


def _queue_rows(window: MainWindow, desk: Desk) -> None:
    session = window.ctx.session
    queue = EmailQueue(session.db)
    now = window.ctx.clock()
    planned = []
    for i, (patient, hhmm) in enumerate(
        ((desk.anna, "09:00"), (desk.zofia, "11:00"), (desk.marek, "14:00"), (desk.anna, "15:00"))
    ):
        start = at(date(2025, 5, 15), hhmm).astimezone(UTC)
        key = reminder_id(f"ev{i}", "", patient.id)
        planned.append(
            PlannedReminder(
                key, f"ev{i}", "", patient.id, start, start - timedelta(hours=24), f"<{key}@x>"
            )
        )
    queue.plan(planned, (now, now + timedelta(days=3)), now)
    sent, failed, unknown, _queued = (p.id for p in planned)
    for rid in (sent, failed, unknown):
        assert queue.claim(rid, now)
    queue.mark_sent(sent, now)
    queue.mark(failed, ReminderState.FAILED, now, "550 mailbox unavailable")
    queue.mark(unknown, ReminderState.UNKNOWN, now, "interrupted while sending")


def test_reminder_log_window_filters_and_sends_unknown_again(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    desk = _desk(window)
    _queue_rows(window, desk)
    window.front_desk.open_reminder_log()
    log = window.front_desk.reminder_log
    assert isinstance(log, ReminderLogWindow)
    qtbot.waitExposed(log)
    states = [log.queue.item(i, 0).text() for i in range(log.queue.rowCount())]
    assert sorted(states) == ["Failed", "Queued", "Sent", "Unknown"]
    assert log.note.text() == "1 sent · 1 failed · 1 queued · 1 unknown"
    assert log.log.rowCount() >= 7
    _shot(log, "reminder_log")
    log.filter.setCurrentIndex(log.filter.findText("Sent"))
    assert log.queue.rowCount() == 1
    log.queue.selectRow(0)
    assert not log.resend.isEnabled()
    log.filter.setCurrentIndex(log.filter.findText("Unknown"))
    assert log.queue.rowCount() == 1 and log.queue.item(0, 2).text() == "Marek Z."
    log.queue.selectRow(0)
    assert log.resend.isEnabled()
    log.resend.click()
    assert log.queue.rowCount() == 0
    log.filter.setCurrentIndex(log.filter.findText("Queued"))
    assert log.queue.rowCount() == 2
    assert log.log.item(0, 1).text() == "queued" and log.log.item(0, 4).text() == (
        "queued again by the user"
    )
