"""The day sheet: built with the kiosk's names policy, written as PDF and PNG, from the menu."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from carecal.services.daysheet import build_day_sheet
from carecal.services.session import Session
from carecal.ui.context import UiContext
from carecal.ui.daysheet import DaySheetDialog, save_pdf, save_png, sheet_html
from carecal.ui.events import AppEvents
from carecal.ui.main_window import MainWindow
from carecal.ui.tasks import InlineRunner
from carecal.ui.theme import apply_theme
from tests.services.kiosk_practice import NOW, TODAY, build_practice

SHOTS = Path(__file__).parent / "screenshots"


def test_sheet_rows_follow_the_privacy_setting(qapp: QApplication, session: Session) -> None:
    build_practice(session)
    repo = session.repo
    repo.save_settings(replace(repo.settings(), practitioner_name="Dr Ola Lis"), actor="test")
    sheet = build_day_sheet(repo, TODAY, NOW)
    assert sheet.heading == "Wednesday, 14 May 2025"
    assert [(r.start, r.who) for r in sheet.rows] == [
        ("09:00", ("Anna N.",)),
        ("11:00", ("Marek Z.",)),
        ("12:00", ("Zofia K.", "Tomasz P.", "Ewa Ł.")),
        ("15:00", ()),
    ]
    assert sheet.rows[-1].blocked and sheet.visit_count == 3
    html = sheet_html(sheet)
    for hidden in ("Nowak", "Dentist", "555", "180"):
        assert hidden not in html
    repo.save_settings(replace(repo.settings(), kiosk_names="initials"), actor="test")
    assert build_day_sheet(repo, TODAY, NOW).rows[0].who == ("A. N.",)
    repo.save_settings(replace(repo.settings(), kiosk_names="full"), actor="test")
    assert build_day_sheet(repo, TODAY, NOW).rows[0].who == ("Anna Nowak",)


def test_sheet_saves_as_pdf_and_png(qapp: QApplication, session: Session, tmp_path: Path) -> None:
    build_practice(session)
    repo = session.repo
    repo.save_settings(replace(repo.settings(), practitioner_name="Dr Ola Lis"), actor="test")
    sheet = build_day_sheet(repo, TODAY, NOW)
    pdf = tmp_path / "day.pdf"
    save_pdf(sheet, pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and b"%%EOF" in data[-64:]
    SHOTS.mkdir(exist_ok=True)
    png = SHOTS / "day_sheet.png"
    save_png(sheet, png)
    assert png.stat().st_size > 10_000


def test_file_menu_opens_the_day_sheet_dialog(
    qtbot, qapp, session: Session, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    apply_theme(qapp)
    build_practice(session)
    ctx = UiContext(
        session=session, tasks=InlineRunner(), events=AppEvents(debounce_ms=0), clock=lambda: NOW
    )
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    file_menu = window.menuBar().actions()[0].menu()
    (action,) = [a for a in file_menu.actions() if a.text() == "&Print day sheet…"]
    action.trigger()
    dialog = window.property("daySheetDialog")
    assert isinstance(dialog, DaySheetDialog)
    QApplication.processEvents()
    assert dialog.grab().save(str(SHOTS / "day_sheet_dialog.png"))
    target = tmp_path / "sheet.pdf"
    dialog.save_as_pdf(target)
    assert target.read_bytes().startswith(b"%PDF-")
    assert dialog.status.text() == "Saved sheet.pdf"
