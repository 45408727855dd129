"""The provider contract: what every Provider must do, whatever the remote.

``ProviderContract`` holds the tests; a subclass supplies a ``harness`` fixture that builds a
provider on a fresh, empty calendar and can act on that remote "from another device".

The tests speak iCalendar (``vcalendar``) because it is the common tongue of the harnesses, but
they do not assume a provider's representation is iCalendar: what they write goes through
``harness.encode`` (the provider's own form of the same event), and what they read is compared
through ``provider.to_events``. ``ICalendarContract`` adds the checks on raw iCalendar text for
the providers whose representation it is (memory, CalDAV).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

import pytest

from carecal.domain.errors import NotFound, PreconditionFailed, SyncStateExpired
from carecal.domain.models import Event
from carecal.providers.base import Provider, RemoteCalendar, RemoteItem, RemoteRef

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def vcalendar(uid: str, summary: str = "Session", extra: str = "") -> str:
    """A small one-event resource, as another client would write it."""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other device//EN\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART:20250310T090000Z\r\nDTEND:20250310T095000Z\r\n"
        f"SUMMARY:{summary}\r\n{extra}"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


class Harness(Protocol):
    provider: Provider
    calendar: RemoteCalendar
    pull_budget: int  # most requests an incremental pull of 10 changes may take

    def put_elsewhere(self, uid: str, raw: str, name: str | None = None) -> None:
        """Another device creates or replaces the item ``uid`` with the iCalendar ``raw``
        (under another resource ``name`` when given)."""

    def delete_elsewhere(self, remote_id: str) -> None: ...
    def invalidate(self, state: str) -> str: ...
    def request_count(self) -> int: ...

    def encode(self, raw: str) -> str:
        """The iCalendar ``raw`` in the provider's representation, as Carecal would write it."""

    def add_foreign(self, remote_id: str) -> None:
        """Another app adds to the item something Carecal does not model."""

    def has_foreign(self, raw: str) -> bool:
        """Whether an item's raw still holds what ``add_foreign`` added."""


def _by_uid(items: list[RemoteItem]) -> dict[str, RemoteItem]:
    return {i.uid: i for i in items}


def _uid() -> str:
    return f"{uuid.uuid4()}@contract.test"


def _events(harness: Harness, item: RemoteItem) -> list[Event]:
    return harness.provider.to_events(item, "cal-1")


def _titles(harness: Harness, item: RemoteItem) -> list[str]:
    return [e.title for e in _events(harness, item)]


ALARM = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n"


