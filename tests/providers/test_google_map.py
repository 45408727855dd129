"""The pure Google mapping: ids, privacy levels, Carecal's private properties, reminders,
recurrence lines, the video line, patches, unmasking and unreadable resources."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.errors import CarecalError, PermanentItemError
from carecal.domain.merge import changed_fields
from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Participant,
    VisitMode,
)
from carecal.providers.google_body import patch_for, render_body
from carecal.providers.google_map import (
    Labels,
    MalformedEvent,
    Privacy,
    google_id,
    item_events,
    item_resources,
    mask_signature,
    unmask,
)

WARSAW = ZoneInfo("Europe/Warsaw")
LABELS = Labels({"p1": "A.K.", "p2": "B.N."}, {"s1": "Therapy"})


def event(**fields: Any) -> Event:
    start = datetime(2026, 3, 3, 9, 0, tzinfo=WARSAW)
    base: dict[str, Any] = {
        "id": "e1",
        "calendar_id": "cal",
        "uid": "e1@carecal",
        "title": "Anna Kowalska - first visit",
        "start": start,
        "end": start + timedelta(minutes=50),
        "tzid": "Europe/Warsaw",
        "description": "Referral from Dr. N.",
        "location": "Room 2",
    }
    base.update(fields)
    return Event(**base)


def as_google(body: dict[str, Any], gid: str = "g1", **server: Any) -> dict[str, Any]:
    """The resource Google would hold after inserting ``body`` (nulls dropped, ids set)."""
    resource = json.loads(json.dumps(body))
    for key in ("start", "end"):
        resource[key] = {k: v for k, v in resource[key].items() if v is not None}
    resource.update(id=gid, iCalUID=f"{gid}@google.com", etag='"1"', **server)
    return dict(resource)


def warsaw(stamp: str) -> dict[str, str]:
    return {"dateTime": stamp, "timeZone": "Europe/Warsaw"}


def read(*resources: dict[str, Any]) -> list[Event]:
    return item_events(list(resources), "cal")


# --- ids ----------------------------------------------------------------------------------


def test_google_id_is_base32hex_of_the_local_id() -> None:
    local = "0f8e4c2a9b7d4e1f8a6b5c4d3e2f1a0b"
    gid = google_id(local)
    assert gid == google_id(local)  # a retried create asks for the same id
    assert set(gid) <= set("abcdefghijklmnopqrstuv0123456789") and "=" not in gid
    padded = gid.upper() + "=" * (-len(gid) % 8)
    assert base64.b32hexdecode(padded).decode() == local
    assert google_id("abc") != google_id("abd")
    with pytest.raises(PermanentItemError):
        google_id("ab")  # would give fewer than Google's 5 characters


# --- privacy ------------------------------------------------------------------------------


def test_full_shows_everything_and_the_video_link_round_trips() -> None:
    appt = event(patient_id="p1", service_id="s1", video_url="https://meet.example/x-1")
    body = render_body(appt, None, Privacy.FULL, LABELS)
    assert body["summary"] == "Anna Kowalska - first visit"
    assert body["description"] == "Referral from Dr. N.\n\nVideo: https://meet.example/x-1"
    assert body["location"] == "Room 2"
    private = body["extendedProperties"]["private"]
    assert "carecalMask" not in private and "carecalMaskSig" not in private
    back = read(as_google(body))[0]
    assert changed_fields(appt, back) == ()
    only_link = event(description="", video_url="https://meet.example/y")
    body = render_body(only_link, None, Privacy.FULL, LABELS)
    assert body["description"] == "Video: https://meet.example/y"
    assert changed_fields(only_link, read(as_google(body))[0]) == ()


def test_initials_hide_appointment_details_but_not_own_events() -> None:
    appt = event(patient_id="p1", service_id="s1", video_url="https://meet.example/x")
    body = render_body(appt, None, Privacy.INITIALS, LABELS)
    assert (body["summary"], body["description"], body["location"]) == ("Therapy · A.K.", "", "")
    private = body["extendedProperties"]["private"]
    assert private["carecalMask"] == "initials"
    assert private["carecalMaskSig"] == mask_signature("Therapy · A.K.", "", "")
    text = json.dumps(body)
    for secret in ("Anna", "Kowalska", "Referral", "Room 2", "meet.example"):
        assert secret not in text
    lunch = event(title="Lunch", description="with Ewa", location="Bistro")
    own = render_body(lunch, None, Privacy.INITIALS, LABELS)
    assert (own["summary"], own["description"], own["location"]) == ("Lunch", "with Ewa", "Bistro")
    assert "carecalMask" not in own["extendedProperties"]["private"]


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"service_id": "s1"}, "Therapy"),
        ({"patient_id": "p1"}, "A.K."),
        ({"patient_id": "unknown"}, "Appointment"),
        ({"service_id": "s1", "participants": (Participant("p1"), Participant("p2"))},
         "Therapy · A.K., B.N."),
    ],
)  # fmt: skip
def test_initials_label_parts(fields: dict[str, Any], label: str) -> None:
    assert render_body(event(**fields), None, Privacy.INITIALS, LABELS)["summary"] == label


def test_busy_shows_only_busy_and_the_times() -> None:
    lunch = event(title="Lunch", busy=False, reminder_minutes=10)
    body = render_body(lunch, None, Privacy.BUSY, LABELS)
    assert (body["summary"], body["description"], body["location"]) == ("Busy", "", "")
    assert body["transparency"] == "transparent"
    assert body["start"] == {"dateTime": "2026-03-03T09:00:00+01:00", "timeZone": "Europe/Warsaw"}
    assert body["extendedProperties"]["private"]["carecalMask"] == "busy"


# --- unmask -------------------------------------------------------------------------------


def test_unmask_puts_back_what_the_mask_withheld_unless_google_edited_it() -> None:
    local = event(patient_id="p1", service_id="s1", video_url="https://meet.example/x")
    stored = as_google(render_body(local, None, Privacy.INITIALS, LABELS))
    moved = {
        **stored,
        "start": warsaw("2026-03-03T11:00:00+01:00"),
        "end": warsaw("2026-03-03T11:50:00+01:00"),
    }
    remote = read(moved)
    assert remote[0].title == "Therapy · A.K."
    restored = unmask(remote, [local])[0]
    assert (restored.title, restored.description, restored.location, restored.video_url) == (
        local.title, local.description, local.location, local.video_url,
    )  # fmt: skip
    assert restored.start == datetime(2026, 3, 3, 11, 0, tzinfo=WARSAW)  # Google's time stays
    edited = read({**moved, "summary": "Anna K. - moved by phone"})
    assert unmask(edited, [local])[0].title == "Anna K. - moved by phone"
    unmasked = as_google(render_body(event(title="Lunch"), None, Privacy.INITIALS, LABELS))
    assert unmask(read(unmasked), [local])[0].title == "Lunch"


def test_unmask_gives_an_exception_made_on_google_the_masters_details() -> None:
    master = event(patient_id="p1", service_id="s1", rrule="FREQ=WEEKLY;COUNT=3")
    stored = as_google(render_body(master, None, Privacy.INITIALS, LABELS))
    exception = {
        **{k: v for k, v in stored.items() if k != "recurrence"},
        "id": "g1_20260310T080000Z",
        "recurringEventId": "g1",
        "originalStartTime": {"dateTime": "2026-03-10T09:00:00+01:00", "timeZone": "Europe/Warsaw"},
        "start": {"dateTime": "2026-03-10T12:00:00+01:00", "timeZone": "Europe/Warsaw"},
        "end": {"dateTime": "2026-03-10T12:50:00+01:00", "timeZone": "Europe/Warsaw"},
    }
    remote = read(stored, exception)
    assert [e.title for e in remote] == ["Therapy · A.K."] * 2
    assert remote[1].id != remote[0].id  # Google copied the master's carecalId
    restored = unmask(remote, [master])
    assert [e.title for e in restored] == [master.title] * 2


# --- Carecal's own fields, status, reminders ----------------------------------------------


def test_private_properties_round_trip_and_keep_other_apps_keys() -> None:
    appt = event(
        patient_id="p1",
        service_id="s1",
        mode=VisitMode.VIDEO,
        participants=(Participant("p1", Attendance.ARRIVED), Participant("p2")),
        capacity=4,
        price=Decimal("150.00"),
        status=AppointmentStatus.ARRIVED,
        reminder_minutes=30,
    )
    body = render_body(appt, None, Privacy.FULL, LABELS)
    private = body["extendedProperties"]["private"]
    assert private["carecalId"] == "e1" and private["carecalUid"] == "e1@carecal"
    assert private["carecalPatient"] == "p1" and private["carecalService"] == "s1"
    stored = as_google(body)
    stored["extendedProperties"]["private"]["otherApp"] = "keep"
    back = read(stored)[0]
    assert back.id == "e1" and back.uid == "e1@carecal"
    assert changed_fields(appt, back) == ()
    cleared = appt.with_changes(patient_id=None, participants=(), price=None)
    again = render_body(cleared, stored, Privacy.FULL, LABELS)["extendedProperties"]["private"]
    assert again["otherApp"] == "keep"
    assert again["carecalPatient"] == again["carecalParticipants"] == again["carecalPrice"] == ""
    assert (
        changed_fields(
            cleared, read(as_google({**body, "extendedProperties": {"private": again}}))[0]
        )
        == ()
    )


def test_status_cancelled_stays_on_google_and_googles_own_change_wins() -> None:
    cancelled = event(status=AppointmentStatus.CANCELLED)
    body = render_body(cancelled, None, Privacy.FULL, LABELS)
    assert body["status"] == "tentative"  # "cancelled" would delete it on Google
    assert read(as_google(body))[0].status is AppointmentStatus.CANCELLED
    confirmed_there = as_google({**body, "status": "confirmed"})
    assert read(confirmed_there)[0].status is AppointmentStatus.CONFIRMED


def test_reminders_replace_the_popup_and_keep_email_ones() -> None:
    stored = as_google(render_body(event(), None, Privacy.FULL, LABELS))
    stored["reminders"] = {
        "useDefault": False,
        "overrides": [{"method": "email", "minutes": 1440}, {"method": "popup", "minutes": 10}],
    }
    local = read(stored)[0]
    assert local.reminder_minutes == 10
    assert render_body(local, stored, Privacy.FULL, LABELS)["reminders"] == stored["reminders"]
    body = render_body(local.with_changes(reminder_minutes=5), stored, Privacy.FULL, LABELS)
    assert body["reminders"]["overrides"] == [
        {"method": "email", "minutes": 1440},
        {"method": "popup", "minutes": 5},
    ]
    none = render_body(local.with_changes(reminder_minutes=None), stored, Privacy.FULL, LABELS)
    assert none["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "email", "minutes": 1440}],
    }
    assert read({**stored, "reminders": {"useDefault": True}})[0].reminder_minutes is None


# --- recurrence ---------------------------------------------------------------------------


def test_recurrence_lines_exceptions_and_cancelled_instances() -> None:
    master = event(
        rrule="FREQ=WEEKLY;COUNT=6",
        exdates=(datetime(2026, 3, 17, 9, 0, tzinfo=WARSAW),),
    )
    body = render_body(master, None, Privacy.FULL, LABELS)
    assert body["recurrence"] == [
        "RRULE:FREQ=WEEKLY;COUNT=6",
        "EXDATE;TZID=Europe/Warsaw:20260317T090000",
    ]
    stored = as_google(body)
    stored["recurrence"].append("EXRULE:FREQ=MONTHLY;COUNT=1")  # another app's line
    cancelled = {"id": "g1_c", "status": "cancelled", "recurringEventId": "g1",
                 "originalStartTime": {"dateTime": "2026-03-10T08:00:00Z"}}  # fmt: skip
    # A live exception at an EXDATE'd start is not an occurrence any more.
    hidden = {**stored, "id": "g1_h", "recurringEventId": "g1",
              "originalStartTime": {"dateTime": "2026-03-17T09:00:00+01:00"}}  # fmt: skip
    hidden.pop("recurrence")
    moved = {
        **hidden,
        "id": "g1_m",
        "summary": "Moved",
        "originalStartTime": warsaw("2026-03-31T09:00:00+02:00"),
        "start": warsaw("2026-03-31T15:00:00+02:00"),
        "end": warsaw("2026-03-31T15:50:00+02:00"),
    }
    events = read(stored, cancelled, hidden, moved)
    assert [e.title for e in events] == [master.title, "Moved"]
    assert events[0].exdates == (
        datetime(2026, 3, 10, 9, 0, tzinfo=WARSAW),
        datetime(2026, 3, 17, 9, 0, tzinfo=WARSAW),
    )
    # After the change to summer time the occurrence is still 09:00 local (07:00 UTC).
    assert events[1].recurrence_id == datetime(2026, 3, 31, 7, 0, tzinfo=UTC)
    assert events[1].master_id == events[0].id
    again = render_body(events[0], stored, Privacy.FULL, LABELS)["recurrence"]
    assert again[-1] == "EXRULE:FREQ=MONTHLY;COUNT=1"
    assert "EXDATE;TZID=Europe/Warsaw:20260310T090000,20260317T090000" in again


def test_all_day_events_use_dates_with_an_exclusive_end() -> None:
    leave = event(start=date(2026, 7, 1), end=date(2026, 7, 3), all_day=True, tzid=None,
                  rrule="FREQ=YEARLY;COUNT=2", exdates=(date(2027, 7, 1),))  # fmt: skip
    body = render_body(leave, None, Privacy.FULL, LABELS)
    assert (body["start"], body["end"]) == ({"date": "2026-07-01"}, {"date": "2026-07-03"})
    assert body["recurrence"] == ["RRULE:FREQ=YEARLY;COUNT=2", "EXDATE;VALUE=DATE:20270701"]
    assert changed_fields(leave, read(as_google(body))[0]) == ()


# --- patches ------------------------------------------------------------------------------


def test_patch_names_only_changed_fields_and_clears_the_other_time_form() -> None:
    local = event()
    stored = as_google(render_body(local, None, Privacy.FULL, LABELS))
    base = render_body(read(stored)[0].with_changes(id="e1"), stored, Privacy.FULL, LABELS)
    assert patch_for(render_body(local, stored, Privacy.FULL, LABELS), base) == {}
    retitled = render_body(local.with_changes(title="New"), stored, Privacy.FULL, LABELS)
    assert patch_for(retitled, base) == {"summary": "New"}
    whole_day = local.with_changes(start=date(2026, 3, 3), end=date(2026, 3, 4), all_day=True)
    changes = patch_for(render_body(whole_day, stored, Privacy.FULL, LABELS), base)
    assert changes["start"] == {"date": "2026-03-03", "dateTime": None, "timeZone": None}
    assert set(changes) == {"start", "end"}


# --- unreadable resources -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "words"),
    [
        ({"id": "g9", "summary": "Anna K.", "end": {"date": "2026-01-02"}}, "start is missing"),
        (
            {
                "id": "g9",
                "summary": "Anna K.",
                "start": {"dateTime": "tuesday"},
                "end": {"dateTime": "2026-01-02T10:00:00Z"},
            },
            "unreadable dateTime",
        ),
        (
            {
                "id": "g9",
                "summary": "Anna K.",
                "start": {"date": "2026-01-02"},
                "end": {"dateTime": "2026-01-02T10:00:00Z"},
            },
            "not both",
        ),
        (
            {
                "id": "g9",
                "summary": "Anna K.",
                "start": {"date": "2026-01-03"},
                "end": {"date": "2026-01-02"},
            },
            "ends before",
        ),
        ({"id": "g9", "summary": "Anna K.", "status": "cancelled"}, "live event"),
    ],
)
def test_unreadable_resources_give_a_clear_item_error(resource: dict[str, Any], words: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        read(resource)
    assert isinstance(caught.value, CarecalError)
    assert "g9" in str(caught.value) and words in str(caught.value)
    assert "Anna" not in str(caught.value)  # never the title: it may name a patient


@pytest.mark.parametrize("raw", ["not json", "[]", '{"events": []}', '{"events": [1]}'])
def test_unreadable_item_text_is_an_item_error(raw: str) -> None:
    with pytest.raises(MalformedEvent):
        item_resources(raw, "event g9")


def test_unmask_is_field_by_field() -> None:
    local = event(patient_id="p1", service_id="s1", video_url="https://meet.example/x")
    stored = as_google(render_body(local, None, Privacy.INITIALS, LABELS))
    # Someone typed a note on Google: the note is a real edit, the title still the mask's.
    noted = read({**stored, "description": "Call before coming"})
    restored = unmask(noted, [local])[0]
    assert (restored.title, restored.location) == (local.title, local.location)
    assert (restored.description, restored.video_url) == ("Call before coming", "")
    moved_room = unmask(read({**stored, "location": "Room 7"}), [local])[0]
    assert (moved_room.title, moved_room.description, moved_room.location) == (
        local.title, local.description, "Room 7",
    )  # fmt: skip
    signature = stored["extendedProperties"]["private"]["carecalMaskSig"]
    assert len(signature.split(".")) == 3
