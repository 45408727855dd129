"""``carecal sync``, ``outbox list`` and ``conflicts list|resolve`` end to end on Radicale."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run
from tests.cli.test_accounts import add
from tests.integration.servers import ServerInfo, radicale_server

__all__ = ["radicale_server"]

REMOTE = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Other client//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20250101T000000Z\r
LAST-MODIFIED:{stamp}\r
DTSTART:20250311T080000Z\r
DTEND:20250311T090000Z\r
SUMMARY:{title}\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _setup(run: Run, monkeypatch: pytest.MonkeyPatch, server: ServerInfo) -> tuple[str, str]:
    url = server.new_calendar()
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    assert add(run, monkeypatch, url, "--name", "Hub").code == 0
    return url, slug


def _titles(run: Run) -> list[str]:
    listed = run("events", "list", "--from", "2025-03-09", "--to", "2025-03-15", "--format", "json")
    return sorted(o["title"] for o in listed.json())  # type: ignore[union-attr]


def test_sync_both_ways(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo
) -> None:
    url, slug = _setup(run, monkeypatch, radicale_server)
    added = run(
        "events",
        "add",
        "--title",
        "Mine",
        "--start",
        "2025-03-10 09:00",
        "--duration",
        "50",
        "--calendar",
        slug,
    )
    assert added.code == 0, added.err
    assert "waiting" in run("outbox", "list").out
    radicale_server.put(
        f"{url}theirs-1.ics",
        REMOTE.format(uid="theirs-1", title="Theirs", stamp="20250101T000000Z"),
    )

    synced = run("sync")
    assert synced.code == 0, synced.err
    assert f"Hub / {slug}: 1 sent, 1 received" in synced.out
    assert _titles(run) == ["Mine", "Theirs"]
    assert "Nothing waiting" in run("outbox", "list").out
    assert run("outbox", "list", "--format", "json").json() == []

    import niquests

    body = niquests.request("PROPFIND", url, headers={"Depth": "1"}, timeout=10).text
    assert body.count(".ics") == 2  # Mine reached the server, nothing duplicated
    again = run("sync", "--account", "hub")
    assert again.code == 0 and f"{slug}: 0 sent, 0 received" in again.out
    cal = [c for c in run("calendars", "list", "--format", "json").json() if c["name"] == slug]  # type: ignore[union-attr]
    assert cal[0]["last_sync_at"] is not None and cal[0]["pending"] == 0


def test_conflict_shows_and_resolves(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo
) -> None:
    url, _slug = _setup(run, monkeypatch, radicale_server)
    radicale_server.put(
        f"{url}c-1.ics", REMOTE.format(uid="c-1", title="Original", stamp="20250101T000000Z")
    )
    assert run("sync").code == 0
    [occ] = run(
        "events", "list", "--from", "2025-03-11", "--to", "2025-03-11", "--format", "json"
    ).json()  # type: ignore[misc]
    assert run("events", "update", occ["id"], "--title", "Changed here").code == 0
    radicale_server.put(
        f"{url}c-1.ics", REMOTE.format(uid="c-1", title="Changed there", stamp="20250102T000000Z")
    )

    synced = run("sync")
    assert "1 conflicts" in synced.out, synced.out + synced.err
    [conflict] = run("conflicts", "list", "--format", "json").json()  # type: ignore[misc]
    assert conflict["uid"] == "c-1" and "title" in conflict["fields"]
    assert "title" in run("conflicts", "list").out

    resolved = run("conflicts", "resolve", str(conflict["id"]), "--take", "theirs")
    assert resolved.code == 0, resolved.err
    assert run("conflicts", "list").out.strip() == "No conflicts."
    assert _titles(run) == ["Changed there"]
    assert run("sync").code == 0
    twice = run("conflicts", "resolve", str(conflict["id"]), "--take", "mine")
    assert twice.code == 1 and "already resolved" in twice.err


def test_sync_failure_exits_1(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo
) -> None:
    assert run("sync").code == 0  # no accounts: nothing to do
    _setup(run, monkeypatch, radicale_server)
    import keyring

    account_id = run("accounts", "list", "--format", "json").json()[0]["id"]  # type: ignore[index]
    keyring.delete_password("Carecal", account_id)
    monkeypatch.delenv("CARECAL_PASSWORD", raising=False)
    failed = run("sync")
    assert failed.code == 1 and "no password for 'Hub'" in failed.err
    monkeypatch.setenv("CARECAL_PASSWORD", "from-env")
    assert run("sync").code == 0
