"""A real session (SQLite in tmp_path) for service tests, with the system zone pinned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from carecal.services.session import Session, open_session


@pytest.fixture()
def session(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    with open_session(data_dir, actor="user") as s:
        yield s
