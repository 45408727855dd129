"""Helpers for Carecal's Docplanner tests on the emulator: an API client whose clock is the
emulator's and whose sleeps move that clock (so rate-limit waits cost no real time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from carecal.providers.docplanner_api import Credentials, DocplannerApi
from tests.fakes.docplanner_server import DocplannerEmulator


class EmuTime:
    """The emulator's clock as Carecal's clock, and a sleep that advances it."""

    def __init__(self, emu: DocplannerEmulator) -> None:
        self.emu = emu
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.emu.clock.now()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.emu.advance(timedelta(seconds=seconds))


def make_api(
    emu: DocplannerEmulator,
    time: EmuTime,
    *,
    secret: str | None = None,
    **kw: object,
) -> DocplannerApi:
    """An API client for the emulator's home domain with the seeded client's credentials."""
    creds = Credentials(emu.client_id, secret if secret is not None else emu.client_secret)
    return DocplannerApi(
        emu.domain,
        lambda: creds,
        host_template=emu.host_template,
        clock=time.now,
        sleep=time.sleep,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def emu() -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator() as server:
        yield server


@pytest.fixture
def emu_time(emu: DocplannerEmulator) -> EmuTime:
    return EmuTime(emu)
