"""``carecal kiosk`` (open the front-desk kiosk) and ``carecal kiosk set-pin|clear-pin``.

Main thread; disk I/O. The command line never imports Qt itself: the kiosk window is reached
through ``carecal.app`` only once the PIN check passed, so a kiosk without a PIN fails here
with one line and exit status 1.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from carecal.cli import EXIT_OK, UsageError
from carecal.cli.output import write_line
from carecal.services.session import Session, SessionArgs


def open_kiosk(session: Session, args: argparse.Namespace) -> int:
    """Refuse without a PIN (KioskNotReady, one line); else run the kiosk until it is left."""
    from carecal.services.kiosk import require_pin

    require_pin(session.repo.settings())
    data_dir = session.data_dir
    session.close()  # the kiosk opens its own session on its own threads
    from carecal import app

    return int(app.kiosk_main(SessionArgs(data_dir=data_dir)))


def set_pin(session: Session, args: argparse.Namespace) -> int:
    """Store the salted hash of a new PIN read from stdin (or asked twice on a terminal)."""
    from carecal.services.kiosk import set_pin as store_pin

    if args.pin_stdin or not sys.stdin.isatty():
        pin = sys.stdin.readline().strip()
        if not pin:
            raise UsageError("standard input held no PIN")
    else:
        pin = getpass.getpass("New kiosk PIN: ").strip()
        if getpass.getpass("Same PIN again: ").strip() != pin:
            raise UsageError("the two PINs differ")
    store_pin(session.repo, pin, actor="cli")
    write_line("Kiosk PIN set. Leaving the kiosk asks for it.")
    return EXIT_OK


def clear_pin(session: Session, args: argparse.Namespace) -> int:
    from carecal.services.kiosk import clear_pin as forget_pin

    forget_pin(session.repo, actor="cli")
    write_line("Kiosk PIN cleared. The kiosk will not open until a new one is set.")
    return EXIT_OK
