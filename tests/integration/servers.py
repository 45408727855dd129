"""Real CalDAV servers for tests: Radicale and Xandikos on 127.0.0.1, one process per test session.

Each server runs as a child process on a free port with its storage in a temporary directory.
Tests stay independent by making a fresh calendar per test (MKCALENDAR with a unique name),
which costs one request instead of a server start.

Use the fixtures ``radicale_server`` / ``xandikos_server`` (session scoped) and
``ServerInfo.new_calendar()`` for a per-test collection.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import niquests
import pytest

STARTUP_TIMEOUT_S = 20.0
USERNAME = "carecal"
PASSWORD = "not-a-secret"


@dataclass(frozen=True)
class ServerInfo:
    """A running server: its base URL, the principal's calendar home, and how to add a calendar."""

    kind: str  # "radicale" | "xandikos"
    base_url: str  # e.g. http://127.0.0.1:40123/
    home_url: str  # the calendar home collection, ending with "/"
    storage: Path

    def new_calendar(self, name: str | None = None) -> str:
        """Create a fresh calendar collection (MKCALENDAR) and return its absolute URL."""
        slug = name or f"t-{uuid.uuid4().hex[:12]}"
        url = f"{self.home_url}{slug}/"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
            f"<D:set><D:prop><D:displayname>{slug}</D:displayname></D:prop></D:set>"
            "</C:mkcalendar>"
        )
        r = niquests.request(
            "MKCALENDAR",
            url,
            data=body.encode(),
            headers={"Content-Type": "application/xml"},
            auth=(USERNAME, PASSWORD),
            timeout=10,
        )
        if r.status_code not in (200, 201):
            raise RuntimeError(f"MKCALENDAR {url} answered {r.status_code}")
        return url

    def put(self, url: str, body: str) -> str:
        """PUT a resource as another client would (no precondition); returns the new ETag."""
        r = niquests.put(
            url,
            data=body.encode(),
            headers={"Content-Type": "text/calendar; charset=utf-8"},
            auth=(USERNAME, PASSWORD),
            timeout=10,
        )
        if r.status_code not in (200, 201, 204):
            raise RuntimeError(f"PUT {url} answered {r.status_code}")
        return r.headers.get("ETag") or ""

    def delete(self, url: str) -> None:
        """DELETE a resource as another client would."""
        r = niquests.delete(url, auth=(USERNAME, PASSWORD), timeout=10)
        if r.status_code not in (200, 204, 404):
            raise RuntimeError(f"DELETE {url} answered {r.status_code}")


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text(errors='replace')}")
        try:
            niquests.request("OPTIONS", url, timeout=1, auth=(USERNAME, PASSWORD))
            return
        except niquests.exceptions.RequestException:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT_S} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """Radicale with no authentication (any login is accepted as that user), no auth delay,
    filesystem storage in a temporary folder, default report limits."""
    with running_radicale(tmp_path_factory.mktemp("radicale")) as server:
        yield server


NO_AUTH = "[auth]\ntype = none\ndelay = 0\n"


@contextmanager
def running_radicale(root: Path, *, auth: str = NO_AUTH, extra: str = "") -> Iterator[ServerInfo]:
    """A Radicale on a free 127.0.0.1 port with its storage and log under ``root``; ``auth`` and
    ``extra`` are config sections (e.g. htpasswd, a lower report limit). Stopped on exit."""
    port = free_port()
    config = root / "config"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"{auth}"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n"
        f"{extra}"
    )
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(proc, base, log)
        yield ServerInfo("radicale", base, f"{base}{USERNAME}/", root)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def xandikos_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """Xandikos with its defaults (principal /user/, home /user/calendars/), no authentication."""
    root = tmp_path_factory.mktemp("xandikos")
    port = free_port()
    log = root / "server.log"
    exe = Path(sys.executable).with_name("xandikos")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(exe),
                "serve",
                "--defaults",
                "-d",
                str(root / "data"),
                "-l",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(proc, base, log)
        yield ServerInfo("xandikos", base, f"{base}user/calendars/", root)
    finally:
        _stop(proc)
