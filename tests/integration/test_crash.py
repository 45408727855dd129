"""Durability under SIGKILL (design invariant 1): a real child process edits through the real
edit path and is killed at random moments; after every kill the database is reopened and
checked against what the child acknowledged, then the child resumes on the same data.

Checks after each kill: SQLite integrity; every acknowledged edit is on disk as acknowledged
(unless a later acknowledged edit superseded it, or the one edit in flight at the kill touched
it); every event row has exactly as many outbox ops as audit entries, the last audit entry and
last outbox op agree with the row (or with its deletion) and nothing is in the outbox or the
audit log for an event that never had a row change; the audit chain verifies; no two rows share
(calendar, uid, recurrence id).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from carecal.domain.errors import NotFound
from carecal.services.session import DB_FILE, open_session
from carecal.store.codec import event_doc
from tests.integration.crash_driver import fingerprint

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KILLS = 30
SEED = 20301
READY_TIMEOUT_S = 20.0


@dataclass
class Ledger:
    """What the children acknowledged, across all runs."""

    expected: dict[str, str | None] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)  # touched by an edit cut short by a kill
    acks: int = 0

    def read(self, lines: list[str]) -> None:
        pending: set[str] = set()
        for line in lines:
            kind, _, body = line.partition(" ")
            payload = json.loads(body)
            if kind == "intent":
                pending = set(payload["ids"])
            elif kind == "ack":
                for event_id, fp in payload["events"].items():
                    self.expected[event_id] = fp
                    self.uncertain.discard(event_id)
                pending = set()
                self.acks += 1
            elif kind == "skip":
                pending = set()
        self.uncertain |= pending


def _reader(stream: IO[str], lines: list[str]) -> None:
    # Only whole lines count: the kill may cut the last one short.
    for line in stream:
        if line.endswith("\n"):
            lines.append(line.rstrip("\n"))


def _run_child(data_dir: Path, seed: int, delay: float, *, after_ready: bool) -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT / "desktop"), str(PROJECT_ROOT)])
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.crash_driver", str(data_dir), str(seed)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    lines: list[str] = []
    reader = threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True)
    reader.start()
    if after_ready:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not lines and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
    time.sleep(delay)
    alive = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    reader.join(timeout=10)
    errors = child.stderr.read()
    child.stderr.close()
    assert alive, f"the driver stopped by itself (exit {child.returncode}): {errors[-2000:]}"
    return lines


def _check(data_dir: Path, ledger: Ledger) -> None:
    path = data_dir / DB_FILE
    if not path.exists():
        return
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        raw.close()
    with open_session(data_dir, actor="check") as session:
        repo = session.repo
        assert repo.audit.verify() >= 0
        for event_id, fp in ledger.expected.items():
            if event_id in ledger.uncertain:
                continue
            try:
                found: str | None = fingerprint(repo.get_event(event_id))
            except NotFound:
                found = None
            assert found == fp, f"acknowledged edit of {event_id} lost: {fp} on disk is {found}"
        db = session.db
        dupes = db.execute(
            "SELECT calendar_id, uid, recurrence_id, COUNT(*) FROM events "
            "GROUP BY calendar_id, uid, recurrence_id HAVING COUNT(*) > 1"
        ).fetchall()
        assert not dupes, f"duplicate events: {dupes}"
        rows = {r[0] for r in db.execute("SELECT id FROM events").fetchall()}
        ops: dict[str, list[str]] = {}
        for event_id, kind in db.execute("SELECT event_id, kind FROM outbox ORDER BY seq"):
            ops.setdefault(event_id, []).append(kind)
        audits: dict[str, list[tuple[str, object]]] = {}
        for entry in repo.audit.entries():
            if entry.entity_kind == "event":
                audits.setdefault(entry.entity_id, []).append((entry.action, entry.after))
        assert rows <= set(ops), f"rows without an outbox op: {sorted(rows - set(ops))[:5]}"
        assert rows <= set(audits), f"rows without an audit entry: {sorted(rows - set(audits))[:5]}"
        assert set(ops) == set(audits), "outbox and audit log name different events"
        for event_id, kinds in ops.items():
            trail = audits[event_id]
            assert len(kinds) == len(trail), f"{event_id}: {len(kinds)} ops, {len(trail)} audits"
            if event_id in rows:
                assert kinds[-1] != "delete", f"{event_id}: present but its last op is a delete"
                doc = json.loads(json.dumps(event_doc(repo.get_event(event_id))))
                assert trail[-1][1] == doc, f"{event_id}: the last audit entry is not the row"
            else:
                assert kinds[-1] == "delete", f"{event_id}: gone without a delete op"
                assert trail[-1][0] == "delete", f"{event_id}: gone without a delete audit"


def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    ledger = Ledger()
    for kill in range(KILLS):
        # Every fifth kill lands anywhere from the process start (opening, migrating);
        # the others while it edits.
        early = kill % 5 == 0
        delay = rng.uniform(0.0, 0.35) if early else rng.uniform(0.02, 0.5)
        lines = _run_child(data_dir, SEED + kill, delay, after_ready=not early)
        ledger.read(lines)
        _check(data_dir, ledger)
    # The kills must have landed in a real stream of edits, not only in start-ups.
    assert ledger.acks >= 100, f"only {ledger.acks} edits were acknowledged in {KILLS} runs"
    assert len(ledger.expected) >= 30
