"""Printing the day sheet: HTML laid out by QTextDocument, to a printer, a PDF or a PNG.

``sheet_document`` turns a ``services.daysheet.DaySheet`` into a QTextDocument (A4 portrait);
``save_pdf`` writes it with QPdfWriter, ``save_png`` paints its first page for a screenshot, and
``DaySheetDialog`` (File > Print day sheet…) picks the day and prints or saves it. The same
names policy as the kiosk applies (the sheet is built that way).

GUI thread only (``save_pdf``/``save_png`` need a QGuiApplication, which the command line
creates offscreen).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape
from pathlib import Path

from PySide6.QtCore import QDate, QMarginsF, QSizeF
from PySide6.QtGui import (
    QColor,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carecal.services.daysheet import DaySheet, SheetRow, build_day_sheet
from carecal.ui.context import UiContext
from carecal.ui.qtconv import to_date

_CSS = """
body { font-family: 'DejaVu Sans', sans-serif; color: #111827; font-size: 10pt; }
h1 { font-size: 17pt; margin: 0; }
.sub { color: #4b5563; font-size: 9pt; margin-bottom: 12px; }
table { border-collapse: collapse; }
th { text-align: left; font-size: 8.5pt; color: #374151; background: #f3f4f6;
     padding: 6px 8px; border-bottom: 1px solid #9ca3af; }
td { padding: 7px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
td.time { white-space: nowrap; font-weight: bold; }
td.nowrap { white-space: nowrap; }
th { white-space: nowrap; }
td.blocked { color: #6b7280; font-style: italic; }
td.box { width: 28px; text-align: center; color: #6b7280; font-size: 13pt; }
span.video { color: #1d4ed8; font-weight: bold; }
.foot { color: #6b7280; font-size: 8pt; }
"""

PAGE_MM = QSizeF(210, 297)
MARGIN_MM = 14


def sheet_html(sheet: DaySheet) -> str:
    """The sheet as HTML for QTextDocument (every text escaped)."""
    count = sheet.visit_count
    sub = f"{count} visit{'s' if count != 1 else ''}"
    if sheet.practice:
        sub = f"{escape(sheet.practice)} · {sub}"
    rows = []
    for r in sheet.rows:
        when = f"{r.start}–{r.end}"
        if r.blocked:
            rows.append(
                f"<tr><td class='time'>{when}</td><td class='blocked' colspan='4'>Blocked</td>"
                "<td class='box'></td></tr>"
            )
            continue
        who = "<br/>".join(escape(n) for n in r.who)
        rows.append(
            f"<tr><td class='time'>{when}</td><td>{who}</td><td>{escape(r.service)}</td>"
            f"<td>{_where_html(r)}</td><td class='nowrap'>{escape(r.status)}</td>"
            "<td class='box'>☐</td></tr>"
        )
    if not rows:
        rows.append("<tr><td colspan='6' class='blocked'>No visits on this day.</td></tr>")
    return (
        f"<html><head><style>{_CSS}</style></head><body>"
        f"<h1>{escape(sheet.heading)}</h1><p class='sub'>{sub}</p>"
        "<table width='100%' cellspacing='0'>"
        "<tr><th width='15%'>Time</th><th width='25%'>Patient</th><th width='22%'>Service</th>"
        "<th width='15%'>Where</th><th width='14%'>Status</th><th width='9%'>Here</th></tr>"
        + "".join(rows)
        + "</table>"
        f"<p class='foot'>Names shown: {escape(sheet.names.label)} · {escape(sheet.printed)} "
        "· Carecal</p></body></html>"
    )


def _where_html(row: SheetRow) -> str:
    """The "Where" cell: a video visit marked as the screen's cards mark it, so the front desk
    does not wait at the door for a patient who joins from home."""
    if row.video:
        return "<span class='video'>&#9654;&nbsp;Video visit</span>"
    return escape(row.where)


def sheet_document(sheet: DaySheet) -> QTextDocument:
    """The sheet laid out on an A4 page (points)."""
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setHtml(sheet_html(sheet))
    return doc


def _layout() -> QPageLayout:
    return QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4),
        QPageLayout.Orientation.Portrait,
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
        QPageLayout.Unit.Millimeter,
    )


def save_pdf(sheet: DaySheet, path: Path) -> None:
    """Write the sheet as an A4 PDF. Raises OSError when the file cannot be written."""
    writer = QPdfWriter(str(path))
    writer.setPageLayout(_layout())
    writer.setResolution(300)
    writer.setTitle(f"Day sheet {sheet.day.isoformat()}")
    writer.setCreator("Carecal")
    doc = sheet_document(sheet)
    doc.print_(writer)
    del writer  # finishes the file
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError(f"could not write {path}")


def save_pdf_headless(sheet: DaySheet, path: Path) -> None:
    """``save_pdf`` from the command line: makes the QGuiApplication it needs, offscreen when
    there is no display. Main thread. Raises OSError."""
    import os

    from PySide6.QtWidgets import QApplication

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A QApplication (not only a QGuiApplication): whoever runs Qt next in this process may
    # need widgets.
    app = QApplication.instance() or QApplication(["carecal"])
    try:
        save_pdf(sheet, path)
    finally:
        del app


def save_png(sheet: DaySheet, path: Path, dpi: int = 110) -> None:
    """Paint the sheet's first page as a PNG (screenshots). Raises OSError on write failure."""
    width = round(PAGE_MM.width() / 25.4 * dpi)
    height = round(PAGE_MM.height() / 25.4 * dpi)
    margin = round(MARGIN_MM / 25.4 * dpi)
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    doc = sheet_document(sheet)
    painter = QPainter(image)
    scale = dpi / 96  # QTextDocument lays out at 96 dpi on a screen
    painter.translate(margin, margin)
    painter.scale(scale, scale)
    doc.setTextWidth((width - 2 * margin) / scale)
    doc.drawContents(painter)
    painter.end()
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")


def print_sheet(sheet: DaySheet, parent: QWidget | None) -> bool:
    """Show the system print dialog and print; False when cancelled."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setPageLayout(_layout())
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    sheet_document(sheet).print_(printer)
    return True


class DaySheetDialog(QDialog):
    """Pick a day; print it or save it as PDF."""

    def __init__(
        self, ctx: UiContext, day: date, on_error: Callable[[Exception], None], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.ctx, self.on_error = ctx, on_error
        self.setWindowTitle("Print day sheet")
        self.date = QDateEdit(QDate(day.year, day.month, day.day))
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("dddd d MMMM yyyy")
        hint = QLabel(
            "The front desk's list of the day's visits. Patients are named as on the kiosk "
            "(Settings > Kiosk); notes, phone numbers and prices are never printed."
        )
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("Hint")
        pdf, printer, close = (
            QPushButton("Save as PDF…"),
            QPushButton("Print…"),
            QPushButton("Close"),
        )
        printer.setObjectName("Primary")
        printer.setDefault(True)
        for plain in (pdf, close):
            plain.setAutoDefault(False)
        pdf.clicked.connect(self.save_as_pdf)
        printer.clicked.connect(self.print_now)
        close.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(close)
        row.addWidget(pdf)
        row.addWidget(printer)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 14)
        lay.setSpacing(10)
        lay.addWidget(QLabel("Day"))
        lay.addWidget(self.date)
        lay.addWidget(hint)
        lay.addLayout(row)
        self.setMinimumWidth(460)

    def _with_sheet(self, then: Callable[[DaySheet], None]) -> None:
        day, repo, now = to_date(self.date.date()), self.ctx.session.repo, self.ctx.clock()
        self.ctx.tasks.submit(lambda: build_day_sheet(repo, day, now), then, self.on_error)

    def save_as_pdf(self, path: Path | None = None) -> None:
        """Ask for a file (unless ``path`` is given) and write the PDF there."""
        if not path:
            default = f"day-sheet-{to_date(self.date.date()).isoformat()}.pdf"
            chosen, _ = QFileDialog.getSaveFileName(self, "Save day sheet", default, "PDF (*.pdf)")
            if not chosen:
                return
            path = Path(chosen)
        target = path

        def write(sheet: DaySheet) -> None:
            try:
                save_pdf(sheet, target)
            except OSError as err:
                self.on_error(err)
                return
            self.status.setText(f"Saved {target.name}")

        self._with_sheet(write)

    def print_now(self) -> None:
        def send(sheet: DaySheet) -> None:
            if print_sheet(sheet, self):
                self.accept()

        self._with_sheet(send)


def open_day_sheet(
    ctx: UiContext, day: date, parent: QWidget, on_error: Callable[[Exception], None]
) -> DaySheetDialog:
    """Show the day sheet dialog for ``day`` (non-modal); returns it."""
    dialog = DaySheetDialog(ctx, day, on_error, parent)
    parent.setProperty("daySheetDialog", dialog)
    dialog.open()
    return dialog
