"""The Microsoft Graph calendar emulator (tests/fakes/graph_*.py) behaves like Graph where
Carecal's Outlook sync depends on it (reference: ../shared/reference/google-graph-api.md,
sections 2-4). Every JSON body it sends during these tests is checked against a field
whitelist built from the reference's event resource (tests/fakes/graph_schema.py)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fakes.graph_schema import check_response
from tests.fakes.graph_server import GraphEmulator

BERLIN = "W. Europe Standard Time"
WINDOW = {"startDateTime": "2026-10-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}
REDIRECT = "http://localhost:53123"


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with GraphEmulator() as server:
        yield server
    found = [p for kind, body in server.responses for p in check_response(kind, body)]
    assert found == [], found
    assert server.responses, "no response was recorded"


@pytest.fixture
def api(emu: GraphEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emu.api_base, headers={"Authorization": f"Bearer {emu.issue_token()}"}
    ) as client:
        yield client


@pytest.fixture
def events(emu: GraphEmulator) -> str:
    """The default calendar's events collection, relative to the API base."""
    return f"/me/calendars/{emu.default_calendar_id}/events"


def timed(day: str, hour: int, subject: str = "Session", **extra: Any) -> dict[str, Any]:
    """A 50-minute event at `hour` Berlin time."""
    return {
        "subject": subject,
        "start": {"dateTime": f"{day}T{hour:02d}:00:00", "timeZone": BERLIN},
        "end": {"dateTime": f"{day}T{hour:02d}:50:00", "timeZone": BERLIN},
        **extra,
    }


def weekly(day: str = "2026-10-12", count: int = 4, **extra: Any) -> dict[str, Any]:
    """A weekly Monday series at 09:00 Berlin (across the end of summer time by default)."""
    return timed(
        day,
        9,
        "Weekly",
        recurrence={
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "numbered", "startDate": day, "numberOfOccurrences": count},
        },
        **extra,
    )


