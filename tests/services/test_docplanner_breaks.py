"""Breaks mode against the Docplanner emulator: busy time of any calendar becomes Carecal's
calendar breaks and follows the events (moved, deleted), transparent events and the address's
own bookings are left out, the practice's breaks are never touched, a 409 and a lost POST
answer adopt the break instead of doubling it, switching modes cleans up both ways, a second
run writes nothing, and a failed write is made good at the next cycle (both modes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.models import (
    Account,
    AppointmentStatus,
    Calendar,
    Event,
    WorkingHours,
    new_id,
)
from carecal.providers.docplanner_api import DocplannerApi
from carecal.services import docplanner_client as dpc
from carecal.services.docplanner_breaks import (
    BREAK_DESCRIPTION,
    BreakKeeper,
    BreaksOutcome,
    diff_lines,
    set_publish_mode,
)
from carecal.services.docplanner_mapping import find_node, list_tree, map_address
from carecal.services.docplanner_sync import DocplannerReport, sync_docplanner
from carecal.services.session import Session
from carecal.store.docplanner import DocplannerStore
from tests.fakes.docplanner_breaks import CalendarBreak
from tests.fakes.docplanner_server import DocplannerEmulator
from tests.providers.docplanner_support import EmuTime
from tests.services.docplanner_setup import add_docplanner_account, map_addresses

WARSAW = ZoneInfo("Europe/Warsaw")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Practice:
    emu: DocplannerEmulator
    time: EmuTime
    session: Session
    account: Account
    api: DocplannerApi
    calendar: Calendar
    google: Calendar

    @property
    def store(self) -> DocplannerStore:
        return DocplannerStore(self.session.repo)

    @property
    def office(self) -> str:
        return self.emu.ids.office

    def sync(self) -> DocplannerReport:
        return asyncio.run(
            sync_docplanner(self.session.repo, self.account, self.api, clock=self.time.now)
        )

    def keeper(self, *, dry_run: bool = False) -> BreaksOutcome:
        keeper = BreakKeeper(self.session.repo, self.account, self.api, clock=self.time.now)
        return asyncio.run(keeper.apply(dry_run=dry_run))

    def mode(self, mode: str) -> None:
        set_publish_mode(self.session.repo, self.account, self.office, mode)

    def breaks(self, *, ours: bool = True) -> list[CalendarBreak]:
        """The office's breaks in Docplanner: Carecal's (by description) or the others."""
        with self.emu.lock:
            found = [b for b in self.emu.state.breaks.values() if b.address_id == self.office]
        return sorted(
            (b for b in found if (b.description == BREAK_DESCRIPTION) == ours),
            key=lambda b: b.since,
        )

    def spans(self) -> list[tuple[datetime, datetime]]:
        return [(b.since.astimezone(WARSAW), b.till.astimezone(WARSAW)) for b in self.breaks()]

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _ in self.emu.log if m in WRITES and "/oauth/" not in p]

    def event(self, calendar: Calendar, start: datetime, end: datetime, **kw: object) -> Event:
        made = Event(new_id(), calendar.id, "", "Dentist (private)", start, end, **kw)  # type: ignore[arg-type]
        self.session.events.create(made)
        return made


@pytest.fixture
def practice(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Practice]:
    with DocplannerEmulator() as emu:
        emu.tokens.access_ttl = 3600.0
        monkeypatch.setenv(dpc.HOST_ENV, emu.host_template)
        clock = EmuTime(emu)
        repo = session.repo
        account, api = add_docplanner_account(repo, emu, clock)
        calendar = repo.ensure_local_calendar()
        google, _ = repo.add_calendar("Google (mirror)", "#ff0000", actor="test")
        map_addresses(repo, account, api, calendar, [emu.ids.office], clock)
        repo.set_working_hours(
            [WorkingHours(new_id(), wd, time(9), time(17)) for wd in range(5)], actor="test"
        )
        yield Practice(emu, clock, session, account, api, calendar, google)


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00").replace(tzinfo=WARSAW)


DAY = "2026-11-24"


def bookable(emu: DocplannerEmulator, address: str, start: datetime, end: datetime) -> bool:
    """Whether a patient can book a 50-minute visit overlapping [start, end)."""
    day = start.date().isoformat()
    visit = timedelta(minutes=50)
    return any(s < end and start < s + visit for s in emu.free_starts_on(address, day))


def test_busy_time_becomes_breaks_that_follow_the_events(practice: Practice) -> None:
    p = practice
    p.mode("breaks")
    local = p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    p.event(p.google, at(DAY, 10, 30), at(DAY, 12))  # touches the local one: one break
    p.event(p.google, at("2026-11-25", 12), at("2026-11-25", 13), busy=False)  # transparent
    p.event(p.google, at("2026-11-26", 8), at("2026-11-26", 9), status=AppointmentStatus.CANCELLED)
    p.event(p.calendar, at("2026-11-27", 23), at("2026-11-28", 1))  # split at midnight
    plan = p.keeper(dry_run=True)
    assert diff_lines(plan.changes, WARSAW) == [
        f"+ break {DAY} 10:00-12:00 (Gabinet, Marszałkowska 1, Warszawa)",
        "+ break 2026-11-27 23:00-24:00 (Gabinet, Marszałkowska 1, Warszawa)",
        "+ break 2026-11-28 00:00-01:00 (Gabinet, Marszałkowska 1, Warszawa)",
    ]
    assert p.writes() == []  # a dry run sends nothing
    first = p.sync()
    assert first.ok, first.errors
    assert (first.breaks_added, first.published_days) == (3, 0)
    assert "breaks: 3 added" in first.summary()
    assert not [w for w in p.writes() if "/slots" in w[1]]  # no slots in breaks mode
    assert p.spans() == [
        (at(DAY, 10), at(DAY, 12)),
        (at("2026-11-27", 23), at("2026-11-28", 0)),
        (at("2026-11-28", 0), at("2026-11-28", 1)),
    ]
    assert {b.break_id for b in p.store.own_breaks(p.account.id)} == {b.id for b in p.breaks()}
    # The echoes (break-created) of Carecal's own breaks are not the practice's breaks.
    sent = len(p.writes())
    quiet = p.sync()
    assert quiet.ok and quiet.applied >= 3
    assert len(p.writes()) == sent  # nothing written the second time
    assert p.store.breaks(p.account.id, p.office) == []
    # The local appointment moves to the afternoon: one break moves, one is added.
    stored = p.session.repo.get_event(local.id)
    p.session.events.update(stored.with_changes(start=at(DAY, 14), end=at(DAY, 15)))
    moved = p.sync()
    assert (moved.breaks_added, moved.breaks_moved, moved.breaks_removed) == (1, 1, 0)
    assert p.spans()[:2] == [(at(DAY, 10, 30), at(DAY, 12)), (at(DAY, 14), at(DAY, 15))]
    for event in p.session.repo.events_in_window(at(DAY, 0), at("2026-11-29", 0)):
        p.session.repo.delete_event(event.id, actor="test")
    gone = p.sync()
    assert gone.ok, gone.errors
    assert gone.breaks_removed == 4 and p.breaks() == []
    assert p.store.own_breaks(p.account.id) == []
    assert len(p.writes()) == sent + 2 + 4


def test_the_address_own_bookings_are_not_breaks_and_other_addresses_are(
    practice: Practice,
) -> None:
    p, emu = practice, practice.emu
    tree = asyncio.run(list_tree(p.api))
    map_address(
        p.session.repo,
        p.account,
        find_node(tree, emu.ids.online),
        p.calendar,
        create_services=True,
        actor="test",
        now=p.time.now(),
    )
    p.mode("breaks")
    set_publish_mode(p.session.repo, p.account, emu.ids.online, "breaks")
    emu.doctor_books(p.office, at(DAY, 9))  # becomes an appointment in Carecal
    report = p.sync()
    assert report.ok, report.errors
    assert len(p.session.repo.events_in_window(at(DAY, 0), at(DAY, 23))) == 1
    assert p.breaks() == []  # busy in Docplanner already
    with emu.lock:
        online = [b for b in emu.state.breaks.values() if b.address_id == emu.ids.online]
    # ... but the office visit is busy time for the online address.
    assert [(b.since.astimezone(WARSAW), b.description) for b in online] == [
        (at(DAY, 9), BREAK_DESCRIPTION)
    ]


def test_the_practice_breaks_are_never_touched(practice: Practice) -> None:
    p, emu = practice, practice.emu
    p.mode("breaks")
    theirs = emu.doctor_adds_break(p.office, at(DAY, 10), at(DAY, 11), "Training")
    event = p.event(p.google, at(DAY, 10), at(DAY, 11))
    report = p.sync()
    assert report.ok, report.errors
    assert [b.id for b in p.breaks(ours=False)] == [theirs]
    assert p.spans() == [(at(DAY, 10), at(DAY, 11))]
    assert p.store.breaks(p.account.id, p.office) == [(at(DAY, 10), at(DAY, 11))]
    p.session.repo.delete_event(event.id, actor="test")
    p.sync()
    assert p.breaks() == [] and [b.id for b in p.breaks(ours=False)] == [theirs]
    p.mode("slots")  # switching back removes only Carecal's (none left)
    p.sync()
    assert [b.id for b in p.breaks(ours=False)] == [theirs]
    assert not [w for w in p.writes() if w[1].endswith(f"/breaks/{theirs}")]


def test_a_duplicate_answer_adopts_the_existing_break(practice: Practice) -> None:
    p, emu = practice, practice.emu
    p.mode("breaks")
    # The same break exists (a database restored from a backup forgot it, say).
    existing = emu.doctor_adds_break(p.office, at(DAY, 10), at(DAY, 11), BREAK_DESCRIPTION)
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    p.sync()  # pull the notification first, as a cycle does
    outcome = p.keeper()
    assert outcome.errors == [] and outcome.adopted == 0  # the cycle adopted it already
    own = p.store.own_breaks(p.account.id)
    assert [b.break_id for b in own] == [existing]
    assert [b.id for b in p.breaks()] == [existing]
    posts = [w for w in p.writes() if w[0] == "POST" and w[1].endswith("/breaks")]
    assert len(posts) == 1  # the one refused as a duplicate
    assert [s for m, path, s in emu.log if m == "POST" and path.endswith("/breaks")] == [409]
    assert p.store.breaks(p.account.id, p.office) == []  # not the practice's any more


def test_a_lost_post_answer_never_doubles_the_break(practice: Practice) -> None:
    p, emu = practice, practice.emu
    p.mode("breaks")
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    emu.timeout_after_commit(path_contains="/breaks", method="POST")
    lost = p.sync()
    assert lost.offline and not lost.ok
    assert len(p.breaks()) == 1  # it happened; the answer did not come back
    [pending] = p.store.own_breaks(p.account.id)
    assert pending.pending
    healed = p.sync()
    assert healed.ok, healed.errors
    [made] = p.breaks()
    assert [b.break_id for b in p.store.own_breaks(p.account.id)] == [made.id]
    posts = [w for w in p.writes() if w[0] == "POST" and w[1].endswith("/breaks")]
    assert len(posts) == 1  # listed and adopted, not sent again
    assert p.store.breaks(p.account.id, p.office) == []  # its break-created echo is ours


def test_switching_modes_cleans_up_both_ways(practice: Practice) -> None:
    p, emu = practice, practice.emu
    first = p.sync()
    assert first.published_days == 60 and first.deleted_days == 24
    assert emu.free_starts_on(p.office, DAY)[0] == at(DAY, 9)
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    p.mode("breaks")
    switched = p.sync()
    assert switched.ok, switched.errors
    assert switched.deleted_days == 60 and switched.published_days == 0
    assert switched.breaks_added == 1
    assert p.store.published(p.account.id, p.office) == {}
    assert emu.free_starts_on(p.office, DAY) == []  # the practice's own hours from here on
    assert p.spans() == [(at(DAY, 10), at(DAY, 11))]
    assert len(p.writes()) == 84 + 60 + 1
    p.mode("slots")
    back = p.sync()
    assert back.ok, back.errors
    assert back.breaks_removed == 1 and p.breaks() == []
    assert back.published_days == 60 and back.deleted_days == 24
    assert p.store.own_breaks(p.account.id) == []
    free = emu.free_starts_on(p.office, DAY)
    assert free[0] == at(DAY, 9) and at(DAY, 10) not in free


def test_a_failed_write_is_made_good_at_the_next_cycle_in_both_modes(
    practice: Practice,
) -> None:
    p, emu = practice, practice.emu
    p.sync()
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    emu.fail_next(status=503, path_contains="/slots", method="PUT")
    offline = p.sync()
    assert offline.offline and offline.published_days == 0
    assert bookable(emu, p.office, at(DAY, 10), at(DAY, 11))  # not published yet
    online = p.sync()
    assert online.ok and online.published_days == 1
    assert not bookable(emu, p.office, at(DAY, 10), at(DAY, 11))
    p.mode("breaks")
    p.sync()
    p.event(p.google, at("2026-11-25", 15), at("2026-11-25", 16))
    emu.fail_next(status=503, path_contains="/breaks", method="POST")
    failed = p.sync()
    assert failed.offline and failed.breaks_added == 0
    assert p.spans() == [(at(DAY, 10), at(DAY, 11))]
    retried = p.sync()
    assert retried.ok and retried.breaks_added == 1
    assert p.spans() == [(at(DAY, 10), at(DAY, 11)), (at("2026-11-25", 15), at("2026-11-25", 16))]
    assert len(p.store.own_breaks(p.account.id)) == 2


def test_an_unmapped_address_loses_carecal_breaks(practice: Practice) -> None:
    from carecal.services.docplanner_mapping import unmap_address

    p = practice
    p.mode("breaks")
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    p.sync()
    assert len(p.breaks()) == 1
    unmap_address(p.session.repo, p.account, p.office)
    report = p.sync()
    assert report.breaks_removed == 1 and p.breaks() == []


def test_a_break_removed_in_the_panel_comes_back_while_the_time_is_busy(
    practice: Practice,
) -> None:
    p, emu = practice, practice.emu
    p.mode("breaks")
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    p.sync()
    [first] = p.breaks()
    emu.doctor_removes_break(first.id)
    again = p.sync()
    assert again.breaks_added == 1
    [second] = p.breaks()
    assert second.id != first.id and (second.since, second.till) == (first.since, first.till)
    emu.doctor_moves_break(second.id, at(DAY, 12), at(DAY, 13))
    back = p.sync()
    assert back.breaks_moved == 1 and p.spans() == [(at(DAY, 10), at(DAY, 11))]
    quiet = p.sync()  # the echo of that move changes nothing
    assert (quiet.breaks_added, quiet.breaks_moved, quiet.breaks_removed) == (0, 0, 0)
    assert p.store.breaks(p.account.id, p.office) == []


def test_reconciliation_lists_carecal_breaks_without_taking_them_for_the_practice(
    practice: Practice,
) -> None:
    p, emu = practice, practice.emu
    p.mode("breaks")
    p.event(p.calendar, at(DAY, 10), at(DAY, 11))
    p.sync()
    [made] = p.breaks()
    emu.advance(timedelta(days=4))  # notifications expired: the next cycle lists everything
    emu.doctor_removes_break(made.id)
    emu.advance(timedelta(days=4))
    report = p.sync()
    assert report.reconciled and report.ok, report.errors
    assert report.breaks_added == 1  # its own row was dropped by the listing, so re-added
    assert p.store.breaks(p.account.id, p.office) == []
    assert len(p.breaks()) == 1
