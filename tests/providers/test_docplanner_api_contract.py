"""The Docplanner connection's contract (providers.docplanner_api) against the emulator, for
what tests/providers/test_docplanner_api.py leaves open: a real 429 from the rate limiter whose
only hint is ``X-RateLimit-Reset`` (the budget was used up by another connection of the same
client), a used-up budget far from its reset raised as RateLimited before any call, a 401 that
persists after the one renewal, 422, and the 403/404 rules the sync relies on (an id of another
address is 403, not "not found"; an empty notification queue is 404).

Docplanner is not a calendar provider here (no iCalendar resources, no discover/pull/put of
items), so the calendar provider contract in tests/providers/contract.py does not apply to it;
this is its contract instead."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from carecal.domain.errors import AuthExpired, NotFound, PermanentItemError, RateLimited
from carecal.providers.docplanner_api import DocplannerRejected, path_of
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.providers.docplanner_support import EmuTime, emu, emu_time, make_api

__all__ = ["emu", "emu_time"]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _path(emu: DocplannerEmulator, address: str) -> str:
    return path_of(emu.ids.facility, emu.ids.doctor, address)


def _day(emu: DocplannerEmulator, day: str) -> dict[str, Any]:
    service = emu.ids.office_services[0]
    return {
        "slots": [
            {
                "start": f"{day}T09:00:00+01:00",
                "end": f"{day}T12:00:00+01:00",
                "address_services": [{"address_service_id": service, "duration": 50}],
            }
        ]
    }


def test_a_429_with_only_the_rate_limit_headers_waits_for_the_reset(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    emu.limits.configure(writes=2, write_period=timedelta(seconds=60))
    office = _path(emu, emu.ids.office)
    ours, other = make_api(emu, emu_time), make_api(emu, emu_time)

    async def scenario() -> None:
        await ours.send("PUT", f"{office}/slots", _day(emu, "2026-11-03"))  # 1 of 2 left
        await other.send("PUT", f"{office}/slots", _day(emu, "2026-11-04"))  # the last one
        # Ours still believes one write is left: Docplanner answers 429 with the headers.
        await ours.send("PUT", f"{office}/slots", _day(emu, "2026-11-05"))
        await ours.close()
        await other.close()

    started = emu.now()
    run(scenario())
    refused = [(m, s) for m, p, s in emu.log if m == "PUT" and s == 429]
    assert refused == [("PUT", 429)]
    assert emu.limits.refused == 1
    assert emu_time.slept == [pytest.approx(60, abs=1)]  # the window's end, not a guess
    assert ours.waited == pytest.approx(60, abs=1)
    assert emu.now() >= started + timedelta(seconds=59)
    # The retried write went through after the reset.
    assert [s for m, p, s in emu.log if m == "PUT"][-1] == 201
    with emu.lock:
        days = {r.start.date().isoformat() for r in emu.state.slots[emu.ids.office]}
    assert {"2026-11-03", "2026-11-04", "2026-11-05"} <= days


def test_a_used_up_budget_far_from_its_reset_is_rate_limited_without_a_call(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    emu.limits.configure(reads=2, read_period=timedelta(hours=1))
    ours, other = make_api(emu, emu_time, max_wait=90.0), make_api(emu, emu_time)

    async def scenario() -> None:
        await ours.get("/facilities")
        await other.get("/facilities")  # the hour's reads are used up now
        with pytest.raises(RateLimited) as refused:
            await ours.get("/facilities")  # a 429 whose reset is an hour away: no waiting
        assert refused.value.retry_after == pytest.approx(3600, abs=5)
        assert "slow down (429" in str(refused.value)
        calls = len(emu.log)
        with pytest.raises(RateLimited) as known:
            await ours.get("/facilities")  # the answer said 0 left: not even tried
        assert known.value.retry_after == pytest.approx(3600, abs=5)
        assert len(emu.log) == calls
        await ours.close()
        await other.close()

    run(scenario())
    assert emu_time.slept == []
    assert emu.limits.refused == 1


def test_a_401_after_the_renewal_is_auth_expired_not_a_loop(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    api = make_api(emu, emu_time)

    async def scenario() -> None:
        await api.get("/facilities")
        emu.fail_next(2, 401, path_contains="/facilities")
        with pytest.raises(AuthExpired) as caught:
            await api.get("/facilities")
        assert "(401" in str(caught.value) and emu.client_secret not in str(caught.value)
        # The token renewed once after the first 401 is kept; the next call just works.
        data = await api.get("/facilities")
        assert data["_items"]
        await api.close()

    run(scenario())
    assert emu.tokens.issued == 2
    assert [s for _, p, s in emu.log if p.endswith("/facilities")] == [200, 401, 401, 200]


def test_403_404_and_422_rules(emu: DocplannerEmulator, emu_time: EmuTime) -> None:
    api = make_api(emu, emu_time)
    office, online = _path(emu, emu.ids.office), _path(emu, emu.ids.online)
    visit = emu.doctor_books(emu.ids.office, datetime.fromisoformat("2026-11-03T10:00:00+01:00"))
    closed = emu.add_address(emu.ids.doctor, "Poradnia NFZ", commercial_type="basic")

    async def scenario() -> None:
        mine = await api.get(f"{office}/bookings/{visit['id']}")
        assert mine["id"] == visit["id"]
        # A booking asked for under another address of the same doctor: 403, not "gone".
        with pytest.raises(PermanentItemError) as elsewhere:
            await api.get(f"{online}/bookings/{visit['id']}")
        assert not isinstance(elsewhere.value, NotFound)
        assert getattr(elsewhere.value, "status", None) == 403
        assert "not allowed for this API client (403" in str(elsewhere.value)
        # An unknown id: 404 with Docplanner's message (the list-shaped error body).
        with pytest.raises(NotFound) as unknown:
            await api.get(f"{office}/bookings/999999")
        assert "not found (404: Booking not found.)" in str(unknown.value)
        # The queue is empty: 404 "No notifications found" (the sync reads it as "nothing").
        while True:
            try:
                await api.get("/notifications/multiple", {"limit": "100"})
            except NotFound as empty:
                assert "No notifications found" in str(empty)
                break
        # An address that cannot have a calendar: 422, a refusal with Docplanner's words.
        with pytest.raises(DocplannerRejected) as rejected:
            await api.get(
                f"{_path(emu, closed)}/slots",
                {"start": "2026-11-03T00:00:00+01:00", "end": "2026-11-04T00:00:00+01:00"},
            )
        assert rejected.value.status == 422
        assert "The address is not commercial." in str(rejected.value)
        await api.close()

    run(scenario())
