"""events.list, events.instances and calendarList.list for the Google emulator: filters,
paging with server-side page tokens, and sync tokens that can be expired on demand.

Runs under the emulator's lock on an HTTP handler thread; errors are GoogleApiError.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.google_errors import GoogleApiError, bad_param
from tests.fakes.google_events import Calendar, EventWriter, rfc3339
from tests.fakes.google_recurrence import moment, parse_rfc3339

SYNC_FORBIDDEN = (
    "iCalUID", "orderBy", "privateExtendedProperty", "q", "sharedExtendedProperty",
    "timeMin", "timeMax", "updatedMin",
)  # fmt: skip
# A full listing filtered by any of these gets no nextSyncToken (as users see with Google).
NO_SYNC_TOKEN_AFTER = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                       "sharedExtendedProperty", "updatedMin")  # fmt: skip
Query = dict[str, list[str]]


@dataclass
class SyncToken:
    calendar_id: str
    seq: int
    valid: bool = True


@dataclass
class PageCursor:
    """A listing's snapshot, handed out page by page."""

    key: tuple[Any, ...]
    items: list[dict[str, Any]]
    offset: int
    sync_seq: int | None  # None: this listing ends without a nextSyncToken


@dataclass
class Listings:
    """Token tables and paging knobs shared by all listings of one emulator."""

    writer: EventWriter
    page_cap: int = 2500
    empty_pages: int = 0  # the next N pages served are empty but carry a nextPageToken
    sync_tokens: dict[str, SyncToken] = field(default_factory=dict)
    cursors: dict[str, PageCursor] = field(default_factory=dict)

    def expire_sync_tokens(self, calendar_id: str | None = None) -> None:
        for token in self.sync_tokens.values():
            if calendar_id is None or token.calendar_id == calendar_id:
                token.valid = False
        # Page tokens of a round in progress die with it.
        self.cursors.clear()

    # ----- paging -----------------------------------------------------------------------
    def page(self, query: Query, key: tuple[Any, ...], build: Any) -> dict[str, Any]:
        """The page answering `query`: a new snapshot from `build()` or the next slice of the
        one `pageToken` names."""
        size = _int(query, "maxResults", 250, 1, 2500)
        size = min(size, self.page_cap)
        token = _one(query, "pageToken")
        if token is not None:
            cursor = self.cursors.get(token)
            if cursor is None or cursor.key != key:
                raise bad_param("pageToken", "Invalid page token value.")
        else:
            items, sync_seq = build()
            cursor = PageCursor(key, items, 0, sync_seq)
        out: dict[str, Any] = {}
        if self.empty_pages > 0:
            self.empty_pages -= 1
            out["items"] = []
            out["nextPageToken"] = self._cursor(cursor, cursor.offset)
            return out
        out["items"] = cursor.items[cursor.offset : cursor.offset + size]
        end = cursor.offset + size
        if end < len(cursor.items):
            out["nextPageToken"] = self._cursor(cursor, end)
        elif cursor.sync_seq is not None:
            new = secrets.token_urlsafe(18)
            self.sync_tokens[new] = SyncToken(key[1], cursor.sync_seq)
            out["nextSyncToken"] = new
        return out

    def _cursor(self, cursor: PageCursor, offset: int) -> str:
        token = secrets.token_urlsafe(18)
        self.cursors[token] = PageCursor(cursor.key, cursor.items, offset, cursor.sync_seq)
        return token

    # ----- events.list ------------------------------------------------------------------
    def events_list(self, cal: Calendar, query: Query) -> dict[str, Any]:
        single = _bool(query, "singleEvents")
        sync = _one(query, "syncToken")
        if sync is not None:
            for name in SYNC_FORBIDDEN:
                if name in query:
                    raise bad_param(name, f"Sync token cannot be used with {name}.")
        order = _one(query, "orderBy")
        if order not in (None, "startTime", "updated"):
            raise bad_param("orderBy", "Invalid value for orderBy.")
        if order == "startTime" and not single:
            raise bad_param(
                "orderBy", "The requested ordering is not available for the particular query."
            )
        t_min = _time(query, "timeMin")
        t_max = _time(query, "timeMax")
        if t_min and t_max and t_max <= t_min:
            raise GoogleApiError(400, "timeRangeEmpty", "The specified time range is empty.")
        key = (
            "events",
            cal.id,
            tuple(
                sorted(
                    (k, tuple(v)) for k, v in query.items() if k not in ("pageToken", "maxResults")
                )
            ),
        )

        def build() -> tuple[list[dict[str, Any]], int | None]:
            if sync is not None:
                record = self.sync_tokens.get(sync)
                if record is None or record.calendar_id != cal.id:
                    raise bad_param("syncToken", "Invalid sync token value.")
                if not record.valid:
                    raise GoogleApiError(
                        410,
                        "fullSyncRequired",
                        "Sync token is no longer valid, a full sync is required.",
                        location="syncToken",
                        location_type="parameter",
                    )
                ids = [i for i, s in cal.changed.items() if s > record.seq]
                items = self._render(cal, [cal.events[i] for i in ids], single, True, None, None)
                return items, self.writer.seq
            # Filters see the stored event: a cancelled exception still belongs to its
            # series' iCalUID even though a listing shows only its id and original start.
            events = [e for e in cal.events.values() if _matches(e, query)]
            show_deleted = _bool(query, "showDeleted")
            items = self._render(cal, events, single, show_deleted, t_min, t_max)
            if order == "startTime":
                items.sort(key=lambda e: moment(e["start"], cal.time_zone, "start")[0])
            elif order == "updated":
                items.sort(key=lambda e: e.get("updated", ""))
            filtered = any(name in query for name in NO_SYNC_TOKEN_AFTER)
            return items, None if filtered else self.writer.seq

        body = self.page(query, key, build)
        return self._envelope(cal, "calendar#events", body)

    def instances(self, cal: Calendar, master_id: str, query: Query) -> dict[str, Any]:
        master = self.writer.get(cal, master_id)
        if not master.get("recurrence") or master.get("status") == "cancelled":
            raise GoogleApiError(404, "notFound", "Not Found")
        t_min = _time(query, "timeMin")
        t_max = _time(query, "timeMax")
        show_deleted = _bool(query, "showDeleted")
        key = (
            "instances",
            cal.id,
            master_id,
            tuple(
                sorted(
                    (k, tuple(v)) for k, v in query.items() if k not in ("pageToken", "maxResults")
                )
            ),
        )

        original = _original_param(cal, query)

        def build() -> tuple[list[dict[str, Any]], None]:
            until = t_max
            if original is not None:
                # The one instance that originally started then (no need to expand further).
                until = original + timedelta(seconds=1)
            insts = self.writer.instances_of(cal, master, until=until)
            kept = [i for i in insts if show_deleted or i.get("status") != "cancelled"]
            if original is not None:
                kept = [i for i in kept if _original_start(cal, i) == original]
            return [self._shown(cal, i) for i in kept if _overlaps(cal, i, t_min, t_max)], None

        body = self.page(query, key, build)
        return self._envelope(cal, "calendar#events", body)

    def _render(
        self,
        cal: Calendar,
        events: list[dict[str, Any]],
        single: bool,
        show_deleted: bool,
        t_min: datetime | None,
        t_max: datetime | None,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for event in events:
            cancelled = event.get("status") == "cancelled"
            if single and event.get("recurrence") and not cancelled:
                for inst in self.writer.instances_of(cal, event, until=t_max):
                    if (show_deleted or inst.get("status") != "cancelled") and _overlaps(
                        cal, inst, t_min, t_max
                    ):
                        out.append(self._shown(cal, inst))
                continue
            if single and event.get("recurringEventId") and not cancelled:
                continue  # live exceptions come out of their master's expansion
            if cancelled and not show_deleted:
                continue
            if not cancelled and not self._in_window(cal, event, t_min, t_max):
                continue
            out.append(self._shown(cal, event))
        return out

    def _in_window(
        self, cal: Calendar, event: dict[str, Any], t_min: datetime | None, t_max: datetime | None
    ) -> bool:
        if event.get("recurrence") and (t_min or t_max):
            insts = self.writer.instances_of(cal, event, until=t_max)
            return any(_overlaps(cal, i, t_min, t_max) for i in insts)
        return _overlaps(cal, event, t_min, t_max)

    @staticmethod
    def _shown(cal: Calendar, event: dict[str, Any]) -> dict[str, Any]:
        """What a listing shows of an event: deletions are pared down to what Google
        guarantees."""
        if event.get("status") != "cancelled":
            return dict(event)
        keep = ("kind", "etag", "id", "status", "recurringEventId", "originalStartTime")
        return {k: event[k] for k in keep if k in event}

    def _envelope(self, cal: Calendar, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        out = {
            "kind": kind,
            "etag": f'"{3_180_000_000_000_000 + self.writer.seq}"',
            "summary": cal.summary,
            "updated": rfc3339(datetime.now().astimezone()),
            "timeZone": cal.time_zone,
            "accessRole": cal.access_role,
            "defaultReminders": [{"method": "popup", "minutes": 10}],
        }
        out.update(body)
        return out


def calendar_entry(cal: Calendar) -> dict[str, Any]:
    """A CalendarListEntry for `cal`."""
    entry: dict[str, Any] = {
        "kind": "calendar#calendarListEntry",
        "etag": cal.etag,
        "id": cal.id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": cal.access_role,
        "defaultReminders": [{"method": "popup", "minutes": 10}],
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    }
    if cal.primary:
        entry["primary"] = True
    return entry


def _overlaps(
    cal: Calendar, event: dict[str, Any], t_min: datetime | None, t_max: datetime | None
) -> bool:
    if t_min is None and t_max is None:
        return True
    start, _ = moment(event["start"], cal.time_zone, "start")
    end, _ = moment(event["end"], cal.time_zone, "end")
    return (t_max is None or start < t_max) and (t_min is None or end > t_min)


def _matches(event: dict[str, Any], query: Query) -> bool:
    q = _one(query, "q")
    if q is not None:
        text = " ".join(str(event.get(k, "")) for k in ("summary", "description", "location"))
        if q.lower() not in text.lower():
            return False
    uid = _one(query, "iCalUID")
    if uid is not None and event.get("iCalUID") != uid:
        return False
    updated_min = _time(query, "updatedMin")
    if updated_min is not None and parse_rfc3339(event.get("updated", ""), "updated") < updated_min:
        return False
    for scope, name in (
        ("private", "privateExtendedProperty"),
        ("shared", "sharedExtendedProperty"),
    ):
        props = event.get("extendedProperties", {}).get(scope, {})
        for pair in query.get(name, []):
            k, _, v = pair.partition("=")
            if props.get(k) != v:
                return False
    return True


def _original_start(cal: Calendar, event: dict[str, Any]) -> datetime:
    return moment(event["originalStartTime"], cal.time_zone, "originalStartTime")[0]


def _original_param(cal: Calendar, query: Query) -> datetime | None:
    """events.instances' originalStart: an RFC 3339 time, or a date for all-day series (read,
    like an all-day originalStartTime, as midnight in the calendar's zone); 400 otherwise."""
    value = _one(query, "originalStart")
    if value is None:
        return None
    try:
        if len(value) == 10:
            return moment({"date": value}, cal.time_zone, "originalStart")[0]
        return parse_rfc3339(value, "originalStart")
    except GoogleApiError:
        raise bad_param("originalStart", "Invalid value for originalStart.") from None


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _bool(query: Query, name: str) -> bool:
    value = _one(query, name)
    if value not in (None, "true", "false"):
        raise bad_param(name, f"Invalid boolean value for {name}.")
    return value == "true"


def _int(query: Query, name: str, default: int, low: int, high: int) -> int:
    value = _one(query, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise bad_param(name, f"Invalid value for {name}.") from None
    if not low <= number <= high:
        raise bad_param(name, f"Invalid value for {name}.")
    return number


def _time(query: Query, name: str) -> datetime | None:
    value = _one(query, name)
    if value is None:
        return None
    try:
        return parse_rfc3339(value, name)
    except GoogleApiError:
        raise bad_param(name, f"Bad value for {name}.") from None
