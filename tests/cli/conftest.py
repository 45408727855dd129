"""Running the real command line in-process against a fresh data directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from carecal import cli


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


Run = Callable[..., Result]

SAMPLE_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Carecal tests//EN
BEGIN:VEVENT
UID:single-1@tests.example
DTSTAMP:20250101T000000Z
DTSTART;TZID=Europe/Warsaw:20250310T090000
DTEND;TZID=Europe/Warsaw:20250310T095000
SUMMARY:Imported session
X-TESTS-KEEP:keep me
END:VEVENT
BEGIN:VEVENT
UID:weekly-1@tests.example
DTSTAMP:20250101T000000Z
DTSTART;TZID=Europe/Warsaw:20250311T140000
DTEND;TZID=Europe/Warsaw:20250311T150000
RRULE:FREQ=WEEKLY;COUNT=4
SUMMARY:Weekly group
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(autouse=True)
def _fixed_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first run takes the system zone as display zone; make it the same on every machine.
    monkeypatch.setenv("TZ", "Europe/Warsaw")
    monkeypatch.delenv("CARECAL_DATA_DIR", raising=False)


@pytest.fixture()
def run(capsys: pytest.CaptureFixture[str], data_dir: Path) -> Run:
    """``run(*argv, data_dir=...)`` runs ``carecal argv --data-dir <dir>`` and captures output."""

    def _run(*argv: str, data_dir: Path = data_dir) -> Result:
        capsys.readouterr()
        code = cli.main([*argv, "--data-dir", str(data_dir)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return _run


@pytest.fixture()
def sample_ics(tmp_path: Path) -> Path:
    path = tmp_path / "sample.ics"
    path.write_text(SAMPLE_ICS.replace("\n", "\r\n"), encoding="utf-8")
    return path
