"""Connecting a data dir to the Docplanner emulator as the app would, for the service tests
of bookings, availability and breaks: the account of the emulator's seeded client, an API
client on the emulator's clock, and addresses mapped to a Carecal calendar.

Runs on the test's thread; the emulator's errors surface as the API's exceptions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from carecal.domain.models import Account, Calendar
from carecal.providers.docplanner_api import DocplannerApi
from carecal.services import docplanner_client as dpc
from carecal.services.docplanner_mapping import find_node, list_tree, map_address
from carecal.store.repo import Repository
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.providers.docplanner_support import EmuTime


def add_docplanner_account(
    repo: Repository, emu: DocplannerEmulator, clock: EmuTime
) -> tuple[Account, DocplannerApi]:
    """The account of the emulator's seeded client (dpc.HOST_ENV must name the emulator) and
    the app's API client for it, on the emulator's clock."""
    account, _ = dpc.add_account(
        repo,
        domain="pl",
        client_id=emu.client_id,
        client_secret=emu.client_secret,
        actor="test",
    )
    api = dpc.make_api(
        dpc.DocplannerSettings.of(account),
        lambda: dpc.load_credentials(account.id),
        clock=clock.now,
        sleep=clock.sleep,
    )
    return account, api


def map_addresses(
    repo: Repository,
    account: Account,
    api: DocplannerApi,
    calendar: Calendar,
    addresses: Iterable[str],
    clock: EmuTime,
) -> None:
    """Map each of ``addresses`` to ``calendar``, creating their services."""
    tree = asyncio.run(list_tree(api))
    for address in addresses:
        map_address(
            repo,
            account,
            find_node(tree, address),
            calendar,
            create_services=True,
            actor="test",
            now=clock.now(),
        )
