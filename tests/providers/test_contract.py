"""The provider contract, run against every provider: memory, CalDAV on Radicale and Xandikos
(with sync-collection, and on Radicale also with the ctag + ETag listing), Google on the
Calendar v3 emulator and Outlook on the Graph emulator."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from carecal.providers.base import RemoteCalendar, resource_name
from carecal.providers.caldav import CalDAVProvider
from carecal.providers.memory import MemoryProvider
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo
from tests.providers.contract import ICalendarContract, ProviderContract, run
from tests.providers.google_support import GoogleHarness, google_harness, running_emulator
from tests.providers.outlook_support import OutlookHarness, outlook_harness
from tests.providers.outlook_support import running_emulator as running_outlook

FOREIGN_LINE = "X-OTHER-APP-FLAG:keep me"


def _with_foreign(raw: str) -> str:
    return raw.replace("END:VEVENT", FOREIGN_LINE + "\r\nEND:VEVENT", 1)


@dataclass
class MemoryHarness:
    provider: MemoryProvider
    calendar: RemoteCalendar
    pull_budget: int = 1

    def put_elsewhere(self, uid: str, raw: str, name: str | None = None) -> None:
        # The memory server names every resource after its UID; "another name" is the same one.
        self.provider.put_from_elsewhere(self.calendar.remote_id, uid, raw)

    def delete_elsewhere(self, remote_id: str) -> None:
        self.provider.delete_from_elsewhere(self.calendar.remote_id, remote_id)

    def invalidate(self, state: str) -> str:
        self.provider.expire_tokens(self.calendar.remote_id)
        return state

    def request_count(self) -> int:
        return len(self.provider.requests)

    def encode(self, raw: str) -> str:
        return raw

    def add_foreign(self, remote_id: str) -> None:
        item = self.provider.items(self.calendar.remote_id)[remote_id]
        self.provider.put_from_elsewhere(self.calendar.remote_id, item.uid, _with_foreign(item.raw))

    def has_foreign(self, raw: str) -> bool:
        return FOREIGN_LINE in raw


@dataclass
class CalDAVHarness:
    server: ServerInfo
    provider: CalDAVProvider
    calendar: RemoteCalendar
    pull_budget: int
    created: list[str] = field(default_factory=list)

    def put_elsewhere(self, uid: str, raw: str, name: str | None = None) -> None:
        self.server.put(self.calendar.remote_id + (name or resource_name(uid)), raw)

    def delete_elsewhere(self, remote_id: str) -> None:
        self.server.delete(self.server.base_url.rstrip("/") + remote_id)

    def invalidate(self, state: str) -> str:
        # A well-formed token the server never issued (all hex digits zeroed), or for the ctag
        # listing a state it cannot read.
        if state.startswith("ctag:"):
            return "ctag:{"
        return re.sub(r"[0-9a-f]{16,}$", lambda m: "0" * len(m.group()), state)

    def request_count(self) -> int:
        return len(self.provider.requests)

    def encode(self, raw: str) -> str:
        return raw

    def add_foreign(self, remote_id: str) -> None:
        item = run(self.provider.get(self.calendar, remote_id))
        self.server.put(self.server.base_url.rstrip("/") + remote_id, _with_foreign(item.raw))

    def has_foreign(self, raw: str) -> bool:
        return FOREIGN_LINE in raw


def caldav_harness(server: ServerInfo, *, sync: bool) -> CalDAVHarness:
    url = server.new_calendar()
    provider = CalDAVProvider(server.base_url, USERNAME, PASSWORD, use_sync_collection=sync)
    name = url.rstrip("/").rsplit("/", 1)[-1]
    # one sync REPORT + one multiget; the listing costs a ctag PROPFIND + an ETag PROPFIND more
    return CalDAVHarness(server, provider, RemoteCalendar(url, name), 2 if sync else 3)


class TestMemoryProvider(ICalendarContract):
    @pytest.fixture()
    def harness(self) -> MemoryHarness:
        cal = RemoteCalendar(f"mem-{uuid.uuid4().hex[:8]}", "Practice")
        return MemoryHarness(MemoryProvider([cal]), cal)


class TestCalDAVOnRadicale(ICalendarContract):
    @pytest.fixture()
    def harness(self, radicale_server: ServerInfo) -> Iterator[CalDAVHarness]:
        h = caldav_harness(radicale_server, sync=True)
        yield h
        run(h.provider.close())


class TestCalDAVOnXandikos(ICalendarContract):
    @pytest.fixture()
    def harness(self, xandikos_server: ServerInfo) -> Iterator[CalDAVHarness]:
        h = caldav_harness(xandikos_server, sync=True)
        yield h
        run(h.provider.close())


class TestCalDAVListingOnRadicale(ICalendarContract):
    """The path for servers without sync-collection: ctag check, ETag listing, multiget."""

    @pytest.fixture()
    def harness(self, radicale_server: ServerInfo) -> Iterator[CalDAVHarness]:
        h = caldav_harness(radicale_server, sync=False)
        yield h
        run(h.provider.close())


class TestGoogleOnEmulator(ProviderContract):
    """Google's representation is JSON: the iCalendar-text checks do not apply; the same
    promises are checked through to_events, and other apps' data through Google fields."""

    @pytest.fixture()
    def harness(self) -> Iterator[GoogleHarness]:
        with running_emulator() as emu:
            h = google_harness(emu)
            yield h
            run(h.provider.close())


class TestOutlookOnEmulator(ProviderContract):
    """Outlook's representation is Graph JSON, like Google's: the same promises through
    to_events, other apps' data through Graph fields, on the Graph emulator."""

    @pytest.fixture()
    def harness(self) -> Iterator[OutlookHarness]:
        with running_outlook() as emu:
            h = outlook_harness(emu)
            yield h
            run(h.provider.close())
