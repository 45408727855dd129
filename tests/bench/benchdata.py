"""Cached benchmark databases and .ics files under tests/bench/_work/ (git-ignored).

A database is keyed by event count, seed and a digest of gen.py, so changing the generator
rebuilds it and re-running a benchmark reuses it. Built through the real import path
(``services.ics_io.import_file``), i.e. exactly what ``carecal import`` does.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = HERE / "_work"
WEEK = date(2026, 11, 23)  # a Monday; the generator centres its two years on it
SEED = 7

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from gen import generate, write_single_file  # noqa: E402


def _gen_digest() -> str:
    return hashlib.sha256((HERE / "gen.py").read_bytes()).hexdigest()[:8]


def ics_file(n: int, seed: int = SEED, shape: str = "spread") -> Path:
    """One .ics file holding the n generated events of that shape (cached)."""
    WORK.mkdir(exist_ok=True)
    tag = "" if shape == "spread" else f"-{shape}"
    path = WORK / f"events-{n}{tag}-s{seed}-{_gen_digest()}.ics"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        write_single_file(generate(n, week_start=WEEK, seed=seed, shape=shape), tmp)
        tmp.replace(path)
    return path


def gen_digest() -> str:
    """A short digest of gen.py, for cache keys of data made from it."""
    return _gen_digest()


def compile_package() -> None:
    """Byte-compile Carecal as pip does on a real install, so timings never include compiling
    sources (an editable install under PYTHONDONTWRITEBYTECODE would compile on every run)."""
    import compileall

    compileall.compile_dir(str(ROOT / "desktop" / "carecal"), quiet=1)


def data_dir(n: int, seed: int = SEED) -> Path:
    """A Carecal data directory whose database holds the n generated events (built once).

    Returns the directory; the ``done`` marker is written only after a complete import, so an
    interrupted build is redone rather than reused half-filled.
    """
    folder = WORK / f"db-{n}-s{seed}-{_gen_digest()}"
    if (folder / "done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    from carecal.services import ics_io
    from carecal.services.session import open_session

    src = ics_file(n, seed)
    t0 = time.perf_counter()
    with open_session(folder, actor="cli") as session:
        # Pin the display zone to the generator's so every machine sees the same week.
        settings = replace(session.repo.settings(), display_tz="Europe/Berlin")
        session.repo.save_settings(settings, actor="system")
        calendar = session.repo.list_calendars()[0]
        ics_io.import_file(session.repo, src, calendar.id, actor="import")
    (folder / "done").write_text(f"{time.perf_counter() - t0:.1f} s to build\n", encoding="utf-8")
    return folder


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["100000"]:
        sys.stdout.write(f"{data_dir(int(arg))}\n")
