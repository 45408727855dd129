"""``carecal requests ...`` and ``carecal recalls ...`` in-process, on the real clock."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from carecal.domain.models import AppointmentStatus
from carecal.services.session import open_session
from tests.cli.conftest import Run
from tests.services.desk_practice import at, build_desk, visit


def _next_weekday(after: date) -> date:
    day = after + timedelta(days=1)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def test_requests_import_list_book_and_decline(run: Run, data_dir: Path, tmp_path: Path) -> None:
    with open_session(data_dir, actor="test") as s:
        build_desk(s)
    day = _next_weekday(date.today() + timedelta(days=2)).isoformat()
    rows = [
        {
            "id": "w1",
            "name": "Jan Kowalski",
            "phone": "700800900",
            "service": "Physiotherapy",
            "preferred": [{"date": day, "from": "09:00", "to": "12:00"}],
            "source": "website",
        },
        {"name": "Nobody", "service": "Massage"},
        {"id": "w2", "name": "Ola Maj", "email": "ola@example.org", "service": "Massage"},
    ]
    path = tmp_path / "leads.json"
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    first = run("requests", "import", str(path))
    assert first.code == 1
    assert "2 new requests, 1 bad row" in first.out
    assert "line 16: needs a phone number or an e-mail address" in first.out
    again = run("requests", "import", str(path), "--format", "json")
    assert again.json() == {
        "file": "leads.json",
        "added": 0,
        "already_imported": 2,
        "errors": [{"line": 16, "reason": "needs a phone number or an e-mail address"}],
    }
    listed = run("requests", "list", "--format", "json").json()
    assert isinstance(listed, list) and [r["name"] for r in listed] == ["Jan Kowalski", "Ola Maj"]
    jan, ola = listed
    slots = run("requests", "slots", jan["id"][:8], "--format", "json").json()
    assert isinstance(slots, list) and slots[0]["kind"] == "preferred"
    assert slots[0]["start"].startswith(f"{day}T09:00")
    booked = run("requests", "book", jan["id"], "--format", "json").json()
    assert isinstance(booked, dict) and booked["start"].startswith(f"{day}T09:00")
    assert run("requests", "decline", ola["id"]).code == 0
    assert run("requests", "list").out.strip() == "No requests."
    history = run("requests", "list", "--all", "--format", "json").json()
    assert isinstance(history, list)
    assert sorted(r["state"] for r in history) == ["booked", "declined"]


def test_recalls_list_and_book(run: Run, data_dir: Path) -> None:
    with open_session(data_dir, actor="test") as s:
        desk = build_desk(s)
        past = _next_weekday(date.today() - timedelta(days=40))
        visit(s, desk.anna, desk.physio, at(past, "10:00"), AppointmentStatus.COMPLETED)
        visit(s, desk.marek, desk.massage, at(past, "12:00"), AppointmentStatus.COMPLETED)
    listed = run("recalls", "list", "--format", "json").json()
    assert isinstance(listed, list) and len(listed) == 1
    assert listed[0]["patient"] == "Anna Nowak"
    assert listed[0]["due"] == (past + timedelta(weeks=4)).isoformat()
    table = run("recalls", "list")
    assert "Anna Nowak" in table.out and "Physiotherapy" in table.out
    booked = run("recalls", "book", desk.anna.id, "--format", "json").json()
    assert isinstance(booked, dict)
    assert datetime.fromisoformat(str(booked["start"])) > datetime.now().astimezone()
    assert run("recalls", "list").out.strip() == "Nobody is due for a follow-up."
    assert run("recalls", "book", desk.anna.id).code == 2
