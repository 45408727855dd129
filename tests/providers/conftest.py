"""The real servers' fixtures, shared with the provider contract suite, plus a Radicale whose
REPORT size limit is tiny (to drive the full pull's fallbacks with a handful of items)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.integration.servers import (
    USERNAME,
    ServerInfo,
    _stop,
    _wait_until_up,
    free_port,
    radicale_server,
    xandikos_server,
)

__all__ = ["radicale_server", "small_report_radicale", "xandikos_server"]

REPORT_LIMIT = 3  # Radicale answers 400 to a REPORT carrying more VEVENTs than this


@pytest.fixture(scope="session")
def small_report_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """Radicale refusing any REPORT whose answer holds more than REPORT_LIMIT VEVENTs."""
    root = tmp_path_factory.mktemp("radicale-small")
    port = free_port()
    config = root / "config"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        "[auth]\ntype = none\ndelay = 0\n"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
        "[logging]\nlevel = warning\nmask_passwords = True\n"
        f"[reporting]\nmax_expand_occurrence = {REPORT_LIMIT}\n"
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
