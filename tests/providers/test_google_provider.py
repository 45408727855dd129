"""The Google provider against the Calendar v3 emulator: round trips of series across DST,
all-day events, what each privacy level leaves on Google, other apps' fields, idempotent
creates, preconditions, deletions, paging and request counts."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from carecal.domain.errors import NotFound, PreconditionFailed, SyncStateExpired
from carecal.domain.merge import changed_fields
from carecal.domain.models import Event
from carecal.net.errors import HttpDetail
from carecal.providers.base import RemoteItem, RemoteRef, UidConflict
from carecal.providers.google import GoogleProvider
from carecal.providers.google_map import Labels, Privacy, google_id, version_json
from tests.fakes.google_calendar import GoogleCalendarEmulator
from tests.providers.google_support import (
    CALENDAR,
    FOREIGN,
    google_provider,
    running_emulator,
)

T = TypeVar("T")
LABELS = Labels({"p1": "A.K."}, {"s1": "Therapy"})


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def emu() -> Iterator[GoogleCalendarEmulator]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def provider(emu: GoogleCalendarEmulator) -> Iterator[GoogleProvider]:
    made = google_provider(emu, labels=LABELS)
    yield made
    run(made.close())


def new_event(start: datetime | date, minutes: int = 50, **fields: Any) -> Event:
    eid = uuid.uuid4().hex
    end: datetime | date = start + timedelta(minutes=minutes if isinstance(start, datetime) else 0)
    if not isinstance(start, datetime):
        end = start + timedelta(days=1)
    base: dict[str, Any] = {
        "id": eid,
        "calendar_id": "cal",
        "uid": f"{eid}@carecal",
        "title": "Session",
        "start": start,
        "end": end,
        "all_day": not isinstance(start, datetime),
        "tzid": getattr(getattr(start, "tzinfo", None), "key", None),
    }
    base.update(fields)
    return Event(**base)


def keyed(events: Sequence[Event]) -> dict[object, Event]:
    out: dict[object, Event] = {}
    for e in events:
        rid = e.recurrence_id
        key = rid.astimezone(ZoneInfo("UTC")) if isinstance(rid, datetime) else rid
        out[key] = e
    return out


def assert_same(local: Sequence[Event], remote: Sequence[Event]) -> None:
    mine, theirs = keyed(local), keyed(remote)
    assert mine.keys() == theirs.keys()
    for key, event in mine.items():
        assert changed_fields(event, theirs[key]) == (), key


def create(provider: GoogleProvider, events: Sequence[Event]) -> RemoteRef:
    return run(provider.create(CALENDAR, events[0].uid, provider.to_raw(events)))


def fetch(provider: GoogleProvider, ref: RemoteRef) -> tuple[RemoteItem, list[Event]]:
    item = run(provider.get(CALENDAR, ref.remote_id))
    return item, provider.to_events(item, "cal")


def api(emu: GoogleCalendarEmulator) -> httpx.Client:
    token = emu.issue_token()
    return httpx.Client(
        base_url=emu.api_base + "/calendars/primary",
        headers={"Authorization": f"Bearer {token}"},
    )


def instance_id(emu: GoogleCalendarEmulator, master_id: str, original: datetime) -> str:
    with api(emu) as client:
        found = client.get(
            f"/events/{master_id}/instances", params={"originalStart": original.isoformat()}
        ).json()["items"]
    assert len(found) == 1
    return str(found[0]["id"])


def api_requests(emu: GoogleCalendarEmulator) -> list[tuple[str, str, int]]:
    return [entry for entry in emu.log if entry[1].startswith("/calendar/v3/")]


# --- recurring series across DST --------------------------------------------------------------

DST_CASES = [
    # zone, first Monday, index of the first occurrence after the clocks change
    ("Europe/Warsaw", date(2026, 3, 16), 2),  # summer time from 29 March
    ("America/New_York", date(2026, 3, 2), 1),  # daylight time from 8 March
]


@pytest.mark.parametrize(("zone", "monday", "after"), DST_CASES)
def test_series_with_moved_and_cancelled_occurrences_round_trip_across_dst(
    emu: GoogleCalendarEmulator, provider: GoogleProvider, zone: str, monday: date, after: int
) -> None:
    tz = ZoneInfo(zone)
    nine = [datetime.combine(monday + timedelta(weeks=w), datetime.min.time(), tz).replace(hour=9)
            for w in range(6)]  # fmt: skip
    master = new_event(nine[0], rrule="FREQ=WEEKLY;COUNT=6", exdates=(nine[after + 1],))
    moved = new_event(
        nine[after].replace(hour=11),
        uid=master.uid,
        title="Moved after the clock change",
        recurrence_id=nine[after],
        master_id=master.id,
    )
    ref = create(provider, [master, moved])
    assert ref.remote_id == google_id(master.id)

    # What Google holds: a rule without DTSTART, the EXDATE in the series' zone, one exception;
    # expanded, every occurrence is 09:00 local on both sides of the change.
    stored = emu.stored(ref.remote_id)
    assert stored is not None
    wall = nine[after + 1].strftime("%Y%m%dT%H%M%S")
    assert stored["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=6", f"EXDATE;TZID={zone}:{wall}"]
    assert stored["start"] == {"dateTime": nine[0].isoformat(), "timeZone": zone}
    with api(emu) as client:
        expanded = client.get("/events", params={"singleEvents": "true"}).json()["items"]
    starts = sorted(datetime.fromisoformat(e["start"]["dateTime"]) for e in expanded)
    assert [s.astimezone(tz).hour for s in starts] == [9] * after + [11] + [9] * (4 - after)
    assert {s.utcoffset() for s in starts[:after]} != {s.utcoffset() for s in starts[after:]}

    item, events = fetch(provider, ref)
    assert len(json.loads(item.raw)["events"]) == 2 and item.uid == master.uid
    assert_same([master, moved], events)
    assert [e.id for e in events] == [master.id, moved.id]

    # Another device moves one more occurrence and cancels another, after the change.
    first = run(provider.pull(CALENDAR, None))
    moved_there = instance_id(emu, ref.remote_id, nine[after + 2])
    emu.remote_patch(
        moved_there,
        {
            "start": {"dateTime": nine[after + 2].replace(hour=15).isoformat(), "timeZone": zone},
            "end": {"dateTime": nine[after + 2].replace(hour=16).isoformat(), "timeZone": zone},
        },
    )
    emu.remote_delete(instance_id(emu, ref.remote_id, nine[after + 3]))
    changes = run(provider.pull(CALENDAR, first.state))
    assert [i.ref.remote_id for i in changes.changed] == [ref.remote_id] and not changes.deleted
    events = provider.to_events(changes.changed[0], "cal")
    assert events[0].exdates == (nine[after + 1], nine[after + 3])
    by_key = keyed(events)
    there = by_key[nine[after + 2].astimezone(ZoneInfo("UTC"))]
    assert there.start == nine[after + 2].replace(hour=15) and there.title == "Session"
    assert by_key[nine[after].astimezone(ZoneInfo("UTC"))].id == moved.id

    # Carecal renames the series: only the master is patched; nothing of the series is lost.
    before = {k: v for k, v in json.loads(changes.changed[0].ref.version or "{}").items()}
    renamed = [events[0].with_changes(title="Renamed"), *events[1:]]
    sent = len(provider.requests)
    newer = run(provider.update(CALENDAR, changes.changed[0].ref, provider.to_raw(renamed)))
    patches = [r for r in provider.requests[sent:] if r.startswith("PATCH")]
    assert patches == [
        f"PATCH /calendars/{CALENDAR.remote_id.replace('@', '%40')}/events/{ref.remote_id}"
    ]
    after_update = json.loads(newer.version or "{}")
    assert {k: v for k, v in after_update.items() if k != ref.remote_id} == {
        k: v for k, v in before.items() if k != ref.remote_id
    }
    _, final = fetch(provider, newer)
    assert_same(renamed, final)


def test_all_day_single_and_series_and_a_timed_event_in_new_york(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    leave = new_event(date(2026, 7, 1), end=date(2026, 7, 3), title="Leave")
    ref = create(provider, [leave])
    stored = emu.stored(ref.remote_id)
    assert stored is not None
    assert (stored["start"], stored["end"]) == ({"date": "2026-07-01"}, {"date": "2026-07-03"})
    assert_same([leave], fetch(provider, ref)[1])

    days = new_event(date(2026, 12, 1), title="Course", rrule="FREQ=DAILY;COUNT=4",
                     exdates=(date(2026, 12, 3),))  # fmt: skip
    shifted = new_event(date(2026, 12, 5), uid=days.uid, recurrence_id=date(2026, 12, 2),
                        master_id=days.id, title="Course (moved)")  # fmt: skip
    ref = create(provider, [days, shifted])
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["recurrence"][1] == "EXDATE;VALUE=DATE:20261203"
    assert_same([days, shifted], fetch(provider, ref)[1])

    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 1, 1, 30, tzinfo=ny)
    end = (start.astimezone(ZoneInfo("UTC")) + timedelta(minutes=90)).astimezone(ny)
    call = new_event(start, end=end, reminder_minutes=15)
    ref = create(provider, [call])
    stored = emu.stored(ref.remote_id)
    assert stored is not None
    # 01:30 on the night the clocks go back: the first (daylight) one, and the end in standard.
    assert stored["start"] == {
        "dateTime": "2026-11-01T01:30:00-04:00",
        "timeZone": "America/New_York",
    }
    assert stored["end"]["dateTime"] == "2026-11-01T02:00:00-05:00"
    assert stored["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 15}],
    }
    assert_same([call], fetch(provider, ref)[1])


# --- privacy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("privacy", "summary", "mask"),
    [
        (Privacy.FULL, "Anna Kowalska - first visit", ""),
        (Privacy.INITIALS, "Therapy · A.K.", "initials"),
        (Privacy.BUSY, "Busy", "busy"),
    ],
)
def test_what_each_privacy_level_leaves_on_google(
    emu: GoogleCalendarEmulator, privacy: Privacy, summary: str, mask: str
) -> None:
    provider = google_provider(emu, privacy=privacy, labels=LABELS)
    warsaw = ZoneInfo("Europe/Warsaw")
    appt = new_event(
        datetime(2026, 3, 3, 9, tzinfo=warsaw),
        title="Anna Kowalska - first visit",
        description="Anxiety, referral from Dr. N.",
        location="Room 2",
        video_url="https://meet.example/anna-k",
        patient_id="p1",
        service_id="s1",
    )
    ref = create(provider, [appt])
    stored = emu.stored(ref.remote_id)
    assert stored is not None
    assert stored["summary"] == summary
    private = stored["extendedProperties"]["private"]
    assert private.get("carecalMask", "") == mask
    assert private["carecalPatient"] == "p1" and private["carecalId"] == appt.id
    if privacy is Privacy.FULL:
        assert stored["location"] == "Room 2"
        assert stored["description"].endswith("\n\nVideo: https://meet.example/anna-k")
    else:
        text = json.dumps(stored)
        for secret in ("Anna", "Kowalska", "Anxiety", "Room 2", "meet.example"):
            assert secret not in text
    # Read back, the local details come back from the local event (the engine's unmask).
    _, remote = fetch(provider, ref)
    assert_same([appt], provider.unmask(remote, [appt]))
    # A real edit on Google (the title changed on a phone) wins over the mask.
    emu.remote_patch(ref.remote_id, {"summary": "Anna K. - rescheduled by phone"})
    _, edited = fetch(provider, ref)
    assert provider.unmask(edited, [appt])[0].title == "Anna K. - rescheduled by phone"
    run(provider.close())


def test_a_new_privacy_level_or_new_labels_reach_google_with_the_next_change(
    emu: GoogleCalendarEmulator,
) -> None:
    appt = new_event(
        datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw")),
        title="Anna Kowalska",
        patient_id="p1",
        service_id="s1",
    )
    initials = google_provider(emu, privacy=Privacy.INITIALS, labels=LABELS)
    ref = create(initials, [appt])
    # The account is switched to "busy": the next change of the visit (its time) also
    # rewrites what Google shows, with a mask that still lets Carecal read it back.
    busy = google_provider(emu, privacy=Privacy.BUSY, labels=LABELS)
    item, events = fetch(busy, ref)
    later = events[0].with_changes(title=appt.title, start=appt.start + timedelta(hours=1),
                                   end=appt.end + timedelta(hours=1))  # fmt: skip
    ref = run(busy.update(CALENDAR, item.ref, busy.to_raw([later])))
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["summary"] == "Busy"
    assert stored["extendedProperties"]["private"]["carecalMask"] == "busy"
    _, remote = fetch(busy, ref)
    assert busy.unmask(remote, [later])[0].title == "Anna Kowalska"
    # New initials for the patient (a corrected surname) reach Google the same way.
    renamed = google_provider(
        emu, privacy=Privacy.INITIALS, labels=Labels({"p1": "A.N."}, {"s1": "Therapy"})
    )
    item, events = fetch(renamed, ref)
    moved = events[0].with_changes(title=appt.title, location="Room 4")
    run(renamed.update(CALENDAR, item.ref, renamed.to_raw([moved])))
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["summary"] == "Therapy · A.N."
    assert "location" not in stored or stored["location"] == ""
    for made in (initials, busy, renamed):
        run(made.close())


# --- other apps' data ---------------------------------------------------------------------


def test_fields_carecal_does_not_model_survive_its_update(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    appt = new_event(datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw")), reminder_minutes=10)
    ref = create(provider, [appt])
    conference = {
        "conferenceId": "abc-defg-hij",
        "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
        "entryPoints": [{"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}],
    }
    emu.remote_patch(
        ref.remote_id,
        {
            **FOREIGN,
            "conferenceData": conference,
            "extendedProperties": {"private": {"otherApp": "keep me"}, "shared": {"team": "blue"}},
            "reminders": {"useDefault": False, "overrides": [
                {"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 10}]},
        },
    )  # fmt: skip
    item, events = fetch(provider, ref)
    assert events[0].reminder_minutes == 10
    edited = events[0].with_changes(title="Edited", reminder_minutes=20, location="Room 5")
    run(provider.update(CALENDAR, item.ref, provider.to_raw([edited])))
    stored = emu.stored(ref.remote_id)
    assert stored is not None
    assert (stored["summary"], stored["location"]) == ("Edited", "Room 5")
    assert stored["colorId"] == "5" and stored["attendees"] == FOREIGN["attendees"]
    assert stored["guestsCanModify"] is True and stored["conferenceData"] == conference
    assert stored["extendedProperties"]["shared"] == {"team": "blue"}
    private = stored["extendedProperties"]["private"]
    assert private["otherApp"] == "keep me" and private["carecalId"] == appt.id
    assert stored["reminders"]["overrides"] == [
        {"method": "email", "minutes": 1440},
        {"method": "popup", "minutes": 20},
    ]
    assert_same([edited], fetch(provider, ref)[1])


def test_an_event_made_on_google_gets_only_the_fields_carecal_changed(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    theirs = emu.remote_insert(
        {
            "summary": "Dentist",
            "start": {"dateTime": "2026-03-03T10:00:00Z"},
            "end": {"dateTime": "2026-03-03T11:00:00Z"},
        }
    )
    item = run(provider.pull(CALENDAR, None)).changed[0]
    assert item.uid == theirs["iCalUID"]
    events = provider.to_events(item, "cal")
    assert events[0].tzid == "UTC"
    retitled = events[0].with_changes(title="Dentist!")
    ref = run(provider.update(CALENDAR, item.ref, provider.to_raw([retitled])))
    stored = emu.stored(theirs["id"])
    assert stored is not None and stored["summary"] == "Dentist!"
    assert "extendedProperties" not in stored and stored["start"] == theirs["start"]
    # Carecal's own fields travel in private properties, with its ids, once there is one.
    item, events = fetch(provider, ref)
    booked = events[0].with_changes(patient_id="p1", service_id="s1")
    run(provider.update(CALENDAR, item.ref, provider.to_raw([booked])))
    stored = emu.stored(theirs["id"])
    assert stored is not None
    assert stored["extendedProperties"]["private"] == {
        "carecalId": events[0].id,
        "carecalUid": theirs["iCalUID"],
        "carecalStatus": "confirmed",
        "carecalPatient": "p1",
        "carecalService": "s1",
        "carecalMask": "initials",
        "carecalMaskSig": stored["extendedProperties"]["private"]["carecalMaskSig"],
    }
    assert stored["summary"] == "Therapy · A.K."
    again = provider.to_events(run(provider.get(CALENDAR, theirs["id"])), "cal")
    assert again[0].id == events[0].id and again[0].uid == theirs["iCalUID"]


# --- writes: ids, preconditions, deletions ------------------------------------------------


def test_a_retried_create_gets_409_and_find_adopts_the_first(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    appt = new_event(datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw")))
    ref = create(provider, [appt])
    with pytest.raises(PreconditionFailed) as caught:
        create(provider, [appt.with_changes(title="Retried")])
    assert isinstance(caught.value, HttpDetail) and caught.value.status == 409
    found = run(provider.find(CALENDAR, appt.uid))
    assert found is not None and found.ref == ref
    assert [e.title for e in provider.to_events(found, "cal")] == ["Session"]
    everything = run(provider.pull(CALENDAR, None)).changed
    assert [i.uid for i in everything] == [appt.uid]  # no second copy
    # The same local event deleted, then back (an undo): the deleted id is brought back.
    run(provider.delete(CALENDAR, ref))
    back = create(provider, [appt.with_changes(title="Back")])
    assert back.remote_id == ref.remote_id
    assert [e.title for e in fetch(provider, back)[1]] == ["Back"]


def test_a_foreign_uid_is_looked_up_before_inserting(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    emu.remote_insert(
        {
            "iCalUID": "holiday-2026@example.org",
            "summary": "Holiday",
            "start": {"date": "2026-05-01"},
            "end": {"date": "2026-05-02"},
        }
    )
    imported = new_event(date(2026, 5, 1), uid="holiday-2026@example.org", title="Holiday")
    with pytest.raises(UidConflict):
        create(provider, [imported])
    assert not [r for r in provider.requests if r.startswith("POST")]
    found = run(provider.find(CALENDAR, "holiday-2026@example.org"))
    assert found is not None and found.uid == "holiday-2026@example.org"
    assert run(provider.find(CALENDAR, "nobody@example.org")) is None


def test_stale_versions_get_412_and_deleted_events_count_as_deleted(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    appt = new_event(datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw")))
    ref = create(provider, [appt])
    emu.remote_patch(ref.remote_id, {"location": "Room 9"})
    with pytest.raises(PreconditionFailed):
        run(provider.update(CALENDAR, ref, provider.to_raw([appt.with_changes(title="Mine")])))
    with pytest.raises(PreconditionFailed):
        run(provider.delete(CALENDAR, ref))
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["status"] != "cancelled" and stored["summary"] == "Session"
    current, _ = fetch(provider, ref)
    run(provider.delete(CALENDAR, current.ref))
    tomb = emu.stored(ref.remote_id)
    assert tomb is not None and tomb["status"] == "cancelled"
    with pytest.raises(NotFound):
        run(provider.get(CALENDAR, ref.remote_id))
    # Deleting again: with the tombstone's etag Google says 410 "deleted"; with an older one it
    # may say 412 first. Both are "already deleted".
    run(
        provider.delete(
            CALENDAR, RemoteRef(ref.remote_id, version_json({ref.remote_id: tomb["etag"]}))
        )
    )
    run(provider.delete(CALENDAR, current.ref))
    assert [s for m, p, s in api_requests(emu) if m == "DELETE"] == [412, 204, 410, 412]


class EditBeforePatch(httpx.AsyncBaseTransport):
    """Forwards to the emulator; just before the first PATCH goes out, ``edit`` runs (another
    device changes the event between Carecal's read and its write)."""

    def __init__(self, edit: Callable[[], object]) -> None:
        self.edit: Callable[[], object] | None = edit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and self.edit is not None:
            self.edit()
            self.edit = None
        async with httpx.AsyncHTTPTransport() as inner:
            response = await inner.handle_async_request(request)
            body = await response.aread()
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)


