"""The sync base the bulk pull stores is the careful path's text (``json.dumps`` with sorted keys),
though the bulk path dumps pre-sorted documents without sorting them again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from carecal.domain.models import Attendance, Calendar, Participant
from carecal.store.codec import event_doc
from carecal.store.repo import Repository
from carecal.store.syncbulk import PulledItem, store_pulled_batch
from carecal.store.syncstate import item_key

from .conftest import WARSAW, make_event


def test_event_documents_are_built_in_sorted_key_order() -> None:
    start = datetime(2024, 5, 6, 9, 0, tzinfo=WARSAW)
    event = make_event("cal", start, participants=(Participant("p1", Attendance.ARRIVED),))
    doc = event_doc(event)
    assert list(doc) == sorted(doc)
    assert doc["participants"] == [["p1", "arrived"]]
    assert json.dumps(doc) == json.dumps(doc, sort_keys=True)


def test_the_bulk_base_is_the_sorted_dump_of_the_stored_documents(
    repo: Repository, cal: Calendar
) -> None:
    start = datetime(2024, 5, 6, 9, 0, tzinfo=WARSAW)
    master = make_event(cal.id, start, uid="series@x", rrule="FREQ=WEEKLY;COUNT=4")
    moved = [
        make_event(
            cal.id,
            start + timedelta(days=7 * k, hours=2),
            uid="series@x",
            recurrence_id=start + timedelta(days=7 * k),
            title=f"Moved {k}",
        )
        for k in (2, 1)  # overrides out of order: the base sorts them
    ]
    single = make_event(cal.id, start + timedelta(days=1), uid="single@x", location="Room 2")
    items = [
        PulledItem("series@x", [moved[0], master, moved[1]], "/cal/series.ics", '"e1"'),
        PulledItem("single@x", [single], "/cal/single.ics", '"e2"'),
    ]
    with repo._db.transaction():
        stored = store_pulled_batch(repo, cal.id, items, actor="sync:test")
    for uid, events in stored.items():
        row = repo._db.execute(
            "SELECT base FROM sync_items WHERE calendar_id = ? AND uid = ?", (cal.id, uid)
        ).fetchone()
        want = json.dumps({item_key(e): event_doc(e) for e in events}, sort_keys=True)
        assert row[0] == want
    assert len(stored["series@x"]) == 3
