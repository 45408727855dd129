"""The Google Calendar v3 emulator (tests/fakes) behaves like Google where Carecal's sync
depends on it; every JSON body it sends during these tests is checked against the discovery
document's schemas."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes.google_calendar import GoogleCalendarEmulator, load_discovery
from tests.fakes.google_oauth import CALENDAR
from tests.fakes.google_schema import check_response

SCHEMAS = load_discovery()["schemas"]
TZ = "Europe/Berlin"


@pytest.fixture
def emu() -> Iterator[GoogleCalendarEmulator]:
    with GoogleCalendarEmulator() as server:
        yield server
    found = [p for name, body in server.responses for p in check_response(name, body, SCHEMAS)]
    assert found == [], found
    assert server.responses, "no response was recorded"


@pytest.fixture
def api(emu: GoogleCalendarEmulator) -> Iterator[httpx.Client]:
    token = emu.issue_token()
    with httpx.Client(
        base_url=emu.api_base + "/calendars/primary", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def timed(day: str, hour: int, summary: str = "Session", **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": f"{day}T{hour:02d}:00:00+01:00", "timeZone": TZ},
        "end": {"dateTime": f"{day}T{hour:02d}:50:00+01:00", "timeZone": TZ},
        **extra,
    }


def reason(response: httpx.Response) -> str:
    return str(response.json()["error"]["errors"][0]["reason"])


def list_all(api: httpx.Client, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, pages) of a listing followed to its end."""
    pages: list[dict[str, Any]] = []
    while True:
        response = api.get("/events", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "nextPageToken" not in pages[-1]:
            return [i for p in pages for i in p["items"]], pages
        params = {**params, "pageToken": pages[-1]["nextPageToken"]}


# ----- resources, etags, ids ----------------------------------------------------------------
def test_calendar_list_needs_a_calendar_list_scope(emu: GoogleCalendarEmulator) -> None:
    full = emu.issue_token()
    events_only = emu.issue_token((CALENDAR + ".events",))
    url = emu.api_base + "/users/me/calendarList"
    ok = httpx.get(url, headers={"Authorization": f"Bearer {full}"})
    assert ok.status_code == 200
    assert [(c["id"], c.get("primary")) for c in ok.json()["items"]] == [
        ("practitioner@example.com", True)
    ]
    denied = httpx.get(url, headers={"Authorization": f"Bearer {events_only}"})
    assert denied.status_code == 403 and reason(denied) == "insufficientPermissions"
    events = httpx.get(
        emu.api_base + "/calendars/primary/events",
        headers={"Authorization": f"Bearer {events_only}"},
    )
    assert events.status_code == 200


def test_every_write_gives_a_new_etag_and_if_match_guards_it(api: httpx.Client) -> None:
    created = api.post("/events", json=timed("2026-12-01", 9)).json()
    assert created["status"] == "confirmed" and created["iCalUID"]
    patched = api.patch(
        f"/events/{created['id']}", json={"summary": "B"}, headers={"If-Match": created["etag"]}
    )
    assert patched.status_code == 200 and patched.json()["etag"] != created["etag"]
    stale = api.patch(
        f"/events/{created['id']}", json={"summary": "C"}, headers={"If-Match": created["etag"]}
    )
    assert stale.status_code == 412 and reason(stale) == "conditionNotMet"
    for method, body in (("PUT", timed("2026-12-01", 10)), ("DELETE", None)):
        refused = api.request(
            method, f"/events/{created['id']}", json=body, headers={"If-Match": created["etag"]}
        )
        assert refused.status_code == 412
    fresh = patched.json()["etag"]
    assert api.get(f"/events/{created['id']}", headers={"If-None-Match": fresh}).status_code == 304
    updated = api.put(
        f"/events/{created['id']}", json=timed("2026-12-01", 11), headers={"If-Match": fresh}
    )
    assert updated.status_code == 200 and updated.json()["etag"] not in (fresh, created["etag"])
    assert updated.json()["sequence"] == 1  # the time moved


def test_client_ids_are_validated_and_never_reused(api: httpx.Client) -> None:
    bad = api.post("/events", json=timed("2026-12-01", 9, id="Not_Base32"))
    assert bad.status_code == 400 and reason(bad) == "invalid"
    assert api.post("/events", json=timed("2026-12-01", 9, id="abc")).status_code == 400
    first = api.post("/events", json=timed("2026-12-01", 9, id="carecal0v1"))
    assert first.status_code == 200 and first.json()["id"] == "carecal0v1"
    again = api.post("/events", json=timed("2026-12-01", 9, id="carecal0v1"))
    assert again.status_code == 409 and reason(again) == "duplicate"
    assert api.delete("/events/carecal0v1").status_code == 204
    after_delete = api.post("/events", json=timed("2026-12-01", 9, id="carecal0v1"))
    assert after_delete.status_code == 409


def test_deleted_events_stay_readable_and_cannot_be_deleted_twice(api: httpx.Client) -> None:
    created = api.post("/events", json=timed("2026-12-02", 9)).json()
    assert api.delete(f"/events/{created['id']}").status_code == 204
    gone = api.get(f"/events/{created['id']}")
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    twice = api.delete(f"/events/{created['id']}")
    assert twice.status_code == 410 and reason(twice) == "deleted"
    assert twice.json()["error"]["errors"][0]["domain"] == "global"
    assert api.get("/events/nosuchevent").status_code == 404
    plain, _ = list_all(api)
    assert plain == []
    shown, _ = list_all(api, showDeleted="true")
    assert shown == [
        {
            "kind": "calendar#event",
            "etag": gone.json()["etag"],
            "id": created["id"],
            "status": "cancelled",
        }
    ]


def test_private_properties_and_unknown_fields_survive(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    body = timed(
        "2026-12-03", 9, extendedProperties={"private": {"carecalId": "42", "patient": "7"}}
    )
    body["noSuchField"] = "dropped"  # Google ignores what its schema does not define
    created = api.post("/events", json=body).json()
    assert "noSuchField" not in created
    # Another device adds fields Carecal does not model.
    emu.remote_patch(created["id"], {"colorId": "5", "attendees": [{"email": "a@example.com"}]})
    patched = api.patch(
        f"/events/{created['id']}", json={"extendedProperties": {"private": {"patient": "8"}}}
    ).json()
    assert patched["extendedProperties"]["private"] == {"carecalId": "42", "patient": "8"}
    assert patched["colorId"] == "5" and patched["attendees"] == [{"email": "a@example.com"}]
    # A PUT of the stored JSON keeps them; a PUT that omits them clears them, like Google.
    kept = api.put(f"/events/{created['id']}", json={**patched, "summary": "Renamed"}).json()
    assert kept["colorId"] == "5" and kept["summary"] == "Renamed"
    assert kept["extendedProperties"]["private"]["carecalId"] == "42"
    cleared = api.put(f"/events/{created['id']}", json=timed("2026-12-03", 9)).json()
    assert "colorId" not in cleared and "extendedProperties" not in cleared


def test_reminder_only_edits_keep_updated_but_change_the_etag(api: httpx.Client) -> None:
    created = api.post("/events", json=timed("2026-12-04", 9)).json()
    edited = api.patch(
        f"/events/{created['id']}",
        json={"reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 5}]}},
    ).json()
    assert edited["updated"] == created["updated"] and edited["etag"] != created["etag"]


def test_bad_event_bodies_get_400(api: httpx.Client) -> None:
    no_end = api.post("/events", json={"start": {"date": "2026-12-01"}})
    assert no_end.status_code == 400 and reason(no_end) == "required"
    backwards = timed("2026-12-01", 9)
    backwards["end"] = {"dateTime": "2026-12-01T08:00:00+01:00"}
    assert reason(api.post("/events", json=backwards)) == "timeRangeEmpty"
    no_tz = {
        "start": {"dateTime": "2026-12-01T09:00:00+01:00"},
        "end": {"dateTime": "2026-12-01T10:00:00+01:00"},
        "recurrence": ["RRULE:FREQ=DAILY"],
    }
    assert reason(api.post("/events", json=no_tz)) == "required"
    bad_rule = timed("2026-12-01", 9, recurrence=["RRULE:FREQ=SOMETIMES"])
    assert reason(api.post("/events", json=bad_rule)) == "invalid"
    assert api.post("/events", content=b"{not json").status_code == 400


# ----- paging and sync tokens -----------------------------------------------------------------
def test_paging_with_empty_pages_and_a_sync_token_only_at_the_end(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    for day in range(1, 6):
        api.post("/events", json=timed(f"2026-12-{day:02d}", 9, summary=f"S{day}"))
    emu.set_page_size(2)
    emu.add_empty_pages(2)
    items, pages = list_all(api)
    assert sorted(i["summary"] for i in items) == ["S1", "S2", "S3", "S4", "S5"]
    assert [len(p["items"]) for p in pages] == [0, 0, 2, 2, 1]
    assert all("nextSyncToken" not in p for p in pages[:-1])
    assert "nextSyncToken" in pages[-1] and "nextPageToken" not in pages[-1]
    small, small_pages = list_all(api, maxResults=1)
    assert len(small) == 5 and len(small_pages) == 5
    filtered, filtered_pages = list_all(api, q="S3")
    assert [i["summary"] for i in filtered] == ["S3"] and "nextSyncToken" not in filtered_pages[-1]
    tampered = api.get("/events", params={"pageToken": "forged"})
    assert (
        tampered.status_code == 400
        and tampered.json()["error"]["errors"][0]["location"] == "pageToken"
    )
    first = api.get("/events").json()
    other_query = api.get(
        "/events", params={"pageToken": first["nextPageToken"], "showDeleted": "true"}
    )
    assert other_query.status_code == 400


def test_incremental_sync_returns_changes_and_deletions(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    keep = api.post("/events", json=timed("2026-12-01", 9, summary="Keep")).json()
    drop = api.post("/events", json=timed("2026-12-02", 9, summary="Drop")).json()
    _, pages = list_all(api)
    token = pages[-1]["nextSyncToken"]
    quiet, quiet_pages = list_all(api, syncToken=token)
    assert quiet == [] and quiet_pages[-1]["nextSyncToken"]
    api.delete(f"/events/{drop['id']}")
    emu.remote_patch(keep["id"], {"summary": "Changed elsewhere"})
    added = emu.remote_insert(timed("2026-12-03", 9, summary="New elsewhere"))
    changes, pages = list_all(api, syncToken=token)
    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {keep["id"], drop["id"], added["id"]}
    assert by_id[drop["id"]] == {
        "kind": "calendar#event",
        "etag": by_id[drop["id"]]["etag"],
        "id": drop["id"],
        "status": "cancelled",
    }
    assert (
        by_id[keep["id"]]["summary"] == "Changed elsewhere"
        and by_id[keep["id"]]["etag"] != keep["etag"]
    )
    later, _ = list_all(api, syncToken=pages[-1]["nextSyncToken"])
    assert later == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("timeMin", "2026-01-01T00:00:00Z"), ("timeMax", "2027-01-01T00:00:00Z"), ("q", "x"),
     ("orderBy", "updated"), ("iCalUID", "u@x"), ("updatedMin", "2026-01-01T00:00:00Z"),
     ("privateExtendedProperty", "a=b"), ("sharedExtendedProperty", "a=b")],
)  # fmt: skip
def test_sync_token_refuses_filters(api: httpx.Client, name: str, value: str) -> None:
    _, pages = list_all(api)
    refused = api.get("/events", params={"syncToken": pages[-1]["nextSyncToken"], name: value})
    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["location"] == name


def test_order_by_start_time_needs_single_events(api: httpx.Client) -> None:
    refused = api.get("/events", params={"orderBy": "startTime"})
    assert refused.status_code == 400
    assert (
        api.get("/events", params={"orderBy": "startTime", "singleEvents": "true"}).status_code
        == 200
    )
    empty = api.get(
        "/events", params={"timeMin": "2026-02-01T00:00:00Z", "timeMax": "2026-01-01T00:00:00Z"}
    )
    assert reason(empty) == "timeRangeEmpty"


def test_expired_sync_tokens_need_a_full_sync(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    api.post("/events", json=timed("2026-12-01", 9))
    _, pages = list_all(api)
    emu.expire_sync_tokens()
    gone = api.get("/events", params={"syncToken": pages[-1]["nextSyncToken"]})
    assert gone.status_code == 410
    assert gone.json()["error"]["errors"][0] == {
        "domain": "calendar", "reason": "fullSyncRequired",
        "message": "Sync token is no longer valid, a full sync is required.",
        "locationType": "parameter", "location": "syncToken",
    }  # fmt: skip
    assert api.get("/events", params={"syncToken": "forged"}).status_code == 400
    items, fresh = list_all(api)
    assert len(items) == 1 and list_all(api, syncToken=fresh[-1]["nextSyncToken"])[0] == []


def test_private_property_filter(api: httpx.Client) -> None:
    api.post(
        "/events", json=timed("2026-12-01", 9, extendedProperties={"private": {"carecalId": "1"}})
    )
    api.post(
        "/events", json=timed("2026-12-02", 9, extendedProperties={"private": {"carecalId": "2"}})
    )
    found, _ = list_all(api, privateExtendedProperty="carecalId=2")
    assert [f["extendedProperties"]["private"]["carecalId"] for f in found] == ["2"]


# ----- recurrence -----------------------------------------------------------------------------
def weekly(api: httpx.Client) -> dict[str, Any]:
    """A weekly series at 09:00 Berlin across the end of summer time (25 Oct 2026)."""
    body = timed("2026-10-12", 9, summary="Weekly", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"])
    body["start"]["dateTime"] = "2026-10-12T09:00:00+02:00"
    body["end"]["dateTime"] = "2026-10-12T09:50:00+02:00"
    created = api.post("/events", json=body)
    assert created.status_code == 200, created.text
    return dict(created.json())


def test_single_events_expand_series_without_masters(api: httpx.Client) -> None:
    master = weekly(api)
    plain, _ = list_all(api)
    assert [p["recurrence"] for p in plain] == [["RRULE:FREQ=WEEKLY;COUNT=4"]]
    items, _ = list_all(api, singleEvents="true", orderBy="startTime")
    assert [i["id"] for i in items] == [
        f"{master['id']}_20261012T070000Z", f"{master['id']}_20261019T070000Z",
        f"{master['id']}_20261026T080000Z", f"{master['id']}_20261102T080000Z",
    ]  # fmt: skip
    assert all(i["recurringEventId"] == master["id"] and "recurrence" not in i for i in items)
    assert [i["start"]["dateTime"][11:16] for i in items] == [
        "09:00"
    ] * 4  # local time kept over DST
    assert items[2]["originalStartTime"] == {
        "dateTime": "2026-10-26T09:00:00+01:00",
        "timeZone": TZ,
    }
    window, _ = list_all(
        api, singleEvents="true", timeMin="2026-10-18T00:00:00Z", timeMax="2026-10-27T00:00:00Z"
    )
    assert len(window) == 2


def test_instance_edits_make_exceptions_seen_by_sync(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    master = weekly(api)
    _, pages = list_all(api)
    token = pages[-1]["nextSyncToken"]
    instances = api.get(f"/events/{master['id']}/instances").json()["items"]
    assert len(instances) == 4
    moved_id, removed_id = instances[1]["id"], instances[2]["id"]
    moved = api.patch(
        f"/events/{moved_id}",
        json={
            "start": {"dateTime": "2026-10-20T10:00:00+02:00", "timeZone": TZ},
            "end": {"dateTime": "2026-10-20T10:50:00+02:00", "timeZone": TZ},
        },
    )
    assert moved.status_code == 200
    assert moved.json()["originalStartTime"] == instances[1]["originalStartTime"]
    emu.remote_delete(removed_id)
    changes, _ = list_all(api, syncToken=token)
    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {moved_id, removed_id}
    assert by_id[moved_id]["recurringEventId"] == master["id"]
    assert by_id[removed_id] == {
        "kind": "calendar#event", "etag": by_id[removed_id]["etag"], "id": removed_id,
        "status": "cancelled", "recurringEventId": master["id"],
        "originalStartTime": instances[2]["originalStartTime"],
    }  # fmt: skip
    expanded, _ = list_all(api, singleEvents="true")
    assert [e["id"] for e in expanded] == [instances[0]["id"], moved_id, instances[3]["id"]]
    assert expanded[1]["start"]["dateTime"] == "2026-10-20T10:00:00+02:00"
    plain, _ = list_all(api)
    assert {p["id"] for p in plain} == {master["id"], moved_id}
    with_deleted = api.get(
        f"/events/{master['id']}/instances", params={"showDeleted": "true"}
    ).json()
    assert [i["status"] for i in with_deleted["items"]].count("cancelled") == 1


def test_all_day_series_and_exdates(api: httpx.Client) -> None:
    body = {"summary": "Leave", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3", "EXDATE;VALUE=DATE:20261202"]}  # fmt: skip
    master = api.post("/events", json=body).json()
    items, _ = list_all(api, singleEvents="true")
    assert [i["id"] for i in items] == [f"{master['id']}_20261201", f"{master['id']}_20261203"]
    assert items[1]["end"] == {"date": "2026-12-04"}


# ----- errors, faults, tokens -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "why", "domain"),
    [(403, "rateLimitExceeded", "usageLimits"), (403, "userRateLimitExceeded", "usageLimits"),
     (429, "rateLimitExceeded", "usageLimits"), (500, "backendError", "global")],
)  # fmt: skip
def test_injected_faults_use_googles_error_shape(
    api: httpx.Client, emu: GoogleCalendarEmulator, status: int, why: str, domain: str
) -> None:
    emu.fail_next(2, status, why)
    for _ in range(2):
        failed = api.get("/events")
        assert failed.status_code == status
        error = failed.json()["error"]
        assert error["code"] == status and error["errors"][0]["reason"] == why
        assert error["errors"][0]["domain"] == domain
    assert api.get("/events").status_code == 200


def test_faults_can_target_one_path_and_quota_is_sticky(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    emu.fail_next(1, 503, "backendError", path_contains="/instances", retry_after="1")
    assert api.get("/events").status_code == 200
    created = weekly(api)
    failed = api.get(f"/events/{created['id']}/instances")
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    emu.quota_exceeded = True
    assert [reason(api.get("/events")) for _ in range(2)] == ["quotaExceeded"] * 2
    emu.quota_exceeded = False
    emu.requests_per_minute = 2
    statuses = [api.get("/events").status_code for _ in range(3)]
    assert statuses == [200, 200, 403]


def test_access_tokens_expire(emu: GoogleCalendarEmulator) -> None:
    url = emu.api_base + "/calendars/primary/events"
    token = emu.issue_token()
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    emu.expire_access_tokens()
    expired = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    assert expired.json()["error"]["errors"][0] == {
        "domain": "global",
        "reason": "authError",
        "message": "Invalid Credentials",
        "locationType": "header",
        "location": "Authorization",
    }
    assert httpx.get(url).status_code == 401
    emu.oauth.access_ttl = 0.0
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {emu.issue_token()}"}).status_code == 401
    )


# ----- OAuth ------------------------------------------------------------------------------------
def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(
    emu: GoogleCalendarEmulator, challenge: str, redirect: str = "http://127.0.0.1:53123/"
) -> httpx.Response:
    params = {"response_type": "code", "client_id": emu.oauth.client_id, "redirect_uri": redirect,
              "scope": f"{CALENDAR}.events {CALENDAR}.calendarlist.readonly", "state": "st8",
              "code_challenge": challenge, "code_challenge_method": "S256"}  # fmt: skip
    return httpx.get(emu.auth_uri, params=params)


def test_oauth_code_flow_with_pkce_refresh_and_revoke(emu: GoogleCalendarEmulator) -> None:
    verifier, challenge = pkce()
    consent = authorize(emu, challenge)
    assert consent.status_code == 302
    back = parse_qs(urlsplit(consent.headers["Location"]).query)
    assert back["state"] == ["st8"]
    form = {"grant_type": "authorization_code", "code": back["code"][0], "redirect_uri": "http://127.0.0.1:53123/",
            "client_id": emu.oauth.client_id, "client_secret": emu.oauth.client_secret}  # fmt: skip
    wrong = httpx.post(emu.token_uri, data={**form, "code_verifier": "x" * 43})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code = parse_qs(urlsplit(authorize(emu, challenge).headers["Location"]).query)["code"][0]
    tokens = httpx.post(
        emu.token_uri, data={**form, "code": code, "code_verifier": verifier}
    ).json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"] and tokens["expires_in"] > 0
    reused = httpx.post(emu.token_uri, data={**form, "code": code, "code_verifier": verifier})
    assert reused.json()["error"] == "invalid_grant"
    calendars = httpx.get(
        emu.api_base + "/users/me/calendarList",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert calendars.status_code == 200
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": emu.oauth.client_id,
        "client_secret": emu.oauth.client_secret,
    }
    refreshed = httpx.post(emu.token_uri, data=refresh).json()
    assert refreshed["access_token"] != tokens["access_token"] and "refresh_token" not in refreshed
    assert httpx.post(emu.revoke_uri, params={"token": tokens["refresh_token"]}).status_code == 200
    dead = httpx.post(emu.token_uri, data=refresh)
    assert dead.status_code == 400 and dead.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }
    api_after = httpx.get(
        emu.api_base + "/calendars/primary/events",
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
    )
    assert api_after.status_code == 401
    assert httpx.post(emu.revoke_uri, params={"token": "unknown"}).status_code == 400


def test_oauth_refuses_bad_requests_and_dead_refresh_tokens(emu: GoogleCalendarEmulator) -> None:
    _, challenge = pkce()
    assert authorize(emu, challenge, redirect="https://evil.example.com/cb").status_code == 400
    assert authorize(emu, challenge, redirect="http://[::1]:8080/").status_code == 302
    plain = httpx.get(
        emu.auth_uri,
        params={
            "response_type": "code",
            "client_id": emu.oauth.client_id,
            "redirect_uri": "http://127.0.0.1:1/",
            "scope": CALENDAR,
            "code_challenge": "abc",
            "code_challenge_method": "plain",
        },
    )
    assert plain.status_code == 400
    emu.oauth.deny_consent = True
    denied = authorize(emu, challenge)
    assert parse_qs(urlsplit(denied.headers["Location"]).query)["error"] == ["access_denied"]
    _, refresh_token = emu.oauth.issue()
    emu.kill_refresh_tokens()
    dead = httpx.post(
        emu.token_uri,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": emu.oauth.client_id,
            "client_secret": emu.oauth.client_secret,
        },
    )
    assert dead.json()["error"] == "invalid_grant"


# ----- the schema check itself ------------------------------------------------------------------
def test_schema_check_catches_invented_fields_and_wrong_types() -> None:
    event = {
        "kind": "calendar#event",
        "id": "abcde",
        "sequence": 0,
        "start": {"date": "2026-12-01"},
    }
    assert check_response("Event", event, SCHEMAS) == []
    assert check_response("Event", {**event, "carecalOnly": 1}, SCHEMAS) != []
    assert check_response("Event", {**event, "sequence": "0"}, SCHEMAS) != []
    assert check_response("Event", {**event, "start": {"date": "01.12.2026"}}, SCHEMAS) != []
    assert (
        check_response("Events", {"items": [{**event, "attendees": [{"mail": "x"}]}]}, SCHEMAS)
        != []
    )
    assert check_response("error", {"error": {"code": "400"}}, SCHEMAS) != []


# ----- additions for the provider: instances by original start, filters on stored events -----
def test_instances_by_original_start(api: httpx.Client, emu: GoogleCalendarEmulator) -> None:
    master = weekly(api)
    url = f"/events/{master['id']}/instances"
    # The third occurrence is after the end of summer time: 09:00 local is 08:00 UTC.
    one = api.get(url, params={"originalStart": "2026-10-26T08:00:00Z"}).json()["items"]
    assert [i["id"] for i in one] == [f"{master['id']}_20261026T080000Z"]
    assert api.get(url, params={"originalStart": "2026-10-26T09:00:00Z"}).json()["items"] == []
    emu.remote_delete(one[0]["id"])
    assert api.get(url, params={"originalStart": "2026-10-26T09:00:00+01:00"}).json()["items"] == []
    shown = api.get(
        url, params={"originalStart": "2026-10-26T09:00:00+01:00", "showDeleted": "true"}
    ).json()["items"]
    assert [(i["id"], i["status"]) for i in shown] == [(one[0]["id"], "cancelled")]
    bad = api.get(url, params={"originalStart": "next monday"})
    assert bad.status_code == 400 and reason(bad) == "invalid"
    days = api.post(
        "/events",
        json={"summary": "Leave", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"},
              "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"]},
    ).json()  # fmt: skip
    found = api.get(
        f"/events/{days['id']}/instances", params={"originalStart": "2026-12-02"}
    ).json()["items"]
    assert [i["originalStartTime"] for i in found] == [{"date": "2026-12-02"}]


def test_filters_match_the_stored_event_so_cancelled_exceptions_are_found(
    api: httpx.Client, emu: GoogleCalendarEmulator
) -> None:
    body = timed("2026-10-12", 9, summary="Weekly", recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"])
    body["extendedProperties"] = {"private": {"carecalUid": "u-1"}}
    master = api.post("/events", json=body).json()
    instances = api.get(f"/events/{master['id']}/instances").json()["items"]
    emu.remote_delete(instances[1]["id"])
    api.post("/events", json=timed("2026-10-13", 9, summary="Other"))
    for params in ({"iCalUID": master["iCalUID"]}, {"privateExtendedProperty": "carecalUid=u-1"}):
        live, _ = list_all(api, **params)
        assert [e["id"] for e in live] == [master["id"]]
        everything, _ = list_all(api, showDeleted="true", **params)
        assert [(e["id"], e["status"]) for e in everything] == [
            (master["id"], "confirmed"),
            (instances[1]["id"], "cancelled"),
        ]
        # Shown as Google guarantees: a cancelled exception keeps only its identity.
        assert "iCalUID" not in everything[1] and "extendedProperties" not in everything[1]
