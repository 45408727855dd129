"""Booking requests: import from JSON and CSV, bad rows, idempotency, the watched folder, slots,
booking and declining (Qt-free)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from carecal.domain.errors import ValidationError
from carecal.services.request_files import IncompleteFile, parse_csv
from carecal.services.requests import (
    GIVE_UP_SECONDS,
    PROCESSED,
    RequestService,
    event_id_for,
)
from carecal.services.session import Session
from carecal.store.requests import RequestState
from tests.services.desk_practice import NOW, WARSAW, Desk, at, build_desk, private

JSON_FILE = """[
  {"id": "f-1", "name": "Jan Kowalski", "phone": "+48 700 800 900", "service": "Physiotherapy",
   "preferred": [{"date": "2025-05-16", "from": "12:00", "to": "15:00"}],
   "note": "Knee", "source": "website"},
  {"name": "No Contact", "service": "Massage"},
  {"name": "Anna Nowak", "email": "ANNA@example.org", "service": "massage",
   "preferred": "2025-05-19 09:00-11:00; 2025-05-20",
   "source": "website"}
]
"""

CSV_FILE = (
    "id,name,phone,email,service,date,from,to,note,source\n"
    "c-1,Ewa Lis,602 300 400,,Physiotherapy,2025-05-15,08:00,10:00,,phone\n"
    "c-2,Bad Date,603 000 000,,Physiotherapy,15.05.2025,,,,phone\n"
    "c-3,,604 000 000,,Massage,,,,,phone\n"
    "c-4,Late Window,605 000 000,,Massage,2025-05-15,12:00,10:00,,phone\n"
    'c-5,Piotr Wrona,,piotr@example.org,Massage,,,,"Prefers mornings, if possible",form\n'
)


@pytest.fixture()
def desk(session: Session) -> Desk:
    return build_desk(session)


@pytest.fixture()
def requests(session: Session, desk: Desk) -> RequestService:
    return RequestService(session.events, session.db, clock=lambda: NOW)


def _write(path: Path, text: str, *, age: float = 60.0) -> Path:
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime - age
    os.utime(path, (stamp, stamp))
    return path


def test_json_import_reports_bad_rows_with_line_numbers_and_imports_the_good_ones(
    requests: RequestService, tmp_path: Path
) -> None:
    report = requests.import_file(_write(tmp_path / "leads.json", JSON_FILE))
    assert report.added == 2 and report.known == 0
    assert [str(e) for e in report.errors] == ["line 5: needs a phone number or an e-mail address"]
    inbox = requests.inbox()
    assert [r.name for r in inbox] == ["Jan Kowalski", "Anna Nowak"]
    jan = inbox[0]
    assert jan.windows[0].day == "2025-05-16" and jan.windows[0].start == "12:00"
    assert jan.origin == "leads.json:2" and jan.source == "website" and jan.note == "Knee"
    assert [w.day for w in inbox[1].windows] == ["2025-05-19", "2025-05-20"]


def test_csv_import_reports_each_bad_row_and_re_import_adds_nothing(
    requests: RequestService, tmp_path: Path
) -> None:
    path = _write(tmp_path / "calls.csv", CSV_FILE)
    report = requests.import_file(path)
    assert report.added == 2
    assert [str(e) for e in report.errors] == [
        "line 3: '15.05.2025' is not a date (YYYY-MM-DD)",
        "line 4: no name",
        "line 5: the window 12:00-10:00 ends before it starts",
    ]
    again = requests.import_file(path)
    assert again.added == 0 and again.known == 2
    assert len(requests.inbox(history=True)) == 2
    assert "Prefers mornings, if possible" in [r.note for r in requests.inbox()]


def test_rows_without_id_are_deduplicated_by_content(
    requests: RequestService, tmp_path: Path
) -> None:
    text = "name;email;service\nOla Maj;ola@example.org;Massage\n"
    requests.import_file(_write(tmp_path / "a.csv", text))
    report = requests.import_file(_write(tmp_path / "b.csv", text))
    assert report.added == 0 and report.known == 1


def test_half_written_files_are_incomplete() -> None:
    with pytest.raises(IncompleteFile):
        parse_csv("name,phone,service\nJan,600100200,Mass", "x.csv")
    assert parse_csv("name,phone,service\n", "x.csv").requests == []


def test_watched_folder_imports_moves_and_retries_a_half_written_file(
    requests: RequestService, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox / "calls.csv", CSV_FILE)
    _write(inbox / "notes.txt", "not a request file")
    _write(inbox / ".partial.json", "[")
    half = _write(inbox / "leads.json", JSON_FILE[:150])
    one = '{"name": "Ola Maj", "email": "ola@example.org", "service": "Massage"}'
    fresh = _write(inbox / "fresh.json", one, age=0.0)
    reports = {r.file: r for r in requests.scan_folder(inbox)}
    assert set(reports) == {"calls.csv", "leads.json", "fresh.json"}
    assert reports["leads.json"].waiting and reports["fresh.json"].waiting
    assert reports["calls.csv"].added == 2
    moved = inbox / PROCESSED / "calls.csv"
    assert moved.read_text(encoding="utf-8") == CSV_FILE
    errors = (inbox / PROCESSED / "calls.csv.errors.txt").read_text(encoding="utf-8")
    assert errors.splitlines()[0] == "line 3: '15.05.2025' is not a date (YYYY-MM-DD)"
    assert half.exists() and fresh.exists() and (inbox / "notes.txt").exists()
    assert not (inbox / "calls.csv").exists()
    # The writer finishes: the next scan imports the whole file once.
    _write(half, JSON_FILE)
    os.utime(fresh, (fresh.stat().st_mtime - 60,) * 2)
    reports = {r.file: r for r in requests.scan_folder(inbox)}
    assert reports["leads.json"].added == 2
    assert reports["fresh.json"].added == 1
    assert (inbox / PROCESSED / "leads.json").exists()
    assert (inbox / PROCESSED / "fresh.json").exists()
    assert len(requests.inbox()) == 5


def test_a_file_broken_for_long_is_moved_with_its_error(
    requests: RequestService, tmp_path: Path
) -> None:
    _write(tmp_path / "broken.json", "[{", age=GIVE_UP_SECONDS + 5)
    (report,) = requests.scan_folder(tmp_path)
    assert report.failed and "not complete JSON" in report.failed
    assert (tmp_path / PROCESSED / "broken.json").exists()
    assert (tmp_path / PROCESSED / "broken.json.errors.txt").exists()


def test_slots_show_the_preferred_window_first_then_the_next_ones(
    session: Session, requests: RequestService, tmp_path: Path
) -> None:
    requests.import_file(_write(tmp_path / "leads.json", JSON_FILE))
    private(session, at(date(2025, 5, 16), "12:00"), at(date(2025, 5, 16), "13:00"))
    jan = requests.inbox()[0]
    slots = requests.slots(jan, count=3)
    # Friday 16 May 12:00-15:00, minus the busy hour and lunch, on the 30-minute grid.
    assert [s.astimezone(WARSAW).strftime("%d %H:%M") for s, _ in slots.preferred] == [
        "16 13:30",
        "16 14:00",
    ]
    assert [s.astimezone(WARSAW).strftime("%d %H:%M") for s, _ in slots.others] == [
        "16 08:00",
        "16 08:30",
        "16 09:00",
    ]


def test_booking_matches_the_patient_by_email_and_marks_the_request_booked(
    session: Session, desk: Desk, requests: RequestService, tmp_path: Path
) -> None:
    requests.import_file(_write(tmp_path / "leads.json", JSON_FILE))
    anna_request = requests.inbox()[1]
    slot = requests.slots(anna_request).preferred[0]
    booked = requests.book(anna_request.id, slot[0])
    assert booked.patient.id == desk.anna.id
    event = session.repo.get_event(booked.event.id)
    assert event.patient_id == desk.anna.id and event.service_id == desk.massage.id
    assert event.start == slot[0] and "Booked from website" in event.description
    assert requests.store.get(anna_request.id).state is RequestState.BOOKED
    assert [r.name for r in requests.inbox()] == ["Jan Kowalski"]
    with pytest.raises(ValidationError, match="already booked"):
        requests.book(anna_request.id, slot[0])


def test_booking_creates_a_new_patient_and_a_taken_slot_is_refused(
    session: Session, requests: RequestService, tmp_path: Path
) -> None:
    requests.import_file(_write(tmp_path / "leads.json", JSON_FILE))
    jan = requests.inbox()[0]
    slot = requests.slots(jan).preferred[0][0]
    private(session, slot, slot.replace(hour=slot.hour + 1))
    with pytest.raises(ValidationError, match="no longer free"):
        requests.book(jan.id, slot)
    other = requests.slots(jan).others[0][0]
    booked = requests.book(jan.id, other)
    assert booked.patient.first_name == "Jan" and booked.patient.last_name == "Kowalski"
    assert booked.patient.phone == "+48 700 800 900"
    assert len(session.repo.list_patients("Kowalski")) == 1


def test_phone_match_ignores_formatting(
    desk: Desk, requests: RequestService, tmp_path: Path
) -> None:
    text = "name,phone,service\nMarek Z,0048601200300,Massage\n"
    requests.import_file(_write(tmp_path / "m.csv", text))
    assert requests.match_patient(requests.inbox()[0]) == desk.marek


def test_a_booking_cut_off_before_the_mark_is_completed_not_duplicated(
    session: Session, requests: RequestService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests.import_file(_write(tmp_path / "leads.json", JSON_FILE))
    jan = requests.inbox()[0]
    slot = requests.slots(jan).preferred[0][0]

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(requests.store, "mark_booked", crash)
    with pytest.raises(OSError):
        requests.book(jan.id, slot)
    monkeypatch.undo()
    booked = requests.book(jan.id, slot)  # the slot is now taken by its own appointment
    assert booked.event.id == event_id_for(jan.id)
    assert len(session.repo.list_patients("Kowalski")) == 1
    day = session.events.occurrences(*[at(date(2025, 5, 16), h) for h in ("00:00", "23:59")])
    assert sum(1 for o in day if o.event.patient_id == booked.patient.id) == 1


def test_declined_requests_stay_in_the_history(requests: RequestService, tmp_path: Path) -> None:
    requests.import_file(_write(tmp_path / "leads.json", JSON_FILE))
    jan = requests.inbox()[0]
    requests.decline(jan.id)
    assert [r.name for r in requests.inbox()] == ["Anna Nowak"]
    history = {r.name: r.state for r in requests.inbox(history=True)}
    assert history["Jan Kowalski"] is RequestState.DECLINED
    requests.import_file(tmp_path / "leads.json")
    assert requests.store.get(jan.id).state is RequestState.DECLINED


def test_unknown_file_type_and_unknown_service(requests: RequestService, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"only \.json and \.csv"):
        requests.import_file(_write(tmp_path / "x.txt", "hello"))
    requests.import_file(
        _write(
            tmp_path / "y.json",
            json.dumps([{"name": "A B", "phone": "600100100", "service": "Yoga"}]),
        )
    )
    with pytest.raises(ValidationError, match="No service is named 'Yoga'"):
        requests.slots(requests.inbox()[0])
