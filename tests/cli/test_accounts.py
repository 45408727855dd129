"""``carecal accounts ...`` and ``carecal calendars list`` against a real Radicale."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tests.cli.conftest import Run
from tests.integration.servers import (
    PASSWORD,
    USERNAME,
    ServerInfo,
    radicale_server,
    running_radicale,
)
from tests.providers.contract import vcalendar

__all__ = ["radicale_server"]


@pytest.fixture(scope="module")
def guarded_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Radicale that checks passwords (htpasswd, plain), for the wrong-password path."""
    root = tmp_path_factory.mktemp("radicale-auth")
    (root / "users").write_text(f"{USERNAME}:{PASSWORD}\n")
    auth = (
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {root / 'users'}\n"
        "htpasswd_encryption = plain\ndelay = 0\n"
    )
    with running_radicale(root, auth=auth) as server:
        yield server.base_url


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def add(run: Run, monkeypatch: pytest.MonkeyPatch, url: str, *extra: str, pw: str = PASSWORD):  # type: ignore[no-untyped-def]
    stdin(monkeypatch, pw + "\n")
    return run(
        "accounts",
        "add",
        "caldav",
        "--url",
        url,
        "--username",
        USERNAME,
        "--password-stdin",
        *extra,
    )


def test_add_list_calendars_remove(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo, data_dir: Path
) -> None:
    url = radicale_server.new_calendar()
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    result = add(
        run,
        monkeypatch,
        radicale_server.base_url,
        "--name",
        "Hub",
        "--calendars",
        slug,
        "--no-sync",
    )
    assert result.code == 0, result.err
    assert "Added account 'Hub'" in result.out and f"[x] {slug}" in result.out
    assert "Run 'carecal sync'" in result.out

    listed = run("accounts", "list", "--format", "json")
    [record] = listed.json()  # type: ignore[misc]
    assert record["name"] == "Hub" and record["calendars"] == [slug]
    assert record["password_stored"] is True and PASSWORD not in listed.out
    assert "Hub" in run("accounts", "list").out

    cals = run("calendars", "list", "--format", "json").json()
    mirrored = [c for c in cals if c["account"] == "Hub"]  # type: ignore[union-attr]
    assert [(c["name"], c["read_only"], c["pending"], c["last_sync_at"]) for c in mirrored] == [
        (slug, False, 0, None)
    ]
    assert "never" in run("calendars", "list").out

    assert (
        run(
            "events",
            "add",
            "--title",
            "Session",
            "--start",
            "2025-03-10 09:00",
            "--duration",
            "50",
            "--calendar",
            slug,
        ).code
        == 0
    )
    assert run("calendars", "list", "--format", "json").json()[1]["pending"] == 1  # type: ignore[index]
    refused = run("accounts", "remove", "Hub")
    assert refused.code == 1 and "unsent" in refused.err and refused.err.count("\n") == 1
    removed = run("accounts", "remove", "hub", "--discard-unsent")
    assert removed.code == 0 and "1 events removed" in removed.out
    assert "nothing was deleted on the server" in removed.out
    assert run("accounts", "list", "--format", "json").json() == []
    assert [c["account"] for c in run("calendars", "list", "--format", "json").json()] == [  # type: ignore[union-attr]
        "On this computer"
    ]


def test_add_brings_the_events_at_once(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo
) -> None:
    url = radicale_server.new_calendar()
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    for n in range(3):
        uid = f"visit-{n}@add.test"
        radicale_server.put(url + f"{uid}.ics", vcalendar(uid, f"Visit {n}"))
    result = add(run, monkeypatch, url, "--name", "Hub")
    assert result.code == 0, result.err
    assert "Bringing their events here:" in result.out
    assert "Hub / " in result.out and "3" in result.out.split("Hub / ", 1)[1]
    listed = run("events", "list", "--from", "2025-03-01", "--to", "2025-03-31", "--format", "json")
    assert sorted(e["title"] for e in listed.json()) == ["Visit 0", "Visit 1", "Visit 2"]  # type: ignore[union-attr, index]
    [cal] = [c for c in run("calendars", "list", "--format", "json").json() if c["name"] == slug]  # type: ignore[union-attr, index]
    assert cal["last_sync_at"] is not None
    again = run("sync")
    assert again.code == 0 and "Hub / " in again.out


