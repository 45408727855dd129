"""The booking-request inbox table (schema version 6).

A request is stored once per stable id (see ``services.requests``): adding a row whose id is
known already changes nothing, so importing the same file twice adds no duplicates. Booking or
declining a request only changes its state; no row is ever deleted (the history stays).

Threads: the caller's thread (one connection per thread); every call does disk I/O and raises
StoreError on database failure. Times are aware UTC datetimes, stored as ISO text.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carecal.domain.errors import NotFound, ValidationError
from carecal.store.db import Database


class RequestState(enum.StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class PreferredWindow:
    """A wished date with an optional local time range (None, None = any time that day)."""

    day: str  # ISO date
    start: str | None = None  # "HH:MM" local time
    end: str | None = None


@dataclass(frozen=True, slots=True)
class BookingRequest:
    id: str
    name: str
    phone: str = ""
    email: str = ""
    service: str = ""
    windows: tuple[PreferredWindow, ...] = ()
    note: str = ""
    source: str = ""
    external_id: str = ""
    origin: str = ""  # the file (and line) it came from
    state: RequestState = RequestState.OPEN
    event_id: str | None = None
    patient_id: str | None = None
    received_at: datetime | None = None
    decided_at: datetime | None = None


_COLS = (
    "id, external_id, name, phone, email, service, windows, note, source, origin, state, "
    "event_id, patient_id, received_at, decided_at"
)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def windows_json(windows: Sequence[PreferredWindow]) -> str:
    """The windows as the compact JSON the table keeps. Any thread."""
    return json.dumps([[w.day, w.start, w.end] for w in windows], separators=(",", ":"))


def _windows(text: str) -> tuple[PreferredWindow, ...]:
    try:
        items = json.loads(text)
    except ValueError:
        return ()
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, list) and len(item) == 3 and isinstance(item[0], str):
            out.append(PreferredWindow(item[0], item[1], item[2]))
    return tuple(out)


def _row(r: Sequence[Any]) -> BookingRequest:
    return BookingRequest(
        id=r[0],
        external_id=r[1],
        name=r[2],
        phone=r[3],
        email=r[4],
        service=r[5],
        windows=_windows(r[6]),
        note=r[7],
        source=r[8],
        origin=r[9],
        state=RequestState(r[10]),
        event_id=r[11],
        patient_id=r[12],
        received_at=datetime.fromisoformat(r[13]),
        decided_at=None if r[14] is None else datetime.fromisoformat(r[14]),
    )


class RequestStore:
    """Queries and state changes of ``booking_requests`` (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, request_id: str) -> BookingRequest:
        """Raises NotFound."""
        row = self._db.execute(
            f"SELECT {_COLS} FROM booking_requests WHERE id = ?", (request_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"no booking request with id {request_id}")
        return _row(row)

    def all(self, states: Sequence[RequestState] | None = None) -> list[BookingRequest]:
        """Requests in ``states`` (all when None): open ones oldest first, the rest newest
        decision first."""
        params: tuple[str, ...] = ()
        where = ""
        if states:
            where = f"WHERE state IN ({', '.join('?' for _ in states)})"
            params = tuple(s.value for s in states)
        rows = self._db.execute(
            f"SELECT {_COLS} FROM booking_requests {where} "
            "ORDER BY state != 'open', COALESCE(decided_at, '') DESC, received_at, rowid",
            params,
        ).fetchall()
        return [_row(r) for r in rows]

    def add_many(self, requests: Sequence[BookingRequest], now: datetime) -> list[str]:
        """Insert the requests whose id is new, in one transaction; the ids actually added."""
        added: list[str] = []
        with self._db.transaction():
            for r in requests:
                cur = self._db.execute(
                    f"INSERT OR IGNORE INTO booking_requests ({_COLS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, NULL, ?, NULL)",
                    (
                        r.id,
                        r.external_id,
                        r.name,
                        r.phone,
                        r.email,
                        r.service,
                        windows_json(r.windows),
                        r.note,
                        r.source,
                        r.origin,
                        _iso(r.received_at or now),
                    ),
                )
                if cur.rowcount == 1:
                    added.append(r.id)
        return added

    def mark_booked(
        self, request_id: str, event_id: str, patient_id: str, now: datetime
    ) -> BookingRequest:
        """Record the appointment a request became. Raises NotFound, or ValidationError when
        the request is no longer open."""
        return self._decide(request_id, RequestState.BOOKED, now, event_id, patient_id)

    def mark_declined(self, request_id: str, now: datetime) -> BookingRequest:
        """Decline an open request (it stays in the history). Raises NotFound,
        ValidationError."""
        return self._decide(request_id, RequestState.DECLINED, now, None, None)

    def reopen(self, request_id: str) -> BookingRequest:
        """Put a declined request back in the inbox. Raises NotFound, ValidationError."""
        with self._db.transaction():
            current = self.get(request_id)
            if current.state is not RequestState.DECLINED:
                raise ValidationError("only a declined request can be reopened")
            self._db.execute(
                "UPDATE booking_requests SET state = 'open', decided_at = NULL WHERE id = ?",
                (request_id,),
            )
        return self.get(request_id)

    def _decide(
        self,
        request_id: str,
        state: RequestState,
        now: datetime,
        event_id: str | None,
        patient_id: str | None,
    ) -> BookingRequest:
        with self._db.transaction():
            current = self.get(request_id)
            if current.state is not RequestState.OPEN:
                raise ValidationError(f"this request is already {current.state.value}")
            self._db.execute(
                "UPDATE booking_requests SET state = ?, event_id = ?, patient_id = ?, "
                "decided_at = ? WHERE id = ?",
                (state.value, event_id, patient_id, _iso(now), request_id),
            )
        return self.get(request_id)
