"""The Docplanner emulator (tests/fakes/docplanner_*.py) behaves like the Docplanner
Integrations API where Carecal's Docplanner sync depends on it (reference:
../shared/reference/docplanner-caldav-calcom-welkin.md section 1 and its "Docplanner emulator"
list). Every JSON body it sends during these tests is checked against the vendor types read
from the SDK model docs (tests/fakes/docplanner_schema.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.fakes.docplanner_clock import Clock
from tests.fakes.docplanner_notifications import NAMES
from tests.fakes.docplanner_schema import DATA_MODELS, check_response, models
from tests.fakes.docplanner_schema import notification_reference as reference_events
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.fakes.docplanner_tree import DOMAINS

DAY = "2026-11-03"  # the clock starts on Monday 2026-11-02 08:00 in Warsaw (+01:00)
WARSAW = "+01:00"


def at(hour: int, minute: int = 0, day: str = DAY) -> str:
    """A Warsaw date-time on `day`."""
    return f"{day}T{hour:02d}:{minute:02d}:00{WARSAW}"


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def emu() -> Iterator[DocplannerEmulator]:
    with DocplannerEmulator() as server:
        yield server
    found = [p for kind, body in server.responses for p in check_response(kind, body)]
    assert found == [], found
    assert server.log, "no request was served"


@pytest.fixture
def api(emu: DocplannerEmulator) -> Iterator[httpx.Client]:
    """A client with a token that outlives the clock moves of these tests."""
    emu.tokens.access_ttl = timedelta(days=30).total_seconds()
    token = emu.issue_token()
    emu.tokens.access_ttl = 3600.0
    with httpx.Client(
        base_url=emu.api_base, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


@pytest.fixture
def office(emu: DocplannerEmulator) -> str:
    """The in-person address's path relative to the API base."""
    return emu.path_to(emu.ids.office)


@pytest.fixture
def online(emu: DocplannerEmulator) -> str:
    """The online-only (visit payment) address's path."""
    return emu.path_to(emu.ids.online)


def svc(emu: DocplannerEmulator, which: str = "office", index: int = 0) -> str:
    return str(getattr(emu.ids, f"{which}_services")[index])


def day_slots(
    service: str, start: str, end: str, duration: int = 50, **extra: Any
) -> dict[str, Any]:
    return {
        "slots": [
            {
                "start": start,
                "end": end,
                "address_services": [{"address_service_id": service, "duration": duration}],
                **extra,
            }
        ]
    }


def publish(api: httpx.Client, path: str, service: str, start: str, end: str) -> None:
    response = api.put(f"{path}/slots", json=day_slots(service, start, end))
    assert response.status_code == 201, response.text


def free(api: httpx.Client, path: str, day: str = DAY, **params: str) -> list[dict[str, Any]]:
    response = api.get(
        f"{path}/slots", params={"start": at(0, 0, day), "end": at(23, 59, day), **params}
    )
    assert response.status_code == 200, response.text
    return list(response.json()["_items"])


def starts(api: httpx.Client, path: str, day: str = DAY) -> list[str]:
    return [s["start"] for s in free(api, path, day)]


PATIENT = {
    "name": "Ewa",
    "surname": "Zielińska",
    "phone": "+48600700800",
    "email": "ewa@example.pl",
}


def book(api: httpx.Client, path: str, service: str, start: str, **extra: Any) -> dict[str, Any]:
    body = {"address_service_id": service, "duration": 50, "patient": PATIENT, **extra}
    response = api.post(f"{path}/slots/{start}/book", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def pull_all(api: httpx.Client) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        response = api.get("/notifications/multiple", params={"limit": 100})
        if response.status_code == 404:
            return out
        assert response.status_code == 200, response.text
        out += response.json()["notifications"]


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events]


def message(response: httpx.Response) -> str:
    return str(response.json()["message"])


