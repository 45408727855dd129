"""Docplanner bookings and video visits in the views: the editor's booking line and payment
countdown, the agenda's badges, the cards' and chips' marks, and "Join video" enabled from an
hour before the visit until its end, everywhere it is offered. Real widgets, real SQLite, a
clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage
from PySide6.QtWidgets import QApplication, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from carecal.domain.models import (
    AppointmentStatus,
    Event,
    Occurrence,
    Patient,
    VisitMode,
    new_id,
)
from carecal.services.daysheet import build_day_sheet
from carecal.services.session import Session
from carecal.ui.agendaview import AgendaRow
from carecal.ui.appointment_menu import action_named
from carecal.ui.booking_badges import DOCPLANNER_COLOR, PAYMENT_COLORS
from carecal.ui.context import UiContext
from carecal.ui.daysheet import sheet_html
from carecal.ui.editor import AppointmentEditor
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.navigation import ViewMode
from carecal.ui.tasks import InlineRunner
from carecal.ui.theme import apply_theme
from tests.services.test_docplanner_info import add_docplanner_booking
from tests.ui.conftest import FIXED_NOW, TODAY, settle
from tests.ui.test_calendar_window import local

URL = "https://meet.example.com/dp-7781"


class Clock:
    """The session's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now


@pytest.fixture()
def clock() -> Clock:
    return Clock(FIXED_NOW)


@pytest.fixture()
def window(qtbot: QtBot, qapp: QApplication, session: Session, clock: Clock) -> MainWindow:
    apply_theme(qapp)
    ctx = UiContext(
        session=session, tasks=InlineRunner(), events=AppEvents(debounce_ms=0), clock=clock
    )
    w = MainWindow(ctx)
    w.ops.show_errors = False
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture()
def opened(window: MainWindow) -> Iterator[list[str]]:
    """Links handed to the browser, from the agenda (rows built after this) and the menu."""
    links: list[str] = []
    window.agenda.open_url = links.append
    window.appointment_menu.open_url = lambda u: links.append(u.toString()) is None
    yield links


def add_visit(
    window: MainWindow,
    title: str,
    start: datetime,
    *,
    minutes: int = 50,
    video: bool = False,
    patient: str = "",
    event_status: AppointmentStatus = AppointmentStatus.CONFIRMED,
    **booking: object,
) -> Event:
    """A visit in the local calendar; with ``booking`` keywords, booked through Docplanner."""
    repo = window.ctx.session.repo
    patient_id = None
    if patient:
        first, _, last = patient.partition(" ")
        patient_id = new_id()
        repo.add_patient(Patient(patient_id, first, last), actor="test")
    ev = Event(
        id=new_id(),
        calendar_id=repo.ensure_local_calendar().id,
        uid="",
        title=title,
        start=start,
        end=start + timedelta(minutes=minutes),
        tzid="Europe/Warsaw",
        status=event_status,
        patient_id=patient_id,
    )
    if video:
        ev = ev.with_changes(mode=VisitMode.VIDEO, video_url=URL)
    window.ctx.session.events.create(ev)
    if booking:
        add_docplanner_booking(repo, ev, **booking)  # type: ignore[arg-type]
    window.reload()
    settle(window)
    return ev


def awaiting(minutes_ago: int = 47) -> dict[str, object]:
    return {"payment_status": "new", "booked_at": FIXED_NOW - timedelta(minutes=minutes_ago)}


def open_editor(window: MainWindow, ev: Event) -> AppointmentEditor:
    assert window.data is not None
    occ = next(o for o in window.data.occurrences if o.event.id == ev.id)
    window.ops.open_editor(occ)
    editor = window.ops.editor
    assert isinstance(editor, AppointmentEditor)
    return editor


