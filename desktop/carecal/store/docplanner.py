"""The Docplanner tables (schema versions 7 and 9): address and service mappings, the durable
notification inbox, the booking-id -> appointment links, breaks set in Docplanner, the breaks
Carecal made itself (breaks mode), the slots last published per day, and each account's
pull/reconcile state.

Threads: the caller's thread (one connection per thread); every call does disk I/O and raises
StoreError on database failure. Times are aware datetimes stored as UTC ISO text. Notification
bodies hold patient data: they stay in this database (like the patients themselves) and never
reach a log line or an error message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from carecal.domain.errors import NotFound
from carecal.store.repo import Repository

PENDING = "pending:"  # an own break's id before Docplanner's answer named it


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class AddressMapping:
    """A Docplanner address mapped to a Carecal calendar (``calendar_id`` None: not mapped)."""

    account_id: str
    address_id: str
    facility_id: str
    doctor_id: str
    name: str
    online_only: bool
    visit_payment: bool
    commercial_type: str | None
    calendar_id: str | None
    assigned: bool = True
    publish_mode: str = "slots"  # "slots" or "breaks" (see migration 0009)

    @property
    def publishable(self) -> bool:
        """Whether Carecal publishes slots for it: mapped, assigned, and not known to be a plan
        without a calendar."""
        plan_ok = self.commercial_type in (None, "", "premium")
        return self.calendar_id is not None and self.assigned and plan_ok


@dataclass(frozen=True, slots=True)
class ServiceMapping:
    """An address service and the Carecal service type it stands for (None: not mapped)."""

    account_id: str
    address_id: str
    address_service_id: str
    service_id: str | None
    name: str
    duration: int | None
    price: int | None
    service_type_id: str | None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class InboxItem:
    seq: int
    name: str
    body: dict[str, Any]
    state: str
    error: str | None


@dataclass(frozen=True, slots=True)
class BookingLink:
    """One booking id and the appointment it belongs to."""

    account_id: str
    booking_id: str
    event_id: str
    address_id: str
    origin_id: str | None
    current: bool
    status: str
    start: datetime
    end: datetime
    booked_by: str
    visit_payment: bool
    payment_status: str | None
    presence: str | None
    booked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OwnBreak:
    """A calendar break Carecal made at an address (breaks mode); a ``break_id`` starting
    with ``pending:`` stands for a POST whose answer has not been seen yet."""

    account_id: str
    address_id: str
    break_id: str
    since: datetime
    till: datetime

    @property
    def pending(self) -> bool:
        return self.break_id.startswith(PENDING)


@dataclass(frozen=True, slots=True)
class AccountState:
    last_pull_at: datetime | None
    last_reconcile_at: datetime | None
    needs_reconcile: bool


_ADDR = (
    "account_id, address_id, facility_id, doctor_id, name, online_only, visit_payment, "
    "commercial_type, calendar_id, assigned, publish_mode"
)
_SVC = (
    "account_id, address_id, address_service_id, service_id, name, duration, price, "
    "service_type_id, deleted"
)
_LINK = (
    "account_id, booking_id, event_id, address_id, origin_id, current, status, start_utc, "
    "end_utc, booked_by, visit_payment, payment_status, presence, booked_at"
)


def _address(r: Sequence[Any]) -> AddressMapping:
    return AddressMapping(
        r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6]), r[7], r[8], bool(r[9]), r[10]
    )


def _service(r: Sequence[Any]) -> ServiceMapping:
    return ServiceMapping(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]))


def _link(r: Sequence[Any]) -> BookingLink:
    return BookingLink(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        bool(r[5]),
        r[6],
        datetime.fromisoformat(r[7]),
        datetime.fromisoformat(r[8]),
        r[9],
        bool(r[10]),
        r[11],
        r[12],
        _when(r[13]),
    )


class DocplannerStore:
    """Queries and changes of the Docplanner tables (see the module docstring)."""

    def __init__(self, repo: Repository) -> None:
        self.db = repo._db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (nested calls join it)."""
        with self.db.transaction():
            yield

    # --- addresses and services ---------------------------------------------------------------

    def save_address(self, m: AddressMapping, now: datetime) -> None:
        """Insert or replace an address mapping."""
        self.db.execute(
            f"INSERT INTO docplanner_addresses ({_ADDR}, mapped_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(account_id, address_id) DO UPDATE SET facility_id = excluded.facility_id, "
            "doctor_id = excluded.doctor_id, name = excluded.name, "
            "online_only = excluded.online_only, visit_payment = excluded.visit_payment, "
            "commercial_type = excluded.commercial_type, calendar_id = excluded.calendar_id, "
            "assigned = excluded.assigned, publish_mode = excluded.publish_mode",
            (
                m.account_id,
                m.address_id,
                m.facility_id,
                m.doctor_id,
                m.name,
                int(m.online_only),
                int(m.visit_payment),
                m.commercial_type,
                m.calendar_id,
                int(m.assigned),
                m.publish_mode,
                _iso(now),
            ),
        )

    def addresses(self, account_id: str) -> list[AddressMapping]:
        rows = self.db.execute(
            f"SELECT {_ADDR} FROM docplanner_addresses WHERE account_id = ? "
            "ORDER BY mapped_at, address_id",
            (account_id,),
        ).fetchall()
        return [_address(r) for r in rows]

    def address(self, account_id: str, address_id: str) -> AddressMapping | None:
        row = self.db.execute(
            f"SELECT {_ADDR} FROM docplanner_addresses WHERE account_id = ? AND address_id = ?",
            (account_id, address_id),
        ).fetchone()
        return None if row is None else _address(row)

    def update_address(self, account_id: str, address_id: str, **fields: object) -> None:
        """Change some columns of a mapping (``commercial_type``, ``assigned`` ...)."""
        allowed = {"commercial_type", "assigned", "calendar_id", "name", "publish_mode"}
        sets = [k for k in fields if k in allowed]
        if not sets:
            return
        values = [int(v) if isinstance(v, bool) else v for k, v in fields.items() if k in allowed]
        self.db.execute(
            f"UPDATE docplanner_addresses SET {', '.join(f'{k} = ?' for k in sets)} "
            "WHERE account_id = ? AND address_id = ?",
            (*values, account_id, address_id),
        )

    def services(self, account_id: str, address_id: str | None = None) -> list[ServiceMapping]:
        """The services of one mapped address (or all of the account), deleted ones included."""
        where, params = "account_id = ?", [account_id]
        if address_id is not None:
            where += " AND address_id = ?"
            params.append(address_id)
        rows = self.db.execute(
            f"SELECT {_SVC} FROM docplanner_services WHERE {where} "
            "ORDER BY address_id, deleted, address_service_id",
            params,
        ).fetchall()
        return [_service(r) for r in rows]

    def save_service(self, m: ServiceMapping) -> None:
        """Insert or replace one service mapping."""
        self.db.execute(
            f"INSERT OR REPLACE INTO docplanner_services ({_SVC}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                m.account_id,
                m.address_id,
                m.address_service_id,
                m.service_id,
                m.name,
                m.duration,
                m.price,
                m.service_type_id,
                int(m.deleted),
            ),
        )

    def replace_services(
        self, account_id: str, address_id: str, mapped: Sequence[ServiceMapping]
    ) -> None:
        """The address's service mappings are exactly ``mapped``."""
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM docplanner_services WHERE account_id = ? AND address_id = ?",
                (account_id, address_id),
            )
            for item in mapped:
                self.save_service(item)

    # --- the inbox ----------------------------------------------------------------------------

    def receive(
        self, account_id: str, envelopes: Sequence[Mapping[str, Any]], now: datetime
    ) -> list[int]:
        """Store pulled notifications (in the order given) in one transaction; their seqs."""
        seqs: list[int] = []
        with self.db.transaction():
            for envelope in envelopes:
                cursor = self.db.execute(
                    "INSERT INTO docplanner_inbox (account_id, name, body, received_at) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        account_id,
                        str(envelope.get("name") or ""),
                        json.dumps(envelope, ensure_ascii=False, sort_keys=True),
                        _iso(now),
                    ),
                )
                seqs.append(int(cursor.lastrowid))
        return seqs

    def pending(self, account_id: str) -> list[InboxItem]:
        """Notifications not applied yet, oldest first."""
        rows = self.db.execute(
            "SELECT seq, name, body, state, error FROM docplanner_inbox "
            "WHERE account_id = ? AND state = 'pending' ORDER BY seq",
            (account_id,),
        ).fetchall()
        return [InboxItem(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def inbox(self, account_id: str, limit: int = 200) -> list[InboxItem]:
        """The newest ``limit`` notifications, oldest first (for listings)."""
        rows = self.db.execute(
            "SELECT seq, name, body, state, error FROM docplanner_inbox WHERE account_id = ? "
            "ORDER BY seq DESC LIMIT ?",
            (account_id, limit),
        ).fetchall()
        return [InboxItem(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in reversed(rows)]

    def settle(self, seq: int, state: str, now: datetime, error: str | None = None) -> None:
        """Mark one notification applied or failed."""
        self.db.execute(
            "UPDATE docplanner_inbox SET state = ?, error = ?, applied_at = ? WHERE seq = ?",
            (state, error, _iso(now), seq),
        )

    # --- booking links ------------------------------------------------------------------------

    def link(self, account_id: str, booking_id: str) -> BookingLink | None:
        row = self.db.execute(
            f"SELECT {_LINK} FROM docplanner_bookings WHERE account_id = ? AND booking_id = ?",
            (account_id, booking_id),
        ).fetchone()
        return None if row is None else _link(row)

    def links_of_origin(self, account_id: str, origin_id: str) -> list[BookingLink]:
        rows = self.db.execute(
            f"SELECT {_LINK} FROM docplanner_bookings WHERE account_id = ? "
            "AND (origin_id = ? OR booking_id = ?)",
            (account_id, origin_id, origin_id),
        ).fetchall()
        return [_link(r) for r in rows]

    def links_of_event(self, event_id: str) -> list[BookingLink]:
        rows = self.db.execute(
            f"SELECT {_LINK} FROM docplanner_bookings WHERE event_id = ? ORDER BY current DESC",
            (event_id,),
        ).fetchall()
        return [_link(r) for r in rows]

    def current_links_of_events(self, event_ids: Sequence[str]) -> dict[str, BookingLink]:
        """Event id -> its current booking link, for those of ``event_ids`` that have one."""
        found: dict[str, BookingLink] = {}
        ids = list(dict.fromkeys(event_ids))
        for at in range(0, len(ids), 500):  # below SQLite's bound-parameter limit
            chunk = ids[at : at + 500]
            rows = self.db.execute(
                f"SELECT {_LINK} FROM docplanner_bookings WHERE current = 1 "
                f"AND event_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for r in rows:
                link = _link(r)
                found[link.event_id] = link
        return found

    def current_links(self, account_id: str) -> list[BookingLink]:
        rows = self.db.execute(
            f"SELECT {_LINK} FROM docplanner_bookings WHERE account_id = ? AND current = 1 "
            "ORDER BY start_utc",
            (account_id,),
        ).fetchall()
        return [_link(r) for r in rows]

    def save_link(self, link: BookingLink, now: datetime) -> None:
        """Insert or replace a booking link; a current one makes the event's others not
        current."""
        if link.current:
            self.db.execute(
                "UPDATE docplanner_bookings SET current = 0 WHERE event_id = ? AND booking_id != ?",
                (link.event_id, link.booking_id),
            )
        self.db.execute(
            f"INSERT OR REPLACE INTO docplanner_bookings ({_LINK}, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                link.account_id,
                link.booking_id,
                link.event_id,
                link.address_id,
                link.origin_id,
                int(link.current),
                link.status,
                _iso(link.start),
                _iso(link.end),
                link.booked_by,
                int(link.visit_payment),
                link.payment_status,
                link.presence,
                None if link.booked_at is None else _iso(link.booked_at),
                _iso(now),
            ),
        )

    # --- breaks -------------------------------------------------------------------------------

    def save_break(
        self, account_id: str, break_id: str, address_id: str, since: datetime, till: datetime
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO docplanner_breaks VALUES (?, ?, ?, ?, ?)",
            (account_id, break_id, address_id, _iso(since), _iso(till)),
        )

    def remove_break(self, account_id: str, break_id: str) -> None:
        self.db.execute(
            "DELETE FROM docplanner_breaks WHERE account_id = ? AND break_id = ?",
            (account_id, break_id),
        )

    def breaks(self, account_id: str, address_id: str) -> list[tuple[datetime, datetime]]:
        """The practice's breaks at an address: Carecal's own (breaks mode) left out, even
        when a notification or a listing brought them in before Carecal knew their id."""
        rows = self.db.execute(
            "SELECT since_utc, till_utc FROM docplanner_breaks b WHERE account_id = ? "
            "AND address_id = ? AND NOT EXISTS (SELECT 1 FROM docplanner_own_breaks o "
            "WHERE o.account_id = b.account_id AND o.break_id = b.break_id) ORDER BY since_utc",
            (account_id, address_id),
        ).fetchall()
        return [(datetime.fromisoformat(r[0]), datetime.fromisoformat(r[1])) for r in rows]

    def replace_breaks(
        self,
        account_id: str,
        address_id: str,
        found: Sequence[tuple[str, datetime, datetime]],
        since: datetime,
        till: datetime,
    ) -> None:
        """The breaks of an address overlapping [since, till) are exactly ``found`` (a listing)."""
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM docplanner_breaks WHERE account_id = ? AND address_id = ? "
                "AND since_utc < ? AND till_utc > ?",
                (account_id, address_id, _iso(till), _iso(since)),
            )
            for break_id, start, end in found:
                self.save_break(account_id, break_id, address_id, start, end)

    # --- Carecal's own breaks (breaks mode) ----------------------------------------------------

    def own_breaks(self, account_id: str, address_id: str | None = None) -> list[OwnBreak]:
        """The breaks Carecal made (of one address, or all of the account), oldest first."""
        where, params = "account_id = ?", [account_id]
        if address_id is not None:
            where += " AND address_id = ?"
            params.append(address_id)
        rows = self.db.execute(
            "SELECT account_id, address_id, break_id, since_utc, till_utc FROM "
            f"docplanner_own_breaks WHERE {where} ORDER BY since_utc, break_id",
            params,
        ).fetchall()
        return [
            OwnBreak(r[0], r[1], r[2], datetime.fromisoformat(r[3]), datetime.fromisoformat(r[4]))
            for r in rows
        ]

    def own_break_ids(self, account_id: str) -> set[str]:
        rows = self.db.execute(
            "SELECT break_id FROM docplanner_own_breaks WHERE account_id = ?", (account_id,)
        ).fetchall()
        return {r[0] for r in rows}

    def save_own_break(
        self,
        account_id: str,
        address_id: str,
        break_id: str,
        since: datetime,
        till: datetime,
        now: datetime,
        *,
        replaces: str | None = None,
    ) -> None:
        """Remember (or move) a break Carecal made; ``replaces``: the placeholder row written
        before the request, dropped in the same transaction. A copy of it among the practice's
        breaks (a notification applied before the id was known) is dropped too."""
        with self.db.transaction():
            if replaces is not None and replaces != break_id:
                self.remove_own_break(account_id, replaces)
            self.db.execute(
                "INSERT INTO docplanner_own_breaks VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(account_id, break_id) DO UPDATE SET address_id = excluded.address_id, "
                "since_utc = excluded.since_utc, till_utc = excluded.till_utc",
                (account_id, address_id, break_id, _iso(since), _iso(till), _iso(now)),
            )
            self.remove_break(account_id, break_id)

    def remove_own_break(self, account_id: str, break_id: str) -> None:
        self.db.execute(
            "DELETE FROM docplanner_own_breaks WHERE account_id = ? AND break_id = ?",
            (account_id, break_id),
        )

    # --- published slots ----------------------------------------------------------------------

    def published(self, account_id: str, address_id: str) -> dict[str, tuple[str, str]]:
        """Day -> (digest, slots text) as last published for an address."""
        rows = self.db.execute(
            "SELECT day, digest, slots FROM docplanner_published WHERE account_id = ? "
            "AND address_id = ?",
            (account_id, address_id),
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def mark_published(
        self, account_id: str, address_id: str, day: str, digest: str, slots: str, now: datetime
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO docplanner_published VALUES (?, ?, ?, ?, ?, ?)",
            (account_id, address_id, day, digest, slots, _iso(now)),
        )

    def recent_puts(self, account_id: str, address_id: str, since: datetime) -> set[str]:
        """Digests of the slot bodies sent for an address at or after ``since``."""
        rows = self.db.execute(
            "SELECT digest FROM docplanner_recent_puts WHERE account_id = ? AND address_id = ? "
            "AND sent_at >= ?",
            (account_id, address_id, _iso(since)),
        ).fetchall()
        return {r[0] for r in rows}

    def note_put(
        self, account_id: str, address_id: str, digest: str, now: datetime, keep_since: datetime
    ) -> None:
        """Remember a slot body sent at ``now``; forget the ones sent before ``keep_since``."""
        self.db.execute(
            "DELETE FROM docplanner_recent_puts WHERE account_id = ? AND sent_at < ?",
            (account_id, _iso(keep_since)),
        )
        self.db.execute(
            "INSERT OR REPLACE INTO docplanner_recent_puts VALUES (?, ?, ?, ?)",
            (account_id, address_id, digest, _iso(now)),
        )

    def forget_published(
        self, account_id: str, address_id: str | None = None, day: str | None = None
    ) -> None:
        """Publish every day again next time (after a mapping or service change); with ``day``
        (and ``address_id``) only that day."""
        if address_id is None:
            self.db.execute("DELETE FROM docplanner_published WHERE account_id = ?", (account_id,))
        elif day is not None:
            self.db.execute(
                "DELETE FROM docplanner_published WHERE account_id = ? AND address_id = ? "
                "AND day = ?",
                (account_id, address_id, day),
            )
        else:
            self.db.execute(
                "DELETE FROM docplanner_published WHERE account_id = ? AND address_id = ?",
                (account_id, address_id),
            )

    # --- account state ------------------------------------------------------------------------

    def state(self, account_id: str) -> AccountState:
        row = self.db.execute(
            "SELECT last_pull_at, last_reconcile_at, needs_reconcile FROM docplanner_state "
            "WHERE account_id = ?",
            (account_id,),
        ).fetchone()
        if row is None:
            return AccountState(None, None, True)
        return AccountState(_when(row[0]), _when(row[1]), bool(row[2]))

    def set_state(
        self,
        account_id: str,
        *,
        pulled: datetime | None = None,
        reconciled: datetime | None = None,
        needs_reconcile: bool | None = None,
    ) -> None:
        """Update the account's state; None leaves a field as it is."""
        before = self.state(account_id)
        last_pull = pulled or before.last_pull_at
        last_rec = reconciled or before.last_reconcile_at
        owed = before.needs_reconcile if needs_reconcile is None else needs_reconcile
        self.db.execute(
            "INSERT OR REPLACE INTO docplanner_state VALUES (?, ?, ?, ?)",
            (
                account_id,
                None if last_pull is None else _iso(last_pull),
                None if last_rec is None else _iso(last_rec),
                int(owed),
            ),
        )

    def require_address(self, account_id: str, address_id: str) -> AddressMapping:
        """Raises NotFound."""
        found = self.address(account_id, address_id)
        if found is None:
            raise NotFound(f"the Docplanner address {address_id} is not mapped")
        return found
