"""Low-level reads and writes of ``events`` rows (and their participants, bounds, tombstones).

No transactions, audit or outbox here: ``Repository`` wraps these calls so each mutation is one
transaction. Hot paths (window query, import) use plain SQL and ``executemany``.

Threads: the caller's (the owning Repository's) thread; every call does disk I/O and raises
StoreError on database failure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from carecal.domain.errors import ValidationError
from carecal.domain.models import Attendance, Event, Participant
from carecal.store.bounds import series_bounds_seconds
from carecal.store.codec import (
    EVENT_FIELDS,
    KIND_MASTER,
    KIND_OVERRIDE,
    KIND_SINGLE,
    event_kind,
    event_values,
    participants_values,
    utc_seconds,
)
from carecal.store.db import Database
from carecal.store.decode import LEAN_FIELDS, RowDecoder
from carecal.store.search import index_new_events_sql

_COLS = ", ".join(EVENT_FIELDS)
_INSERT = (
    f"INSERT INTO events ({_COLS}, pending, created_at, updated_at) "
    f"VALUES ({', '.join('?' for _ in EVENT_FIELDS)}, ?, ?, ?)"
)
# id stays; sync columns (remote_id, remote_version, base) belong to the sync engine.
_UPDATE = (
    "UPDATE events SET "
    + ", ".join(f"{c} = ?" for c in EVENT_FIELDS[1:])
    + ", pending = ?, updated_at = ? WHERE id = ?"
)
_LONGEST_KEY = "longest_single_seconds"
_CHUNK = 500
_N_PARTS = EVENT_FIELDS.index("n_participants")
# Window rows: the rowid (the cache key) and the lean columns.
_LEAN_ROW = ("rowid", *LEAN_FIELDS)
_LEAN_COLS = ", ".join(_LEAN_ROW)
_LEAN_ID = _LEAN_ROW.index("id")
_LEAN_PARTS = _LEAN_ROW.index("n_participants")
_CACHE_MAX = 50_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def window_seconds(start: datetime, end: datetime) -> tuple[int, int]:
    """Integer UTC seconds of a window; raises ValidationError for naive or reversed windows."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("a time window needs times with a time zone")
    if end < start:
        raise ValidationError("a time window cannot end before it starts")
    return (
        math.floor((start - _EPOCH).total_seconds()),
        math.ceil((end - _EPOCH).total_seconds()),
    )


