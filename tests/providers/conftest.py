"""The real servers' fixtures, shared with the provider contract suite, plus a Radicale whose
REPORT size limit is tiny (to drive the full pull's fallbacks with a handful of items)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.servers import (
    ServerInfo,
    radicale_server,
    running_radicale,
    xandikos_server,
)

__all__ = ["radicale_server", "small_report_radicale", "xandikos_server"]

REPORT_LIMIT = 3  # Radicale answers 400 to a REPORT carrying more VEVENTs than this


@pytest.fixture(scope="session")
def small_report_radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerInfo]:
    """Radicale refusing any REPORT whose answer holds more than REPORT_LIMIT VEVENTs."""
    with running_radicale(
        tmp_path_factory.mktemp("radicale-small"),
        extra=f"[reporting]\nmax_expand_occurrence = {REPORT_LIMIT}\n",
    ) as server:
        yield server
