"""Helpers for the Outlook provider's tests: an emulator-backed auth, the contract harness on
the Graph emulator, and "another device" writing events through the emulator's admin hooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from carecal.ical.reader import read_ics
from carecal.providers.base import RemoteCalendar
from carecal.providers.outlook import OutlookProvider, Window
from carecal.providers.outlook_map import PROP_ID, Privacy
from tests.fakes.graph_events import View
from tests.fakes.graph_schema import check_response
from tests.fakes.graph_server import GraphEmulator
from tests.providers.emulator_auth import EmulatorAuth

WIDE = Window(back=3650, ahead=3650)
# How Carecal's requests see events (immutable ids, UTC, text bodies, its property expanded),
# for helpers that read the emulator's store directly.
SEEN_VIEW = View(
    immutable=True, tz_label="UTC", text_body=True, expand=()
)  # the tests' dates are fixed; the window is not
FOREIGN = {
    "categories": ["Red category"],
    "importance": "high",
    "sensitivity": "private",
    "attendees": [
        {"type": "required", "emailAddress": {"name": "Colleague", "address": "c@example.com"}}
    ],
}


async def no_wait(seconds: float) -> None:
    pass


def check_schemas(emu: GraphEmulator) -> None:
    """Every body the emulator sent matches its field whitelist (it invents nothing)."""
    found = [p for kind, body in emu.responses for p in check_response(kind, body)]
    assert found == [], found[:5]


@contextmanager
def running_emulator() -> Iterator[GraphEmulator]:
    with GraphEmulator() as emu:
        yield emu
    check_schemas(emu)


def outlook_provider(emu: GraphEmulator, **options: Any) -> OutlookProvider:
    options.setdefault("window", WIDE)
    options.setdefault("sleep", no_wait)
    return OutlookProvider(EmulatorAuth(emu), api_base=emu.api_base, **options)


def utc_local(moment: datetime) -> dict[str, str]:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return {"dateTime": text, "timeZone": "UTC"}


def carecal_prop(**values: Any) -> list[dict[str, str]]:
    """Carecal's extended property as another Carecal install would have written it."""
    return [{"id": PROP_ID, "value": json.dumps(values, separators=(",", ":"))}]


def body_from_ical(raw: str) -> dict[str, Any]:
    """The Graph body another app would send for the first VEVENT of ``raw`` (timed)."""
    event = read_ics(raw.encode(), source="elsewhere", calendar_id="x").events[0]
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    return {
        "subject": event.title,
        "body": {"contentType": "text", "content": event.description},
        "location": {"displayName": event.location},
        "start": utc_local(event.start),
        "end": utc_local(event.end),
    }


@dataclass
class OutlookHarness:
    """The provider contract's harness on the emulator's default calendar."""

    emu: GraphEmulator
    provider: OutlookProvider
    calendar: RemoteCalendar
    pull_budget: int = 2  # ten changed single events: one delta page and one $batch
    ids: dict[str, str] = field(default_factory=dict)  # uid -> Graph id, of put_elsewhere

    def put_elsewhere(self, uid: str, raw: str, name: str | None = None) -> None:
        # Another Carecal install names the item by its UID in Carecal's property; a second
        # put of the same UID edits that event.
        body = body_from_ical(raw)
        if name is None and uid in self.ids:
            self.emu.remote_patch(self.ids[uid], body, immutable=True)
            return
        created = self.emu.remote_create(
            {**body, "singleValueExtendedProperties": carecal_prop(uid=uid)},
            self.calendar.remote_id,
            immutable=True,
        )
        self.ids[uid] = created["id"]

    def delete_elsewhere(self, remote_id: str) -> None:
        self.emu.remote_delete(remote_id)

    def invalidate(self, state: str) -> str:
        self.emu.expire_delta_tokens()
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
        return all(master.get(k) == v for k, v in FOREIGN.items() if k != "attendees") and [
            a["emailAddress"]["address"] for a in master.get("attendees", [])
        ] == ["c@example.com"]


def outlook_harness(emu: GraphEmulator, privacy: Privacy = Privacy.INITIALS) -> OutlookHarness:
    provider = outlook_provider(emu, privacy=privacy)
    return OutlookHarness(emu, provider, RemoteCalendar(emu.default_calendar_id, "Calendar"))
