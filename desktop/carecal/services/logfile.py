"""Carecal's log file: unexpected errors with their tracebacks, beside the database.

Only Carecal's own loggers write here, at INFO and above; messages never carry patient data
(see DESIGN.md, invariant 7 for secrets), so the file can be attached to a bug report.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_to_file(path: Path, *, level: int = logging.INFO) -> logging.Handler:
    """Send the ``carecal`` loggers to ``path`` (rotated at 1 MB, three old files kept).

    Returns the handler so the caller can remove it again. The caller's thread; opens the file.
    Raises OSError when the file cannot be opened.
    """
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    root = logging.getLogger("carecal")
    root.addHandler(handler)
    if root.getEffectiveLevel() > level:
        root.setLevel(level)
    return handler


def stop_logging(handler: logging.Handler) -> None:
    """Detach and close a handler made by ``log_to_file``. The caller's thread."""
    logging.getLogger("carecal").removeHandler(handler)
    handler.close()
