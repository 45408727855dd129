"""Helpers for the Google provider's tests: an emulator-backed auth, the contract harness, and
"another device" writing plain events through the emulator's admin hooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carecal.ical.reader import read_ics
from carecal.providers.base import RemoteCalendar
from carecal.providers.google import GoogleProvider
from carecal.providers.google_map import Privacy
from tests.fakes.google_calendar import GoogleCalendarEmulator, load_discovery
from tests.fakes.google_schema import check_response
from tests.providers.emulator_auth import EmulatorAuth

OWNER = "practitioner@example.com"
CALENDAR = RemoteCalendar(OWNER, "Practice")
FOREIGN = {
    "colorId": "5",
    "attendees": [{"email": "colleague@example.com", "responseStatus": "accepted"}],
    "extendedProperties": {"private": {"otherApp": "keep me"}},
    "guestsCanModify": True,
}


def check_schemas(emu: GoogleCalendarEmulator) -> None:
    """Every body the emulator sent matches the discovery document (it invents nothing)."""
    schemas = load_discovery()["schemas"]
    found = [p for name, body in emu.responses for p in check_response(name, body, schemas)]
    assert found == [], found


@contextmanager
def running_emulator() -> Iterator[GoogleCalendarEmulator]:
    with GoogleCalendarEmulator() as emu:
        yield emu
    check_schemas(emu)


def google_provider(emu: GoogleCalendarEmulator, **options: Any) -> GoogleProvider:
    return GoogleProvider(EmulatorAuth(emu), api_base=emu.api_base, **options)


def body_from_ical(raw: str) -> dict[str, Any]:
    """The Google body another app would send for the first VEVENT of ``raw`` (timed, UTC)."""
    event = read_ics(raw.encode(), source="elsewhere", calendar_id="x").events[0]
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    body: dict[str, Any] = {
        "summary": event.title,
        "start": {"dateTime": event.start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": event.end.isoformat(), "timeZone": "UTC"},
    }
    if event.description:
        body["description"] = event.description
    if event.location:
        body["location"] = event.location
    return body


@dataclass
class GoogleHarness:
    """The provider contract's harness on the emulator's primary calendar."""

    emu: GoogleCalendarEmulator
    provider: GoogleProvider
    calendar: RemoteCalendar = CALENDAR
    pull_budget: int = 1  # ten changed single events: one events.list page
    ids: dict[str, str] = field(default_factory=dict)  # uid -> Google id, of put_elsewhere

    def put_elsewhere(self, uid: str, raw: str, name: str | None = None) -> None:
        # Another app names the event by iCalUID (Google picks the id); a second put of the
        # same UID edits that event, as the other app would.
        body = body_from_ical(raw)
        if name is None and uid in self.ids:
            self.emu.remote_patch(self.ids[uid], body)
            return
        self.ids[uid] = self.emu.remote_insert({**body, "iCalUID": uid})["id"]

    def delete_elsewhere(self, remote_id: str) -> None:
        self.emu.remote_delete(remote_id)

    def invalidate(self, state: str) -> str:
        self.emu.expire_sync_tokens()
        return state

    def request_count(self) -> int:
        return len(self.provider.requests)

    def encode(self, raw: str) -> str:
        events = read_ics(raw.encode(), source="carecal", calendar_id="cal-1").events
        return self.provider.to_raw(events)

    def add_foreign(self, remote_id: str) -> None:
        self.emu.remote_patch(remote_id, FOREIGN)

    def has_foreign(self, raw: str) -> bool:
        master = json.loads(raw)["events"][0]
        private = master.get("extendedProperties", {}).get("private", {})
        return (
            master.get("colorId") == FOREIGN["colorId"]
            and master.get("attendees") == FOREIGN["attendees"]
            and master.get("guestsCanModify") is True
            and private.get("otherApp") == "keep me"
        )


def google_harness(
    emu: GoogleCalendarEmulator, privacy: Privacy = Privacy.INITIALS
) -> GoogleHarness:
    return GoogleHarness(emu, google_provider(emu, privacy=privacy))
