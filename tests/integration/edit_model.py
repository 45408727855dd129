"""What the sync tests expect an appointment to be after everything has synced.

Every acknowledged write, local (a ``carecal`` command that exited 0) or remote (a PUT/DELETE
by another client, which always reads the server's current resource first), is recorded in the
order it happened. The expected final value of each text field is the one written last; an
item whose last write is a deletion is expected gone. An item may instead sit in the conflict
inbox, but only when both this computer and another client wrote it (a conflict on an item
nobody else touched would be the engine tripping over its own, interrupted, pushes).

Runs on the test's thread; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.integration.cli_client import EVENT_FIELDS, Item


@dataclass
class Expected:
    """One item's expected state: its fields, whether it exists, and the times for imports."""

    uid: str
    start: str  # UTC, YYYYMMDDTHHMMSSZ
    end: str
    fields: dict[str, str]
    alive: bool = True
    event_id: str | None = None
    local_writes: int = 0
    remote_writes: int = 0


@dataclass
class EditModel:
    items: dict[str, Expected] = field(default_factory=dict)
    acked_local: int = 0
    refused_local: int = 0
    remote_edits: int = 0

    def create(
        self, uid: str, start: str, end: str, fields: dict[str, str], *, remote: bool
    ) -> None:
        exp = Expected(uid, start, end, {f: fields.get(f, "") for f in EVENT_FIELDS})
        self.items[uid] = exp
        self._count(exp, remote)

    def write(self, uid: str, values: dict[str, str], *, remote: bool) -> None:
        exp = self.items[uid]
        exp.fields.update(values)
        self._count(exp, remote)

    def delete(self, uid: str, *, remote: bool) -> None:
        exp = self.items[uid]
        exp.alive = False
        self._count(exp, remote)

    def _count(self, exp: Expected, remote: bool) -> None:
        if remote:
            exp.remote_writes += 1
            self.remote_edits += 1
        else:
            exp.local_writes += 1
            self.acked_local += 1

    def alive(self) -> list[Expected]:
        return [e for e in self.items.values() if e.alive]

    def may_conflict(self, uid: str) -> bool:
        exp = self.items.get(uid)
        return exp is not None and exp.local_writes > 0 and exp.remote_writes > 0

    def expected_item(self, uid: str) -> Item:
        f = self.items[uid].fields
        return Item(uid, f["title"], f["location"], f["notes"])
