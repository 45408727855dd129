"""``carecal requests book`` on a calendar mapped to a Docplanner address, against the emulator:
the booking is made there at once and linked to the request's appointment; offline it stays
queued (exit 0, a line says so) and the next ``carecal sync`` sends it; a time Docplanner does
not offer is one readable line on stderr (exit 1) while the appointment stays."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from carecal.services.session import open_session
from carecal.store.docplanner import DocplannerStore
from tests.cli.test_docplanner_actions_cli import Desk, desk, emu

__all__ = ["desk", "emu"]


def _request(desk: Desk, tmp_path: Path) -> str:
    row = {
        "id": "web-1",
        "name": "Jan Kowalski",
        "phone": "+48 700 800 900",
        "service": "Konsultacja psychologiczna",
        "preferred": [{"date": desk.day}],
    }
    path = tmp_path / "leads.json"
    path.write_text(json.dumps([row]), encoding="utf-8")
    assert desk.run("requests", "import", str(path)).code == 0
    listed = desk.run("requests", "list", "--format", "json").json()
    assert isinstance(listed, list)
    return str(listed[0]["id"])


def _both_free(desk: Desk, request_id: str) -> list[dt.datetime]:
    """The request's free starts in Carecal that Docplanner offers too."""
    listed = desk.run("requests", "slots", request_id, "--format", "json").json()
    assert isinstance(listed, list)
    ours = {dt.datetime.fromisoformat(str(s["start"])) for s in listed}
    return [s for s in desk.free() if s in ours]


def _integration(desk: Desk) -> list[dict[str, object]]:
    return [
        b
        for b in desk.emu.bookings_at(desk.office)
        if b["status"] == "booked" and b["booked_by"] == "integration"
    ]


def _events(desk: Desk) -> list[dict[str, object]]:
    listed = desk.run("events", "list", "--from", desk.day, "--to", desk.day, "--format", "json")
    found = listed.json()
    assert isinstance(found, list)
    return found


def test_requests_book_books_on_docplanner_at_once(desk: Desk, tmp_path: Path) -> None:
    request_id = _request(desk, tmp_path)
    start = _both_free(desk, request_id)[0]
    booked = desk.run("requests", "book", request_id, "--at", start.isoformat())
    assert booked.code == 0, booked.err
    assert "Booked on Docplanner too (booking " in booked.out
    (made,) = _integration(desk)
    assert dt.datetime.fromisoformat(str(made["start_at"])) == start
    (event,) = _events(desk)
    with open_session(desk.data_dir, actor="test") as session:
        links = DocplannerStore(session.repo).links_of_event(str(event["id"]))
    assert [x.booking_id for x in links] == [made["id"]]


def test_requests_book_offline_is_queued_and_sent_by_the_next_sync(
    desk: Desk, tmp_path: Path
) -> None:
    request_id = _request(desk, tmp_path)
    start = _both_free(desk, request_id)[-1]
    desk.emu.drop_before_next(path_contains="/book")
    booked = desk.run("requests", "book", request_id, "--at", start.isoformat(), "--format", "json")
    assert booked.code == 0, booked.err
    record = booked.json()
    assert isinstance(record, dict) and record["docplanner"]["state"] == "queued"
    assert "it goes out at the next sync" in record["docplanner"]["message"]
    assert _integration(desk) == []
    synced = desk.run("sync")
    assert synced.code == 0, synced.err
    assert len(_integration(desk)) == 1
    (event,) = _events(desk)
    assert event["id"] == record["event_id"]


def test_requests_book_at_a_time_docplanner_does_not_offer(desk: Desk, tmp_path: Path) -> None:
    start = desk.free()[0] + dt.timedelta(minutes=15)  # off Docplanner's 50-minute grid
    booked = desk.run("requests", "book", _request(desk, tmp_path), "--at", start.isoformat())
    assert booked.code == 1
    assert booked.err.startswith("carecal: error: Not booked on Docplanner: Docplanner offers no")
    assert "The appointment in Carecal stands" in booked.err
    assert "Jan" not in booked.err and "Traceback" not in booked.err
    assert booked.out.startswith("Booked ")
    (event,) = _events(desk)
    assert dt.datetime.fromisoformat(str(event["start"])) == start
    assert _integration(desk) == []
