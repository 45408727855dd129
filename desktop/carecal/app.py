"""Starting the desktop app: wiring only, no logic and no Qt.

Builds the session (store, services) and hands it to ``carecal.ui.application``, which owns
everything Qt. Every dependency is passed in; there is no global app object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from carecal.services.session import Session


class _KioskArgs(Protocol):
    data_dir: Path | None


class _GuiArgs(Protocol):
    data_dir: Path | None
    demo: bool


@dataclass(frozen=True, slots=True)
class AppArgs:
    """What ``carecal gui`` passes in (``services.session.SessionArgs`` has the same fields)."""

    data_dir: Path | None = None
    demo: bool = False


def main(args: _GuiArgs) -> int:
    """Run the calendar window until it closes; returns the process exit code. Main thread."""
    # Imported here so that `carecal <command>` never pays for (or needs) Qt.
    from carecal.services.demo import fill_demo_week
    from carecal.services.session import open_session
    from carecal.ui.application import run

    def start() -> Session:
        session = open_session(args.data_dir, actor="user")
        if args.demo:
            fill_demo_week(session.repo, date.today())
        return session

    return run(start)


def kiosk_main(args: _KioskArgs) -> int:
    """Run the front-desk kiosk until it is left with its PIN; the exit code. Main thread.

    The kiosk writes as the "kiosk" actor; without a PIN it shows why and returns 1."""
    from carecal.services.session import open_session
    from carecal.ui.kiosk_launch import run_kiosk

    return run_kiosk(lambda: open_session(args.data_dir, actor="kiosk"))


def daysheet_pdf(session: Session, day: date, path: Path) -> int:
    """Write ``day``'s sheet as a PDF at ``path`` (offscreen Qt when there is no display);
    the number of visits on it. Main thread. Raises StoreError, OSError."""
    from carecal.services.daysheet import build_day_sheet
    from carecal.ui.daysheet import save_pdf_headless

    sheet = build_day_sheet(session.repo, day, datetime.now(UTC))
    save_pdf_headless(sheet, path)
    return sheet.visit_count
