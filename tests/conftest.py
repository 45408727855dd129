"""Test-wide set-up: offscreen Qt, an in-memory keyring, fixed paths to shared test data."""

from __future__ import annotations

import os
from pathlib import Path

# Must run before any QApplication exists: with no display Qt would abort the process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
# Tests never touch the user's real keyring; the backend keeps secrets in a dict.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.memkeyring.MemoryKeyring"

import pytest
from hypothesis import settings

# CI runs the same examples every time (a failure there is reproducible by re-running); a
# developer's run explores new ones and keeps failures in the local example database.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ics_corpus() -> Path:
    """The shared real-world iCalendar corpus, read in place (never copied into the project)."""
    corpus = PROJECT_ROOT.parent / "shared" / "ics_corpus"
    if not corpus.is_dir():
        raise RuntimeError(
            f"the shared iCalendar corpus is missing: expected it at {corpus} (beside the project)"
        )
    return corpus


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    """A fresh Carecal data directory for one test."""
    d = tmp_path / "carecal-data"
    d.mkdir()
    return d
