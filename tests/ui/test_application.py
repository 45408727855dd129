"""The window's last line of defence: uncaught exceptions go to carecal.log, not a traceback."""

from __future__ import annotations

import sys

from carecal.services.logfile import log_to_file, stop_logging
from carecal.ui.application import install_error_hook
from carecal.ui.main_window import MainWindow


def _raise_in_a_slot() -> None:
    raise RuntimeError("boom in a slot")


def test_uncaught_error_is_logged_and_shown_as_one_sentence(window: MainWindow) -> None:
    log_path = window.ctx.session.log_path
    handler = log_to_file(log_path)
    restore = install_error_hook(window)
    try:
        try:
            _raise_in_a_slot()
        except RuntimeError:
            sys.excepthook(*sys.exc_info())  # what Qt does with an exception escaping a slot
    finally:
        restore()
        stop_logging(handler)
    shown = window.ops.last_error
    assert shown is not None
    assert "RuntimeError" in shown and "Traceback" not in shown and "\n" not in shown
    logged = log_path.read_text(encoding="utf-8")
    assert "Traceback" in logged and "boom in a slot" in logged and "_raise_in_a_slot" in logged


def test_hook_is_put_back(window: MainWindow) -> None:
    before = sys.excepthook
    restore = install_error_hook(window)
    assert sys.excepthook is not before
    restore()
    assert sys.excepthook is before