def code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def create(api: httpx.Client, events: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(events, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def delta_url(emu: GraphEmulator) -> str:
    return f"/me/calendars/{emu.default_calendar_id}/calendarView/delta"


def delta_round(
    api: httpx.Client, first: str, params: dict[str, str] | None = None, prefer: str = ""
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entries, pages) of one delta round followed to its deltaLink."""
    headers = {"Prefer": prefer} if prefer else {}
    pages: list[dict[str, Any]] = []
    response = api.get(first, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if "@odata.deltaLink" in pages[-1]:
            return [e for p in pages for e in p["value"]], pages
        response = api.get(pages[-1]["@odata.nextLink"], headers=headers)


def instances(api: httpx.Client, master_id: str) -> list[dict[str, Any]]:
    response = api.get(f"/me/events/{master_id}/instances", params=WINDOW)
    assert response.status_code == 200, response.text
    return list(response.json()["value"])


# ----- calendars, writes, versions ------------------------------------------------------------
def test_calendars_are_listed_in_pages(api: httpx.Client, emu: GraphEmulator) -> None:
    emu.add_calendar("Home visits")
    emu.add_calendar("Room 2")
    first = api.get("/me/calendars", params={"$top": "2"}).json()
    assert len(first["value"]) == 2 and first["value"][0]["isDefaultCalendar"] is True
    assert first["@odata.nextLink"].startswith(emu.api_base + "/me/calendars?")
    second = api.get(first["@odata.nextLink"]).json()
    assert [c["name"] for c in second["value"]] == ["Room 2"] and "@odata.nextLink" not in second
    assert api.get("/me/calendars/AAMkAGI2nope").status_code in (400, 404)


def test_create_returns_201_with_graph_defaults(api: httpx.Client, events: str) -> None:
    created = create(api, events, timed("2026-12-01", 9))
    assert created["type"] == "singleInstance" and created["seriesMasterId"] is None
    assert created["start"] == {"dateTime": "2026-12-01T08:00:00.0000000", "timeZone": "UTC"}
    assert created["originalStartTimeZone"] == BERLIN
    assert created["showAs"] == "busy" and created["isCancelled"] is False
    assert created["@odata.etag"] == f'W/"{created["changeKey"]}"'
    assert "transactionId" not in created and "originalStart" not in created
    fetched = api.get(f"/me/events/{created['id']}").json()
    assert fetched["id"] == created["id"] and fetched["changeKey"] == created["changeKey"]
    listed = api.get(events).json()["value"]
    assert [e["id"] for e in listed] == [created["id"]]


def test_transaction_id_makes_a_retried_create_return_the_same_event(
    api: httpx.Client, events: str
) -> None:
    body = timed("2026-12-01", 9, transactionId="carecal-local-42")
    first = create(api, events, body)
    retry = create(api, events, body)
    assert retry["id"] == first["id"] and retry["transactionId"] == "carecal-local-42"
    assert len(api.get(events).json()["value"]) == 1
    patched = api.patch(f"/me/events/{first['id']}", json={"transactionId": "other"}).json()
    assert patched["transactionId"] == "carecal-local-42"  # cannot change after creation
    other = create(api, events, timed("2026-12-01", 9, transactionId="carecal-local-43"))
    assert other["id"] != first["id"]


def test_every_write_is_versioned_and_if_match_guards_patch_and_delete(
    api: httpx.Client, events: str
) -> None:
    created = create(api, events, timed("2026-12-01", 9))
    url = f"/me/events/{created['id']}"
    patched = api.patch(url, json={"subject": "B"}, headers={"If-Match": created["@odata.etag"]})
    assert patched.status_code == 200
    new = patched.json()
    assert new["changeKey"] != created["changeKey"] and new["@odata.etag"] != created["@odata.etag"]
    assert new["lastModifiedDateTime"] > created["lastModifiedDateTime"]
    same = api.patch(url, json={"subject": "B"}).json()  # even a no-op write is a new version
    assert same["changeKey"] != new["changeKey"]
    for method, body in (("PATCH", {"subject": "C"}), ("DELETE", None)):
        stale = api.request(method, url, json=body, headers={"If-Match": created["@odata.etag"]})
        assert stale.status_code == 412 and code(stale) == "ErrorIrresolvableConflict"
    assert api.patch(url, json={"subject": "D"}, headers={"If-Match": "*"}).status_code == 200
    current = api.get(url).json()["@odata.etag"]
    assert api.delete(url, headers={"If-Match": current}).status_code == 204
    gone = api.get(url)
    assert gone.status_code == 404 and code(gone) == "ErrorItemNotFound"
    error = gone.json()["error"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}


def test_bad_bodies_get_graph_errors(api: httpx.Client, events: str) -> None:
    unknown = api.post(events, json=timed("2026-12-01", 9, carecalOnly=1))
    assert unknown.status_code == 400 and code(unknown) == "RequestBodyRead"
    bad_enum = api.post(events, json=timed("2026-12-01", 9, showAs="sometimes"))
    assert code(bad_enum) == "RequestBodyRead"
    backwards = timed("2026-12-01", 9)
    backwards["end"]["dateTime"] = "2026-12-01T08:00:00"
    assert code(api.post(events, json=backwards)) == "ErrorCalendarEndDateIsEarlierThanStartDate"
    offset = timed("2026-12-01", 9)
    offset["start"]["dateTime"] = "2026-12-01T09:00:00+01:00"
    assert api.post(events, json=offset).status_code == 400
    zone = timed("2026-12-01", 9)
    zone["start"]["timeZone"] = "Mars/Olympus_Mons"
    assert code(api.post(events, json=zone)) == "TimeZoneNotSupportedException"
    assert api.post(events, content=b"{not json").status_code == 400
    assert api.post(events, json={"subject": "no times"}).status_code == 400
    assert code(api.get("/me/events/not-an-id")) == "ErrorInvalidIdMalformed"


def test_all_day_events_need_midnights_and_stay_midnight_in_any_zone(
    api: httpx.Client, events: str
) -> None:
    late = timed("2026-12-01", 9, isAllDay=True)
    assert api.post(events, json=late).status_code == 400
    body = {
        "subject": "Leave",
        "isAllDay": True,
        "start": {"dateTime": "2026-12-01T00:00:00", "timeZone": BERLIN},
        "end": {"dateTime": "2026-12-03T00:00:00", "timeZone": BERLIN},
    }
    created = create(api, events, body)
    assert created["start"] == {"dateTime": "2026-12-01T00:00:00.0000000", "timeZone": "UTC"}
    pacific = api.get(
        f"/me/events/{created['id']}",
        headers={"Prefer": 'outlook.timezone="Pacific Standard Time"'},
    ).json()
    assert pacific["start"] == {
        "dateTime": "2026-12-01T00:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    assert pacific["end"]["dateTime"] == "2026-12-03T00:00:00.0000000"


def test_outlook_timezone_converts_timed_events_and_takes_windows_names(
    api: httpx.Client, events: str
) -> None:
    created = create(api, events, timed("2026-12-01", 9))
    url = f"/me/events/{created['id']}"
    for prefer, expected in (
        ("Pacific Standard Time", "2026-12-01T00:00:00.0000000"),
        ("America/New_York", "2026-12-01T03:00:00.0000000"),
        (BERLIN, "2026-12-01T09:00:00.0000000"),
    ):
        shown = api.get(url, headers={"Prefer": f'outlook.timezone="{prefer}"'})
        assert shown.json()["start"] == {"dateTime": expected, "timeZone": prefer}
        assert f'outlook.timezone="{prefer}"' in shown.headers["Preference-Applied"]
    unknown = api.get(url, headers={"Prefer": 'outlook.timezone="Nowhere Standard Time"'})
    assert code(unknown) == "TimeZoneNotSupportedException"
    window = {"startDateTime": "2026-12-01T07:30:00", "endDateTime": "2026-12-01T08:10:00"}
    in_utc = api.get(
        "/me/calendarView",
        params=window,
        headers={"Prefer": 'outlook.timezone="Tokyo Standard Time"'},
    ).json()["value"]
    assert [e["id"] for e in in_utc] == [created["id"]]  # bounds without offset are UTC


def test_show_as_online_meeting_body_and_cancellation(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    body = timed(
        "2026-12-01",
        9,
        showAs="oof",
        isOnlineMeeting=True,
        onlineMeetingProvider="teamsForBusiness",
        body={"contentType": "text", "content": "Bring <forms>\nand notes"},
    )
    created = create(api, events, body)
    assert created["showAs"] == "oof" and created["onlineMeeting"]["joinUrl"].startswith("https://")
    assert created["body"]["contentType"] == "html"
    assert "Bring &lt;forms&gt;<br>" in created["body"]["content"]
    text = api.get(
        f"/me/events/{created['id']}", headers={"Prefer": 'outlook.body-content-type="text"'}
    ).json()
    assert text["body"] == {"contentType": "text", "content": "Bring <forms>\nand notes"}
    ignored = api.patch(f"/me/events/{created['id']}", json={"isCancelled": True}).json()
    assert ignored["isCancelled"] is False  # only the organizer's cancel sets it
    cancelled = emu.remote_patch(created["id"], {"isCancelled": True})
    assert cancelled["isCancelled"] is True
    assert api.get(f"/me/events/{created['id']}").json()["isCancelled"] is True


def test_extended_properties_are_kept_as_given_and_need_expand(
    api: httpx.Client, events: str
) -> None:
    prop = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name carecalId"
    other = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name patient"
    created = create(
        api,
        events,
        timed("2026-12-01", 9, singleValueExtendedProperties=[{"id": prop, "value": "42"}]),
    )
    assert "singleValueExtendedProperties" not in created
    url = f"/me/events/{created['id']}"
    api.patch(url, json={"singleValueExtendedProperties": [{"id": other, "value": "7"}]})
    api.patch(url, json={"subject": "Renamed"})
    one = api.get(url, params={"$expand": f"singleValueExtendedProperties($filter=id eq '{prop}')"})
    assert one.json()["singleValueExtendedProperties"] == [{"id": prop, "value": "42"}]
    both = api.get(
        url,
        params={
            "$expand": f"singleValueExtendedProperties($filter=id eq '{prop}' or id eq '{other}')"
        },
    ).json()
    assert {p["value"] for p in both["singleValueExtendedProperties"]} == {"42", "7"}
    assert "singleValueExtendedProperties" not in api.get(url).json()


def test_select_keeps_named_fields_and_refuses_unknown_ones(api: httpx.Client, events: str) -> None:
    created = create(api, events, timed("2026-12-01", 9))
    picked = api.get(f"/me/events/{created['id']}", params={"$select": "subject,start"}).json()
    assert set(picked) == {"@odata.context", "@odata.etag", "id", "subject", "start"}
    refused = api.get(f"/me/events/{created['id']}", params={"$select": "nonsense"})
    assert refused.status_code == 400


# ----- calendarView and instances -------------------------------------------------------------
@pytest.mark.parametrize("tail", ["calendarView", "calendarView/delta"])
@pytest.mark.parametrize("params", [{}, {"startDateTime": "2026-10-01T00:00:00Z"},
                                    {"endDateTime": "2027-01-01T00:00:00Z"}])  # fmt: skip
def test_windowed_requests_need_both_bounds(
    api: httpx.Client, emu: GraphEmulator, tail: str, params: dict[str, str]
) -> None:
    refused = api.get(f"/me/calendars/{emu.default_calendar_id}/{tail}", params=params)
    assert refused.status_code == 400 and code(refused) == "ErrorInvalidParameter"


def test_instances_need_a_window(api: httpx.Client, events: str) -> None:
    master = create(api, events, weekly())
    refused = api.get(f"/me/events/{master['id']}/instances")
    assert code(refused) == "ErrorInvalidParameter"


def test_calendar_view_pages_expanded_instances_without_masters(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    create(api, events, weekly())
    for day in ("2026-10-13", "2026-10-14"):
        create(api, events, timed(day, 10))
    view = f"/me/calendars/{emu.default_calendar_id}/calendarView"
    page = api.get(view, params={**WINDOW, "$top": "4"}).json()
    assert len(page["value"]) == 4 and page["@odata.nextLink"].startswith(emu.api_base + view)
    rest = api.get(page["@odata.nextLink"]).json()
    found = page["value"] + rest["value"]
    assert "@odata.nextLink" not in rest and len(found) == 6
    assert {e["type"] for e in found} == {"occurrence", "singleInstance"}
    starts = [e["start"]["dateTime"] for e in found]
    assert starts == sorted(starts)
    newest_first = api.get(view, params={**WINDOW, "$orderby": "start/dateTime desc"}).json()
    assert newest_first["value"][0]["start"]["dateTime"] == max(starts)
    assert api.get(view, params={**WINDOW, "$filter": "subject eq 'x'"}).status_code == 400


# ----- recurrence -----------------------------------------------------------------------------
def test_series_instances_carry_type_master_and_original_start(
    api: httpx.Client, events: str
) -> None:
    master = create(api, events, weekly())
    assert master["type"] == "seriesMaster" and master["recurrence"]["range"] == {
        "type": "numbered", "startDate": "2026-10-12", "endDate": "0001-01-01",
        "recurrenceTimeZone": BERLIN, "numberOfOccurrences": 4,
    }  # fmt: skip
    found = instances(api, master["id"])
    assert [i["type"] for i in found] == ["occurrence"] * 4
    assert {i["seriesMasterId"] for i in found} == {master["id"]}
    assert [i["originalStart"] for i in found] == [
        "2026-10-12T07:00:00Z", "2026-10-19T07:00:00Z",
        "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z",
    ]  # fmt: skip  # 09:00 Berlin on both sides of the DST change
    uids = [i["iCalUId"] for i in found]
    assert len(set(uids)) == 4 and master["iCalUId"] not in uids
    assert all(u[:32] == master["iCalUId"][:32] and u[40:] == master["iCalUId"][40:] for u in uids)
    assert all("recurrence" not in i or i["recurrence"] is None for i in found)
    single = create(api, events, timed("2026-12-01", 9))
    assert instances(api, single["id"]) == []


def test_patching_an_occurrence_makes_an_exception_and_deleting_one_cancels_it(
    api: httpx.Client, events: str
) -> None:
    master = create(api, events, weekly())
    found = instances(api, master["id"])
    moved = api.patch(
        f"/me/events/{found[1]['id']}",
        json={
            "subject": "Moved",
            "start": {"dateTime": "2026-10-20T11:00:00", "timeZone": BERLIN},
            "end": {"dateTime": "2026-10-20T11:50:00", "timeZone": BERLIN},
        },
    )
    assert moved.status_code == 200, moved.text
    exception = moved.json()
    assert exception["type"] == "exception" and exception["id"] == found[1]["id"]
    assert exception["originalStart"] == found[1]["originalStart"]
    assert exception["seriesMasterId"] == master["id"]
    assert api.delete(f"/me/events/{found[2]['id']}").status_code == 204
    assert api.get(f"/me/events/{found[2]['id']}").status_code == 404
    after = instances(api, master["id"])
    assert [(i["type"], i["subject"]) for i in after] == [
        ("occurrence", "Weekly"), ("exception", "Moved"), ("occurrence", "Weekly"),
    ]  # fmt: skip
    assert after[1]["start"]["dateTime"] == "2026-10-20T09:00:00.0000000"
    recurring = api.patch(
        f"/me/events/{found[0]['id']}", json={"recurrence": weekly()["recurrence"]}
    )
    assert recurring.status_code == 400


def test_an_occurrence_cannot_move_onto_or_past_a_neighbours_day(
    api: httpx.Client, events: str
) -> None:
    body = timed(
        "2026-10-12",
        9,
        recurrence={
            "pattern": {"type": "daily", "interval": 2},
            "range": {"type": "numbered", "startDate": "2026-10-12", "numberOfOccurrences": 3},
        },
    )
    master = create(api, events, body)
    middle = instances(api, master["id"])[1]  # Oct 14, between Oct 12 and Oct 16
    for day, status in (("2026-10-16", 400), ("2026-10-12", 400), ("2026-10-17", 400),
                        ("2026-10-15", 200), ("2026-10-13", 200)):  # fmt: skip
        response = api.patch(
            f"/me/events/{middle['id']}",
            json={
                "start": {"dateTime": f"{day}T09:00:00", "timeZone": BERLIN},
                "end": {"dateTime": f"{day}T09:50:00", "timeZone": BERLIN},
            },
        )
        assert response.status_code == status, (day, response.text)
        if status == 400:
            assert code(response) == "ErrorOccurrenceCrossingBoundary"


def _series(pattern: dict[str, Any], rng: dict[str, Any], day: str) -> dict[str, Any]:
    return timed(day, 9, recurrence={"pattern": pattern, "range": {"startDate": day, **rng}})


@pytest.mark.parametrize(
    ("pattern", "rng", "day", "expected"),
    [
        ({"type": "daily", "interval": 3}, {"type": "numbered", "numberOfOccurrences": 3},
         "2026-10-01", ["2026-10-01", "2026-10-04", "2026-10-07"]),
        ({"type": "weekly", "interval": 2, "daysOfWeek": ["tuesday", "thursday"],
          "firstDayOfWeek": "monday"}, {"type": "endDate", "endDate": "2026-10-20"},
         "2026-10-06", ["2026-10-06", "2026-10-08", "2026-10-20"]),
        ({"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
         {"type": "numbered", "numberOfOccurrences": 3},
         "2026-10-31", ["2026-10-31", "2026-11-30", "2026-12-31"]),
        ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
         {"type": "numbered", "numberOfOccurrences": 3},
         "2026-10-30", ["2026-10-30", "2026-11-27", "2026-12-25"]),
        ({"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["monday", "tuesday"],
          "index": "first"}, {"type": "numbered", "numberOfOccurrences": 3},
         "2026-10-05", ["2026-10-05", "2026-11-02", "2026-12-01"]),
        ({"type": "absoluteYearly", "interval": 1, "dayOfMonth": 29, "month": 2},
         {"type": "numbered", "numberOfOccurrences": 2},
         "2028-02-29", ["2028-02-29", "2029-02-28"]),
        ({"type": "relativeYearly", "interval": 1, "daysOfWeek": ["thursday"], "index": "fourth",
          "month": 11}, {"type": "noEnd"},
         "2026-11-26", ["2026-11-26", "2027-11-25", "2028-11-23"]),
        ({"type": "weekly", "interval": 1, "daysOfWeek": ["wednesday"]}, {"type": "noEnd"},
         "2026-10-05", ["2026-10-07", "2026-10-14", "2026-10-21"]),
    ],
)  # fmt: skip
def test_patterned_recurrence_expands_like_outlook(
    api: httpx.Client,
    events: str,
    pattern: dict[str, Any],
    rng: dict[str, Any],
    day: str,
    expected: list[str],
) -> None:
    master = create(api, events, _series(pattern, rng, day))
    window = {"startDateTime": f"{day}T00:00:00Z", "endDateTime": "2030-12-01T00:00:00Z"}
    response = api.get(f"/me/events/{master['id']}/instances", params={**window, "$top": "3"})
    starts = [i["start"]["dateTime"][:10] for i in response.json()["value"]]
    assert starts == expected
    assert master["start"]["dateTime"][:10] == expected[0]  # a series starts on its first day


@pytest.mark.parametrize(
    "recurrence",
    [
        {"pattern": {"type": "hourly", "interval": 1},
         "range": {"type": "noEnd", "startDate": "2026-10-12"}},
        {"pattern": {"type": "daily", "interval": 1, "byHour": 3},
         "range": {"type": "noEnd", "startDate": "2026-10-12"}},
        {"pattern": {"type": "weekly", "interval": 1},
         "range": {"type": "noEnd", "startDate": "2026-10-12"}},
        {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "dayOfMonth": 3},
         "range": {"type": "noEnd", "startDate": "2026-10-12"}},
        {"pattern": {"type": "daily", "interval": 1},
         "range": {"type": "noEnd", "startDate": "2026-10-13"}},
        {"pattern": {"type": "daily", "interval": 1},
         "range": {"type": "numbered", "startDate": "2026-10-12"}},
        {"pattern": {"type": "daily", "interval": 0},
         "range": {"type": "noEnd", "startDate": "2026-10-12"}},
    ],
)  # fmt: skip
def test_recurrences_graph_refuses_get_400(
    api: httpx.Client, events: str, recurrence: dict[str, Any]
) -> None:
    refused = api.post(events, json=timed("2026-10-12", 9, recurrence=recurrence))
    assert refused.status_code == 400, refused.text


def test_all_day_series_occurrences_stay_midnight_to_midnight(
    api: httpx.Client, events: str
) -> None:
    body = {
        "subject": "Retreat",
        "isAllDay": True,
        "start": {"dateTime": "2026-10-24T00:00:00", "timeZone": BERLIN},
        "end": {"dateTime": "2026-10-25T00:00:00", "timeZone": BERLIN},
        "recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "endDate", "startDate": "2026-10-24", "endDate": "2026-10-26"},
        },
    }
    master = create(api, events, body)
    found = api.get(
        f"/me/events/{master['id']}/instances",
        params=WINDOW,
        headers={"Prefer": 'outlook.timezone="Tokyo Standard Time"'},
    ).json()["value"]
    assert [(i["start"]["dateTime"], i["end"]["dateTime"], i["isAllDay"]) for i in found] == [
        ("2026-10-24T00:00:00.0000000", "2026-10-25T00:00:00.0000000", True),
        ("2026-10-25T00:00:00.0000000", "2026-10-26T00:00:00.0000000", True),
        ("2026-10-26T00:00:00.0000000", "2026-10-27T00:00:00.0000000", True),
    ]
    assert {i["start"]["timeZone"] for i in found} == {"Tokyo Standard Time"}


def test_endless_series_expand_only_within_the_window(api: httpx.Client, events: str) -> None:
    body = _series({"type": "daily", "interval": 1}, {"type": "noEnd"}, "2026-01-01")
    master = create(api, events, body)
    window = {"startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2030-01-04T00:00:00Z"}
    found = api.get(f"/me/events/{master['id']}/instances", params=window).json()["value"]
    assert [i["start"]["dateTime"][:10] for i in found] == [
        "2030-01-01",
        "2030-01-02",
        "2030-01-03",
    ]


# ----- ids -------------------------------------------------------------------------------------
def test_ids_change_when_an_event_moves_unless_immutable_ids_are_asked_for(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    immutable = {"Prefer": 'IdType="ImmutableId"'}
    created = api.post(events, json=timed("2026-12-01", 9), headers=immutable)
    assert created.headers["Preference-Applied"] == 'IdType="ImmutableId"'
    stable_id = created.json()["id"]
    rest_id = api.get(f"/me/events/{stable_id}").json()["id"]
    assert rest_id != stable_id
    other = emu.add_calendar("Room 2")
    emu.remote_move(rest_id, other)
    assert api.get(f"/me/events/{rest_id}").status_code == 404
    still = api.get(f"/me/events/{stable_id}", headers=immutable)
    assert still.status_code == 200 and still.json()["id"] == stable_id
    new_rest = api.get(f"/me/events/{stable_id}").json()["id"]
    assert new_rest not in (rest_id, stable_id)
    moved_list = api.get(f"/me/calendars/{other}/events").json()["value"]
    assert [e["id"] for e in moved_list] == [new_rest]
    swapped = rest_id.swapcase()
    assert api.get(f"/me/events/{swapped}").status_code in (400, 404)  # ids are case-sensitive


# ----- delta ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["$select", "$filter", "$expand", "$orderby", "$search"])
def test_delta_refuses_query_options(api: httpx.Client, emu: GraphEmulator, name: str) -> None:
    refused = api.get(delta_url(emu), params={**WINDOW, name: "subject"})
    assert refused.status_code == 400 and code(refused) == "ErrorInvalidUrlQuery"


def test_delta_returns_occurrences_and_exceptions_never_masters(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    master = create(api, events, weekly())
    first = instances(api, master["id"])[0]
    api.patch(f"/me/events/{first['id']}", json={"subject": "Changed once"})
    single = create(api, events, timed("2026-12-01", 9))
    entries, pages = delta_round(api, delta_url(emu), WINDOW, prefer="odata.maxpagesize=2")
    assert len(pages) == 3 and all(len(p["value"]) <= 2 for p in pages)
    assert sorted(e["type"] for e in entries) == ["exception", "occurrence", "occurrence",
                                                  "occurrence", "singleInstance"]  # fmt: skip
    assert {e["seriesMasterId"] for e in entries if e["type"] != "singleInstance"} == {master["id"]}
    assert single["id"] in {e["id"] for e in entries}
    for page in pages[:-1]:
        assert page["@odata.nextLink"].startswith(emu.api_base + delta_url(emu) + "?$skiptoken=")
    assert pages[-1]["@odata.deltaLink"].startswith(emu.api_base + delta_url(emu) + "?$deltatoken=")
    default_form, _ = delta_round(api, "/me/calendarView/delta", WINDOW)
    assert {e["id"] for e in default_form} == {e["id"] for e in entries}


def test_delta_reports_changes_and_deletions_from_another_device(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    keep = create(api, events, timed("2026-12-01", 9, "Keep"))
    drop = create(api, events, timed("2026-12-02", 9, "Drop"))
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    link = pages[-1]["@odata.deltaLink"]
    quiet, quiet_pages = delta_round(api, link)
    assert quiet == []
    emu.remote_patch(keep["id"], {"subject": "Changed elsewhere"})
    emu.remote_delete(drop["id"])
    added = emu.remote_create(timed("2026-12-03", 9, "New elsewhere"))
    changes, pages = delta_round(api, quiet_pages[-1]["@odata.deltaLink"])
    by_id = {c["id"]: c for c in changes}
    assert set(by_id) == {keep["id"], drop["id"], added["id"]}
    assert by_id[drop["id"]] == {
        "@odata.type": "#microsoft.graph.event",
        "id": drop["id"],
        "@removed": {"reason": "deleted"},
    }
    assert by_id[keep["id"]]["subject"] == "Changed elsewhere"
    assert delta_round(api, pages[-1]["@odata.deltaLink"])[0] == []
    again, _ = delta_round(api, link)  # an older deltaLink still replays from its own state
    assert {c["id"] for c in again} == {keep["id"], drop["id"], added["id"]}


def test_delta_reports_series_edits_occurrence_by_occurrence(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    master = create(api, events, weekly())
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    emu.remote_patch(master["id"], {"subject": "Renamed series"})
    changes, pages = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert [c["subject"] for c in changes] == ["Renamed series"] * 4
    occurrence = instances(api, master["id"])[3]
    emu.remote_delete(occurrence["id"])
    changes, pages = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert changes == [
        {"@odata.type": "#microsoft.graph.event", "id": occurrence["id"],
         "@removed": {"reason": "deleted"}}
    ]  # fmt: skip
    edited = instances(api, master["id"])[0]
    emu.remote_patch(edited["id"], {"subject": "Only this one", "showAs": "tentative"})
    changes, _ = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert [(c["id"], c["type"], c["subject"]) for c in changes] == [
        (edited["id"], "exception", "Only this one")
    ]


def test_delta_removes_items_that_left_the_window_and_changes_outside_it(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    leaving = create(api, events, timed("2026-12-01", 9, "Leaving"))
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    emu.remote_patch(
        leaving["id"],
        {
            "start": {"dateTime": "2027-03-01T09:00:00", "timeZone": BERLIN},
            "end": {"dateTime": "2027-03-01T09:50:00", "timeZone": BERLIN},
        },
    )
    outside = emu.remote_create(timed("2027-06-01", 9, "Never in the window"))
    changes, _ = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert {c["id"]: c["@removed"]["reason"] for c in changes} == {
        leaving["id"]: "deleted",
        outside["id"]: "deleted",
    }
    assert api.get(f"/me/events/{leaving['id']}").status_code == 200  # it still exists


def test_delta_can_replay_an_already_delivered_change(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    first = create(api, events, timed("2026-12-01", 9))
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    second = emu.remote_create(timed("2026-12-02", 9))
    emu.replay_next()
    changes, pages = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert sorted(c["id"] for c in changes) == sorted([first["id"], second["id"]])
    emu.replay_next()
    emu.remote_patch(first["id"], {"subject": "Once more"})
    twice, _ = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert [c["id"] for c in twice] == [first["id"], second["id"]]
    delivered = {c["id"]: c["changeKey"] for c in changes if c["id"] == second["id"]}
    assert twice[1]["changeKey"] == delivered[second["id"]]  # unchanged, delivered again
    emu.listings.replay_rate = 1.0
    replayed, _ = delta_round(api, delta_url(emu), WINDOW)
    assert len(replayed) == 3 and len({c["id"] for c in replayed}) == 2


def test_delta_page_size_follows_prefer_and_the_server_cap(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    for day in range(1, 6):
        create(api, events, timed(f"2026-12-0{day}", 9))
    first = api.get(delta_url(emu), params=WINDOW, headers={"Prefer": "odata.maxpagesize=2"})
    assert len(first.json()["value"]) == 2
    assert "odata.maxpagesize=2" in first.headers["Preference-Applied"]
    assert "odata.track-changes" in first.headers["Preference-Applied"]
    emu.set_page_cap(1)
    _, pages = delta_round(api, delta_url(emu), WINDOW, prefer="odata.maxpagesize=2")
    assert [len(p["value"]) for p in pages] == [1, 1, 1, 1, 1]
    emu.set_page_cap(1000)
    _, default = delta_round(api, delta_url(emu), WINDOW)
    assert [len(p["value"]) for p in default] == [5]


def test_delta_pages_may_be_empty_and_still_carry_a_next_link(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    create(api, events, timed("2026-12-01", 9))
    emu.add_empty_pages(2)
    entries, pages = delta_round(api, delta_url(emu), WINDOW)
    assert [len(p["value"]) for p in pages] == [0, 0, 1] and len(entries) == 1
    assert all("@odata.nextLink" in p for p in pages[:2])


def test_stale_next_links_and_expired_delta_tokens_get_410(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    for day in range(1, 4):
        create(api, events, timed(f"2026-12-0{day}", 9))
    prefer = {"Prefer": "odata.maxpagesize=1"}
    one = api.get(delta_url(emu), params=WINDOW, headers=prefer).json()["@odata.nextLink"]
    two = api.get(one, headers=prefer).json()["@odata.nextLink"]
    retry = api.get(one, headers=prefer)  # the newest link may be retried ...
    assert retry.status_code == 200
    three = api.get(two, headers=prefer)
    assert three.status_code == 200
    stale = api.get(one, headers=prefer)  # ... an older one is stale once the round moved on
    assert stale.status_code == 410 and code(stale) == "syncStateNotFound"
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    link = pages[-1]["@odata.deltaLink"]
    emu.expire_delta_tokens()
    gone = api.get(link)
    assert gone.status_code == 410 and code(gone) == "syncStateNotFound"
    tampered = api.get(link[:-3] + "xyz")
    assert tampered.status_code == 400
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    emu.expire_delta_tokens(with_location=True)
    moved = api.get(pages[-1]["@odata.deltaLink"])
    assert moved.status_code == 410 and code(moved) == "resyncRequired"
    restart = moved.headers["Location"]
    assert restart.startswith(emu.api_base + delta_url(emu) + "?startDateTime=")
    entries, _ = delta_round(api, restart)
    assert len(entries) == 3


def test_delta_tokens_can_age_out(api: httpx.Client, events: str, emu: GraphEmulator) -> None:
    _, pages = delta_round(api, delta_url(emu), WINDOW)
    emu.listings.token_ttl = 0.0
    assert api.get(pages[-1]["@odata.deltaLink"]).status_code == 410


def test_delta_ids_follow_the_immutable_id_preference(
    api: httpx.Client, events: str, emu: GraphEmulator
) -> None:
    created = api.post(
        events, json=timed("2026-12-01", 9), headers={"Prefer": 'IdType="ImmutableId"'}
    )
    stable = created.json()["id"]
    entries, _ = delta_round(api, delta_url(emu), WINDOW, prefer='IdType="ImmutableId"')
    assert [e["id"] for e in entries] == [stable]
    plain, pages = delta_round(api, delta_url(emu), WINDOW)
    assert [e["id"] for e in plain] != [stable]
    other = emu.add_calendar("Room 2")
    emu.remote_move(stable, other)
    left, _ = delta_round(api, pages[-1]["@odata.deltaLink"])
    assert left == [
        {"@odata.type": "#microsoft.graph.event", "id": plain[0]["id"],
         "@removed": {"reason": "deleted"}}
    ]  # fmt: skip
    arrived, _ = delta_round(api, f"/me/calendars/{other}/calendarView/delta", WINDOW)
    assert [e["id"] for e in arrived] not in ([stable], [plain[0]["id"]])
    assert len(arrived) == 1


# ----- tokens and sign-in -----------------------------------------------------------------------
def test_access_tokens_expire(emu: GraphEmulator) -> None:
    url = emu.api_base + "/me/calendars"
    token = emu.issue_token()
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    emu.expire_access_tokens()
    expired = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401 and code(expired) == "InvalidAuthenticationToken"
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    assert httpx.get(url).status_code == 401
    emu.identity.access_ttl = 0.0
    short = emu.issue_token()
    assert httpx.get(url, headers={"Authorization": f"Bearer {short}"}).status_code == 401


def test_scopes_are_checked(emu: GraphEmulator, events: str) -> None:
    read_only, refresh = emu.issue_tokens(("Calendars.Read",))
    assert refresh is None  # no offline_access, no refresh token
    headers = {"Authorization": f"Bearer {read_only}"}
    assert httpx.get(emu.api_base + events, headers=headers).status_code == 200
    denied = httpx.post(emu.api_base + events, json=timed("2026-12-01", 9), headers=headers)
    assert denied.status_code == 403 and code(denied) == "ErrorAccessDenied"
    profile_only = emu.issue_token(("User.Read",))
    refused = httpx.get(emu.api_base + events, headers={"Authorization": f"Bearer {profile_only}"})
    assert refused.status_code == 403


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(emu: GraphEmulator, challenge: str, **override: str) -> httpx.Response:
    params = {
        "client_id": emu.identity.client_id, "response_type": "code", "redirect_uri": REDIRECT,
        "scope": "https://graph.microsoft.com/Calendars.ReadWrite offline_access openid profile",
        "state": "st8", "code_challenge": challenge, "code_challenge_method": "S256",
        "nonce": "n0nce", **override,
    }  # fmt: skip
    return httpx.get(emu.authorize_uri, params=params)


def redeem(emu: GraphEmulator, code_: str, verifier: str) -> httpx.Response:
    form = {"client_id": emu.identity.client_id, "grant_type": "authorization_code",
            "code": code_, "redirect_uri": REDIRECT, "code_verifier": verifier,
            "client_info": "1"}  # fmt: skip
    return httpx.post(emu.token_uri, data=form)


def test_sign_in_with_pkce_redirects_to_the_loopback_and_checks_the_verifier(
    emu: GraphEmulator,
) -> None:
    verifier, challenge = pkce()
    consent = authorize(emu, challenge)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == REDIRECT
    answer = parse_qs(back.query)
    assert answer["state"] == ["st8"]
    wrong = redeem(emu, answer["code"][0], "x" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert wrong.json()["error_codes"] == [501481]
    assert wrong.json()["error_description"].startswith("AADSTS501481:")
    code_ = parse_qs(urlsplit(authorize(emu, challenge).headers["Location"]).query)["code"][0]
    tokens = redeem(emu, code_, verifier).json()
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    assert "https://graph.microsoft.com/Calendars.ReadWrite" in tokens["scope"].split()
    assert tokens["id_token"].count(".") == 2 and tokens["client_info"]
    assert redeem(emu, code_, verifier).json()["error_codes"] == [54005]
    calendars = httpx.get(
        emu.api_base + "/me/calendars",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert calendars.status_code == 200


def test_sign_in_refuses_bad_requests_and_can_be_declined(emu: GraphEmulator) -> None:
    _, challenge = pkce()
    assert authorize(emu, challenge, redirect_uri="https://evil.example.com/cb").status_code == 400
    assert authorize(emu, challenge, code_challenge_method="plain").status_code == 400
    assert authorize(emu, challenge, client_id="someone-else").status_code == 400
    assert authorize(emu, challenge, scope="Mail.Send").json()["error"] == "invalid_scope"
    assert authorize(emu, challenge, redirect_uri="http://127.0.0.1:8400/").status_code == 302
    unknown_tenant = httpx.get(emu.base_url + "/not-a-tenant/oauth2/v2.0/authorize")
    assert unknown_tenant.json()["error"] == "invalid_tenant"
    emu.identity.decline_consent = True
    declined = parse_qs(urlsplit(authorize(emu, challenge).headers["Location"]).query)
    assert declined["error"] == ["access_denied"] and declined["state"] == ["st8"]
    secret = httpx.post(
        emu.token_uri,
        data={"client_id": emu.identity.client_id, "client_secret": "s", "grant_type": "x"},
    )
    assert secret.status_code == 401 and secret.json()["error"] == "invalid_client"
    config = httpx.get(emu.base_url + "/common/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == emu.token_uri


def refresh(emu: GraphEmulator, token: str) -> httpx.Response:
    form = {"client_id": emu.identity.client_id, "grant_type": "refresh_token",
            "refresh_token": token, "scope": "Calendars.ReadWrite offline_access"}  # fmt: skip
    return httpx.post(emu.token_uri, data=form)


def test_refresh_tokens_rotate_and_a_used_one_dies(emu: GraphEmulator) -> None:
    _, first = emu.issue_tokens()
    assert first is not None
    renewed = refresh(emu, first).json()
    second = renewed["refresh_token"]
    assert second != first and renewed["access_token"]
    reused = refresh(emu, first)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert refresh(emu, second).status_code == 200
    emu.identity.old_refresh_tokens_die = False  # what Entra documents: the old one lives on
    assert refresh(emu, second).status_code == 200
    wider = httpx.post(
        emu.token_uri,
        data={"client_id": emu.identity.client_id, "grant_type": "refresh_token",
              "refresh_token": second, "scope": "Calendars.ReadWrite.Shared"},
    )  # fmt: skip
    assert wider.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("reason", "aadsts"), [("expired", 700082), ("revoked", 50173),
                                                 ("consent", 65001)])  # fmt: skip
def test_killed_refresh_tokens_get_invalid_grant_with_an_aadsts_code(
    emu: GraphEmulator, reason: str, aadsts: int
) -> None:
    access, token = emu.issue_tokens()
    assert token is not None
    emu.kill_refresh_tokens(reason)
    dead = refresh(emu, token)
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    assert dead.json()["error_description"].startswith(f"AADSTS{aadsts}:")
    live = httpx.get(emu.api_base + "/me/calendars", headers={"Authorization": f"Bearer {access}"})
    assert live.status_code == 200  # issued access tokens run out on their own


def poll(emu: GraphEmulator, device_code: str) -> httpx.Response:
    form = {"client_id": emu.identity.client_id, "device_code": device_code,
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code"}  # fmt: skip
    return httpx.post(emu.token_uri, data=form)


def start_device(emu: GraphEmulator) -> dict[str, Any]:
    form = {"client_id": emu.identity.client_id, "scope": "Calendars.ReadWrite offline_access"}
    response = httpx.post(emu.devicecode_uri, data=form)
    assert response.status_code == 200
    return dict(response.json())


def test_device_code_is_pending_until_approved(emu: GraphEmulator) -> None:
    flow = start_device(emu)
    assert flow["expires_in"] == 900 and flow["interval"] == 5
    assert flow["user_code"] in flow["message"] and flow["verification_uri"].startswith("http")
    pending = poll(emu, flow["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    assert emu.approve_device_code() == flow["user_code"]
    tokens = poll(emu, flow["device_code"])
    assert tokens.status_code == 200 and tokens.json()["refresh_token"]
    assert poll(emu, flow["device_code"]).json()["error"] == "bad_verification_code"
    declined = start_device(emu)
    emu.decline_device_code(declined["user_code"])
    assert poll(emu, declined["device_code"]).json()["error"] == "authorization_declined"
    emu.identity.device_ttl = 0.0
    late = start_device(emu)
    assert poll(emu, late["device_code"]).json()["error"] == "expired_token"


# ----- throttling, faults, concurrency -----------------------------------------------------------
@pytest.mark.parametrize(("status", "error_code", "retry_after"),
                         [(429, "ApplicationThrottled", "1"), (503, "serviceNotAvailable", "1"),
                          (504, "UnknownError", None)])  # fmt: skip
def test_injected_faults_use_graphs_error_shape(
    api: httpx.Client, emu: GraphEmulator, status: int, error_code: str, retry_after: str | None
) -> None:
    emu.fail_next(2, status)
    for _ in range(2):
        failed = api.get("/me/calendars")
        assert failed.status_code == status and code(failed) == error_code
        assert failed.headers.get("Retry-After") == retry_after
    assert api.get("/me/calendars").status_code == 200


def test_faults_can_target_the_nth_call_and_a_path(
    api: httpx.Client, emu: GraphEmulator, events: str
) -> None:
    emu.fail_nth(3, 503, path_contains="calendarView/delta", retry_after="7")
    statuses = [api.get(delta_url(emu), params=WINDOW).status_code for _ in range(3)]
    assert api.get("/me/calendars").status_code == 200
    assert statuses == [200, 200, 503]
    emu.fail_next(1, 412, method="PATCH")  # a transient 412 without any precondition
    created = create(api, events, timed("2026-12-01", 9))
    assert api.patch(f"/me/events/{created['id']}", json={"subject": "x"}).status_code == 412
    assert api.patch(f"/me/events/{created['id']}", json={"subject": "x"}).status_code == 200
    emu.rate_limit = (2, 600.0)
    assert [api.get("/me/calendars").status_code for _ in range(3)] == [200, 200, 429]


def test_more_than_four_concurrent_requests_get_429(emu: GraphEmulator) -> None:
    token = emu.issue_token()
    statuses: list[int] = []
    retry: list[str | None] = []

    def one() -> None:
        response = httpx.get(
            emu.api_base + "/me/calendars", headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(response.status_code)
        retry.append(response.headers.get("Retry-After"))

    emu.hold_requests()  # the first four stay in flight until released
    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while len(statuses) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert statuses == [429, 429] and retry == ["1", "1"]
    emu.release_requests()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 200, 429, 429]


# ----- $batch ------------------------------------------------------------------------------------
def test_batch_gives_each_request_its_own_status(
    api: httpx.Client, emu: GraphEmulator, events: str
) -> None:
    existing = create(api, events, timed("2026-12-01", 9))
    batch = {"requests": [
        {"id": "1", "method": "GET", "url": f"/me/events/{existing['id']}"},
        {"id": "2", "method": "POST", "url": events, "body": timed("2026-12-02", 9),
         "headers": {"Content-Type": "application/json"}},
        {"id": "3", "method": "DELETE", "url": "/me/events/" + existing["id"][:-4] + "QQ=="},
        {"id": "4", "method": "PATCH", "url": f"/me/events/{existing['id']}",
         "body": {"subject": "x"}},
    ]}  # fmt: skip
    response = api.post("/$batch", json=batch)
    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.json()["responses"]}
    assert [by_id[k]["status"] for k in "1234"] == [200, 201, 404, 400]
    assert by_id["1"]["body"]["id"] == existing["id"]
    assert by_id["2"]["body"]["type"] == "singleInstance"
    assert "error" in by_id["4"]["body"]  # a body needs a Content-Type header
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/me/calendars"}
                             for i in range(21)]}  # fmt: skip
    assert api.post("/$batch", json=too_many).status_code == 400
    assert api.post("/$batch", json={"requests": []}).status_code == 400


def test_batch_runs_four_at_a_time_and_throttles_members_inside_a_200(
    api: httpx.Client, emu: GraphEmulator
) -> None:
    six = {"requests": [{"id": str(i), "method": "GET", "url": "/me/calendars"}
                        for i in range(6)]}  # fmt: skip
    response = api.post("/$batch", json=six)
    assert response.status_code == 200
    members = response.json()["responses"]
    assert [m["status"] for m in members] == [200, 200, 200, 200, 429, 429]
    assert members[4]["headers"]["Retry-After"] == "1"
    assert members[4]["body"]["error"]["code"] == "ApplicationThrottled"
    emu.fail_next(1, 429, path_contains="/me/calendar?")
    mixed = {"requests": [{"id": "a", "method": "GET", "url": "/me/calendars"},
                          {"id": "b", "method": "GET", "url": "/me/calendar?x=1"}]}  # fmt: skip
    statuses = [m["status"] for m in api.post("/$batch", json=mixed).json()["responses"]]
    assert statuses == [200, 429]


def test_batch_depends_on_runs_serially_and_fails_dependents(
    api: httpx.Client, emu: GraphEmulator, events: str
) -> None:
    existing = create(api, events, timed("2026-12-01", 9))
    url = f"/me/events/{existing['id']}"
    chain: list[dict[str, Any]] = [{"id": "0", "method": "GET", "url": url}]
    for i in range(1, 6):
        chain.append({"id": str(i), "method": "GET", "url": url, "dependsOn": [str(i - 1)]})
    chain.append({"id": "del", "method": "DELETE", "url": url, "dependsOn": ["5"]})
    chain.append({"id": "after", "method": "GET", "url": url, "dependsOn": ["del"]})
    chain.append({"id": "never", "method": "GET", "url": url, "dependsOn": ["after"]})
    answer = api.post("/$batch", json={"requests": chain}).json()["responses"]
    assert [m["status"] for m in answer] == [200] * 6 + [204, 404, 424]
    backwards = {"requests": [{"id": "1", "method": "GET", "url": url, "dependsOn": ["2"]},
                              {"id": "2", "method": "GET", "url": url}]}  # fmt: skip
    assert api.post("/$batch", json=backwards).status_code == 400


# ----- the whitelist itself -------------------------------------------------------------------
def test_field_whitelist_catches_invented_fields_and_wrong_values() -> None:
    event = {
        "@odata.etag": 'W/"abc="',
        "id": "AAMk",
        "type": "occurrence",
        "start": {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "UTC"},
    }
    assert check_response("event", event) == []
    assert check_response("event", {**event, "webLink": "https://x"}) != []
    assert check_response("event", {**event, "type": "instance"}) != []
    offset = {"dateTime": "2026-12-01T09:00:00+01:00", "timeZone": "UTC"}
    assert check_response("event", {**event, "start": offset}) != []
    master = {"value": [{**event, "type": "seriesMaster"}]}
    assert check_response("delta", master) != []
    relative = {"value": [], "@odata.deltaLink": "/v1.0/me/calendarView/delta?$deltatoken=x"}
    assert check_response("delta", relative) != []
    assert check_response("error", {"error": {"code": "x", "message": "y", "errors": []}}) != []
