"""The crash test of issue 3 against the Outlook provider (issue 5, item 7): a real
``carecal sync`` SIGKILLed at many moments while it syncs with the Graph emulator.

One data directory signs in through MSAL's real loopback flow (``accounts add outlook
--no-browser``, the address followed as a browser would) with privacy "full", so the emulator
holds the same text fields as the local calendar. Local edits (imports and ``carecal events``
commands) and edits "from another device" (another Carecal install, through the emulator's
admin hooks) are interleaved with syncs killed after a seeded random delay. The events lie in
2030, outside the default sync window: their changes reach Carecal as Graph's "@removed"
entries that the provider looks up. Then clean syncs and the same checks as on CalDAV
(tests/integration/test_sync_crash.py).

The emulator keeps an old refresh token alive after a rotation, as Entra does (the reference:
"the old one is not revoked"): a process killed between a refresh and saving MSAL's cache must
not lose the sign-in.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carecal.providers.outlook_map import PROP_ID
from tests.fakes.graph_server import GraphEmulator
from tests.integration import cli_client
from tests.integration.cli_client import EVENT_FIELDS, Item, cli_json
from tests.integration.google_cli import child_env
from tests.integration.outlook_cli import outlook_env, outlook_items, sign_in
from tests.integration.test_sync_crash import (
    SEED_ITEMS,
    Edits,
    _check,
    _edit_and_kill,
    _quiesce,
    _times,
)

SEED = 52211
KILLS = 20
MAX_ROUNDS = 40
MIN_KILLS = 10
KILL_PHASE_S = 35.0


def _graph_time(stamp: str) -> dict[str, str]:
    """``YYYYMMDDTHHMMSSZ`` as Graph's dateTimeTimeZone in UTC."""
    text = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:00"
    return {"dateTime": text, "timeZone": "UTC"}


def _fields(values: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "title" in values:
        out["subject"] = values["title"]
    if "location" in values:
        out["location"] = {"displayName": values["location"]}
    if "notes" in values:
        out["body"] = {"contentType": "text", "content": values["notes"]}
    return out


class OutlookEdits(Edits):
    """The CalDAV crash test's edit generator, with "another device" editing in Outlook."""

    emu: GraphEmulator

    def on_server(self) -> list[tuple[str, Item, str]]:
        return outlook_items(self.emu)

    def remote(self, count: int) -> None:
        on_server = {item.uid: gid for gid, item, _ in self.on_server()}
        for _ in range(count):
            candidates = [e for e in self.model.alive() if e.uid in on_server]
            roll = self.rng.random()
            if roll < 0.15 or not candidates:
                uid = f"remote-{self.serial}-{self.rng.randrange(10**6)}@other"
                values = {f: self.text(f) for f in EVENT_FIELDS}
                start, end = _times(len(self.model.items))
                prop = json.dumps({"uid": uid}, separators=(",", ":"))
                body = {
                    **_fields(values),
                    "start": _graph_time(start),
                    "end": _graph_time(end),
                    "singleValueExtendedProperties": [{"id": PROP_ID, "value": prop}],
                }
                self.emu.remote_create(body)
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
            self.emu.remote_patch(gid, _fields({name: value}))
            self.model.write(exp.uid, {name: value}, remote=True)


def _writes(emu: GraphEmulator) -> int:
    """Writes to the calendar API so far ($batch is a read here; sign-in is not the API)."""
    return sum(
        1
        for method, path, _status in emu.log
        if method in ("POST", "PATCH", "PUT", "DELETE")
        and path.startswith("/v1.0/")
        and "$batch" not in path
    )


@pytest.fixture()
def outlook(tmp_path: Path) -> Iterator[GraphEmulator]:
    with GraphEmulator() as emu:
        emu.identity.old_refresh_tokens_die = False  # as Entra: rotation does not revoke
        with cli_client.extra_env(outlook_env(emu, tmp_path / "keyring.json")):
            yield emu


def test_sigkilled_outlook_sync_loses_and_duplicates_nothing(
    outlook: GraphEmulator, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    sign_in(data_dir, child_env(cli_client.EXTRA_ENV), "--privacy", "full", "--name", "Outlook")
    remote = [c for c in cli_json(data_dir, "calendars", "list") if c["remote"]]
    assert len(remote) == 1, f"expected one mirrored calendar, found {remote}"
    edits = OutlookEdits(rng, None, data_dir, str(remote[0]["name"]), "", tmp_path)  # type: ignore[arg-type]
    edits.emu = outlook
    edits.seed()
    began = time.monotonic()
    cli_client.sync(data_dir)
    full_sync = max(time.monotonic() - began, 0.3)
    assert len(outlook_items(outlook)) == SEED_ITEMS

    kills, rounds = _edit_and_kill(
        edits, rng, full_sync, kills=KILLS, max_rounds=MAX_ROUNDS, seconds=KILL_PHASE_S
    )

    _quiesce(data_dir)
    _check(edits, kills)
    writes = _writes(outlook)
    cli_client.sync(data_dir)
    assert _writes(outlook) == writes, "a quiet sync still wrote to Outlook"
    model = edits.model
    assert kills >= MIN_KILLS, f"only {kills} of {rounds} syncs were still running when killed"
    assert model.acked_local >= 30 and model.remote_edits >= 10, (
        f"too little happened: {model.acked_local} local, {model.remote_edits} remote edits"
    )