class EventRows:
    def __init__(self, db: Database, floating_tz: Callable[[], tzinfo]) -> None:
        self._db = db
        self._floating_tz = floating_tz
        self._full: RowDecoder | None = None
        self._lean: RowDecoder | None = None
        # Lean window Events by rowid. Valid while nothing wrote to the database: our own writes
        # clear it (every write to ``events`` goes through this class), other connections' writes
        # change ``PRAGMA data_version``; inside a transaction it is not used at all (a rollback
        # would leave it holding rows that never were).
        self._cache: dict[int, Event] = {}
        self._cache_conn: object | None = None
        self._cache_version = -1

    # --- reads -----------------------------------------------------------------------------

    def _decoders(self) -> tuple[RowDecoder, RowDecoder]:
        tz = self._floating_tz()
        if self._full is None or self._lean is None or self._full.floating_tz is not tz:
            self._full = RowDecoder(EVENT_FIELDS, tz)
            self._lean = RowDecoder(_LEAN_ROW, tz)
            self._cache = {}
        return self._full, self._lean

    def load(self, where: str, params: Sequence[Any] = (), *, order: str = "") -> list[Event]:
        """Whole events (``raw`` included) of ``SELECT ... FROM events WHERE <where>``."""
        sql = f"SELECT {_COLS} FROM events WHERE {where} {order}"
        return self._build(self._db.execute(sql, tuple(params)).fetchall())

    def _build(self, rows: list[tuple[Any, ...]]) -> list[Event]:
        """Whole events of full rows; never cached (these feed edits and exports)."""
        if not rows:
            return []
        full, _ = self._decoders()
        with_parts = [r[0] for r in rows if r[_N_PARTS]]
        parts = self._participants(with_parts) if with_parts else {}
        return [full.decode(r, parts.get(r[0], ())) for r in rows]

    def _participants(self, ids: Sequence[str]) -> dict[str, list[Participant]]:
        found: dict[str, list[Participant]] = defaultdict(list)
        for part in chunks(ids):
            cursor = self._db.execute(
                "SELECT event_id, patient_id, attendance FROM event_participants "
                f"WHERE event_id IN ({marks(len(part))}) ORDER BY event_id, position",
                tuple(part),
            )
            for event_id, patient_id, attendance in cursor.fetchall():
                found[event_id].append(Participant(patient_id, Attendance(attendance)))
        return found

    def by_ids(self, ids: Sequence[str]) -> list[Event]:
        out: list[Event] = []
        for part in chunks(ids):
            out.extend(self.load(f"id IN ({marks(len(part))})", part))
        return out

    def overrides_of(self, master_ids: Sequence[str]) -> list[Event]:
        out: list[Event] = []
        for part in chunks(master_ids):
            rows = self._db.execute(overrides_sql(len(part)), tuple(part)).fetchall()
            out.extend(self._build(rows))
        return out

    def in_window(
        self,
        start: datetime,
        end: datetime,
        calendar_ids: Collection[str] | None,
        *,
        cached: bool = True,
    ) -> list[Event]:
        """Singles overlapping the window, masters whose bounds overlap it, and all overrides
        of those masters; every part is an index search (see ``window_sql``). The Events are
        lean: ``raw`` is None (load the event by id to edit or export it). ``cached=False``
        (one-off reads such as exports) neither uses nor fills the cache."""
        ws, we = window_seconds(start, end)
        if calendar_ids is not None and not calendar_ids:
            return []
        _, lean = self._decoders()
        singles_sql, masters_sql, cal_params = window_sql(calendar_ids)
        lo = ws - self.longest_single()
        singles = self._db.execute(singles_sql, (lo, we, ws, ws, *cal_params)).fetchall()
        masters = self._db.execute(masters_sql, (we, ws, ws, *cal_params)).fetchall()
        # A window of years (an export) would hold the whole calendar in memory.
        small = len(singles) + len(masters) <= _CACHE_MAX // 2
        cache = self._window_cache() if cached and small else None
        events = self._lean_by_rowids([r[0] for r in singles], lean, cache)
        series = self._lean_by_rowids([r[0] for r in masters], lean, cache)
        events.extend(series)
        if series:
            master_ids = [e.id for e in series]
            rowids: list[int] = []
            for part in chunks(master_ids):
                sql = overrides_sql(len(part), columns="rowid")
                rowids.extend(r[0] for r in self._db.execute(sql, tuple(part)).fetchall())
            events.extend(self._lean_by_rowids(rowids, lean, cache))
        return events

    def _window_cache(self) -> dict[int, Event] | None:
        """The lean-Event cache if it may be used now (cleared when another connection wrote)."""
        conn = self._db.conn()
        if conn.in_transaction:
            return None
        version = int(self._db.execute("PRAGMA data_version").fetchone()[0])
        if conn is not self._cache_conn or version != self._cache_version:
            self._cache = {}
            self._cache_conn = conn
            self._cache_version = version
        elif len(self._cache) > _CACHE_MAX:
            self._cache = {}
        return self._cache

    def _lean_by_rowids(
        self, rowids: Sequence[int], lean: RowDecoder, cache: dict[int, Event] | None
    ) -> list[Event]:
        known = cache if cache is not None else {}
        missing = [r for r in rowids if r not in known]
        built: dict[int, Event] = {}
        for part in chunks(missing):
            rows = self._db.execute(
                f"SELECT {_LEAN_COLS} FROM events WHERE rowid IN ({marks(len(part))})",
                tuple(part),
            ).fetchall()
            with_parts = [r[_LEAN_ID] for r in rows if r[_LEAN_PARTS]]
            parts = self._participants(with_parts) if with_parts else {}
            for r in rows:
                built[r[0]] = lean.decode(r, parts.get(r[_LEAN_ID], ()))
        if cache is not None:
            cache.update(built)
            known = cache
        else:
            known = built
        # A row deleted by another connection between the two statements is left out.
        return [known[r] for r in rowids if r in known]

    def forget(self) -> None:
        """Drop cached window Events; every write to ``events`` calls this first."""
        self._cache = {}

    def longest_single(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (_LONGEST_KEY,)).fetchone()
        return 0 if row is None else int(row[0])

    # --- writes ----------------------------------------------------------------------------

    def insert(
        self,
        events: Sequence[Event],
        now: str,
        pending: bool,
        values: Mapping[str, tuple[Any, ...]] | None = None,
    ) -> None:
        """Insert rows (masters and singles before overrides, for the master_id reference).
        ``values``: event id -> ``event_values``, for events the caller has encoded already."""
        self.forget()
        ordered = sorted(events, key=lambda e: e.recurrence_id is not None)
        known = values or {}
        rows = [(*(known.get(e.id) or event_values(e)), int(pending), now, now) for e in ordered]
        kind, start, end = (EVENT_FIELDS.index(c) for c in ("kind", "start_utc", "end_utc"))
        spans = [r[end] - r[start] for r in rows if r[kind] == KIND_SINGLE]
        parts = [p for e in ordered for p in participants_values(e)]
        with self._db.transaction():
            self._db.executemany(_INSERT, rows)
            if parts:
                self._db.executemany(
                    "INSERT INTO event_participants (event_id, position, patient_id, attendance) "
                    "VALUES (?, ?, ?, ?)",
                    parts,
                )
            ids = [(e.id,) for e in ordered]
            self._db.executemany("INSERT INTO search_docs (event_id) VALUES (?)", ids)
            for part in chunks([e.id for e in ordered]):
                self._db.execute(index_new_events_sql(len(part)), tuple(part))
        self._note_longest(max(spans, default=0))

    def update(self, events: Sequence[Event], now: str, pending: bool) -> None:
        """Rewrite the Event columns of existing rows (sync columns are kept)."""
        self.forget()
        rows = [(*event_values(e)[1:], int(pending), now, e.id) for e in events]
        with self._db.transaction():
            self._db.executemany(_UPDATE, rows)
            self._db.executemany(
                "DELETE FROM event_participants WHERE event_id = ?", [(e.id,) for e in events]
            )
            parts = [p for e in events for p in participants_values(e)]
            if parts:
                self._db.executemany(
                    "INSERT INTO event_participants (event_id, position, patient_id, attendance) "
                    "VALUES (?, ?, ?, ?)",
                    parts,
                )
            self._db.executemany(
                "UPDATE events SET first_start_utc = NULL, last_end_utc = NULL "
                "WHERE id = ? AND kind != ?",
                [(e.id, KIND_MASTER) for e in events],
            )
        self.note_spans(events)

    def delete(self, events: Sequence[Event], now: str) -> None:
        """Delete rows (overrides first) and leave a tombstone for each, for sync."""
        self.forget()
        ordered = sorted(events, key=lambda e: e.recurrence_id is None)
        ids = [e.id for e in ordered]
        with self._db.transaction():
            self._db.executemany(
                "INSERT INTO tombstones (event_id, calendar_id, uid, recurrence_id, remote_id, "
                "remote_version, deleted_at) SELECT id, calendar_id, uid, recurrence_id, "
                "remote_id, remote_version, ? FROM events WHERE id = ?",
                [(now, i) for i in ids],
            )
            self._db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in ids])

    def drop_tombstones(self, ids: Sequence[str]) -> None:
        self._db.executemany("DELETE FROM tombstones WHERE event_id = ?", [(i,) for i in ids])

    def note_spans(self, events: Iterable[Event]) -> None:
        """Raise the stored longest single span if one of ``events`` is longer (never lowered:
        a too-large value only widens the window scan a little)."""
        values = [_span_seconds(e) for e in events if event_kind(e) == KIND_SINGLE]
        self._note_longest(max(values, default=0))

    def _note_longest(self, longest: int) -> None:
        if longest > self.longest_single():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (_LONGEST_KEY, str(longest)),
            )

    def link_orphans(self, calendar_id: str, masters: dict[str, str]) -> None:
        """Point overrides stored without a master at the master now known for their uid."""
        self.forget()
        self._db.executemany(
            "UPDATE events SET master_id = ?, kind = ?, first_start_utc = NULL, "
            "last_end_utc = NULL WHERE calendar_id = ? AND uid = ? AND recurrence_id != '' "
            "AND master_id IS NULL",
            [(mid, KIND_OVERRIDE, calendar_id, uid) for uid, mid in masters.items()],
        )

    def refresh_bounds(self, master_ids: Collection[str]) -> None:
        """Store each master's series bounds, widened to cover its overrides' own spans (an
        occurrence moved far from its series must still be found)."""
        if not master_ids:
            return
        spans: dict[str, tuple[int, int]] = {}
        ids = list(master_ids)
        for part in chunks(ids):
            cursor = self._db.execute(
                "SELECT master_id, MIN(start_utc), MAX(end_utc) FROM events "
                f"WHERE master_id IN ({marks(len(part))}) GROUP BY master_id",
                tuple(part),
            )
            spans.update({m: (int(a), int(b)) for m, a, b in cursor.fetchall()})
        updates = []
        for master in self.by_ids(ids):
            if not master.is_recurring or master.is_override:
                continue
            first, last = series_bounds_seconds(master)
            if master.id in spans:
                o_first, o_last = spans[master.id]
                first = min(first, o_first)
                last = None if last is None else max(last, o_last)
            updates.append((first, last, master.id))
        self._db.executemany(
            "UPDATE events SET first_start_utc = ?, last_end_utc = ? WHERE id = ?", updates
        )

    def existing_keys(
        self, calendar_id: str, uids: Sequence[str]
    ) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(uid, recurrence key) -> (id, master_id) of rows in a calendar with these uids."""
        found: dict[tuple[str, str], tuple[str, str | None]] = {}
        for part in chunks(uids):
            cursor = self._db.execute(
                "SELECT uid, recurrence_id, id, master_id FROM events "
                f"WHERE calendar_id = ? AND uid IN ({marks(len(part))})",
                (calendar_id, *part),
            )
            for uid, rid, eid, mid in cursor.fetchall():
                found[(uid, rid)] = (eid, mid)
        return found

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        out: set[str] = set()
        for part in chunks(ids):
            cursor = self._db.execute(
                f"SELECT id FROM events WHERE id IN ({marks(len(part))})", tuple(part)
            )
            out.update(r[0] for r in cursor.fetchall())
        return out


def _span_seconds(event: Event) -> int:
    fl = event.floating
    return utc_seconds(event.end, floating=fl, edge="end") - utc_seconds(
        event.start, floating=fl, edge="start"
    )


def window_sql(calendar_ids: Collection[str] | None) -> tuple[str, str, tuple[str, ...]]:
    """The singles and masters window queries (parameters: singles lo, we, ws, ws; masters
    we, ws, ws; then calendar ids). ``+calendar_id`` keeps the planner on the span indexes."""
    cal_clause = ""
    cal_params: tuple[str, ...] = ()
    if calendar_ids is not None:
        cal_params = tuple(calendar_ids)
        cal_clause = f" AND +calendar_id IN ({marks(len(cal_params))})" if cal_params else ""
    singles = (
        f"SELECT rowid FROM events INDEXED BY events_span WHERE kind = {KIND_SINGLE} "
        "AND start_utc >= ? AND start_utc < ? AND (end_utc > ? OR start_utc >= ?)" + cal_clause
    )
    masters = (
        f"SELECT rowid FROM events INDEXED BY events_series WHERE kind = {KIND_MASTER} "
        "AND first_start_utc < ? "
        "AND (last_end_utc IS NULL OR last_end_utc > ? OR first_start_utc >= ?)" + cal_clause
    )
    return singles, masters, cal_params


def overrides_sql(n: int, *, columns: str = _COLS) -> str:
    """Overrides of ``n`` masters, through the master_id index whatever the statistics say."""
    return (
        f"SELECT {columns} FROM events INDEXED BY events_master "
        f"WHERE master_id IN ({marks(n)}) ORDER BY master_id, recurrence_id"
    )