def test_add_asks_the_server_before_the_data_folder_opens(
    radicale_server: ServerInfo, data_dir: Path
) -> None:
    # Discovery (and the first calendar's download) start on their own thread before the store
    # loads: they run while its modules load and the database opens.
    url = radicale_server.new_calendar()
    radicale_server.put(url + "early@add.test.ics", vcalendar("early@add.test", "Early"))
    code = (
        "import sys, threading\n"
        "seen = []\n"
        "start = threading.Thread.start\n"
        "def noted(thread):\n"
        "    if not seen:\n"
        "        seen.append([m for m in ('peewee', 'carecal.store.db') if m in sys.modules])\n"
        "    start(thread)\n"
        "threading.Thread.start = noted\n"
        "from carecal import cli\n"
        f"rc = cli.main(['--data-dir', {str(data_dir)!r}, 'accounts', 'add', 'caldav', "
        f"'--url', {url!r}, '--username', {USERNAME!r}, '--no-store-password'])\n"
        "sys.stderr.write(repr(seen))\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "CARECAL_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("[[]]"), done.stderr
    assert "0 sent, 1 received" in done.stdout


def test_add_from_calendar_url_mirrors_it(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo
) -> None:
    url = radicale_server.new_calendar()
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    result = add(run, monkeypatch, url)
    assert result.code == 0, result.err
    assert f"[x] {slug}" in result.out
    assert slug in run("calendars", "list").out


def test_password_never_lands_on_disk(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo, data_dir: Path
) -> None:
    url = radicale_server.new_calendar()
    canary = "canary-Zq81-password"
    assert add(run, monkeypatch, url, pw=canary).code == 0
    assert run("calendars", "list").code == 0
    files = [p for p in data_dir.iterdir() if p.is_file()]
    assert any(p.name == "carecal.db" for p in files)
    (data_dir / "carecal.log").touch()  # checked even when nothing was logged
    for path in [*files, data_dir / "carecal.db-wal", data_dir / "carecal.log"]:
        if path.exists():
            assert canary.encode() not in path.read_bytes(), path.name
    account_id = run("accounts", "list", "--format", "json").json()[0]["id"]  # type: ignore[index]
    assert keyring.get_password("Carecal", account_id) == canary


def test_wrong_password_is_one_clear_line(
    run: Run, monkeypatch: pytest.MonkeyPatch, guarded_radicale: str
) -> None:
    result = add(run, monkeypatch, guarded_radicale, pw="wrong-password")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "refused the user name or password" in result.err
    assert "wrong-password" not in result.err
    assert run("accounts", "list", "--format", "json").json() == []


def test_icloud_preset_explains_app_specific_passwords(
    run: Run, monkeypatch: pytest.MonkeyPatch, guarded_radicale: str
) -> None:
    result = add(run, monkeypatch, guarded_radicale, "--preset", "icloud", pw="nope")
    assert result.code == 1 and "app-specific password" in result.err
    assert result.err.count("\n") == 1


def test_headless_without_keyring_offers_the_choice(
    run: Run, monkeypatch: pytest.MonkeyPatch, radicale_server: ServerInfo
) -> None:
    url = radicale_server.new_calendar()
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        refused = add(run, monkeypatch, url)
        assert refused.code == 1 and "--no-store-password" in refused.err
        assert "GNOME Keyring" in refused.err and refused.err.count("\n") == 1
        assert run("accounts", "list", "--format", "json").json() == []
        accepted = add(run, monkeypatch, url, "--no-store-password")
        assert accepted.code == 0, accepted.err
        assert "not stored" in accepted.out
        [record] = run("accounts", "list", "--format", "json").json()  # type: ignore[misc]
        assert record["password_stored"] is False
    finally:
        keyring.set_keyring(before)


def test_usage_errors(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin(monkeypatch, "\n")
    empty = run(
        "accounts", "add", "caldav", "--url", "example.org", "--username", "u", "--password-stdin"
    )
    assert empty.code == 2 and "no password" in empty.err
    missing = run("accounts", "remove", "Nobody")
    assert missing.code == 1 and "no account named 'Nobody'" in missing.err
    bad = run("accounts", "add", "caldav", "--username", "u", "--preset", "aol")
    assert bad.code == 2 and bad.err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ("accounts", "list"),
        ("calendars", "list"),
        ("outbox", "list"),
        ("conflicts", "list"),
    ],
)
def test_listing_commands_stay_light(argv: tuple[str, ...], data_dir: Path) -> None:
    code = (
        "import sys; from carecal import cli; "
        f"rc = cli.main([*{list(argv)!r}, '--data-dir', {str(data_dir)!r}]); "
        "heavy = [m for m in ('caldav', 'icalendar', 'niquests', 'keyring', 'PySide6', "
        "'carecal.sync.engine', 'carecal.providers.caldav') if m in sys.modules]; "
        "sys.exit(rc or (3 if heavy else 0)) if not heavy else sys.exit(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