def fill_at(widget: QWidget, x: int, y: int | None = None) -> QColor:
    image: QImage = widget.grab().toImage()
    return image.pixelColor(x, image.height() // 2 if y is None else y)


def close(a: QColor, b: QColor, slack: int = 12) -> bool:
    return all(abs(p - q) <= slack for p, q in zip(a.getRgb()[:3], b.getRgb()[:3], strict=True))


# ---- the editor ---------------------------------------------------------------------------


def test_editor_counts_down_the_payment_window(window: MainWindow, clock: Clock) -> None:
    ev = add_visit(window, "Online consultation", local(TODAY, 15), video=True, **awaiting())
    editor = open_editor(window, ev)
    assert editor.booking_box.isVisibleTo(editor)
    assert editor.booking_source.text() == "Booked on Docplanner by the patient"
    assert editor.booking_text() == (
        "Booked on Docplanner by the patient  ·  Awaiting payment: 43 min left"
    )
    pill = editor.booking_payment
    assert pill is not None and pill.text() == "Awaiting payment: 43 min left"
    assert pill.property("payment") == "awaiting"
    # Booked at 09:50 Warsaw time: Docplanner cancels at 11:20 unless paid.
    assert "paid by 11:20." in pill.toolTip()
    assert close(fill_at(pill, 6), QColor(PAYMENT_COLORS["awaiting"][0]))
    clock.set(FIXED_NOW + timedelta(minutes=10, seconds=20))
    assert pill.text() == "Awaiting payment: 43 min left"  # only a refresh recounts
    editor.refresh_live()
    assert pill.text() == "Awaiting payment: 33 min left"
    assert editor.booking_text().endswith("Awaiting payment: 33 min left")
    clock.set(FIXED_NOW + timedelta(minutes=44))
    editor.refresh_live()
    assert pill.text() == "Awaiting payment (the 90 minutes are over)"
    assert editor._live_timer.isActive() and editor._live_timer.interval() == 30_000
    editor.reject()


@pytest.mark.parametrize(
    ("booking", "source", "line", "state"),
    [
        (
            {"payment_status": "paid", "booked_by": "doctor"},
            "Booked on Docplanner by the practice",
            "Paid online",
            "paid",
        ),
        (
            {"payment_status": "not-paid", "status": "canceled"},
            "Booked on Docplanner by the patient",
            "Cancelled: not paid in time",
            "cancelled",
        ),
        (
            {"payment_status": "refunded"},
            "Booked on Docplanner by the patient",
            "Payment refunded",
            "refunded",
        ),
    ],
)
def test_editor_shows_paid_cancelled_and_refunded_distinctly(
    window: MainWindow, booking: dict[str, object], source: str, line: str, state: str
) -> None:
    ev = add_visit(window, "Consultation", local(TODAY, 15), **booking)
    editor = open_editor(window, ev)
    assert editor.booking_text() == f"{source}  ·  {line}"
    pill = editor.booking_payment
    assert pill is not None and pill.text() == line and pill.property("payment") == state
    shown = fill_at(pill, 6)
    assert close(shown, QColor(PAYMENT_COLORS[state][0]))
    others = {PAYMENT_COLORS[s][0] for s in ("awaiting", "paid", "cancelled", "refunded")}
    assert all(not close(shown, QColor(c)) for c in others - {PAYMENT_COLORS[state][0]})
    editor.reject()


def test_editor_without_a_docplanner_booking_shows_no_booking_line(window: MainWindow) -> None:
    ev = add_visit(window, "Walk-in", local(TODAY, 15))
    editor = open_editor(window, ev)
    assert not editor.booking_box.isVisibleTo(editor)
    assert editor.booking_text() == "" and editor.booking_payment is None
    assert not editor.join_video.isVisibleTo(editor)  # not a video visit
    editor.reject()


def test_booking_without_visit_payment_shows_only_its_source(window: MainWindow) -> None:
    ev = add_visit(window, "Checkup", local(TODAY, 15), visit_payment=False, booked_by="doctor")
    editor = open_editor(window, ev)
    assert editor.booking_box.isVisibleTo(editor)
    assert editor.booking_text() == "Booked on Docplanner by the practice"
    assert editor.booking_payment is None
    editor.reject()


def test_editor_join_video_follows_the_hour_before_rule(
    window: MainWindow, clock: Clock, qtbot: QtBot
) -> None:
    start = local(TODAY, 14)
    ev = add_visit(window, "Video follow-up", start, video=True, **awaiting())
    editor = open_editor(window, ev)
    links: list[str] = []
    editor.open_url = links.append
    join = editor.join_video
    assert join.isVisibleTo(editor)
    for offset, enabled in (
        (-timedelta(minutes=61), False),
        (-timedelta(minutes=59), True),
        (timedelta(minutes=20), True),
        (timedelta(minutes=50), False),
    ):
        clock.set(start + offset)
        editor.refresh_live()
        assert join.isEnabled() is enabled, offset
    clock.set(start - timedelta(minutes=61))
    editor.refresh_live()
    assert join.toolTip() == "The video room opens an hour before the visit, at 13:00."
    qtbot.mouseClick(join, Qt.MouseButton.LeftButton)
    assert links == []
    clock.set(start - timedelta(minutes=59))
    editor.refresh_live()
    assert join.toolTip() == "Open the video room in the browser."
    qtbot.mouseClick(join, Qt.MouseButton.LeftButton)
    assert links == [URL]
    # The button follows the fields: no link, no joining; another mode, no button.
    editor.video_url.setText("")
    assert not join.isEnabled() and join.toolTip() == "Add the video link first."
    editor.mode.setCurrentIndex(editor.mode.findData(VisitMode.IN_PERSON))
    assert not join.isVisibleTo(editor)
    editor.reject()


# ---- the agenda ---------------------------------------------------------------------------


def agenda_row(window: MainWindow, ev: Event) -> AgendaRow:
    row = window.agenda.row_for((ev.id, ""))
    assert row is not None
    return row


def test_agenda_rows_show_the_source_and_the_payment(window: MainWindow, clock: Clock) -> None:
    waiting = add_visit(window, "Online consultation", local(TODAY, 15), video=True, **awaiting())
    paid = add_visit(window, "Paid visit", local(TODAY, 16), payment_status="successful")
    plain = add_visit(window, "Walk-in", local(TODAY, 17))
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    row = agenda_row(window, waiting)
    assert row.source is not None and row.source.text() == "Docplanner"
    assert row.source.toolTip() == "Booked on Docplanner by the patient"
    assert row.source.isVisibleTo(row)
    assert close(fill_at(row.source, 6), QColor("#ccfbf1"))
    assert row.payment is not None and row.payment.text() == "Awaiting payment: 43 min left"
    assert row.payment.property("payment") == "awaiting"
    assert row.video_mark is not None  # the cards' camera glyph
    paid_row = agenda_row(window, paid)
    assert paid_row.payment is not None and paid_row.payment.text() == "Paid online"
    assert paid_row.video_mark is None and paid_row.join is None
    plain_row = agenda_row(window, plain)
    assert plain_row.source is None and plain_row.payment is None
    # The view's timer recounts from the clock; a reload does too.
    clock.set(FIXED_NOW + timedelta(minutes=5))
    window.agenda.tick()
    assert row.payment.text() == "Awaiting payment: 38 min left"
    clock.set(FIXED_NOW + timedelta(minutes=15))
    window.reload()
    settle(window)
    assert agenda_row(window, waiting).payment.text() == "Awaiting payment: 28 min left"  # type: ignore[union-attr]


def test_agenda_join_video_from_an_hour_before_until_the_end(
    window: MainWindow, clock: Clock, opened: list[str], qtbot: QtBot
) -> None:
    start = local(TODAY, 12)  # 10:00 UTC; the clock stands at 08:37 UTC
    ev = add_visit(window, "Video visit", start, video=True, **awaiting())
    office = add_visit(window, "Office visit", local(TODAY, 13))
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    assert agenda_row(window, office).join is None
    join = agenda_row(window, ev).join
    assert join is not None and join.text() == "Join video"
    assert not join.isEnabled()  # 83 minutes before
    assert join.toolTip() == "The video room opens an hour before the visit, at 11:00."
    for offset, enabled in (
        (-timedelta(minutes=61), False),
        (-timedelta(minutes=59), True),
        (timedelta(minutes=49), True),
        (timedelta(minutes=50, seconds=1), False),
    ):
        clock.set(start + offset)
        window.agenda.tick()
        assert join.isEnabled() is enabled, offset
    assert join.toolTip() == "The visit is over."
    clock.set(start - timedelta(minutes=30))
    window.agenda.tick()
    qtbot.mouseClick(join, Qt.MouseButton.LeftButton)
    assert opened == [URL]


# ---- the context menu ---------------------------------------------------------------------


def test_menu_join_video_follows_the_same_rule(
    window: MainWindow, clock: Clock, opened: list[str]
) -> None:
    start = local(TODAY, 14)
    ev = add_visit(window, "Video visit", start, video=True)
    assert window.data is not None
    occ = next(o for o in window.data.occurrences if o.event.id == ev.id)
    clock.set(start - timedelta(minutes=61))
    join = action_named(window.appointment_menu.build(occ), "Join video")
    assert not join.isEnabled()
    assert join.toolTip() == "The video room opens an hour before the visit, at 13:00."
    clock.set(start - timedelta(minutes=59))
    menu = window.appointment_menu.build(occ)
    join = action_named(menu, "Join video")
    assert join.isEnabled() and menu.toolTipsVisible()
    join.trigger()
    assert opened == [URL]
    clock.set(start + timedelta(minutes=50))
    join = action_named(window.appointment_menu.build(occ), "Join video")
    assert not join.isEnabled() and join.toolTip() == "The visit is over."


# ---- cards, chips and the day sheet -------------------------------------------------------


def _pixels(image: QImage, x0: int, y0: int, x1: int, y1: int) -> set[tuple[int, int, int]]:
    return {
        image.pixelColor(x, y).getRgb()[:3]  # type: ignore[misc]
        for x in range(x0, x1)
        for y in range(y0, y1)
    }


def _has_color(found: set[tuple[int, int, int]], color: str, slack: int = 24) -> bool:
    want = QColor(color).getRgb()[:3]
    return any(all(abs(a - b) <= slack for a, b in zip(p, want, strict=True)) for p in found)


def test_week_cards_mark_docplanner_bookings_and_awaiting_payment(
    window: MainWindow, clock: Clock
) -> None:
    waiting = add_visit(window, "Online consultation", local(TODAY, 15), video=True, **awaiting())
    paid = add_visit(window, "Paid visit", local(TODAY, 11), payment_status="paid")
    plain = add_visit(window, "Walk-in", local(TODAY, 9))
    canvas = window.week.canvas
    assert window.data is not None and set(window.data.bookings) == {waiting.id, paid.id}
    image = canvas.grab().toImage()

    def top_right(ev: Event) -> set[tuple[int, int, int]]:
        rect = canvas.card_rect((ev.id, ""))
        assert rect is not None
        r = rect.toRect()
        return _pixels(image, r.right() - 60, r.top() + 1, r.right() - 2, r.top() + 16)

    amber = PAYMENT_COLORS["awaiting"][2]
    assert _has_color(top_right(waiting), DOCPLANNER_COLOR)
    assert _has_color(top_right(waiting), amber)
    assert _has_color(top_right(paid), DOCPLANNER_COLOR)
    assert not _has_color(top_right(paid), amber)  # paid needs no attention on a card
    assert not _has_color(top_right(plain), DOCPLANNER_COLOR)
    rect = canvas.card_rect((waiting.id, ""))
    assert rect is not None
    tip = canvas.tooltip_at(rect.center())
    assert tip.splitlines() == [
        "Online consultation",
        "15:00 – 15:50",
        "Video visit: The video room opens an hour before the visit, at 14:00.",
        "Booked on Docplanner by the patient",
        "Awaiting payment: 43 min left",
    ]
    assert canvas.tooltip_at(QPointF(canvas.width() - 5, 5)) == ""
    # The view answers Qt's own tooltip request with the same text.
    at = rect.center().toPoint()
    request = QHelpEvent(QEvent.Type.ToolTip, at, canvas.mapToGlobal(at))
    assert QApplication.sendEvent(canvas, request)
    assert QToolTip.text() == tip
    QToolTip.hideText()


def test_month_chips_mark_video_docplanner_and_awaiting_payment(
    window: MainWindow, clock: Clock
) -> None:
    waiting = add_visit(window, "Online consultation", local(TODAY, 15), video=True, **awaiting())
    plain = add_visit(window, "Walk-in", local(TODAY, 9))
    window.set_mode(ViewMode.MONTH)
    settle(window)
    month = window.month
    image = month.grab().toImage()

    def chip_pixels(ev: Event) -> set[tuple[int, int, int]]:
        rect = month.chip_rect((ev.id, ""))
        assert rect is not None
        r = rect.toRect()
        return _pixels(image, r.left() + r.width() // 2, r.top(), r.right(), r.bottom())

    assert _has_color(chip_pixels(waiting), DOCPLANNER_COLOR)
    assert _has_color(chip_pixels(waiting), PAYMENT_COLORS["awaiting"][2])
    assert not _has_color(chip_pixels(plain), DOCPLANNER_COLOR)
    chip = next(c for c in month._chip_layout or () if c.occ.event.id == waiting.id)
    assert chip.video and chip.booking is not None
    rect = month.chip_rect((waiting.id, ""))
    assert rect is not None
    assert "Awaiting payment: 43 min left" in month.tooltip_at(rect.center())
    clock.set(FIXED_NOW + timedelta(minutes=3))  # the tooltip counts from the clock
    assert "Awaiting payment: 40 min left" in month.tooltip_at(rect.center())


def test_day_sheet_marks_video_visits(window: MainWindow) -> None:
    add_visit(window, "Video visit", local(TODAY, 12), video=True, patient="Ewa Zielińska")
    add_visit(window, "Office visit", local(TODAY, 13), patient="Jan Nowak")
    office = add_visit(window, "Room named Video", local(TODAY, 15), patient="Olga Nowak")
    window.ctx.session.events.update(office.with_changes(location="Video"))
    sheet = build_day_sheet(window.ctx.session.repo, TODAY, FIXED_NOW)
    html = sheet_html(sheet)
    # Marked by the visit's mode, not by the words in its Where column.
    assert html.count("Video visit</span>") == 1 and "class='video'" in html


def test_menu_and_agenda_ignore_entries_without_a_link(window: MainWindow, qtbot: QtBot) -> None:
    repo = window.ctx.session.repo
    start = local(TODAY, 11)
    ev = Event(
        id=new_id(),
        calendar_id=repo.ensure_local_calendar().id,
        uid="",
        title="Video, no link yet",
        start=start,
        end=start + timedelta(minutes=30),
        tzid="Europe/Warsaw",
        mode=VisitMode.VIDEO,
    )
    window.ctx.session.events.create(ev)
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    row = agenda_row(window, ev)
    assert row.join is None and row.video_mark is not None
    occ = Occurrence(ev, ev.start, ev.end)
    join = action_named(window.appointment_menu.build(occ), "Join video")
    assert not join.isEnabled()


# ---- screenshots ---------------------------------------------------------------------------

SHOTS = Path(__file__).parent / "screenshots"


def _shot(widget: QWidget, name: str) -> Path:
    QApplication.processEvents()
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def test_screenshots_of_docplanner_bookings(window: MainWindow, clock: Clock) -> None:
    """The editor of an awaiting-payment video visit, the agenda and the week with markers."""
    clock.set(local(TODAY, 11, 5))
    booked = local(TODAY, 10, 22)  # 47 minutes of the 90 left at 11:05
    add_visit(
        window,
        "Online consultation",
        local(TODAY, 11, 30),
        video=True,
        patient="Ewa Zielińska",
        payment_status="new",
        booked_at=booked,
    )
    add_visit(
        window,
        "Follow-up (video)",
        local(TODAY, 15),
        minutes=30,
        video=True,
        patient="Marek Wójcik",
        payment_status="successful",
        booked_by="user",
    )
    add_visit(window, "Physiotherapy", local(TODAY, 9), patient="Anna Kowalska")
    add_visit(
        window,
        "Consultation",
        local(TODAY, 13),
        minutes=30,
        patient="Piotr Lis",
        event_status=AppointmentStatus.CANCELLED,
        payment_status="not-paid",
        status="canceled",
    )
    add_visit(
        window,
        "Checkup",
        local(TODAY + timedelta(days=1), 10),
        patient="Olga Nowak",
        visit_payment=False,
        booked_by="doctor",
    )
    add_visit(
        window,
        "Short video call",
        local(TODAY + timedelta(days=1), 12),
        minutes=15,
        video=True,
        patient="Jan Maj",
        payment_status="in_progress",
        booked_at=local(TODAY, 10, 50),
    )
    shots = []
    window.set_mode(ViewMode.WEEK)
    settle(window)
    shots.append(_shot(window, "docplanner_week"))
    window.set_mode(ViewMode.MONTH)
    settle(window)
    shots.append(_shot(window, "docplanner_month"))
    window.set_mode(ViewMode.AGENDA)
    settle(window)
    shots.append(_shot(window, "docplanner_agenda"))
    assert window.data is not None
    occ = next(o for o in window.data.occurrences if o.event.title == "Online consultation")
    window.ops.open_editor(occ)
    editor = window.ops.editor
    assert editor is not None
    editor.adjustSize()
    shots.append(_shot(editor, "docplanner_editor"))
    editor.reject()
    for path in shots:
        assert path.stat().st_size > 10_000
