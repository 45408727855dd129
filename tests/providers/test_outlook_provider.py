"""The Outlook provider against the Graph emulator: series with exceptions and deleted
occurrences across DST in both directions, a series edited in Outlook and in Carecal at the
same time, the sliding window (@removed looked up before deleting), paging quirks, $batch,
immutable ids, transactionId creates, privacy masks, and fields Carecal does not model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from carecal.domain.errors import PermanentItemError, PreconditionFailed
from carecal.domain.models import AppointmentStatus, Event, VisitMode
from carecal.providers.base import RemoteCalendar, RemoteItem
from carecal.providers.outlook import OutlookProvider, Window
from carecal.providers.outlook_map import PROP_ID, Labels, Privacy, own_props
from tests.fakes.graph_server import GraphEmulator
from tests.providers.contract import run
from tests.providers.outlook_support import (
    FOREIGN,
    carecal_prop,
    outlook_provider,
    running_emulator,
)

WARSAW = ZoneInfo("Europe/Warsaw")
BERLIN = "W. Europe Standard Time"


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    with running_emulator() as server:
        yield server


@pytest.fixture
def cal(emu: GraphEmulator) -> RemoteCalendar:
    return RemoteCalendar(emu.default_calendar_id, "Calendar")


@pytest.fixture
def provider(emu: GraphEmulator) -> Iterator[OutlookProvider]:
    made = outlook_provider(emu, privacy=Privacy.FULL)
    yield made
    run(made.close())


def event(title: str = "Session", **fields: Any) -> Event:
    start = fields.pop("start", datetime(2026, 3, 16, 9, 0, tzinfo=WARSAW))
    values: dict[str, Any] = {
        "id": fields.pop("id", "a1b2c3d4e5f6"),
        "calendar_id": "cal-1",
        "uid": fields.pop("uid", "a1b2c3d4e5f6@carecal"),
        "title": title,
        "start": start,
        "end": fields.pop("end", start + timedelta(minutes=50)),
        "tzid": "Europe/Warsaw" if isinstance(start, datetime) else None,
        "all_day": not isinstance(start, datetime),
    }
    return Event(**{**values, **fields})


def weekly_series() -> list[Event]:
    """Mondays 09:00 Warsaw from 16 March 2026, six times across the start of summer time
    (29 March); the 30 March one moved to 11:00 and renamed, the 6 April one removed."""
    master = event(
        "Weekly therapy",
        rrule="FREQ=WEEKLY;COUNT=6;BYDAY=MO",
        exdates=(datetime(2026, 4, 6, 9, 0, tzinfo=WARSAW),),
        reminder_minutes=10,
    )
    moved = event(
        "Moved",
        id="override0001",
        recurrence_id=datetime(2026, 3, 30, 9, 0, tzinfo=WARSAW),
        start=datetime(2026, 3, 30, 11, 0, tzinfo=WARSAW),
        master_id=master.id,
        reminder_minutes=10,
    )
    return [master, moved]


def graph_get(emu: GraphEmulator, url: str, **params: str) -> dict[str, Any]:
    headers = {
        "Authorization": f"Bearer {emu.issue_token()}",
        "Prefer": 'IdType="ImmutableId", outlook.timezone="Europe/Warsaw"',
    }
    answer = httpx.get(emu.api_base + url, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def instances(emu: GraphEmulator, master_id: str) -> list[dict[str, Any]]:
    window = {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2028-01-01T00:00:00Z"}
    value: list[dict[str, Any]] = graph_get(
        emu, f"/me/events/{master_id}/instances", **window, **{"$top": "100"}
    )["value"]
    return value


def only(items: list[RemoteItem]) -> RemoteItem:
    assert len(items) == 1, [i.uid for i in items]
    return items[0]


# --- series across DST ---------------------------------------------------------------------


def test_series_with_exception_and_exdate_across_dst_round_trips(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    series = weekly_series()
    ref = run(provider.create(cal, series[0].uid, provider.to_raw(series)))
    shown = instances(emu, ref.remote_id)
    # Outlook holds five occurrences, all at 09:00 Warsaw time on both sides of the change to
    # summer time, except the moved one; the removed one is gone.
    starts = [(i["start"]["dateTime"][:16], i["type"]) for i in shown]
    assert starts == [
        ("2026-03-16T09:00", "occurrence"),
        ("2026-03-23T09:00", "occurrence"),
        ("2026-03-30T11:00", "exception"),
        ("2026-04-13T09:00", "occurrence"),
        ("2026-04-20T09:00", "occurrence"),
    ]
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["recurrence"]["range"]["recurrenceTimeZone"] == (
        "Central European Standard Time"
    )
    got = run(provider.get(cal, ref.remote_id))
    assert got.ref == ref
    master, moved = provider.to_events(got, "cal-1")
    assert (master.rrule, master.tzid, master.start) == (
        "FREQ=WEEKLY;COUNT=6;BYDAY=MO",
        "Europe/Warsaw",
        datetime(2026, 3, 16, 9, 0, tzinfo=WARSAW),
    )
    assert master.exdates == (datetime(2026, 4, 6, 9, 0, tzinfo=WARSAW),)
    assert (moved.title, moved.recurrence_id, moved.start, moved.id) == (
        "Moved",
        datetime(2026, 3, 30, 9, 0, tzinfo=WARSAW),
        datetime(2026, 3, 30, 11, 0, tzinfo=WARSAW),
        "override0001",
    )
    assert (master.id, master.uid, master.reminder_minutes) == (series[0].id, series[0].uid, 10)
    # Nothing changed: writing the same events back sends nothing but the read.
    before = len(provider.requests)
    again = run(provider.update(cal, got.ref, provider.to_raw([master, moved])))
    assert again == got.ref
    assert [r.split()[0] for r in provider.requests[before:]] == ["GET", "GET"]


def test_series_made_in_outlook_reads_as_rrule_with_override_and_exdate(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    # The second Tuesday of each month at 18:00 Berlin, five times; one moved, one deleted.
    made = emu.remote_create(
        {
            "subject": "Group",
            "start": {"dateTime": "2026-10-13T18:00:00", "timeZone": BERLIN},
            "end": {"dateTime": "2026-10-13T19:30:00", "timeZone": BERLIN},
            "recurrence": {
                "pattern": {
                    "type": "relativeMonthly",
                    "interval": 1,
                    "daysOfWeek": ["tuesday"],
                    "index": "second",
                },
                "range": {"type": "numbered", "startDate": "2026-10-13", "numberOfOccurrences": 5},
            },
        },
        immutable=True,
    )
    occ = instances(emu, made["id"])
    emu.remote_patch(occ[1]["id"], {"subject": "Group (room 2)"})
    emu.remote_delete(occ[3]["id"])
    item = only(run(provider.pull(cal, None)).changed)
    master, override = provider.to_events(item, "cal-1")
    berlin = ZoneInfo("Europe/Berlin")
    assert (master.rrule, master.tzid, master.start) == (
        "FREQ=MONTHLY;COUNT=5;BYDAY=TU;BYSETPOS=2",
        "Europe/Berlin",
        datetime(2026, 10, 13, 18, 0, tzinfo=berlin),
    )
    assert master.exdates == (datetime(2027, 1, 12, 18, 0, tzinfo=berlin),)
    assert (override.title, override.recurrence_id) == (
        "Group (room 2)",
        datetime(2026, 11, 10, 18, 0, tzinfo=berlin),
    )
    assert item.uid == made["iCalUId"] and override.uid == item.uid


def test_all_day_series_stays_on_its_dates(cal: RemoteCalendar, provider: OutlookProvider) -> None:
    master = event(
        "Conference",
        start=date(2026, 3, 27),
        end=date(2026, 3, 28),
        rrule="FREQ=DAILY;COUNT=4",
        exdates=(date(2026, 3, 29),),
    )
    ref = run(provider.create(cal, master.uid, provider.to_raw([master])))
    (read,) = provider.to_events(run(provider.get(cal, ref.remote_id)), "cal-1")
    assert (read.start, read.end, read.all_day, read.rrule, read.exdates) == (
        date(2026, 3, 27),
        date(2026, 3, 28),
        True,
        "FREQ=DAILY;COUNT=4",
        (date(2026, 3, 29),),
    )


def test_a_rule_outlook_cannot_hold_is_refused_before_any_write(
    cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    for rule in ("FREQ=HOURLY;COUNT=3", "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=YEARLY;BYWEEKNO=20"):
        master = event(rrule=rule)
        with pytest.raises(PermanentItemError, match="Outlook cannot hold"):
            run(provider.create(cal, master.uid, provider.to_raw([master])))
    extra = event(rrule="FREQ=WEEKLY", rdates=(datetime(2026, 3, 18, 9, tzinfo=WARSAW),))
    with pytest.raises(PermanentItemError, match="RDATE"):
        run(provider.create(cal, extra.uid, provider.to_raw([extra])))
    assert not [r for r in provider.requests if r.startswith("POST")]


def test_series_edited_in_outlook_and_in_carecal_at_the_same_time(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    series = weekly_series()
    ref = run(provider.create(cal, series[0].uid, provider.to_raw(series)))
    agreed = provider.to_events(run(provider.get(cal, ref.remote_id)), "cal-1")
    # Outlook: the 23 March occurrence gets a new room. Carecal: the series is renamed.
    occurrence = instances(emu, ref.remote_id)[1]
    emu.remote_patch(occurrence["id"], {"location": {"displayName": "Room 7"}})
    renamed = [agreed[0].with_changes(title="Weekly physio"), agreed[1]]
    with pytest.raises(PreconditionFailed):
        run(provider.update(cal, ref, provider.to_raw(renamed)))
    # The engine re-reads, merges (the fields do not overlap) and writes again.
    current = run(provider.get(cal, ref.remote_id))
    theirs = provider.to_events(current, "cal-1")
    assert [e.location for e in theirs] == ["", "Room 7", ""]
    # (Renaming a series in Carecal renames the occurrences that carried the series' title.)
    merged = [
        e.with_changes(title="Weekly physio") if e.title == "Weekly therapy" else e for e in theirs
    ]
    newer = run(provider.update(cal, current.ref, provider.to_raw(merged)))
    final = provider.to_events(run(provider.get(cal, newer.remote_id)), "cal-1")
    assert [(e.title, e.location) for e in final] == [
        ("Weekly physio", ""),
        ("Weekly physio", "Room 7"),
        ("Moved", ""),
    ]
    assert final[0].exdates == (datetime(2026, 4, 6, 9, 0, tzinfo=WARSAW),)


def test_changing_a_series_time_keeps_carecals_exceptions(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    series = weekly_series()
    ref = run(provider.create(cal, series[0].uid, provider.to_raw(series)))
    master, moved = provider.to_events(run(provider.get(cal, ref.remote_id)), "cal-1")
    later = master.with_changes(start=master.start + timedelta(hours=1),
                                end=master.end + timedelta(hours=1))  # fmt: skip
    newer = run(provider.update(cal, ref, provider.to_raw([later, moved])))
    read = provider.to_events(run(provider.get(cal, newer.remote_id)), "cal-1")
    assert [(e.title, e.start) for e in read] == [
        ("Weekly therapy", datetime(2026, 3, 16, 10, 0, tzinfo=WARSAW)),
        ("Moved", datetime(2026, 3, 30, 11, 0, tzinfo=WARSAW)),
    ]
    assert read[0].exdates == (datetime(2026, 4, 6, 10, 0, tzinfo=WARSAW),)


# --- incremental pulls ---------------------------------------------------------------------


def test_occurrence_deleted_in_outlook_arrives_as_an_exdate(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    series = weekly_series()
    ref = run(provider.create(cal, series[0].uid, provider.to_raw(series)))
    first = run(provider.pull(cal, None))
    emu.remote_delete(instances(emu, ref.remote_id)[3]["id"])  # 13 April
    res = run(provider.pull(cal, first.state))
    master = provider.to_events(only(res.changed), "cal-1")[0]
    assert master.exdates == (
        datetime(2026, 4, 6, 9, 0, tzinfo=WARSAW),
        datetime(2026, 4, 13, 9, 0, tzinfo=WARSAW),
    )
    assert res.deleted == []
    emu.remote_delete(ref.remote_id)
    gone = run(provider.pull(cal, res.state))
    assert gone.changed == [] and gone.deleted == [ref.remote_id]


def test_items_leaving_the_window_are_looked_up_not_deleted(emu: GraphEmulator) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    provider = outlook_provider(emu, window=Window(back=10, ahead=30), clock=lambda: now)
    cal = RemoteCalendar(emu.default_calendar_id, "Calendar")
    inside = emu.remote_create(
        {"subject": "Soon", "start": {"dateTime": "2026-03-10T09:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2026-03-10T10:00:00", "timeZone": "UTC"}},
        immutable=True,
    )  # fmt: skip
    first = run(provider.pull(cal, None))
    assert [i.ref.remote_id for i in first.changed] == [inside["id"]]
    later = {"start": {"dateTime": "2026-06-10T09:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2026-06-10T10:00:00", "timeZone": "UTC"}}  # fmt: skip
    emu.remote_patch(inside["id"], later)
    res = run(provider.pull(cal, first.state))
    assert res.deleted == []
    (moved,) = provider.to_events(only(res.changed), "cal-1")
    assert moved.start == datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    # Changed again out there: Graph reports it as @removed once more; still a change.
    emu.remote_patch(inside["id"], {"subject": "Later"})
    res = run(provider.pull(cal, res.state))
    assert [e.title for e in provider.to_events(only(res.changed), "cal-1")] == ["Later"]
    emu.remote_delete(inside["id"])
    res = run(provider.pull(cal, res.state))
    assert res.changed == [] and res.deleted == [inside["id"]]
    # A full listing still holds every item, whatever its date (complete stays true).
    emu.remote_create({**later, "subject": "Far"})
    full = run(provider.pull(cal, None))
    assert full.complete and [i.uid for i in full.changed] != []
    run(provider.close())


def test_the_window_slides_with_a_full_listing(emu: GraphEmulator) -> None:
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    provider = outlook_provider(emu, window=Window(back=10, ahead=30), clock=lambda: now[0])
    cal = RemoteCalendar(emu.default_calendar_id, "Calendar")
    first = run(provider.pull(cal, None))
    now[0] += timedelta(days=3)
    assert not run(provider.pull(cal, first.state)).complete
    now[0] += timedelta(days=10)
    assert run(provider.pull(cal, first.state)).complete
    run(provider.close())


def test_paging_quirks_and_replays_give_each_change_once(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    first = run(provider.pull(cal, None))
    made = [
        emu.remote_create(
            {"subject": f"S{n}", "start": {"dateTime": f"2026-05-0{n + 1}T09:00:00",
             "timeZone": "UTC"}, "end": {"dateTime": f"2026-05-0{n + 1}T10:00:00",
             "timeZone": "UTC"}},
            immutable=True,
        )
        for n in range(7)
    ]  # fmt: skip
    emu.set_page_cap(3)
    emu.add_empty_pages(2)
    emu.replay_next(1)
    res = run(provider.pull(cal, first.state))
    assert sorted(i.ref.remote_id for i in res.changed) == sorted(m["id"] for m in made)
    assert res.deleted == []


def test_expired_delta_link_with_location_asks_for_a_full_listing(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    from carecal.domain.errors import SyncStateExpired

    first = run(provider.pull(cal, None))
    emu.expire_delta_tokens(with_location=True)
    with pytest.raises(SyncStateExpired):
        run(provider.pull(cal, first.state))


def test_many_changed_events_are_fetched_in_batches_of_twenty(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    first = run(provider.pull(cal, None))
    for n in range(25):
        emu.remote_create(
            {"subject": f"S{n}", "start": {"dateTime": "2026-05-04T09:00:00", "timeZone": "UTC"},
             "end": {"dateTime": "2026-05-04T10:00:00", "timeZone": "UTC"}}
        )  # fmt: skip
    emu.mailbox_concurrency = 2  # members beyond two at a time get 429 inside the batch
    before = len(provider.requests)
    res = run(provider.pull(cal, first.state))
    assert sorted(e.title for i in res.changed for e in provider.to_events(i, "c")) == sorted(
        f"S{n}" for n in range(25)
    )
    sent = provider.requests[before:]
    assert sent.count("POST /$batch") >= 2 and "GET /me/events" not in " ".join(sent)
    assert provider.waits  # the throttled members waited for Graph's Retry-After


# --- ids, creates, fields Carecal does not model, privacy ----------------------------------


def test_ids_are_immutable_across_a_move_between_calendars(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    ref = run(provider.create(cal, "a1b2c3d4e5f6@carecal", provider.to_raw([event()])))
    other = emu.add_calendar("Archive")
    emu.remote_move(ref.remote_id, other)
    moved = run(provider.get(cal, ref.remote_id))
    assert moved.ref.remote_id == ref.remote_id


def test_a_retried_create_returns_the_same_event(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    raw = provider.to_raw([event()])
    first = run(provider.create(cal, "a1b2c3d4e5f6@carecal", raw))
    second = run(provider.create(cal, "a1b2c3d4e5f6@carecal", raw))
    assert second == first
    assert len(run(provider.pull(cal, None)).changed) == 1
    # The same local id with other content: an earlier create's event, now edited: refused.
    with pytest.raises(PreconditionFailed):
        run(provider.create(cal, "a1b2c3d4e5f6@carecal", provider.to_raw([event("Other")])))


def test_fields_carecal_does_not_model_survive_an_edit(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    ref = run(provider.create(cal, "a1b2c3d4e5f6@carecal", provider.to_raw([event()])))
    other_app = {"id": "String {11111111-2222-3333-4444-555555555555} Name other", "value": "x"}
    emu.remote_patch(
        ref.remote_id,
        {**FOREIGN, "showAs": "oof", "body": {"contentType": "html", "content": "<b>Keep</b>"},
         "singleValueExtendedProperties": [other_app]},
    )  # fmt: skip
    got = run(provider.get(cal, ref.remote_id))
    (read,) = provider.to_events(got, "cal-1")
    assert read.busy and read.description == "Keep"
    newer = run(provider.update(cal, got.ref, provider.to_raw([read.with_changes(title="New")])))
    stored = emu.stored(newer.remote_id)
    assert stored is not None
    assert (stored["subject"], stored["showAs"], stored["body"]["content"]) == (
        "New",
        "oof",
        "<b>Keep</b>",
    )
    assert all(stored[k] == v for k, v in FOREIGN.items() if k != "attendees")
    assert [a["emailAddress"]["address"] for a in stored["attendees"]] == ["c@example.com"]
    props = {p["id"]: p["value"] for p in stored["singleValueExtendedProperties"]}
    assert props[other_app["id"]] == "x" and json.loads(props[PROP_ID])["id"] == read.id


def test_outlook_status_free_busy_and_meeting_link_are_read(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    made = emu.remote_create(
        {"subject": "Call", "showAs": "free", "isCancelled": True,
         "onlineMeeting": {"joinUrl": "https://teams.example/meet/1"},
         "start": {"dateTime": "2026-05-04T09:00:00", "timeZone": BERLIN},
         "end": {"dateTime": "2026-05-04T10:00:00", "timeZone": BERLIN}},
        immutable=True,
    )  # fmt: skip
    (read,) = provider.to_events(run(provider.get(cal, made["id"])), "cal-1")
    assert (read.busy, read.status, read.video_url, read.tzid) == (
        False,
        AppointmentStatus.CANCELLED,
        "https://teams.example/meet/1",
        "Europe/Berlin",
    )
    assert read.start == datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    # Written back unchanged, the meeting link is not added to the notes.
    run(provider.update(cal, run(provider.get(cal, made["id"])).ref, provider.to_raw([read])))
    stored = emu.stored(made["id"])
    assert stored is not None and "Video:" not in stored["body"]["content"]


def test_privacy_levels_mask_appointments_and_unmask_puts_them_back(
    emu: GraphEmulator, cal: RemoteCalendar
) -> None:
    labels = Labels({"p1": "A.K."}, {"s1": "Therapy"})
    visit = event(
        "Anna Kowalska – knee",
        description="Private notes",
        location="Room 3",
        patient_id="p1",
        service_id="s1",
        mode=VisitMode.VIDEO,
        video_url="https://meet.example/abc",
        price=Decimal("120.00"),
    )
    masked = outlook_provider(emu, privacy=Privacy.INITIALS, labels=labels)
    ref = run(masked.create(cal, visit.uid, masked.to_raw([visit])))
    stored = emu.stored(ref.remote_id)
    assert stored is not None
    assert (stored["subject"], stored["location"]["displayName"]) == ("Therapy · A.K.", "")
    assert "Private" not in json.dumps(stored) and "meet.example" not in json.dumps(stored)
    props = own_props(stored)
    assert (props["patient"], props["service"], props["mode"], props["price"]) == (
        "p1", "s1", "video", "120.00",
    )  # fmt: skip
    (remote,) = masked.to_events(run(masked.get(cal, ref.remote_id)), "cal-1")
    (restored,) = masked.unmask([remote], [visit])
    assert (restored.title, restored.description, restored.location, restored.video_url) == (
        visit.title, visit.description, visit.location, visit.video_url,
    )  # fmt: skip
    # Someone retitles it in Outlook: that is a real edit and stays.
    emu.remote_patch(ref.remote_id, {"subject": "Moved to Friday"})
    (remote,) = masked.to_events(run(masked.get(cal, ref.remote_id)), "cal-1")
    (kept,) = masked.unmask([remote], [visit])
    assert (kept.title, kept.description) == ("Moved to Friday", visit.description)
    busy = outlook_provider(emu, privacy=Privacy.BUSY, labels=labels)
    lunch = event("Lunch", id="lunch0000001", uid="lunch0000001@carecal")
    ref = run(busy.create(cal, lunch.uid, busy.to_raw([lunch])))
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["subject"] == "Busy"
    for made in (masked, busy):
        run(made.close())


def test_patients_are_never_attendees(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    visit = event(patient_id="p1", service_id="s1")
    ref = run(provider.create(cal, visit.uid, provider.to_raw([visit])))
    stored = emu.stored(ref.remote_id)
    assert stored is not None and stored["attendees"] == []


def test_another_install_of_carecal_is_read_through_the_property(
    emu: GraphEmulator, cal: RemoteCalendar, provider: OutlookProvider
) -> None:
    made = emu.remote_create(
        {"subject": "From the front desk",
         "start": {"dateTime": "2026-05-04T09:00:00", "timeZone": "UTC"},
         "end": {"dateTime": "2026-05-04T10:00:00", "timeZone": "UTC"},
         "singleValueExtendedProperties": carecal_prop(id="deskid000001", uid="u-1@carecal",
                                                       patient="p9", status="arrived")},
        immutable=True,
    )  # fmt: skip
    item = only(run(provider.pull(cal, None)).changed)
    (read,) = provider.to_events(item, "cal-1")
    assert (item.uid, read.id, read.patient_id, read.status) == (
        "u-1@carecal", "deskid000001", "p9", AppointmentStatus("arrived"),
    )  # fmt: skip
    assert item.ref.remote_id == made["id"]


def test_a_series_older_than_the_window_keeps_its_history(emu: GraphEmulator) -> None:
    # Weekly since January; the window starts in late April. The February exception and the
    # deleted March occurrence stay part of the item on every read.
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    provider = outlook_provider(emu, window=Window(back=30, ahead=60), clock=lambda: now)
    cal = RemoteCalendar(emu.default_calendar_id, "Calendar")
    made = emu.remote_create(
        {
            "subject": "Weekly",
            "start": {"dateTime": "2026-01-05T09:00:00", "timeZone": BERLIN},
            "end": {"dateTime": "2026-01-05T10:00:00", "timeZone": BERLIN},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                "range": {"type": "numbered", "startDate": "2026-01-05", "numberOfOccurrences": 30},
            },
        },
        immutable=True,
    )
    occ = {o["originalStart"][:10]: o["id"] for o in instances(emu, made["id"])}
    emu.remote_patch(occ["2026-02-02"], {"subject": "Weekly (moved room)"})
    emu.remote_delete(occ["2026-03-02"])
    berlin = ZoneInfo("Europe/Berlin")
    expected_exdate = (datetime(2026, 3, 2, 9, 0, tzinfo=berlin),)

    def check(item: RemoteItem) -> None:
        master, *overrides = provider.to_events(item, "cal-1")
        assert master.exdates == expected_exdate
        assert [(o.title, o.recurrence_id) for o in overrides] == [
            ("Weekly (moved room)", datetime(2026, 2, 2, 9, 0, tzinfo=berlin))
        ]

    first = run(provider.pull(cal, None))
    check(only(first.changed))
    emu.remote_patch(occ["2026-06-08"], {"location": {"displayName": "Room 4"}})
    res = run(provider.pull(cal, first.state))
    item = only(res.changed)
    master, *overrides = provider.to_events(item, "cal-1")
    assert [o.location for o in overrides] == ["", "Room 4"]
    assert master.exdates == expected_exdate
    got = run(provider.get(cal, made["id"]))
    assert got.ref == item.ref
    master, *overrides = provider.to_events(got, "cal-1")
    assert [o.title for o in overrides] == ["Weekly (moved room)", "Weekly"]
    assert master.exdates == expected_exdate
    run(provider.close())
