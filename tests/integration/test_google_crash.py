"""The crash test of issue 3 against the Google provider (issue 4, item 8): a real
``carecal sync`` SIGKILLed at many moments while it syncs with the Google Calendar emulator.

One data directory signs in through the real loopback flow (``accounts add google
--no-browser``, the address followed as a browser would) with privacy "full", so the emulator
holds the same text fields as the local calendar. Local edits (imports and ``carecal events``
commands) and edits "from another device" through the emulator's admin hooks are interleaved
with syncs killed after a seeded random delay. Then clean syncs and the same checks as on
CalDAV (tests/integration/test_sync_crash.py): integrity_check and the audit chain; no UID twice
on Google or locally; every item's last acknowledged write on Google or in the conflict inbox;
local equals Google item for item; one more sync moves nothing.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.integration import cli_client
from tests.integration.cli_client import EVENT_FIELDS, Item, cli_json
from tests.integration.google_cli import child_env, emulator, google_env, google_items, sign_in
from tests.integration.test_sync_crash import (
    SEED_ITEMS,
    Edits,
    _check,
    _edit_and_kill,
    _quiesce,
    _times,
)

SEED = 41177
KILLS = 20
MAX_ROUNDS = 40
MIN_KILLS = 10
KILL_PHASE_S = 35.0
_GOOGLE_FIELD = {"title": "summary", "location": "location", "notes": "description"}


def _rfc3339(stamp: str) -> str:
    """``YYYYMMDDTHHMMSSZ`` as RFC 3339."""
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:00Z"


class GoogleEdits(Edits):
    """The CalDAV crash test's edit generator, with "another device" editing on Google."""

    emu: GoogleCalendarEmulator

    def on_server(self) -> list[tuple[str, Item, str]]:
        return google_items(self.emu)

    def remote(self, count: int) -> None:
        on_server = {item.uid: gid for gid, item, _ in self.on_server()}
        for _ in range(count):
            candidates = [e for e in self.model.alive() if e.uid in on_server]
            roll = self.rng.random()
            if roll < 0.15 or not candidates:
                uid = f"remote-{self.serial}-{self.rng.randrange(10**6)}@other"
                values = {f: self.text(f) for f in EVENT_FIELDS}
                start, end = _times(len(self.model.items))
                body: dict[str, Any] = {
                    "iCalUID": uid,
                    "start": {"dateTime": _rfc3339(start)},
                    "end": {"dateTime": _rfc3339(end)},
                }
                body.update({_GOOGLE_FIELD[f]: v for f, v in values.items()})
                self.emu.remote_insert(body)
                self.model.create(uid, start, end, values, remote=True)
                continue
            exp = self.rng.choice(candidates)
            gid = on_server.pop(exp.uid)
            if roll < 0.25:
                self.emu.remote_delete(gid)
                self.model.delete(exp.uid, remote=True)
                continue
            name = self.rng.choice(EVENT_FIELDS)
            value = self.text("other " + name)
            self.emu.remote_patch(gid, {_GOOGLE_FIELD[name]: value})
            self.model.write(exp.uid, {name: value}, remote=True)


@pytest.fixture()
def google(tmp_path: Path) -> Iterator[GoogleCalendarEmulator]:
    with emulator() as emu, cli_client.extra_env(google_env(emu, tmp_path / "keyring.json")):
        yield emu


def _signed_in(emu: GoogleCalendarEmulator, data_dir: Path) -> str:
    sign_in(data_dir, child_env(cli_client.EXTRA_ENV), "--privacy", "full", "--name", "Google")
    remote = [c for c in cli_json(data_dir, "calendars", "list") if c["remote"]]
    assert len(remote) == 1, f"expected one mirrored calendar, found {remote}"
    return str(remote[0]["name"])


def test_sigkilled_google_sync_loses_and_duplicates_nothing(
    google: GoogleCalendarEmulator, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    calendar = _signed_in(google, data_dir)
    edits = GoogleEdits(rng, None, data_dir, calendar, "", tmp_path)  # type: ignore[arg-type]
    edits.emu = google
    edits.seed()
    began = time.monotonic()
    cli_client.sync(data_dir)  # the seed goes out whole once: the time a full sync takes
    full_sync = max(time.monotonic() - began, 0.3)
    assert len(google_items(google)) == SEED_ITEMS

    kills, rounds = _edit_and_kill(
        edits, rng, full_sync, kills=KILLS, max_rounds=MAX_ROUNDS, seconds=KILL_PHASE_S
    )

    _quiesce(data_dir)
    _check(edits, kills)
    writes = [m for m, _p, status in google.log if m in ("POST", "PATCH", "PUT", "DELETE")]
    mark = len(writes)
    cli_client.sync(data_dir)
    after = [m for m, _p, status in google.log if m in ("POST", "PATCH", "PUT", "DELETE")]
    assert len(after) == mark, "a quiet sync still wrote to Google"
    model = edits.model
    assert kills >= MIN_KILLS, f"only {kills} of {rounds} syncs were still running when killed"
    assert model.acked_local >= 30 and model.remote_edits >= 10, (
        f"too little happened: {model.acked_local} local, {model.remote_edits} remote edits"
    )