# ----- connection: OAuth2 client credentials, domains, content types ------------------------------
def test_token_endpoint_takes_basic_or_form_credentials(emu: DocplannerEmulator) -> None:
    form = {"grant_type": "client_credentials", "scope": "integration"}
    basic = httpx.post(emu.token_url, data=form, auth=(emu.client_id, emu.client_secret))
    fields = httpx.post(
        emu.token_url,
        data={**form, "client_id": emu.client_id, "client_secret": emu.client_secret},
    )
    for response in (basic, fields):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["expires_in"] == 3600 and body["token_type"] == "bearer"
        assert body["scope"] is None and "refresh_token" not in body
        listed = httpx.get(
            emu.api_base + "/facilities",
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
        assert listed.status_code == 200
    assert basic.json()["access_token"] != fields.json()["access_token"]


def test_token_endpoint_refuses_bad_credentials_and_grants(emu: DocplannerEmulator) -> None:
    wrong = httpx.post(
        emu.token_url, data={"grant_type": "client_credentials"}, auth=(emu.client_id, "nope")
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_client"
    grant = httpx.post(
        emu.token_url, data={"grant_type": "password"}, auth=(emu.client_id, emu.client_secret)
    )
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"


def test_no_token_gets_401_with_a_message_only(emu: DocplannerEmulator) -> None:
    response = httpx.get(emu.api_base + "/facilities")
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication credentials could not be found."}
    assert response.headers["content-type"] == "application/vnd.error+docplanner+json"


def test_tokens_expire_on_the_emulator_clock(emu: DocplannerEmulator) -> None:
    token = emu.issue_token()
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(emu.api_base + "/facilities", headers=headers).status_code == 200
    emu.advance(timedelta(seconds=3599))
    assert httpx.get(emu.api_base + "/facilities", headers=headers).status_code == 200
    emu.advance(1)
    expired = httpx.get(emu.api_base + "/facilities", headers=headers)
    assert expired.status_code == 401 and "expired" in message(expired)
    fresh = {"Authorization": f"Bearer {emu.issue_token()}"}
    assert httpx.get(emu.api_base + "/facilities", headers=fresh).status_code == 200
    emu.expire_tokens()
    assert httpx.get(emu.api_base + "/facilities", headers=fresh).status_code == 401


def test_every_documented_domain_is_served_with_its_zone(emu: DocplannerEmulator) -> None:
    assert len(DOMAINS) == 13
    offsets = set()
    for domain, _zone in DOMAINS.values():
        token = httpx.post(
            emu.token_url_for(domain),
            data={"grant_type": "client_credentials", "scope": "integration"},
            auth=(emu.client_id, emu.client_secret),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        base = emu.host_template.format(domain=domain) + "/api/v3/integration"
        assert base == emu.api_base_for(domain)
        breaks = httpx.get(
            base + emu.path_to(emu.ids.office) + "/breaks",
            params={"since": "2026-11-02T00:00:00Z", "till": "2026-11-09T00:00:00Z"},
            headers=headers,
        )
        assert breaks.status_code == 200
        limit_reset = breaks.headers["X-RateLimit-Reset"]
        offsets.add(limit_reset[-6:])
        if domain != emu.domain:  # tokens are per country site
            home = httpx.get(emu.api_base + "/facilities", headers=headers)
            assert home.status_code == 401
    assert {"+01:00", "-03:00", "-05:00", "+03:00"} <= offsets
    # A bare path takes the domain from the Host header, else the emulator's home domain.
    es = emu.issue_token("doctoralia.es")
    bare = httpx.get(
        emu.base_url + "/api/v3/integration/facilities",
        headers={"Authorization": f"Bearer {es}", "Host": "www.doctoralia.es"},
    )
    assert bare.status_code == 200


def test_answers_use_the_vendor_content_types(api: httpx.Client, emu: DocplannerEmulator) -> None:
    listed = api.get("/facilities")
    assert listed.headers["content-type"] == "application/vnd.docplanner+json; charset=UTF-8"
    assert list(listed.json()) == ["_items"]
    assert all(isinstance(f["id"], str) for f in listed.json()["_items"])
    missing = api.get("/facilities/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/vnd.error+docplanner+json"
    assert missing.json()["errors"] == [] and missing.json()["message"]


# ----- the resource tree --------------------------------------------------------------------------
def test_facilities_list_only_granted_ones_and_403_404(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    hidden = emu.add_facility("Someone else's clinic", granted=False)
    ids = [f["id"] for f in api.get("/facilities").json()["_items"]]
    assert hidden not in ids and ids == [emu.ids.facility]
    assert api.get(f"/facilities/{hidden}").status_code == 403
    assert api.get(f"/facilities/{hidden}/doctors").status_code == 403
    assert api.get("/facilities/424242").status_code == 404
    with_doctors = api.get(f"/facilities/{emu.ids.facility}", params={"with": "facility.doctors"})
    assert [d["surname"] for d in with_doctors.json()["doctors"]["_items"]] == ["Nowak"]
    assert "doctors" not in api.get(f"/facilities/{emu.ids.facility}").json()


def test_ids_that_do_not_belong_together_give_403(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    ids = emu.ids
    other_doctor = emu.add_doctor(ids.facility, "Piotr", "Lis")
    other_address = emu.add_address(other_doctor, "Filia")
    fac, doc = ids.facility, ids.doctor
    assert api.get(f"/facilities/{fac}/doctors/{doc}/addresses/{other_address}").status_code == 403
    assert api.get(f"/facilities/{fac}/doctors/{doc}/addresses/777777").status_code == 404
    second = emu.add_facility("Second clinic")
    assert api.get(f"/facilities/{second}/doctors/{doc}").status_code == 403
    assert api.get(f"/facilities/{fac}/doctors/888888").status_code == 404
    office = emu.path_to(ids.office)
    publish(api, office, svc(emu), at(9), at(12))
    booking = book(api, office, svc(emu), at(9))
    online = emu.path_to(ids.online)
    assert api.get(f"{online}/bookings/{booking['id']}").status_code == 403
    assert api.get(f"{office}/bookings/999999").status_code == 404
    assert api.get(f"{office}/services/{svc(emu, 'online')}").status_code == 403


def test_with_scopes_add_fields_only_when_asked(api: httpx.Client, emu: DocplannerEmulator) -> None:
    ids = emu.ids
    addresses = f"/facilities/{ids.facility}/doctors/{ids.doctor}/addresses"
    plain = api.get(addresses).json()["_items"]
    assert all("is_online_only" not in a and "visit_payment" not in a for a in plain)
    scoped = api.get(
        addresses, params={"with": "address.online_only,address.visit_payment"}
    ).json()["_items"]
    flags = {a["id"]: (a["is_online_only"], a["visit_payment"]) for a in scoped}
    assert flags == {ids.office: (False, False), ids.online: (True, True)}
    typed = api.get(
        f"{addresses}/{ids.online}", params=[("with", "address.commercial_type")]
    ).json()
    assert typed["commercial_type"] == "premium" and "is_online_only" not in typed
    doctor = api.get(
        f"/facilities/{ids.facility}/doctors/{ids.doctor}",
        params={"with": "doctor.addresses,address.online_only,doctor.license_numbers"},
    ).json()
    assert [a["is_online_only"] for a in doctor["addresses"]["_items"]] == [False, True]
    assert doctor["license_numbers"]["_items"][0]["license_number"].startswith("PWZ-")
    api.get(addresses, params={"with": "address.onlineonly"})
    assert emu.state.tree.unknown_scopes == ["address.onlineonly"]


def test_address_services_crud_and_their_notifications(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    listed = api.get(f"{office}/services").json()["_items"]
    assert [s["service_id"] for s in listed] == ["45", "46"]
    assert all(isinstance(s["price"], int) and isinstance(s["id"], str) for s in listed)
    created = api.post(f"{office}/services", json={"service_id": "48", "price": 300})
    assert created.status_code == 201 and created.content == b""
    new_id = created.headers["Location"].rsplit("/", 1)[1]
    assert api.post(f"{office}/services", json={"service_id": "48"}).status_code == 409
    changed = api.patch(f"{office}/services/{new_id}", json={"price": 320, "default_duration": 80})
    assert changed.status_code == 200 and changed.json()["price"] == 320
    assert changed.json()["duration"] == 80
    assert api.delete(f"{office}/services/{new_id}").status_code == 204
    assert api.get(f"{office}/services/{new_id}").status_code == 404
    events = pull_all(api)
    assert names(events) == [
        "address-service-created",
        "address-service-changed",
        "address-service-deleted",
    ]
    assert {e["data"]["address_service"]["id"] for e in events} == {new_id}


def test_calendar_status_and_its_409_422_404(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    assert api.get(f"{office}/calendar").json() == {"status": "enabled"}
    assert api.post(f"{office}/calendar/enable").status_code == 409
    assert api.post(f"{office}/calendar/disable").status_code == 200
    assert api.get(f"{office}/calendar").json() == {"status": "disabled"}
    assert api.post(f"{office}/calendar/disable").status_code == 409
    emu.set_commercial_type(emu.ids.office, "basic")
    assert api.post(f"{office}/calendar/enable").status_code == 422
    emu.set_calendar(emu.ids.office, None)
    assert api.get(f"{office}/calendar").status_code == 404


# ----- slots --------------------------------------------------------------------------------------
def test_put_slots_replaces_each_range_and_get_lists_free_starts(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(13))
    assert starts(api, office) == [at(9), at(9, 50), at(10, 40), at(11, 30)]
    publish(api, office, svc(emu), at(10), at(11))  # replaces 10:00-11:00 only
    # 09:00-10:00 and 11:00-13:00 survive as clipped ranges around the new 10:00-11:00.
    assert starts(api, office) == [at(9), at(10), at(11), at(11, 50)]
    assert emu.state.slots[emu.ids.office][0].end == instant(at(10))
    assert (
        free(api, office, **{"with": "slot.services"})[0]["address_services"]["_items"][0][
            "duration"
        ]
        == 50
    )
    assert "address_services" not in free(api, office)[0]


def test_put_slots_with_empty_services_deletes_the_range(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(13))
    services: list[Any] | None
    for services in (None, []):
        body: dict[str, Any] = {
            "slots": [{"start": at(9), "end": at(11), "address_services": services}]
        }
        assert api.put(f"{office}/slots", json=body).status_code == 201
    assert starts(api, office) == [at(11), at(11, 50)]


@pytest.mark.parametrize(
    ("slot", "key"),
    [
        ({"start": at(9), "end": at(9, 0, "2026-11-04")}, "slots[0].end"),
        ({"start": at(22), "end": "2026-11-04T00:00:00+01:00"}, "slots[0].end"),
        ({"start": at(9), "end": "2026-11-03T09:00:30+01:00"}, "slots[0].end"),
        ({"start": at(10), "end": at(9)}, "slots[0].end"),
        ({"start": at(9, 0, "2027-01-30"), "end": at(10, 0, "2027-01-30")}, "slots[0].end"),
        ({"start": "soon", "end": at(10)}, "slots[0].start"),
    ],
)
def test_put_slots_validation_errors_are_keyed_by_field_path(
    api: httpx.Client, emu: DocplannerEmulator, office: str, slot: dict[str, str], key: str
) -> None:
    body = {
        "slots": [{**slot, "address_services": [{"address_service_id": svc(emu), "duration": 50}]}]
    }
    response = api.put(f"{office}/slots", json=body)
    assert response.status_code == 400, response.text
    assert key in response.json()["errors"]
    assert emu.state.slots.get(emu.ids.office, []) == []


def test_put_slots_refuses_several_days_bad_services_and_insurance_mismatch(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    service = [{"address_service_id": svc(emu), "duration": 50}]
    two_days = {
        "slots": [
            {"start": at(9), "end": at(10), "address_services": service},
            {
                "start": at(9, 0, "2026-11-04"),
                "end": at(10, 0, "2026-11-04"),
                "address_services": service,
            },
        ]
    }
    response = api.put(f"{office}/slots", json=two_days)
    assert response.status_code == 400
    assert response.json()["errors"] == {"slots": ["Slots comes from different days"]}
    bad = {
        "slots": [
            {
                "start": at(9),
                "end": at(10),
                "address_services": [
                    {"address_service_id": svc(emu, "online"), "duration": 50},
                    {"address_service_id": svc(emu), "duration": 0},
                ],
                "insurance_accepted": "with-insurance-only",
                "insurance_providers": [],
            }
        ]
    }
    errors = api.put(f"{office}/slots", json=bad).json()["errors"]
    assert set(errors) == {
        "slots[0].address_services[0].address_service_id",
        "slots[0].address_services[1].duration",
        "slots[0].insurance_providers",
    }


def test_an_identical_put_in_flight_gets_429_and_one_just_after_is_ignored(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    emu.slot_processing = 0.3
    body = day_slots(svc(emu), at(9), at(12))
    answers: list[int] = []
    first = threading.Thread(
        target=lambda: answers.append(api.put(f"{office}/slots", json=body).status_code)
    )
    first.start()
    deadline = datetime.now(UTC) + timedelta(seconds=2)
    while not emu._inflight_puts and datetime.now(UTC) < deadline:
        threading.Event().wait(0.005)
    twin = api.put(f"{office}/slots", json=body)
    first.join()
    assert twin.status_code == 429 and answers == [201]
    emu.slot_processing = 0.0
    publish(api, office, svc(emu), at(9), at(10))  # a different PUT changes the day
    assert starts(api, office) == [at(9), at(10), at(10, 50)]
    assert api.put(f"{office}/slots", json=body).status_code == 201  # ignored: within 3 min
    assert starts(api, office) == [at(9), at(10), at(10, 50)]
    emu.advance(timedelta(minutes=3))
    assert api.put(f"{office}/slots", json=body).status_code == 201
    assert starts(api, office) == [at(9), at(9, 50), at(10, 40)]


def test_get_slots_rules_180_days_no_slots_and_unencoded_plus(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    missing = api.get(f"{office}/slots", params={"start": at(0)})
    assert missing.status_code == 400 and "end" in missing.json()["errors"]
    assert api.get(f"{office}/slots", params={"start": at(0), "end": at(1)}).status_code == 404
    publish(api, office, svc(emu), at(9), at(10))
    far = api.get(f"{office}/slots", params={"start": at(0), "end": at(0, 0, "2027-05-03")})
    assert far.status_code == 400
    raw = api.get(f"{office}/slots?start=2026-11-03T00:00:00+01:00&end=2026-11-03T23:00:00+01:00")
    assert raw.status_code == 400  # a '+' left unencoded in a query is a space
    emu.advance(timedelta(days=1, hours=2))  # now 2026-11-03 10:00: 09:00 is past
    assert starts(api, office) == []


def test_delete_slots_of_a_day(api: httpx.Client, emu: DocplannerEmulator, office: str) -> None:
    publish(api, office, svc(emu), at(9), at(12))
    assert api.delete(f"{office}/slots/not-a-date").status_code == 400
    assert api.delete(f"{office}/slots/{DAY}").status_code == 204
    assert api.get(f"{office}/slots", params={"start": at(0), "end": at(23)}).status_code == 404


def test_a_non_commercial_address_gets_422(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    emu.set_commercial_type(emu.ids.office, "basic")
    assert api.put(f"{office}/slots", json=day_slots(svc(emu), at(9), at(10))).status_code == 422
    breaks = api.post(f"{office}/breaks", json={"since": at(9), "till": at(10)})
    assert breaks.status_code == 422
    assert names(pull_all(api)) == ["address-commercial-type-changed"]


# ----- bookings -----------------------------------------------------------------------------------
def test_book_slot_answers_200_by_integration_and_consumes_the_slot(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(11))
    booking = book(api, office, svc(emu), at(9, 50), comment="first visit", is_recurring=True)
    assert booking["booked_by"] == "integration" and booking["status"] == "booked"
    assert booking["start_at"] == at(9, 50) and booking["end_at"] == at(10, 40)
    assert booking["patient"]["phone"] == PATIENT["phone"] and booking["comment"] == "first visit"
    assert booking["visit_payment"] is False and "videocall_url" not in booking
    assert starts(api, office) == [at(9)]
    event = pull_all(api)[0]
    assert event["name"] == "slot-booked"
    assert event["data"]["visit_booking"]["booked_by"] == "integration"


def test_book_slot_refuses_missing_slots_services_and_fields(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(11))
    body = {"address_service_id": svc(emu), "duration": 50, "patient": PATIENT}
    assert api.post(f"{office}/slots/{at(13)}/book", json=body).status_code == 404
    other = {**body, "address_service_id": svc(emu, index=1)}
    assert api.post(f"{office}/slots/{at(9)}/book", json=other).status_code == 404
    invalid = api.post(f"{office}/slots/{at(9)}/book", json={"patient": {"name": "X"}})
    assert invalid.status_code == 400
    assert set(invalid.json()["errors"]) == {"address_service_id", "duration"}
    nophone = api.post(f"{office}/slots/{at(9)}/book", json={**body, "patient": {"name": "X"}})
    assert nophone.status_code == 400 and "patient.phone" in nophone.json()["errors"]
    emu.state.tree.address_by_id(emu.ids.office).booking_extra_fields["nin"] = True
    required = api.post(f"{office}/slots/{at(9)}/book", json=body)
    assert required.status_code == 400 and "patient.nin" in required.json()["errors"]
    numeric = {**body, "patient": {"name": "Jan", "phone": 48600100200, "nin": "90010112345"}}
    made = api.post(f"{office}/slots/{at(9)}/book", json=numeric)
    assert made.status_code == 200 and made.json()["patient"]["phone"] == "48600100200"
    assert api.post(f"{office}/slots/{at(9)}/book", json=numeric).status_code == 404


def test_bookings_list_needs_a_window_scopes_and_pages(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(17))
    made = [book(api, office, svc(emu), s) for s in (at(9), at(10, 40), at(12, 20))]
    assert api.get(f"{office}/bookings", params={"start": at(0)}).status_code == 400
    window = {"start": at(0), "end": at(23)}
    plain = api.get(f"{office}/bookings", params=window).json()
    assert list(plain) == ["_items"]
    assert [b["id"] for b in plain["_items"]] == [b["id"] for b in made]
    assert all("patient" not in b and "presence" not in b for b in plain["_items"])
    scoped = api.get(
        f"{office}/bookings",
        params={**window, "with": "booking.patient,booking.address_service,booking.presence"},
    ).json()["_items"]
    assert all(b["patient"]["name"] == "Ewa" and b["presence"] is None for b in scoped)
    page = api.get(f"{office}/bookings", params={**window, "page": 2, "limit": 2}).json()
    assert (page["page"], page["limit"], page["pages"], page["total"]) == (2, 2, 2, 3)
    assert [b["id"] for b in page["_items"]] == [made[2]["id"]]


def test_cancel_with_a_reason_frees_the_slot_and_400_when_not_booked(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(10))
    booking = book(api, office, svc(emu), at(9))
    assert starts(api, office) == []
    gone = api.request("DELETE", f"{office}/bookings/{booking['id']}", json={"reason": "ill"})
    assert gone.status_code == 204
    assert starts(api, office) == [at(9)]
    again = api.delete(f"{office}/bookings/{booking['id']}")
    assert again.status_code == 400
    fetched = api.get(f"{office}/bookings/{booking['id']}").json()
    assert fetched["status"] == "canceled" and fetched["canceled_by"] == "integration"
    assert emu.state.bookings[booking["id"]].cancel_reason == "ill"
    assert names(pull_all(api)) == ["slot-booked", "booking-canceled"]


def test_move_answers_201_with_a_new_id_and_links_the_chain(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(12))
    old = book(api, office, svc(emu), at(9))
    body = {"address_service_id": svc(emu), "start": at(10, 40), "duration": 50}
    moved = api.post(f"{office}/bookings/{old['id']}/move", json=body)
    assert moved.status_code == 201
    new = moved.json()
    assert new["id"] != old["id"] and new["start_at"] == at(10, 40)
    assert moved.headers["Location"].endswith(f"{office}/bookings/{new['id']}")
    before = api.get(f"{office}/bookings/{old['id']}", params={"with": "booking.moving"}).json()
    assert before["status"] == "canceled"
    assert before["moving"] == {"origin_booking_id": old["id"], "newest_booking_id": new["id"]}
    after = api.get(f"{office}/bookings/{new['id']}", params={"with": "booking.moving"}).json()
    assert after["moving"] == {"origin_booking_id": old["id"], "newest_booking_id": new["id"]}
    assert "moving" not in api.get(f"{office}/bookings/{new['id']}").json()
    assert api.post(f"{office}/bookings/{old['id']}/move", json=body).status_code == 409
    assert starts(api, office) == [at(9), at(9, 50)]
    event = pull_all(api)[-1]
    assert event["name"] == "booking-moved"
    assert event["data"]["old_visit_booking"]["id"] == old["id"]
    assert event["data"]["new_visit_booking"]["id"] == new["id"]


def test_move_across_doctors_of_a_facility_but_not_across_facilities(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    ids = emu.ids
    colleague = emu.add_doctor(ids.facility, "Piotr", "Lis")
    room = emu.add_address(colleague, "Gabinet 2")
    room_service = emu.add_service(room, "45", duration=50)
    publish(api, office, svc(emu), at(9), at(10))
    publish(api, emu.path_to(room), room_service, at(14), at(15))
    old = book(api, office, svc(emu), at(9))
    body = {"address_service_id": room_service, "start": at(14), "address_id": room}
    moved = api.post(f"{office}/bookings/{old['id']}/move", json=body)
    assert moved.status_code == 201
    assert emu.path_to(room) in moved.headers["Location"]
    elsewhere = emu.add_address(emu.add_doctor(emu.add_facility("Other"), "A", "B"), "X")
    second = book(api, office, svc(emu), at(9))
    refused = api.post(
        f"{office}/bookings/{second['id']}/move",
        json={"address_service_id": room_service, "start": at(14), "address_id": elsewhere},
    )
    assert refused.status_code == 403


def test_move_of_a_paid_booking_to_another_payment_account_gets_422(
    api: httpx.Client, emu: DocplannerEmulator, online: str
) -> None:
    ids = emu.ids
    other = emu.add_address(ids.doctor, "Online 2", is_online_only=True, payment_account="second")
    other_service = emu.add_service(other, "47", duration=50)
    publish(api, online, svc(emu, "online"), at(9), at(11))
    publish(api, emu.path_to(other), other_service, at(9), at(11))
    booking = emu.patient_books(ids.online, instant(at(9)))
    assert booking is not None
    emu.patient_pays(booking["id"])
    body = {"address_service_id": other_service, "start": at(9, 50), "address_id": other}
    assert api.post(f"{online}/bookings/{booking['id']}/move", json=body).status_code == 422


def test_confirm_answers_204_then_409_when_confirmed_canceled_or_past(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(12))
    first = book(api, office, svc(emu), at(9))
    url = f"{office}/bookings/{first['id']}/confirm"
    assert api.put(url, json={"confirmed_by": "robot"}).status_code == 400
    assert api.put(url, json={"confirmed_by": "admin"}).status_code == 204
    assert api.put(url, json={"confirmed_by": "user"}).status_code == 409
    second = book(api, office, svc(emu), at(9, 50))
    api.delete(f"{office}/bookings/{second['id']}")
    assert (
        api.put(
            f"{office}/bookings/{second['id']}/confirm", json={"confirmed_by": "user"}
        ).status_code
        == 409
    )
    third = book(api, office, svc(emu), at(10, 40))
    emu.advance(timedelta(days=2))
    assert (
        api.put(
            f"{office}/bookings/{third['id']}/confirm", json={"confirmed_by": "user"}
        ).status_code
        == 409
    )
    assert "booking-confirmed" in names(pull_all(api))


def test_presence_marks_present_or_absent_and_409_when_canceled(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(11))
    visit = book(api, office, svc(emu), at(9))
    url = f"{office}/bookings/{visit['id']}/presence/patient"
    assert api.post(url).status_code == 204
    assert api.get(f"{office}/bookings/{visit['id']}").json()["presence"] == "present"
    assert api.delete(url).status_code == 204
    assert api.get(f"{office}/bookings/{visit['id']}").json()["presence"] == "absent"
    marks = [e for e in pull_all(api) if e["name"] == "presence-marked"]
    assert [e["data"]["presence"] for e in marks] == ["PRESENT", "ABSENT"]
    other = book(api, office, svc(emu), at(9, 50))
    api.delete(f"{office}/bookings/{other['id']}")
    assert api.post(f"{office}/bookings/{other['id']}/presence/patient").status_code == 409
    assert api.delete(f"{office}/bookings/{other['id']}/presence/patient").status_code == 409


# ----- calendar breaks ----------------------------------------------------------------------------
def test_breaks_crud_with_their_409_and_422(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(12))
    assert api.get(f"{office}/breaks", params={"since": at(0)}).status_code == 400
    made = api.post(f"{office}/breaks", json={"since": at(9), "till": at(10), "description": "x"})
    assert made.status_code == 201 and made.content == b""
    break_id = made.headers["Location"].rsplit("/", 1)[1]
    assert starts(api, office) == [at(10, 40)]  # a break blocks slots like a booking
    again = api.post(f"{office}/breaks", json={"since": at(9), "till": at(10), "description": "x"})
    assert again.status_code == 409
    assert api.post(f"{office}/breaks", json={"since": at(10), "till": at(9)}).status_code == 422
    listed = api.get(f"{office}/breaks", params={"since": at(0), "till": at(23)}).json()
    assert listed["_items"] == [
        {"id": break_id, "since": at(9), "till": at(10), "description": "x"}
    ]
    url = f"{office}/breaks/{break_id}"
    assert api.patch(url, json={"since": at(9), "till": at(10)}).status_code == 422
    assert api.patch(url, json={"since": at(11), "till": at(12)}).status_code == 204
    assert api.get(url).json()["since"] == at(11)
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert names(pull_all(api)) == ["break-created", "break-moved", "break-removed"]


def test_a_break_applied_on_coupled_addresses_blocks_both(
    api: httpx.Client, emu: DocplannerEmulator, office: str, online: str
) -> None:
    body = {"since": at(9), "till": at(10), "apply_on_coupled_addresses": True}
    assert api.post(f"{office}/breaks", json=body).status_code == 201
    window = {"since": at(0), "till": at(23)}
    assert len(api.get(f"{online}/breaks", params=window).json()["_items"]) == 1
    events = pull_all(api)
    assert names(events) == ["break-created", "break-created"]
    assert {e["data"]["address"]["id"] for e in events} == {emu.ids.office, emu.ids.online}


# ----- notifications ------------------------------------------------------------------------------
def test_single_pull_pops_the_oldest_and_404_when_empty(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    ids = emu.ids
    first = emu.doctor_books(ids.office, instant(at(9)))
    emu.doctor_cancels(first["id"])
    one = api.get("/notifications")
    assert one.status_code == 200 and one.json()["name"] == "slot-booked"
    assert api.get("/notifications").json()["name"] == "booking-canceled"
    empty = api.get("/notifications")
    assert empty.status_code == 404 and message(empty) == "No notifications found"


def test_multiple_pull_takes_up_to_100_and_reports_remaining(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    ids = emu.ids
    for i in range(120):
        emu.doctor_adds_break(
            ids.office,
            instant(at(9)) + timedelta(hours=i),
            instant(at(9)) + timedelta(hours=i, minutes=30),
        )
    assert api.get("/notifications/multiple", params={"limit": 0}).status_code == 400
    assert api.get("/notifications/multiple", params={"limit": 101}).status_code == 400
    default = api.get("/notifications/multiple").json()
    assert len(default["notifications"]) == 1 and default["remaining"] == 119
    batch = api.get("/notifications/multiple", params={"limit": 100}).json()
    assert len(batch["notifications"]) == 100 and batch["remaining"] == 19
    emu.outbox.multiple_key = "_items"  # the variant one third-party client reads
    rest = api.get("/notifications/multiple", params={"limit": 100}).json()
    assert len(rest["_items"]) == 19 and rest["remaining"] == 0
    assert api.get("/notifications/multiple", params={"limit": 100}).status_code == 404


def test_unpulled_notifications_expire_after_72_hours(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    ids = emu.ids
    emu.doctor_adds_break(ids.office, instant(at(9)), instant(at(10)))
    emu.advance(timedelta(hours=71))
    emu.doctor_adds_break(ids.office, instant(at(11)), instant(at(12)))
    emu.advance(timedelta(hours=1))
    events = pull_all(api)
    assert len(events) == 1 and events[0]["data"]["break"]["since"] == at(11)
    assert len(emu.outbox.expired) == 1


def test_all_17_notification_names_come_from_their_actions(
    api: httpx.Client, emu: DocplannerEmulator, office: str, online: str
) -> None:
    ids = emu.ids
    emu.outbox.real_time = True  # the optional blocking slot-booking / booking-moving
    publish(api, office, svc(emu), at(9), at(13))
    publish(api, online, svc(emu, "online"), at(9), at(13))
    visit = emu.patient_books(ids.office, instant(at(9)))
    assert visit is not None
    moved = emu.patient_moves(visit["id"], instant(at(9, 50)))
    assert moved is not None
    emu.patient_confirms(moved["id"])
    emu.doctor_marks_presence(moved["id"], present=False)
    emu.patient_cancels(moved["id"])
    paid = emu.patient_books(ids.online, instant(at(9)))
    assert paid is not None
    emu.patient_pays(paid["id"])
    pause = emu.doctor_adds_break(ids.office, instant(at(12)), instant(at(13)))
    emu.doctor_moves_break(pause, instant(at(12, 10)), instant(at(13)))
    emu.doctor_removes_break(pause)
    new_service = emu.doctor_readds_service(ids.office, svc(emu, index=1))
    emu.doctor_changes_service(ids.office, new_service, price=250)
    emu.set_commercial_type(ids.office, "saas-only")
    emu.unassign_address(ids.office)
    emu.assign_address(ids.office)
    events = pull_all(api)
    assert set(names(events)) == set(NAMES) and len(NAMES) == 17
    assert set(NAMES) == set(reference_events()["events"])
    for event in events:
        listed = reference_events()["events"][event["name"]]["data"]
        keys = {item.split()[0] for item in listed}
        assert keys <= set(event["data"]), (event["name"], keys)
        assert {"facility", "doctor", "address"} <= set(event["data"])
    moved_event = next(e for e in events if e["name"] == "booking-moved")
    assert moved_event["data"]["new_visit_booking"]["id"] == moved["id"]
    changed = next(e for e in events if e["name"] == "booking-payment-status-changed")
    assert changed["data"]["visit_payment_status"]["status_to"] == "paid"


def test_a_lost_answer_to_a_pull_loses_those_notifications(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    ids = emu.ids
    emu.doctor_books(ids.office, instant(at(9)))
    emu.timeout_after_commit(path_contains="/notifications", stall=0.3)
    with pytest.raises(httpx.TimeoutException):
        api.get("/notifications/multiple", params={"limit": 10}, timeout=0.1)
    assert api.get("/notifications/multiple").status_code == 404  # popping was the ack
    assert names(emu.outbox.pulled) == ["slot-booked"]


# ----- the other parties, payments and video ------------------------------------------------------
def test_a_patient_books_cancels_and_moves_on_the_marketplace(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    ids = emu.ids
    publish(api, office, svc(emu), at(9), at(12))
    with pytest.raises(Exception, match="Slot not found"):
        emu.patient_books(ids.office, instant(at(15)))
    visit = emu.patient_books(ids.office, instant(at(9)), comment="back pain")
    assert visit is not None and visit["booked_by"] == "user"
    moved = emu.patient_moves(visit["id"], instant(at(10, 40)))
    assert moved is not None and moved["id"] != visit["id"]
    emu.patient_cancels(moved["id"])
    assert api.get(f"{office}/bookings/{moved['id']}").json()["canceled_by"] == "user"
    events = pull_all(api)
    assert names(events) == ["slot-booked", "booking-moved", "booking-canceled"]
    assert events[0]["data"]["visit_booking"]["comment"] == "back pain"


def test_the_doctor_books_and_moves_outside_published_slots(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    ids = emu.ids
    visit = emu.doctor_books(ids.office, instant(at(18)))
    assert visit["booked_by"] == "doctor"
    moved = emu.doctor_moves(visit["id"], instant(at(19)))
    emu.doctor_cancels(moved["id"])
    listed = api.get(f"{office}/bookings", params={"start": at(0), "end": at(23)}).json()["_items"]
    assert [(b["status"], b["canceled_by"]) for b in listed] == [
        ("canceled", "doctor"),
        ("canceled", "doctor"),
    ]


def test_an_unpaid_visit_payment_booking_is_cancelled_after_90_minutes(
    api: httpx.Client, emu: DocplannerEmulator, online: str
) -> None:
    ids = emu.ids
    publish(api, online, svc(emu, "online"), at(9), at(11))
    booking = emu.patient_books(ids.online, instant(at(9)))
    assert booking is not None
    assert booking["visit_payment"] is True
    assert booking["visit_payment_status"] == "waiting_for_confirmation"
    emu.advance(timedelta(minutes=89, seconds=59))
    assert api.get(f"{online}/bookings/{booking['id']}").json()["status"] == "booked"
    emu.advance(1)
    fetched = api.get(f"{online}/bookings/{booking['id']}").json()
    assert fetched["status"] == "canceled" and fetched["visit_payment_status"] == "not-paid"
    events = pull_all(api)
    assert names(events) == ["slot-booked", "booking-payment-status-changed", "booking-canceled"]
    assert events[1]["data"]["visit_payment_status"]["status_to"] == "not-paid"
    assert starts(api, online) == [at(9), at(9, 50)]


def test_a_failed_payment_still_waits_for_the_window_and_a_paid_one_stays(
    api: httpx.Client, emu: DocplannerEmulator, online: str
) -> None:
    ids = emu.ids
    publish(api, online, svc(emu, "online"), at(9), at(11))
    unpaid = emu.patient_books(ids.online, instant(at(9)))
    paid = emu.patient_books(ids.online, instant(at(9, 50)))
    assert unpaid is not None and paid is not None
    emu.patient_does_not_pay(unpaid["id"])
    emu.patient_pays(paid["id"])
    assert emu.booking(unpaid["id"])["status"] == "booked"
    emu.advance(timedelta(minutes=90))
    assert emu.booking(unpaid["id"])["status"] == "canceled"
    assert emu.booking(paid["id"])["status"] == "booked"
    emu.refund(paid["id"])
    emu.charge_back(paid["id"])
    changes = [
        e["data"]["visit_payment_status"]["status_to"]
        for e in pull_all(api)
        if e["name"] == "booking-payment-status-changed"
    ]
    assert changes == ["not-paid", "paid", "not-paid", "refunded", "charged_back"]


@pytest.mark.parametrize(
    ("dialect", "waiting", "paid"),
    [
        ("event", "waiting_for_confirmation", "paid"),
        ("guide", "new", "successful"),
        ("spec", "new", "paid"),
    ],
)
def test_payment_status_values_follow_every_documented_variant(
    api: httpx.Client, emu: DocplannerEmulator, online: str, dialect: str, waiting: str, paid: str
) -> None:
    ids = emu.ids
    emu.payment_dialect = dialect
    publish(api, online, svc(emu, "online"), at(9), at(11))
    booking = emu.patient_books(ids.online, instant(at(9)))
    assert booking is not None
    url = f"{online}/bookings/{booking['id']}"
    assert api.get(url).json()["visit_payment_status"] == waiting
    emu.patient_pays(booking["id"])
    assert api.get(url).json()["visit_payment_status"] == paid
    emu.patient_pays(booking["id"], status="in_progress")  # any raw value, an open string
    assert api.get(url).json()["visit_payment_status"] == "in_progress"


def test_online_bookings_carry_a_video_url_that_survives_a_move(
    api: httpx.Client, emu: DocplannerEmulator, online: str, office: str
) -> None:
    publish(api, online, svc(emu, "online"), at(9), at(11))
    visit = book(api, online, svc(emu, "online"), at(9))
    assert visit["videocall_url"].startswith("https://")
    assert visit["visit_payment"] is False  # booked through the API: no online payment
    body = {"address_service_id": svc(emu, "online"), "start": at(9, 50)}
    moved = api.post(f"{online}/bookings/{visit['id']}/move", json=body).json()
    assert moved["videocall_url"] == visit["videocall_url"]
    slot_booked = pull_all(api)[0]
    assert slot_booked["data"]["visit_booking"]["videocall_url"] == visit["videocall_url"]
    publish(api, office, svc(emu), at(9), at(10))
    assert "videocall_url" not in book(api, office, svc(emu), at(9))


# ----- rate limits --------------------------------------------------------------------------------
def test_writes_are_limited_per_minute_with_headers_and_429(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    emu.limits.configure(writes=3)
    body = day_slots(svc(emu), at(9), at(10))
    seen = []
    for hour in range(9, 12):
        response = api.put(f"{office}/slots", json=day_slots(svc(emu), at(hour), at(hour + 1)))
        assert response.status_code == 201
        seen.append(response.headers["X-RateLimit-Remaining"])
    assert seen == ["2", "1", "0"]
    refused = api.put(f"{office}/slots", json=body)
    assert refused.status_code == 429
    assert (
        refused.headers["X-RateLimit-Limit"] == "3" and refused.headers["X-RateLimit-Used"] == "3"
    )
    reset = instant(refused.headers["X-RateLimit-Reset"])
    assert reset == emu.now() + timedelta(minutes=1)
    assert api.get("/facilities").status_code == 200  # reads have their own budget
    emu.advance(timedelta(minutes=1))
    assert api.put(f"{office}/slots", json=body).status_code == 201


def test_reads_are_limited_per_hour_and_the_limiter_can_be_switched_off(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    assert api.get("/facilities").headers["X-RateLimit-Limit"] == "8000"
    emu.limits.configure(reads=2)
    emu.limits.retry_after = True
    assert api.get("/facilities").status_code == 200
    assert api.get("/facilities").status_code == 200
    refused = api.get("/facilities")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"
    emu.limits.enabled = False
    quiet = api.get("/facilities")
    assert quiet.status_code == 200 and "X-RateLimit-Limit" not in quiet.headers


# ----- fault injection ----------------------------------------------------------------------------
def test_injected_errors_apply_nothing(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(10))
    emu.fail_next(1, 503, path_contains="/book", retry_after="2")
    body = {"address_service_id": svc(emu), "duration": 50, "patient": PATIENT}
    failed = api.post(f"{office}/slots/{at(9)}/book", json=body)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "2"
    assert failed.json()["errors"] == []
    assert emu.bookings_at(emu.ids.office) == []
    emu.fail_nth(2, 500, method="GET")
    assert api.get("/facilities").status_code == 200
    assert api.get("/facilities").status_code == 500
    emu.drop_before_next(path_contains="/book")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"{office}/slots/{at(9)}/book", json=body)
    assert emu.bookings_at(emu.ids.office) == []


def test_a_timeout_after_a_committed_write_leaves_the_write_applied(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    publish(api, office, svc(emu), at(9), at(12))
    visit = book(api, office, svc(emu), at(9))
    emu.timeout_after_commit(path_contains="/move", stall=0.4)
    body = {"address_service_id": svc(emu), "start": at(10, 40)}
    with pytest.raises(httpx.TimeoutException):
        api.post(f"{office}/bookings/{visit['id']}/move", json=body, timeout=0.15)
    listed = api.get(f"{office}/bookings", params={"start": at(0), "end": at(23)}).json()["_items"]
    assert [(b["start_at"], b["status"]) for b in listed] == [
        (at(9), "canceled"),
        (at(10, 40), "booked"),
    ]
    assert api.post(f"{office}/bookings/{visit['id']}/move", json=body).status_code == 409
    emu.timeout_after_commit(path_contains="/book")  # no stall: the connection just drops
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(
            f"{office}/slots/{at(9)}/book",
            json={"address_service_id": svc(emu), "duration": 50, "patient": PATIENT},
        )
    assert len(emu.bookings_at(emu.ids.office)) == 3
    assert [entry[2] for entry in emu.log if "/move" in entry[1]] == [None, 409]


# ----- push mode (optional) -----------------------------------------------------------------------
class Receiver:
    """A local stand-in for the partner's push endpoint, answering `statuses` in turn."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.got: list[tuple[dict[str, Any], dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.got.append((body, {k.lower(): v for k, v in self.headers.items()}))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/docplanner"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_push_retries_follow_the_chosen_policy_and_release_resends(
    api: httpx.Client, emu: DocplannerEmulator
) -> None:
    ids = emu.ids
    assert api.post("/notifications/release").status_code == 403  # a pull-only client
    receiver = Receiver([500, 500, 500])
    try:
        emu.enable_push(receiver.url, retry_policy="guide", headers={"X-Api-Key": "k"})
        emu.doctor_adds_break(ids.office, instant(at(9)), instant(at(10)))
        assert len(receiver.got) == 1 and receiver.got[0][1]["x-api-key"] == "k"
        emu.advance(timedelta(minutes=5))
        emu.advance(timedelta(minutes=10))
        assert len(receiver.got) == 3 and len(emu.outbox.failed) == 1
        assert api.post("/notifications/release").status_code == 204
        emu.advance(0)
        assert len(receiver.got) == 4 and emu.outbox.failed == []
        again = api.post("/notifications/release")
        assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
        assert names(pull_all(api)) == ["break-created"]  # pull runs alongside
    finally:
        receiver.close()


def test_a_refused_real_time_request_stops_the_booking(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    ids = emu.ids
    publish(api, office, svc(emu), at(9), at(11))
    receiver = Receiver([409])
    try:
        emu.enable_push(receiver.url)
        emu.outbox.real_time = True
        assert emu.patient_books(ids.office, instant(at(9))) is None
        assert receiver.got[0][0]["name"] == "slot-booking"
        assert emu.bookings_at(ids.office) == []
        visit = emu.patient_books(ids.office, instant(at(9)))
        assert visit is not None
        assert [body["name"] for body, _ in receiver.got] == [
            "slot-booking",
            "slot-booking",
            "slot-booked",
        ]
        receiver.statuses.append(500)
        assert emu.patient_moves(visit["id"], instant(at(9, 50))) is None
        assert receiver.got[-1][0]["name"] == "booking-moving"
        assert receiver.got[-1][0]["data"]["creating_booking"]["start_at"] == at(9, 50)
        assert emu.booking(visit["id"])["status"] == "booked"
    finally:
        receiver.close()


def test_pushes_can_be_duplicated_or_reordered(api: httpx.Client, emu: DocplannerEmulator) -> None:
    ids = emu.ids
    receiver = Receiver([])
    try:
        emu.enable_push(receiver.url)
        emu.outbox.duplicate_next = 1
        first = emu.doctor_adds_break(ids.office, instant(at(9)), instant(at(10)))
        assert [b["name"] for b, _ in receiver.got] == ["break-created", "break-created"]
        emu.outbox.paused = True  # let two pushes fall due together
        emu.doctor_moves_break(first, instant(at(11)), instant(at(12)))
        emu.doctor_removes_break(first)
        emu.outbox.reorder_next = 1
        emu.outbox.paused = False
        emu.advance(0)
    finally:
        receiver.close()
    pushed = [b["name"] for b, _ in receiver.got]
    assert pushed == ["break-created", "break-created", "break-removed", "break-moved"]
    assert names(pull_all(api)) == ["break-created", "break-moved", "break-removed"]


def test_an_unassigned_address_is_forbidden_until_assigned_again(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    emu.unassign_address(emu.ids.office)
    assert api.get(office).status_code == 403
    emu.assign_address(emu.ids.office)
    assert api.get(office).status_code == 200
    assert names(pull_all(api)) == ["address-unassigned", "address-assigned"]


def test_a_date_without_an_offset_is_read_in_the_country_zone_and_recorded(
    api: httpx.Client, emu: DocplannerEmulator, office: str
) -> None:
    body = day_slots(svc(emu), "2026-11-03T09:00:00", "2026-11-03T10:00:00")
    assert api.put(f"{office}/slots", json=body).status_code == 201
    assert starts(api, office) == [at(9)]
    assert emu.state.naive_dates == ["2026-11-03T09:00:00", "2026-11-03T10:00:00"]


# ----- clock and field checks ---------------------------------------------------------------------
def test_the_clock_is_injectable() -> None:
    start = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    with DocplannerEmulator(clock=Clock(start), domain="doctoralia.com.br") as emu:
        assert emu.now() == start
        token = emu.issue_token()
        listed = httpx.get(
            emu.api_base + "/facilities", headers={"Authorization": f"Bearer {token}"}
        )
        assert listed.headers["X-RateLimit-Reset"] == "2027-03-01T10:00:00-03:00"


def test_the_field_check_knows_the_vendor_types_and_catches_inventions() -> None:
    assert {"Booking", "Address", "AddressService", "CalendarBreak", "Notification"} <= set(
        models()
    )
    assert set(DATA_MODELS) == set(reference_events()["events"])
    booking = {"id": "1", "status": "booked", "invented": True}
    assert check_response("booking", booking) == [
        "$: field 'invented' is not in the vendor type Booking"
    ]
    assert check_response("booking", {"status": "pending"})
    assert check_response("booking", {"start_at": "2026-11-03T09:00:00"})  # no offset
    assert check_response("error", {"errors": {"slots[0].end": ["x"]}, "message": "m"}) == []
    assert check_response("error", {"errors": [], "message": "m"}) == []
    assert check_response("notification", {"name": "slot-changed", "data": {}})