def test_a_change_between_read_and_write_gets_googles_412(emu: GoogleCalendarEmulator) -> None:
    plain_provider = google_provider(emu)
    appt = new_event(datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw")))
    ref = create(plain_provider, [appt])
    racing = google_provider(
        emu,
        transport=EditBeforePatch(lambda: emu.remote_patch(ref.remote_id, {"summary": "Theirs"})),
    )
    with pytest.raises(PreconditionFailed) as caught:
        run(racing.update(CALENDAR, ref, racing.to_raw([appt.with_changes(title="Mine")])))
    assert isinstance(caught.value, HttpDetail) and caught.value.status == 412
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["summary"] == "Theirs"


def test_every_write_says_send_updates_none(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    master = new_event(
        datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Europe/Warsaw")), rrule="FREQ=DAILY;COUNT=3"
    )
    moved = new_event(datetime(2026, 3, 3, 12, tzinfo=ZoneInfo("Europe/Warsaw")), uid=master.uid,
                      recurrence_id=datetime(2026, 3, 3, 9, tzinfo=ZoneInfo("Europe/Warsaw")),
                      master_id=master.id)  # fmt: skip
    ref = create(provider, [master, moved])
    item, events = fetch(provider, ref)
    ref = run(
        provider.update(
            CALENDAR, item.ref, provider.to_raw([events[0].with_changes(title="X"), events[1]])
        )
    )
    run(provider.delete(CALENDAR, ref))
    writes = [p for m, p, _ in api_requests(emu) if m in ("POST", "PATCH", "PUT", "DELETE")]
    assert len(writes) == 4 and all("sendUpdates=none" in p for p in writes)


# --- reading: paging, tokens, request counts ----------------------------------------------


def plain(summary: str, day: int = 3) -> dict[str, Any]:
    return {"summary": summary, "start": {"dateTime": f"2026-03-{day:02d}T09:00:00Z"},
            "end": {"dateTime": f"2026-03-{day:02d}T10:00:00Z"}}  # fmt: skip


def test_paging_goes_past_empty_pages_and_keeps_the_last_pages_token(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    for n in range(5):
        emu.remote_insert(plain(f"E{n}"))
    emu.set_page_size(2)
    emu.add_empty_pages(2)
    first = run(provider.pull(CALENDAR, None))
    assert sorted(e.title for i in first.changed for e in provider.to_events(i, "c")) == [
        f"E{n}" for n in range(5)
    ]
    assert first.complete and first.state and len(provider.requests) == 5  # 3 full, 2 empty
    for n in range(3):
        emu.remote_insert(plain(f"F{n}"))
    emu.add_empty_pages(1)
    changes = run(provider.pull(CALENDAR, first.state))
    assert len(changes.changed) == 3 and changes.state != first.state
    assert run(provider.pull(CALENDAR, changes.state)).changed == []


def test_ten_changed_events_cost_one_request_and_a_series_three(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    weekly = plain("Weekly", day=2)
    weekly["start"]["timeZone"] = "UTC"
    series = emu.remote_insert({**weekly, "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=5"]})
    first = run(provider.pull(CALENDAR, None))
    for n in range(10):
        emu.remote_insert(plain(f"E{n}"))
    sent = len(provider.requests)
    changes = run(provider.pull(CALENDAR, first.state))
    assert len(changes.changed) == 10 and len(provider.requests) - sent == 1
    # One occurrence changed: the change list, the master, the series' other components.
    emu.remote_patch(f"{series['id']}_20260309T090000Z", {"summary": "Just this once"})
    sent = len(provider.requests)
    touched = run(provider.pull(CALENDAR, changes.state))
    assert len(provider.requests) - sent == 3
    assert [e.title for e in provider.to_events(touched.changed[0], "c")] == [
        "Weekly",
        "Just this once",
    ]
    emu.remote_delete(series["id"])
    gone = run(provider.pull(CALENDAR, touched.state))
    assert gone.changed == [] and gone.deleted == [series["id"]]


def test_expired_or_unknown_sync_tokens_ask_for_a_full_sync(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    first = run(provider.pull(CALENDAR, None))
    assert first.state is not None
    with pytest.raises(SyncStateExpired):
        run(provider.pull(CALENDAR, "google:not-a-token-google-gave"))
    emu.expire_sync_tokens()
    with pytest.raises(SyncStateExpired):
        run(provider.pull(CALENDAR, first.state))
    assert [s for m, p, s in api_requests(emu) if "syncToken" in p] == [400, 410]


def test_discover_lists_calendars_with_their_access(
    emu: GoogleCalendarEmulator, provider: GoogleProvider
) -> None:
    emu.add_calendar("team@group.calendar.google.com", "Team", access_role="reader")
    emu.add_calendar("rooms@group.calendar.google.com", "Rooms", access_role="writer")
    found = {c.remote_id: c for c in run(provider.discover())}
    assert found[CALENDAR.remote_id].name == "Practice" and not found[CALENDAR.remote_id].read_only
    assert found["team@group.calendar.google.com"].read_only
    assert not found["rooms@group.calendar.google.com"].read_only
    assert found["team@group.calendar.google.com"].color == "#9fe1e7"
