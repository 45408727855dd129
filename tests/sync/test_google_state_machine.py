"""The engine's state machine (test_state_machine.py) with Google in place of the memory
server: two replicas sync through the Google provider and the Calendar v3 emulator, with the
same random local and remote edits, outages, faults at random requests, lost answers to applied
writes, expired sync tokens, 412s and restarts, and the same promises at quiescence:
convergence, no duplicate UIDs, no lost edit."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, settings

from carecal.domain.errors import RateLimited, RemoteError
from carecal.providers.base import RemoteItem, RemoteRef
from carecal.providers.google import GoogleProvider
from carecal.providers.google_map import Privacy, is_cancelled, item_text, item_uid, version_text
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.providers.google_support import EmulatorAuth, body_from_ical, check_schemas
from tests.sync.network import FaultyNetwork, NetworkFaultHooks
from tests.sync.test_state_machine import SyncMachine

CAL = "cal1"  # the calendar id the replicas mirror (tests.sync.helpers.REMOTE)


async def _no_wait(seconds: float) -> None:
    pass


def _google_fault(request: httpx.Request, error: RemoteError) -> httpx.Response:
    """Google's answer for a fault: 429 with Retry-After for a rate limit, else 503."""
    if isinstance(error, RateLimited):
        status, reason = 429, "rateLimitExceeded"
        headers = {"Retry-After": str(int(error.retry_after or 60))}
    else:
        status, reason, headers = 503, "backendError", {}
    body = {"error": {"errors": [{"domain": "global", "reason": reason, "message": str(error)}],
                      "code": status, "message": str(error)}}  # fmt: skip
    return httpx.Response(status, headers=headers, json=body, request=request)


def _is_write(request: httpx.Request) -> bool:
    """A write whose answer can be lost: a POST or PATCH."""
    return request.method in ("POST", "PATCH")


class GoogleFaulty(NetworkFaultHooks, GoogleProvider):
    """The Google provider on the emulator, with FaultyProvider's test hooks."""

    def __init__(self, emu: GoogleCalendarEmulator) -> None:
        self.emu = emu
        self.net = FaultyNetwork(_google_fault, _is_write)
        emu.add_calendar(CAL, "Practice")
        super().__init__(
            EmulatorAuth(emu),
            api_base=emu.api_base,
            privacy=Privacy.FULL,
            transport=self.net,
            sleep=_no_wait,
        )

    def _live(self) -> list[dict[str, Any]]:
        with self.emu.lock:
            events = [dict(e) for e in self.emu.calendars[CAL].events.values()]
        return [e for e in events if not is_cancelled(e) and not e.get("recurringEventId")]

    def items(self, calendar_id: str) -> dict[str, RemoteItem]:
        return {
            e["id"]: RemoteItem(RemoteRef(e["id"], version_text([e])), item_uid(e), item_text([e]))
            for e in self._live()
        }

    def put_from_elsewhere(self, calendar_id: str, uid: str, raw: str) -> None:
        # Another app replaces what it shows: every text field is sent, empty or not.
        body = {"description": "", "location": "", **body_from_ical(raw)}
        found = [e for e in self._live() if item_uid(e) == uid]
        if found:
            self.emu.remote_patch(found[0]["id"], body, calendar_id=CAL)
        else:
            self.emu.remote_insert({**body, "iCalUID": uid}, calendar_id=CAL)

    def delete_from_elsewhere(self, calendar_id: str, remote_id: str) -> None:
        if any(e["id"] == remote_id for e in self._live()):
            self.emu.remote_delete(remote_id, calendar_id=CAL)

    def expire_tokens(self, calendar_id: str) -> None:
        self.emu.expire_sync_tokens(CAL)


class GoogleSyncMachine(SyncMachine):
    def __init__(self) -> None:
        super().__init__()
        self.emu = GoogleCalendarEmulator()
        self.emu.start()
        self.provider = GoogleFaulty(self.emu)  # type: ignore[assignment]

    def teardown(self) -> None:
        try:
            super().teardown()
            check_schemas(self.emu)
        finally:
            self.emu.stop()


GoogleSyncMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGoogleSync = GoogleSyncMachine.TestCase
