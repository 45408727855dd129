"""The Docplanner connection (providers.docplanner_api) against the emulator: country domains,
client credentials with a fresh token on expiry and on 401, the rate limits with backoff on
429, both error shapes as Carecal's errors, and no foreign exception escaping."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from carecal.domain.errors import (
    AuthExpired,
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    RateLimited,
    TransientError,
)
from carecal.providers.docplanner_api import DocplannerRejected, parse_error, path_of
from carecal.providers.docplanner_types import (
    COUNTRY_DOMAINS,
    Address,
    Booking,
    normalize_domain,
    payment_state,
)
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.providers.docplanner_support import EmuTime, emu, emu_time, make_api

__all__ = ["emu", "emu_time"]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def office_path(emu: DocplannerEmulator) -> str:
    return path_of(emu.ids.facility, emu.ids.doctor, emu.ids.office)


def test_every_documented_country_resolves_to_its_domain() -> None:
    assert len(COUNTRY_DOMAINS) == 13
    assert normalize_domain("pl") == "znanylekarz.pl"
    assert normalize_domain("https://www.doctoralia.es/") == "doctoralia.es"
    assert normalize_domain("JAMEDA.DE") == "jameda.de"
    with pytest.raises(ValueError, match="not a Docplanner country"):
        normalize_domain("example.com")


def test_other_country_domain_talks_to_its_own_site(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    from carecal.providers.docplanner_api import Credentials, DocplannerApi

    creds = Credentials(emu.client_id, emu.client_secret)
    api = DocplannerApi("es", lambda: creds, host_template=emu.host_template, clock=emu_time.now)
    assert api.host.endswith("/www.doctoralia.es")
    data = run(api.get("/facilities"))
    assert data["_items"]
    assert emu.log[-1][1].startswith("/www.doctoralia.es/api/v3/integration/facilities")
    assert str(api.zone) == "Europe/Madrid"


def test_client_credentials_token_is_reused_then_renewed_on_expiry_and_401(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    api = make_api(emu, emu_time)

    async def scenario() -> None:
        await api.get("/facilities")
        await api.get("/facilities")
        assert emu.tokens.issued == 1
        emu.advance(timedelta(seconds=3590))  # inside the leeway: replaced before use
        await api.get("/facilities")
        assert emu.tokens.issued == 2
        emu.expire_tokens()  # the server drops the token early: one 401, one new token
        facilities = await api.get("/facilities")
        assert emu.tokens.issued == 3
        assert [f["id"] for f in facilities["_items"]] == [emu.ids.facility]
        await api.close()

    run(scenario())
    assert [s for _, p, s in emu.log if "/facilities" in p].count(401) == 1


def test_wrong_secret_is_auth_expired_naming_no_secret(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    api = make_api(emu, emu_time, secret="wrong-secret-value")
    with pytest.raises(AuthExpired) as caught:
        run(api.get("/facilities"))
    assert "wrong-secret-value" not in str(caught.value)
    assert "client id or secret" in str(caught.value)


def test_error_shapes_become_carecal_errors(emu: DocplannerEmulator, emu_time: EmuTime) -> None:
    api = make_api(emu, emu_time)
    office = office_path(emu)
    other = emu.add_facility("Someone else's", granted=False)

    async def scenario() -> None:
        with pytest.raises(NotFound):
            await api.get(f"{office}/bookings/999999")
        with pytest.raises(PermanentItemError) as forbidden:
            await api.get(f"/facilities/{other}/doctors")
        assert getattr(forbidden.value, "status", None) == 403
        day = {
            "slots": [
                {
                    "start": "2026-11-03T09:00:00+01:00",
                    "end": "2026-11-04T10:00:00+01:00",
                    "address_services": [
                        {"address_service_id": emu.ids.office_services[0], "duration": 50}
                    ],
                }
            ]
        }
        with pytest.raises(DocplannerRejected) as rejected:
            await api.send("PUT", f"{office}/slots", day)
        assert rejected.value.status == 400
        assert "slots[0].end" in rejected.value.fields
        assert "slots[0].end" in str(rejected.value)
        with pytest.raises(PreconditionFailed):
            await api.send("POST", f"{office}/calendar/enable")  # enabled already: 409
        emu.fail_next(1, 503)
        with pytest.raises(TransientError):
            await api.get("/facilities")
        emu.drop_before_next(path_contains="/facilities")
        with pytest.raises(TransientError):
            await api.get("/facilities")
        await api.close()

    run(scenario())


def test_parse_error_reads_both_shapes() -> None:
    assert parse_error('{"errors": [], "message": "Slot not found."}') == ("Slot not found.", {})
    message, fields = parse_error(
        '{"errors": {"slots[1].end": ["A", "B"]}, "message": "Validation failed"}'
    )
    assert message == "Validation failed" and fields == {"slots[1].end": ["A", "B"]}
    assert parse_error('{"message": "Authentication credentials could not be found."}')[1] == {}
    assert parse_error("<html>") == ("", {})


def test_rate_limit_headers_and_429_backoff(emu: DocplannerEmulator, emu_time: EmuTime) -> None:
    emu.limits.configure(reads=3, read_period=timedelta(seconds=30))
    api = make_api(emu, emu_time)

    async def scenario() -> None:
        for _ in range(7):
            await api.get("/facilities")
        await api.close()

    run(scenario())
    # the remaining count reached zero: Carecal waited for the reset instead of hammering
    assert emu.limits.refused == 0
    assert emu_time.slept and api.waited >= 30


def test_429_without_headers_backs_off_and_retries(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    emu.limits.enabled = False
    emu.fail_next(2, 429, path_contains="/facilities")
    api = make_api(emu, emu_time)
    data = run(api.get("/facilities"))
    assert data["_items"]
    assert emu_time.slept == [1.0, 2.0]  # exponential


def test_429_beyond_the_wait_budget_raises_rate_limited(
    emu: DocplannerEmulator, emu_time: EmuTime
) -> None:
    emu.fail_next(1, 429, path_contains="/facilities", retry_after="3600")
    api = make_api(emu, emu_time, max_wait=60.0)
    with pytest.raises(RateLimited) as caught:
        run(api.get("/facilities"))
    assert caught.value.retry_after == pytest.approx(3600, abs=2)
    assert emu_time.slept == []


def test_vendor_types_read_leniently(emu: DocplannerEmulator, emu_time: EmuTime) -> None:
    api = make_api(emu, emu_time)
    doctor = f"/facilities/{emu.ids.facility}/doctors/{emu.ids.doctor}"
    data = run(
        api.get(f"{doctor}/addresses", {"with": "address.online_only,address.visit_payment"})
    )
    addresses = {a.id: a for a in map(Address.of, data["_items"])}
    assert addresses[emu.ids.online].is_online_only and addresses[emu.ids.online].visit_payment
    assert not addresses[emu.ids.office].is_online_only
    raw = {
        "id": 77,
        "status": "booked",
        "start_at": "2026-11-03T10:00:00",  # no offset: the country's zone
        "duration": 50,
        "patient": {"name": "Ewa", "phone": 48600700800},
        "visit_payment_status": "in_progress",
    }
    booking = Booking.of(raw, api.zone)
    assert booking.id == "77" and booking.patient is not None
    assert booking.patient.phone == "48600700800"
    assert booking.start.utcoffset() == timedelta(hours=1)
    assert (booking.end - booking.start) == timedelta(minutes=50)
    assert "48600700800" not in repr(booking)
    for status, meaning in {
        "paid": "paid",
        "successful": "paid",
        "waiting_for_confirmation": "pending",
        "new": "pending",
        "in_progress": "pending",
        "not-paid": "failed",
        "failed": "failed",
        "canceled": "failed",
        "refunded": "returned",
        "charged_back": "returned",
        "something-new": "unknown",
        None: "none",
    }.items():
        assert payment_state(status) == meaning
