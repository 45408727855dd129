"""Two replicas and one MemoryProvider driven by random local/remote edits, outages, expired
tokens, 412s and restarts: after syncing until quiet they converge, hold no duplicates, and
lose no edit (each is on the server or in a conflict inbox)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from carecal.domain.errors import TransientError
from carecal.providers.memory import MemoryProvider
from carecal.sync.conflicts import list_conflicts
from tests.sync.helpers import REMOTE, Replica, open_replica, remote_titles, vevent

_names = itertools.count()


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.provider = MemoryProvider([REMOTE])
        self.replicas = [open_replica(Path(self.tmp.name) / n) for n in ("a", "b")]
        self.latest: dict[str, str] = {}  # uid -> the last title anyone wrote

    def teardown(self) -> None:
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
        if title:
            t = self._title()
            r.edit(uid, title=t)
            self.latest[uid] = t
        else:
            r.edit(uid, location=self._title())

    @rule(which=st.integers(0, 1), data=st.data())
    def local_delete(self, which: int, data: st.DataObject) -> None:
        r = self.replicas[which]
        uid = self._pick(r, data)
        if uid is not None:
            r.delete(uid)
            self.latest.pop(uid, None)

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
        self.replicas[which].sync(self.provider)
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
        r.edit(uid, location=self._title())
        t = self._title()
        self.provider.put_from_elsewhere("cal1", uid, vevent(uid, t))
        self.latest[uid] = t
        r.sync(self.provider)

    @rule(which=st.integers(0, 1))
    def restart(self, which: int) -> None:
        self.replicas[which].reopen()

    @rule(which=st.integers(0, 1))
    def sync(self, which: int) -> None:
        self.replicas[which].sync(self.provider, allow_mass_delete=True)

    @precondition(lambda self: True)
    @invariant()
    def converges_when_quiet(self) -> None:
        for _ in range(3):
            for r in self.replicas:
                r.sync(self.provider, allow_mass_delete=True)
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


SyncMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSync = SyncMachine.TestCase
