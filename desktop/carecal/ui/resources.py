"""Where the style sheet, icons and desktop file are, in a source checkout or an installed copy.

A source checkout keeps them in ``resources/`` at the top of the repository. An installed wheel
ships the same files as data files under ``<prefix>/share/carecal/`` (see ``pyproject.toml``,
``[tool.setuptools.data-files]``). ``CARECAL_RESOURCES`` overrides both (packagers, tests).
Any thread; does a few ``stat`` calls once and caches the answer.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from functools import cache
from pathlib import Path

MARKER = "carecal.qss"


def candidates() -> list[Path]:
    """Folders that may hold the resources, most specific first. Any thread; raises nothing."""
    found: list[Path] = []
    env = os.environ.get("CARECAL_RESOURCES")
    if env:
        found.append(Path(env))
    # desktop/carecal/ui/resources.py -> the repository root is three folders up.
    here = Path(__file__).resolve()
    if len(here.parents) > 3:
        found.append(here.parents[3] / "resources")
    data = sysconfig.get_path("data")
    for prefix in dict.fromkeys(p for p in (data, sys.prefix, sys.base_prefix) if p):
        found.append(Path(prefix) / "share" / "carecal")
    user_base = sysconfig.get_config_var("userbase")
    if isinstance(user_base, str) and user_base:
        found.append(Path(user_base) / "share" / "carecal")
    return found


@cache
def resources_dir() -> Path | None:
    """The first candidate folder that holds the style sheet, or None when none does.

    Any thread; raises nothing (a missing folder only means the plain style).
    """
    for folder in candidates():
        if (folder / MARKER).is_file():
            return folder
    return None
