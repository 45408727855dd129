"""The engine's state machine (test_state_machine.py) with Outlook in place of the memory
server: two replicas sync through the Outlook provider and the Graph emulator, with the same
random local and remote edits, outages, faults at random requests, lost answers to applied
writes, expired delta links, 412s and restarts, and the same promises at quiescence:
convergence, no duplicate UIDs, no lost edit."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, settings

from carecal.domain.errors import RateLimited, RemoteError
from carecal.providers.base import PullResult, RemoteCalendar, RemoteItem, RemoteRef
from carecal.providers.outlook import OutlookProvider
from carecal.providers.outlook_map import Privacy, item_text, item_uid, version_text
from tests.fakes.graph_events import View
from tests.fakes.graph_server import GraphEmulator
from tests.providers.outlook_support import (
    WIDE,
    EmulatorAuth,
    body_from_ical,
    carecal_prop,
    check_schemas,
    no_wait,
)
from tests.sync.network import FaultyNetwork, NetworkFaultHooks
from tests.sync.test_state_machine import SyncMachine

SEEN = View(immutable=True, tz_label="UTC", text_body=True, expand=())


def _graph_fault(request: httpx.Request, error: RemoteError) -> httpx.Response:
    """Graph's answer for a fault: 429 with Retry-After for a rate limit, else 504."""
    if isinstance(error, RateLimited):
        status, code = 429, "ApplicationThrottled"
        headers = {"Retry-After": str(int(error.retry_after or 60))}
    else:
        status, code, headers = 504, "GatewayTimeout", {}
    body = {"error": {"code": code, "message": str(error)}}
    return httpx.Response(status, headers=headers, json=body, request=request)


def _is_write(request: httpx.Request) -> bool:
    """A write whose answer can be lost: a POST or PATCH, not a ``$batch`` of reads."""
    return request.method in ("POST", "PATCH") and not request.url.path.endswith("$batch")


class OutlookFaulty(NetworkFaultHooks, OutlookProvider):
    """The Outlook provider on the emulator, with FaultyProvider's test hooks."""

    def __init__(self, emu: GraphEmulator) -> None:
        self.emu = emu
        self.net = FaultyNetwork(_graph_fault, _is_write)
        super().__init__(
            EmulatorAuth(emu),
            api_base=emu.api_base,
            privacy=Privacy.FULL,
            window=WIDE,
            transport=self.net,
            sleep=no_wait,
        )

    # The replicas mirror "cal1" (tests.sync.helpers.REMOTE); Graph names calendars itself.
    def _cal(self, calendar: RemoteCalendar) -> RemoteCalendar:
        return RemoteCalendar(self.emu.default_calendar_id, calendar.name)

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        return await super().pull(self._cal(calendar), state)

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        return await super().get(self._cal(calendar), remote_id)

    async def find(self, calendar: RemoteCalendar, uid: str) -> RemoteItem | None:
        return await super().find(self._cal(calendar), uid)

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        return await super().create(self._cal(calendar), uid, raw)

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        return await super().update(self._cal(calendar), ref, raw)

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        await super().delete(self._cal(calendar), ref)

    def _live(self) -> list[dict[str, object]]:
        box = self.emu.mailbox
        with self.emu.lock:
            return [box.render(box.as_inst(i), SEEN) for i in box.items.values()]

    def items(self, calendar_id: str) -> dict[str, RemoteItem]:
        out = {}
        for e in self._live():
            eid = str(e["id"])
            out[eid] = RemoteItem(RemoteRef(eid, version_text([e])), item_uid(e), item_text([e]))
        return out

    def put_from_elsewhere(self, calendar_id: str, uid: str, raw: str) -> None:
        # Another Carecal install replaces what it shows: every text field is sent.
        body = body_from_ical(raw)
        found = [e for e in self._live() if item_uid(e) == uid]
        if found:
            self.emu.remote_patch(str(found[0]["id"]), body)
        else:
            self.emu.remote_create({**body, "singleValueExtendedProperties": carecal_prop(uid=uid)})

    def delete_from_elsewhere(self, calendar_id: str, remote_id: str) -> None:
        if any(e["id"] == remote_id for e in self._live()):
            self.emu.remote_delete(remote_id)

    def expire_tokens(self, calendar_id: str) -> None:
        self.emu.expire_delta_tokens()


class OutlookSyncMachine(SyncMachine):
    def __init__(self) -> None:
        super().__init__()
        self.emu = GraphEmulator()
        self.emu.start()
        self.provider = OutlookFaulty(self.emu)  # type: ignore[assignment]

    def teardown(self) -> None:
        try:
            super().teardown()
            check_schemas(self.emu)
        finally:
            self.emu.stop()


def test_the_live_items_hook_matches_the_provider() -> None:
    with GraphEmulator() as emu:
        provider = OutlookFaulty(emu)
        provider.put_from_elsewhere("cal1", "u1@x", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u1@x"
                                    "\r\nDTSTART:20260303T090000Z\r\nDTEND:20260303T100000Z\r\n"
                                    "SUMMARY:One\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")  # fmt: skip
        [item] = provider.items("cal1").values()
        assert item.uid == "u1@x" and json.loads(item.raw)["events"][0]["subject"] == "One"


OutlookSyncMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOutlookSync = OutlookSyncMachine.TestCase
