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
from tests.sync.test_state_machine import SyncMachine

CAL = "cal1"  # the calendar id the replicas mirror (tests.sync.helpers.REMOTE)


async def _no_wait(seconds: float) -> None:
    pass


class _Faults(httpx.AsyncBaseTransport):
    """The network between the provider and the emulator, with FaultyProvider's faults:
    ``fail_next`` errors for the next requests, ``fail_at[n]`` for the n-th request, and
    ``lose`` answers of applied writes (POST, PATCH) dropped on the way back."""

    def __init__(self) -> None:
        self.fail_next: list[RemoteError] = []
        self.fail_at: dict[int, RemoteError] = {}
        self.lose = 0
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        n, self.calls = self.calls, self.calls + 1
        error = self.fail_at.pop(n, None)
        if error is None and self.fail_next:
            error = self.fail_next.pop(0)
        if error is not None:
            return _google_fault(request, error)
        async with httpx.AsyncHTTPTransport() as inner:
            response = await inner.handle_async_request(request)
            body = await response.aread()
        if self.lose and request.method in ("POST", "PATCH") and response.status_code < 300:
            self.lose -= 1
            raise httpx.ReadError("connection reset by peer", request=request)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)


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


class GoogleFaulty(GoogleProvider):
    """The Google provider on the emulator, with FaultyProvider's test hooks."""

    def __init__(self, emu: GoogleCalendarEmulator) -> None:
        self.emu = emu
        self.net = _Faults()
        emu.add_calendar(CAL, "Practice")
        super().__init__(
            EmulatorAuth(emu),
            api_base=emu.api_base,
            privacy=Privacy.FULL,
            transport=self.net,
            sleep=_no_wait,
        )

    # --- the hooks the machine uses ----------------------------------------------------------

    @property
    def fail_next(self) -> list[RemoteError]:
        return self.net.fail_next

    @fail_next.setter
    def fail_next(self, errors: list[RemoteError]) -> None:
        self.net.fail_next = list(errors)

    @property
    def lose(self) -> int:
        return self.net.lose

    @lose.setter
    def lose(self, count: int) -> None:
        self.net.lose = count

    def arm(self, offset: int, error: RemoteError) -> None:
        self.net.fail_at[self.net.calls + offset] = error

    def calm(self) -> None:
        self.net.fail_at.clear()
        self.net.fail_next = []
        self.net.lose = 0

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
