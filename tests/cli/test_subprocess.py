"""The real ``python -m carecal`` in a child process: exit codes, and no Qt on the way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _carecal(
    data_dir: Path, *argv: str, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": "Europe/Warsaw", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("CARECAL_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, *flags, "-m", "carecal", *argv, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _imported_modules(importtime_stderr: str) -> set[str]:
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def test_listing_never_imports_qt_or_icalendar(data_dir: Path) -> None:
    added = _carecal(data_dir, "events", "add", "--title", "A", "--start", "2025-03-10T09:00",
                     "--duration", "30")  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = _carecal(
        data_dir, "events", "list", "--from", "2025-03-10", "--to", "2025-03-16",
        "--format", "json", flags=("-X", "importtime"),
    )  # fmt: skip
    assert listed.returncode == 0
    assert [e["title"] for e in json.loads(listed.stdout)] == ["A"]
    modules = _imported_modules(listed.stderr)
    assert "carecal.store.repo" in modules  # the probe does see our imports
    assert not {m for m in modules if m.split(".")[0] in ("PySide6", "shiboken6", "icalendar")}


def test_errors_in_a_child_process_are_one_line(data_dir: Path) -> None:
    bad = _carecal(data_dir, "events", "add", "--title", "x", "--start", "2025-03-10T10:00",
                   "--end", "2025-03-10T09:00")  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    usage = _carecal(data_dir, "events", "list", "--to", "someday")
    assert usage.returncode == 2
    assert usage.stderr.count("\n") == 1 and "Traceback" not in usage.stderr
