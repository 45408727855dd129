"""Two replicas and one MemoryProvider driven by random local/remote edits, outages, transient
faults at random points of push and pull, lost answers to applied writes, expired tokens, 412s,
restarts and syncs that respect backoff on a fake clock. After quiescence (faults off, the clock
past every backoff, both replicas synced until nothing changes) the replicas and the server
converge on every item not in conflict, hold no duplicate UIDs, and lose no edit (each is on
the server or recoverable from a conflict inbox)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from carecal.domain.errors import RateLimited, TransientError
from carecal.sync.conflicts import list_conflicts
from tests.sync.helpers import (
    FakeClock,
    FaultyProvider,
    Replica,
    open_replica,
    remote_titles,
    vevent,
)

_names = itertools.count()


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.provider = FaultyProvider()
        self.clock = FakeClock()
        self.replicas = [open_replica(Path(self.tmp.name) / n) for n in ("a", "b")]
        self.latest: dict[str, str] = {}  # uid -> the last title anyone wrote
        # (replica, uid, field) -> a local edit not yet seen on the server: at quiescence it
        # must be there or in that replica's conflict inbox, whatever happened meanwhile.
        self.outstanding: dict[tuple[int, str, str], str] = {}

    def teardown(self) -> None:
        try:
            self.check_quiet()
        finally:
            for r in self.replicas:
                r.session.close()
            self.tmp.cleanup()

    def _title(self) -> str:
        return f"T{next(_names)}"

    def _pick(self, replica: Replica, data: st.DataObject) -> str | None:
        uids = sorted(replica.uids() - replica.store.conflicted_uids(replica.calendar.id))
        return data.draw(st.sampled_from(uids)) if uids else None

    @rule(which=st.integers(0, 1))
    def local_create(self, which: int) -> None:
        title = self._title()
        event = self.replicas[which].add(title, 9 + which)
        self.latest[event.uid] = title

    @rule(which=st.integers(0, 1), data=st.data(), title=st.booleans())
    def local_edit(self, which: int, data: st.DataObject, title: bool) -> None:
        r = self.replicas[which]
        uid = self._pick(r, data)
        if uid is None:
            return
        field, value = ("title" if title else "location"), self._title()
        r.edit(uid, **{field: value})
        self.outstanding[(which, uid, field)] = value
        if title:
            self.latest[uid] = value

    @rule(which=st.integers(0, 1), data=st.data())
    def local_delete(self, which: int, data: st.DataObject) -> None:
        r = self.replicas[which]
        uid = self._pick(r, data)
        if uid is not None:
            r.delete(uid)
            self.latest.pop(uid, None)
            for key in [k for k in self.outstanding if k[:2] == (which, uid)]:
                del self.outstanding[key]

    @rule()
    def remote_create(self) -> None:
        uid, t = f"x{next(_names)}@elsewhere", self._title()
        self.provider.put_from_elsewhere("cal1", uid, vevent(uid, t))
        self.latest[uid] = t

    @rule(data=st.data())
    def remote_edit(self, data: st.DataObject) -> None:
        items = sorted(self.provider.items("cal1").values(), key=lambda i: i.uid)
        if items:
            item = data.draw(st.sampled_from(items))
            t = self._title()
            self.provider.put_from_elsewhere("cal1", item.uid, vevent(item.uid, t))
            self.latest[item.uid] = t

    @rule(data=st.data())
    def remote_delete(self, data: st.DataObject) -> None:
        items = sorted(self.provider.items("cal1").values(), key=lambda i: i.uid)
        if items:
            item = data.draw(st.sampled_from(items))
            self.provider.delete_from_elsewhere("cal1", item.ref.remote_id)
            self.latest.pop(item.uid, None)

    @rule(which=st.integers(0, 1), calls=st.integers(0, 3))
    def offline(self, which: int, calls: int) -> None:
        self.provider.fail_next = [TransientError("offline")] * (calls + 1)
        self.replicas[which].sync(self.provider, self.clock, force=True)
        self.provider.fail_next = []

    @rule()
    def expire_tokens(self) -> None:
        self.provider.expire_tokens("cal1")

    @rule(which=st.integers(0, 1), data=st.data())
    def edit_between_read_and_push(self, which: int, data: st.DataObject) -> None:
        # A 412: the replica edits, someone else changes the same item, then the replica pushes.
        r = self.replicas[which]
        uid = self._pick(r, data)
        if uid is None or r.store.item(r.calendar.id, uid) is None:
            return
        loc = self._title()
        r.edit(uid, location=loc)
        self.outstanding[(which, uid, "location")] = loc
        t = self._title()
        self.provider.put_from_elsewhere("cal1", uid, vevent(uid, t))
        self.latest[uid] = t
        r.sync(self.provider, self.clock, force=True)

    @rule(which=st.integers(0, 1), data=st.data(), title=st.booleans())
    def edit_while_backing_off(self, which: int, data: st.DataObject, title: bool) -> None:
        # The push of a local edit fails and waits for its retry time; meanwhile the item
        # changes remotely and a scheduled sync pulls it: the pull must merge, not overwrite.
        r = self.replicas[which]
        uid = self._pick(r, data)
        if uid is None or r.store.item(r.calendar.id, uid) is None:
            return
        r.sync(self.provider, self.clock, force=True, allow_mass_delete=True)  # queue empty
        if r.store.item_ops(r.calendar.id) or uid not in r.uids():
            return
        field, value = ("title" if title else "location"), self._title()
        r.edit(uid, **{field: value})
        self.outstanding[(which, uid, field)] = value
        self.provider.fail_next = [TransientError("503")]
        r.sync(self.provider, self.clock, allow_mass_delete=True)
        t = self._title()
        self.provider.put_from_elsewhere("cal1", uid, vevent(uid, t, extra="LOCATION:Room 1\r\n"))
        self.latest[uid] = t
        r.sync(self.provider, self.clock, allow_mass_delete=True)

    @rule(which=st.integers(0, 1))
    def restart(self, which: int) -> None:
        self.replicas[which].reopen()

    @rule(which=st.integers(0, 1))
    def sync(self, which: int) -> None:
        self.replicas[which].sync(self.provider, self.clock, force=True, allow_mass_delete=True)

    @rule(minutes=st.sampled_from([0.05, 0.5, 2, 20]))
    def time_passes(self, minutes: float) -> None:
        self.clock.advance(minutes)

    @rule(which=st.integers(0, 1))
    def scheduled_sync(self, which: int) -> None:
        # As the scheduler runs it: ops still waiting for their backoff time are not sent.
        self.replicas[which].sync(self.provider, self.clock, allow_mass_delete=True)

    @rule(which=st.integers(0, 1), at=st.integers(0, 5), limited=st.booleans())
    def fault_mid_sync(self, which: int, at: int, limited: bool) -> None:
        # A transient failure of the at-th request of this run: a create, an update, a get
        # after a 412 or the pull, whichever comes there.
        error = RateLimited("429", retry_after=90) if limited else TransientError("503")
        self.provider.arm(at, error)
        self.replicas[which].sync(self.provider, self.clock, allow_mass_delete=True)
        self.provider.calm()

    @rule(which=st.integers(0, 1), force=st.booleans())
    def lost_answer(self, which: int, force: bool) -> None:
        # The server applies the next create/update but its answer never arrives.
        self.provider.lose = 1
        r = self.replicas[which]
        if force:
            r.sync(self.provider, self.clock, force=True, allow_mass_delete=True)
        else:
            r.sync(self.provider, self.clock, allow_mass_delete=True)
        self.provider.calm()

    def _quiesce(self) -> None:
        self.provider.calm()
        self.clock.advance(60)  # past every backoff (capped at 15 minutes)
        for _ in range(6):
            before = self._snapshot()
            for r in self.replicas:
                report = r.sync(self.provider, self.clock, allow_mass_delete=True)
                assert not report.cancelled
            if self._snapshot() == before:
                return
        raise AssertionError("the replicas never went quiet")

    def _snapshot(self) -> object:
        server = sorted((i.uid, i.ref.version) for i in self.provider.items("cal1").values())
        local = [
            sorted((e.uid, e.title, e.location) for u in r.uids() for e in r.by_uid(u))
            for r in self.replicas
        ]
        pending = [len(r.store.pending_ops(r.calendar.id)) for r in self.replicas]
        return server, local, pending

    def _server_fields(self) -> dict[str, dict[str, object]]:
        out = {}
        for item in self.provider.items("cal1").values():
            master = self.provider.to_events(item, "x")[0]
            out[item.uid] = {"title": master.title, "location": master.location}
        return out

    @invariant()
    def note_delivered_edits(self) -> None:
        server = self._server_fields()
        for key, value in list(self.outstanding.items()):
            if server.get(key[1], {}).get(key[2]) == value:
                del self.outstanding[key]

    @rule()
    def check_quiet(self) -> None:
        self._quiesce()
        self.note_delivered_edits()
        self._check_converged()

    def _check_converged(self) -> None:
        server = self.provider.items("cal1")
        server_uids = [i.uid for i in server.values()]
        assert len(server_uids) == len(set(server_uids)), "duplicate UID on the server"
        titles = remote_titles(self.provider)
        conflicted: set[str] = set()
        recoverable: dict[str, set[str]] = {}
        for r in self.replicas:
            for c in list_conflicts(r.session.repo):
                conflicted.add(c.uid)
                for side in (c.local, c.remote):
                    for e in (side or {}).values():
                        recoverable.setdefault(c.uid, set()).add(e.title)
        for r in self.replicas:
            rows = r.store.local_counts(r.calendar.id)
            assert all(n == 1 for n in rows.values()), "duplicate rows"
            for uid in set(rows) | set(titles):
                if uid in conflicted:
                    continue
                assert uid in rows and uid in titles, f"{uid} differs"
                assert r.by_uid(uid)[0].title == titles[uid]
        for uid, title in self.latest.items():
            if titles.get(uid) == title or title in recoverable.get(uid, set()):
                continue
            raise AssertionError(f"lost edit {title!r} of {uid}")
        for (which, uid, name), value in self.outstanding.items():
            inbox = [c for c in list_conflicts(self.replicas[which].session.repo) if c.uid == uid]
            kept = {getattr(e, name) for c in inbox for e in (c.local or {}).values()}
            assert value in kept, f"local edit {name}={value!r} of {uid} lost"


SyncMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSync = SyncMachine.TestCase
