"""Fixtures for engine tests: a MemoryProvider with one calendar and replicas on tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from carecal.providers.memory import MemoryProvider
from tests.sync.helpers import REMOTE, Replica, open_replica


@pytest.fixture(autouse=True)
def _zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Warsaw")


@pytest.fixture()
def provider() -> MemoryProvider:
    return MemoryProvider([REMOTE])


@pytest.fixture()
def make_replica(tmp_path: Path) -> Iterator[Callable[..., Replica]]:
    made: list[Replica] = []

    def make(name: str = "a", policy: str = "ask", **account: Any) -> Replica:
        """A replica in ``tmp_path / name``; ``account`` as open_replica's (kind, username,
        remote_id)."""
        replica = open_replica(tmp_path / name, policy=policy, **account)
        made.append(replica)
        return replica

    yield make
    for replica in made:
        replica.session.close()


@pytest.fixture()
def replica(make_replica: Callable[..., Replica]) -> Replica:
    return make_replica("a")
