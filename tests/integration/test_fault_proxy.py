"""The CalDAV provider behind a fault-injecting proxy in front of a real Radicale: every fault
becomes the right domain error, nothing foreign escapes, and a write whose answer was lost
leaves exactly one copy on the server once it is retried."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import niquests
import pytest

from carecal.domain.errors import (
    CarecalError,
    PreconditionFailed,
    RateLimited,
    TransientError,
)
from carecal.domain.models import Account, ProviderKind
from carecal.providers.base import RemoteCalendar, RemoteRef, resource_name
from carecal.providers.caldav import CalDAVProvider
from carecal.services.session import open_session
from carecal.sync import retry
from carecal.sync.actions import CalendarReport
from carecal.sync.engine import SyncOptions, sync_calendar
from tests.integration.fault_proxy import Fault, FaultProxy, Record, early_requests
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo
from tests.sync.helpers import ACCOUNT_ID, Replica

T = TypeVar("T")
CLIENT_TIMEOUT = 1.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def vcal(uid: str, summary: str = "Session") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other device//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20250101T000000Z\r\n"
        "DTSTART:20250310T090000Z\r\nDTEND:20250310T095000Z\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@dataclass
class Rig:
    server: ServerInfo
    proxy: FaultProxy
    provider: CalDAVProvider
    calendar: RemoteCalendar  # as seen through the proxy
    direct_url: str  # the same calendar on the server itself

    def server_uids(self) -> list[str]:
        """Every UID the server holds in the calendar, one per resource (bypasses the proxy)."""
        body = (
            '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
            '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
        )
        r = niquests.request(
            "REPORT",
            self.direct_url,
            data=body.encode(),
            headers={"Depth": "1", "Content-Type": "application/xml"},
            auth=(USERNAME, PASSWORD),
            timeout=10,
        )
        assert r.status_code == 207
        text = (r.text or "").replace("\r\n ", "")
        return [ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("UID:")]

    def summary_on_server(self, uid: str) -> str:
        r = niquests.get(self.direct_url + resource_name(uid), auth=(USERNAME, PASSWORD))
        assert r.status_code == 200
        return next(ln[8:] for ln in (r.text or "").splitlines() if ln.startswith("SUMMARY:"))


@pytest.fixture()
def rig(radicale_server: ServerInfo) -> Iterator[Rig]:
    direct = radicale_server.new_calendar()
    with FaultProxy(radicale_server.base_url, stall_seconds=2.0, retry_after=1.0) as proxy:
        url = proxy.translate(direct)
        provider = CalDAVProvider(url, USERNAME, PASSWORD, timeout=CLIENT_TIMEOUT)
        yield Rig(radicale_server, proxy, provider, RemoteCalendar(url, "Practice"), direct)
        run(provider.close())


def _uid() -> str:
    return f"{uuid.uuid4()}@fault.test"


# What each operation sends first that the fault should hit.
Op = Callable[[Rig, str, RemoteRef], Coroutine[Any, Any, object]]


async def _pull(r: Rig, uid: str, ref: RemoteRef) -> object:
    return await r.provider.pull(r.calendar, None)


async def _get(r: Rig, uid: str, ref: RemoteRef) -> object:
    return await r.provider.get(r.calendar, ref.remote_id)


async def _create(r: Rig, uid: str, ref: RemoteRef) -> object:
    new = _uid()
    return await r.provider.create(r.calendar, new, vcal(new))


async def _update(r: Rig, uid: str, ref: RemoteRef) -> object:
    return await r.provider.update(r.calendar, ref, vcal(uid, "Changed"))


async def _delete(r: Rig, uid: str, ref: RemoteRef) -> object:
    await r.provider.delete(r.calendar, ref)
    return None


OPS: dict[str, tuple[Op, str]] = {
    "pull": (_pull, "REPORT"),
    "get": (_get, "REPORT"),
    "create": (_create, "PUT"),
    "update": (_update, "PUT"),
    "delete": (_delete, "DELETE"),
}
FAULTS: dict[Fault, type[CarecalError]] = {
    Fault.DROP_BEFORE: TransientError,
    Fault.DROP_AFTER: TransientError,
    Fault.STATUS_500: TransientError,
    Fault.STATUS_503: TransientError,
    Fault.RATE_LIMIT: RateLimited,
    Fault.TRUNCATE: TransientError,
}
CASES = [(op, f) for op in OPS for f in FAULTS] + [("pull", Fault.STALL), ("create", Fault.STALL)]


@pytest.mark.parametrize(("op", "fault"), CASES, ids=[f"{o}-{f.name}" for o, f in CASES])
def test_each_fault_is_the_right_domain_error(rig: Rig, op: str, fault: Fault) -> None:
    uid = _uid()
    ref = run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    call, method = OPS[op]
    rig.proxy.script(fault, method=method)
    expected = FAULTS.get(fault, TransientError)
    started = time.monotonic()
    with pytest.raises(CarecalError) as info:
        run(call(rig, uid, ref))
    # Exactly the expected class (a RateLimited is a TransientError too, so check both ways).
    assert isinstance(info.value, expected), repr(info.value)
    assert isinstance(info.value, RateLimited) == (fault is Fault.RATE_LIMIT)
    if fault is Fault.RATE_LIMIT:
        assert isinstance(info.value, RateLimited) and info.value.retry_after == 1.0
    if fault is Fault.STALL:
        # The client gives up at its own timeout, not when the stall ends.
        assert time.monotonic() - started < rig.proxy.stall_seconds + 0.5
    assert [r.fault for r in rig.proxy.faults()] == [fault]
    # The session is not poisoned: the same provider works once the network is fine.
    rig.proxy.clear()
    if op in ("update", "delete"):
        current = run(rig.provider.get(rig.calendar, ref.remote_id)) if op == "update" else None
        if current is not None:
            ref = current.ref
    run(call(rig, uid, ref))


def test_a_create_whose_answer_was_lost_is_not_duplicated(rig: Rig) -> None:
    uid = _uid()
    rig.proxy.script(Fault.DROP_AFTER, method="PUT")
    with pytest.raises(TransientError):
        run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    assert rig.server_uids() == [uid]  # the server committed it
    with pytest.raises(PreconditionFailed):
        run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    assert rig.server_uids() == [uid]
    pulled = run(rig.provider.pull(rig.calendar, None))
    assert [i.uid for i in pulled.changed] == [uid]


def test_a_stalled_create_that_commits_late_is_not_duplicated(rig: Rig) -> None:
    uid = _uid()
    rig.proxy.script(Fault.STALL, method="PUT")
    with pytest.raises(TransientError):
        run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    deadline = time.monotonic() + 5
    while rig.server_uids() != [uid] and time.monotonic() < deadline:
        time.sleep(0.1)  # the proxy forwards once its stall is over
    assert rig.server_uids() == [uid]
    with pytest.raises(PreconditionFailed):
        run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    assert rig.server_uids() == [uid]


def test_an_update_or_delete_whose_answer_was_lost(rig: Rig) -> None:
    uid = _uid()
    ref = run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    rig.proxy.script(Fault.DROP_AFTER, method="PUT")
    with pytest.raises(TransientError):
        run(rig.provider.update(rig.calendar, ref, vcal(uid, "Changed")))
    assert rig.summary_on_server(uid) == "Changed"
    # The retry with the old ETag is refused: the caller fetches and sees its own edit there.
    with pytest.raises(PreconditionFailed):
        run(rig.provider.update(rig.calendar, ref, vcal(uid, "Changed")))
    current = run(rig.provider.get(rig.calendar, ref.remote_id))
    assert "SUMMARY:Changed" in current.raw
    rig.proxy.script(Fault.DROP_AFTER, method="DELETE")
    with pytest.raises(TransientError):
        run(rig.provider.delete(rig.calendar, current.ref))
    run(rig.provider.delete(rig.calendar, current.ref))  # already gone counts as done
    assert rig.server_uids() == []


def test_a_write_answered_without_an_etag_still_learns_the_version(rig: Rig) -> None:
    uid = _uid()
    rig.proxy.script(Fault.NO_ETAG, method="PUT")
    ref = run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    assert ref.version and not ref.version.startswith("W/")
    rig.proxy.script(Fault.NO_ETAG, method="PUT")
    ref2 = run(rig.provider.update(rig.calendar, ref, vcal(uid, "Changed")))
    assert ref2.version and ref2.version != ref.version
    run(rig.provider.update(rig.calendar, ref2, vcal(uid, "Again")))  # the version was right
    assert rig.summary_on_server(uid) == "Again"


@pytest.mark.parametrize("method", ["PROPFIND", "REPORT"])
@pytest.mark.parametrize("nth", [1, 2])
def test_a_cut_short_multistatus_is_transient(rig: Rig, method: str, nth: int) -> None:
    for _ in range(3):
        uid = _uid()
        run(rig.provider.create(rig.calendar, uid, vcal(uid)))
    first = run(rig.provider.pull(rig.calendar, None))
    # The nth request of that method in a pull answers a well-formed HTTP message whose XML
    # body stops half way (a first pull sends PROPFIND, sync REPORT, multiget REPORT).
    faults = [Fault.NONE] * (nth - 1) + [Fault.SHORT_BODY]
    for state in (None, first.state):
        rig.proxy.script(*faults, method=method)
        try:
            run(rig.provider.pull(rig.calendar, state))
        except TransientError:
            pass
        else:
            # Only acceptable when the pull sent fewer such requests than nth (never faulted).
            assert not rig.proxy.faults(Fault.SHORT_BODY)
        rig.proxy.clear()
        rig.proxy.records.clear()
    again = run(rig.provider.pull(rig.calendar, None))
    assert sorted(i.uid for i in again.changed) == sorted(i.uid for i in first.changed)


def test_random_faults_never_leak_a_foreign_exception(rig: Rig) -> None:
    rig.proxy.randomize(0.4, seed=7, kinds=[*FAULTS, Fault.SHORT_BODY, Fault.NO_ETAG])
    refs: dict[str, RemoteRef] = {}
    state: str | None = None
    for i in range(40):
        uid = f"r{i % 6}@fault.test"
        try:
            if i % 4 == 3:
                state = run(rig.provider.pull(rig.calendar, state)).state
            elif uid in refs:
                refs[uid] = run(rig.provider.update(rig.calendar, refs[uid], vcal(uid, f"v{i}")))
            else:
                refs[uid] = run(rig.provider.create(rig.calendar, uid, vcal(uid)))
        except PreconditionFailed:
            # The recovery read meets the same random faults: it may fail too, in our own terms.
            with contextlib.suppress(CarecalError):
                refs[uid] = run(rig.provider.get(rig.calendar, "/" + _rel(rig, uid))).ref
        except CarecalError:
            pass
    assert rig.proxy.faults()
    rig.proxy.clear()
    uids = rig.server_uids()
    assert len(uids) == len(set(uids))


def _rel(rig: Rig, uid: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(rig.calendar.remote_id).path.strip("/") + "/" + resource_name(uid)


# --- the sync engine through the proxy ------------------------------------------------------


def _engine_replica(data_dir: Path, remote_id: str) -> Replica:
    session = open_session(data_dir, actor="user")
    repo = session.repo
    repo.add_account(
        Account(ACCOUNT_ID, ProviderKind.CALDAV, "clinic", {"conflict_policy": "ask"}),
        actor="user",
    )
    cal, _ = repo.add_calendar("Practice", "#123456", actor="user", account_id=ACCOUNT_ID)
    cal = replace(cal, remote_id=remote_id)
    repo.update_calendar(cal, actor="user")
    return Replica(data_dir, session, cal)


def _sync(replica: Replica, provider: CalDAVProvider) -> CalendarReport:
    """One cycle as the scheduler runs it (not forced: items wait for their retry time)."""
    cal = replica.session.repo.get_calendar(replica.calendar.id)
    opts = SyncOptions(force=False, rng=random.Random(1))
    return run(sync_calendar(replica.session.repo, provider, cal, replica.account(), opts))


def _server_titles(server: ServerInfo, direct_url: str) -> list[tuple[str, str]]:
    p = CalDAVProvider(direct_url, USERNAME, PASSWORD)
    items = run(p.pull(RemoteCalendar(direct_url, "x"), None)).changed
    run(p.close())
    return [(i.uid, p.to_events(i, "x")[0].title) for i in items]


EDITS = 40
SEED = 20260301


@dataclass
class Outcome:
    records: list[Record]
    expected: dict[str, str | None]  # uid -> last local title (None: deleted)
    conflicted: set[str]
    on_server: list[tuple[str, str]]  # (uid, title) per resource


def _edit_and_sync_through_faults(
    server: ServerInfo, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Outcome:
    """N seeded random local edits, synced through ~20% faults, then faults off and sync until
    quiet (no error, nothing unsent)."""
    # Shorter backoff steps keep the test fast; Retry-After still sets the floor.
    monkeypatch.setattr(retry, "BASE_DELAY_SECONDS", 0.2)
    direct = server.new_calendar()
    rng = random.Random(SEED)
    expected: dict[str, str | None] = {}
    with FaultProxy(server.base_url, retry_after=1.0) as proxy:
        provider = CalDAVProvider(proxy.translate(direct), USERNAME, PASSWORD, timeout=1.0)
        replica = _engine_replica(data_dir, proxy.translate(direct))
        try:
            proxy.randomize(0.2, seed=SEED, kinds=[*FAULTS, Fault.SHORT_BODY, Fault.NO_ETAG])
            proxy.script(Fault.RATE_LIMIT, method="PUT")  # at least one 429 on a write
            for n in range(EDITS):
                alive = sorted(u for u, t in expected.items() if t is not None)
                roll = rng.random()
                if not alive or roll < 0.5:
                    e = replica.add(f"New {n}", hour=8 + n % 9)
                    expected[e.uid] = e.title
                elif roll < 0.85:
                    uid = rng.choice(alive)
                    replica.edit(uid, title=f"Edit {n}")
                    expected[uid] = f"Edit {n}"
                else:
                    uid = rng.choice(alive)
                    replica.delete(uid)
                    expected[uid] = None
                if n % 3 == 2:
                    _sync(replica, provider)
            assert proxy.faults(), "the seeded run injected no fault"
            proxy.clear()
            quiet = False
            deadline = time.monotonic() + 25
            while time.monotonic() < deadline:
                report = _sync(replica, provider)
                ops = replica.store.item_ops(replica.calendar.id)
                if report.ok and not ops:
                    quiet = True
                    break
                waits = [
                    datetime.fromisoformat(o.next_attempt_at)
                    for item in ops.values()
                    for o in item
                    if o.next_attempt_at
                ]
                pause = (min(waits) - datetime.now(UTC)).total_seconds() if waits else 0.1
                time.sleep(min(2.0, max(0.05, pause)))
            assert quiet, (report.errors, replica.store.item_ops(replica.calendar.id))
            records = list(proxy.records)
            conflicted = {c.uid for c in replica.store.open_conflicts()}
        finally:
            run(provider.close())
            replica.session.close()

    return Outcome(records, expected, conflicted, _server_titles(server, direct))


@pytest.fixture(scope="module")
def outcome(
    radicale_server: ServerInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outcome]:
    with pytest.MonkeyPatch.context() as mp:
        yield _edit_and_sync_through_faults(
            radicale_server, tmp_path_factory.mktemp("engine") / "a", mp
        )


def test_engine_converges_without_duplicates_or_lost_edits(outcome: Outcome) -> None:
    uids = [u for u, _ in outcome.on_server]
    assert len(uids) == len(set(uids)), "a UID is on the server twice"
    titles = dict(outcome.on_server)
    for uid, title in outcome.expected.items():
        if uid in outcome.conflicted:
            continue  # kept in the conflict inbox
        assert titles.get(uid) == title, (uid, title, titles.get(uid))
    assert set(titles) <= set(outcome.expected)
    assert [r for r in outcome.records if r.fault is not Fault.NONE]


def test_engine_sends_nothing_before_retry_after(outcome: Outcome) -> None:
    assert [r for r in outcome.records if r.status == 429 and r.method in ("PUT", "DELETE")]
    early = early_requests(outcome.records)
    assert not early, [
        (a.method, a.path, b.method, b.path, round(b.at - a.at, 3)) for a, b in early
    ]