class ProviderContract:
    """Subclasses define the ``harness`` fixture."""

    @pytest.fixture()
    def harness(self) -> Harness:
        raise NotImplementedError

    def test_discover_lists_the_calendar(self, harness: Harness) -> None:
        found = run(harness.provider.discover())
        assert harness.calendar.remote_id in {c.remote_id for c in found}

    def test_first_pull_lists_everything(self, harness: Harness) -> None:
        uids = [_uid() for _ in range(3)]
        for u in uids:
            harness.put_elsewhere(u, vcalendar(u))
        res = run(harness.provider.pull(harness.calendar, None))
        assert res.complete and res.state
        assert set(_by_uid(res.changed)) == set(uids)
        assert all(i.ref.version for i in res.changed)
        assert all([e.uid for e in _events(harness, i)] == [i.uid] for i in res.changed)

    def test_incremental_pull_reports_creates_updates_and_deletes(self, harness: Harness) -> None:
        keep, edit, gone = _uid(), _uid(), _uid()
        for u in (keep, edit, gone):
            harness.put_elsewhere(u, vcalendar(u))
        first = run(harness.provider.pull(harness.calendar, None))
        ids = {i.uid: i.ref.remote_id for i in first.changed}
        new = _uid()
        harness.put_elsewhere(new, vcalendar(new))
        harness.put_elsewhere(edit, vcalendar(edit, "Moved session"))
        harness.delete_elsewhere(ids[gone])
        res = run(harness.provider.pull(harness.calendar, first.state))
        assert not res.complete
        changed = _by_uid(res.changed)
        assert set(changed) == {new, edit}
        assert _titles(harness, changed[edit]) == ["Moved session"]
        assert res.deleted == [ids[gone]]
        again = run(harness.provider.pull(harness.calendar, res.state))
        assert again.changed == [] and again.deleted == []

    def test_invalid_state_then_full_pull(self, harness: Harness) -> None:
        u = _uid()
        harness.put_elsewhere(u, vcalendar(u))
        first = run(harness.provider.pull(harness.calendar, None))
        assert first.state is not None
        with pytest.raises(SyncStateExpired):
            run(harness.provider.pull(harness.calendar, harness.invalidate(first.state)))
        with pytest.raises(SyncStateExpired):
            run(harness.provider.pull(harness.calendar, "garbage"))
        full = run(harness.provider.pull(harness.calendar, None))
        assert full.complete and set(_by_uid(full.changed)) == {u}

    def test_create_is_idempotent(self, harness: Harness) -> None:
        u = _uid()
        ref = run(harness.provider.create(harness.calendar, u, harness.encode(vcalendar(u))))
        assert ref.version
        with pytest.raises(PreconditionFailed):
            run(
                harness.provider.create(
                    harness.calendar, u, harness.encode(vcalendar(u, "Retried"))
                )
            )
        got = run(harness.provider.get(harness.calendar, ref.remote_id))
        assert got.ref == ref and got.uid == u and _titles(harness, got) == ["Session"]
        full = run(harness.provider.pull(harness.calendar, None))
        assert [i.uid for i in full.changed] == [u]

    def test_update_needs_the_current_version(self, harness: Harness) -> None:
        u = _uid()
        ref = run(harness.provider.create(harness.calendar, u, harness.encode(vcalendar(u))))
        mine = harness.encode(vcalendar(u, "Mine"))
        newer = run(harness.provider.update(harness.calendar, ref, mine))
        assert newer.remote_id == ref.remote_id and newer.version != ref.version
        stale = harness.encode(vcalendar(u, "Stale"))
        with pytest.raises(PreconditionFailed):
            run(harness.provider.update(harness.calendar, ref, stale))
        got = run(harness.provider.get(harness.calendar, ref.remote_id))
        assert _titles(harness, got) == ["Mine"] and got.ref.version == newer.version

    def test_delete_needs_the_current_version(self, harness: Harness) -> None:
        u = _uid()
        ref = run(harness.provider.create(harness.calendar, u, harness.encode(vcalendar(u))))
        edited = harness.encode(vcalendar(u, "Edited"))
        newer = run(harness.provider.update(harness.calendar, ref, edited))
        with pytest.raises(PreconditionFailed):
            run(harness.provider.delete(harness.calendar, ref))
        assert run(harness.provider.get(harness.calendar, ref.remote_id)).uid == u
        run(harness.provider.delete(harness.calendar, newer))
        with pytest.raises(NotFound):
            run(harness.provider.get(harness.calendar, ref.remote_id))

    def test_delete_of_a_missing_item_is_done(self, harness: Harness) -> None:
        u = _uid()
        ref = run(harness.provider.create(harness.calendar, u, harness.encode(vcalendar(u))))
        harness.delete_elsewhere(ref.remote_id)
        run(harness.provider.delete(harness.calendar, ref))
        run(harness.provider.delete(harness.calendar, RemoteRef(ref.remote_id, '"nope"')))

    def test_same_uid_under_another_name_is_never_duplicated(self, harness: Harness) -> None:
        u = _uid()
        harness.put_elsewhere(u, vcalendar(u, "Theirs"), name="made-elsewhere.ics")
        mine = harness.encode(vcalendar(u, "Mine"))
        with pytest.raises(PreconditionFailed):
            run(harness.provider.create(harness.calendar, u, mine))
        full = run(harness.provider.pull(harness.calendar, None))
        assert [i.uid for i in full.changed] == [u]
        assert _titles(harness, full.changed[0]) == ["Theirs"]

    def test_foreign_data_and_alarms_survive_an_update(self, harness: Harness) -> None:
        u = _uid()
        raw = harness.encode(vcalendar(u, extra=ALARM))
        ref = run(harness.provider.create(harness.calendar, u, raw))
        harness.add_foreign(ref.remote_id)
        got = run(harness.provider.get(harness.calendar, ref.remote_id))
        assert harness.has_foreign(got.raw)
        events = _events(harness, got)
        assert [(e.uid, e.reminder_minutes) for e in events] == [(u, 15)]
        edited = harness.provider.to_raw([events[0].with_changes(title="Edited")])
        newer = run(harness.provider.update(harness.calendar, got.ref, edited))
        again = run(harness.provider.get(harness.calendar, newer.remote_id))
        assert harness.has_foreign(again.raw)
        assert [(e.title, e.reminder_minutes) for e in _events(harness, again)] == [("Edited", 15)]

    def test_ten_changes_cost_a_constant_number_of_requests(self, harness: Harness) -> None:
        first = run(harness.provider.pull(harness.calendar, None))
        uids = [_uid() for _ in range(10)]
        for u in uids:
            harness.put_elsewhere(u, vcalendar(u))
        before = harness.request_count()
        res = run(harness.provider.pull(harness.calendar, first.state))
        assert set(_by_uid(res.changed)) == set(uids)
        assert harness.request_count() - before <= harness.pull_budget
        before = harness.request_count()
        run(harness.provider.pull(harness.calendar, res.state))
        assert harness.request_count() - before <= harness.pull_budget

    def test_get_of_a_missing_item_is_not_found(self, harness: Harness) -> None:
        with pytest.raises(NotFound):
            run(harness.provider.get(harness.calendar, harness.calendar.remote_id + "none.ics"))


class ICalendarContract(ProviderContract):
    """What providers whose representation is iCalendar text (memory, CalDAV) also promise:
    the raw text itself carries the UID and keeps other apps' properties and alarms."""

    def test_pulled_raw_is_the_icalendar_text(self, harness: Harness) -> None:
        u = _uid()
        harness.put_elsewhere(u, vcalendar(u, "Theirs"))
        res = run(harness.provider.pull(harness.calendar, None))
        assert [i.uid for i in res.changed] == [u]
        assert f"UID:{u}" in res.changed[0].raw and "SUMMARY:Theirs" in res.changed[0].raw

    def test_raw_round_trip_keeps_unknown_properties_and_alarms(self, harness: Harness) -> None:
        u = _uid()
        extra = (
            "X-OTHER-APP-FLAG:keep me\r\n"
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n"
            "TRIGGER:-PT15M\r\nEND:VALARM\r\n"
        )
        ref = run(harness.provider.create(harness.calendar, u, vcalendar(u, extra=extra)))
        got = run(harness.provider.get(harness.calendar, ref.remote_id))
        assert "X-OTHER-APP-FLAG:keep me" in got.raw and "BEGIN:VALARM" in got.raw
        events = harness.provider.to_events(got, "cal-1")
        assert [e.uid for e in events] == [u]
        raw = harness.provider.to_raw(events)
        assert "X-OTHER-APP-FLAG:keep me" in raw and "TRIGGER:-PT15M" in raw
        newer = run(harness.provider.update(harness.calendar, got.ref, raw))
        again = run(harness.provider.get(harness.calendar, newer.remote_id))
        assert "X-OTHER-APP-FLAG:keep me" in again.raw and "TRIGGER:-PT15M" in again.raw
