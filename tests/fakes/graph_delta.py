"""Listings of the Graph emulator: calendarView, events, instances and calendars (paged with
`$skip` nextLinks), and calendarView/delta rounds with server-side skip and delta tokens.

A delta token stands for what its client has seen of one calendar's window (each instance's
etag and the id it was delivered under). The next round diffs the window against it: new or
changed instances in full, vanished ones as `@removed`, plus `@removed` for items of the
calendar that changed outside the window since the token (Graph reports those too). Knobs:
page cap, empty pages, replays of an already delivered change, token expiry (optionally with a
Location header) and a token lifetime. Runs under the emulator's lock; errors are GraphError.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.graph_errors import GraphError, bad_query, missing_window
from tests.fakes.graph_events import Inst, Mailbox, View, span

Query = dict[str, list[str]]
Identity = tuple[str, datetime | None]
DELTA_REFUSED = ("$select", "$filter", "$expand", "$orderby", "$search")
MAX_TOP = 1000
_ORDERS = {
    "start/datetime": lambda e: e["start"]["dateTime"],
    "lastmodifieddatetime": lambda e: e["lastModifiedDateTime"],
    "subject": lambda e: e["subject"].lower(),
}
_EXPAND_RE = re.compile(r"^singleValueExtendedProperties(\(\$filter=(?P<filter>.*)\))?$", re.I)


def option(query: Query, name: str) -> str | None:
    """A query option's last value, its name compared case-insensitively."""
    for key, values in query.items():
        if key.lower() == name.lower() and values:
            return values[-1]
    return None


def parse_bound(value: str, name: str) -> datetime:
    """A window bound: ISO 8601, read as UTC when it has no offset; 400 otherwise."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise GraphError(
            400, "ErrorInvalidParameter", f"The value of {name} is not a valid date and time."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def window_of(query: Query) -> tuple[datetime, datetime]:
    """(startDateTime, endDateTime) of a windowed request; 400 when either is missing."""
    low, high = option(query, "startDateTime"), option(query, "endDateTime")
    if not low or not high:
        raise missing_window()
    return parse_bound(low, "startDateTime"), parse_bound(high, "endDateTime")


def expand_of(query: Query) -> tuple[str, ...] | None:
    """The extended-property ids `$expand` asks for (() for all), or None without $expand."""
    value = option(query, "$expand")
    if value is None:
        return None
    match = _EXPAND_RE.match(value.strip())
    if match is None:
        raise bad_query("The emulator expands only singleValueExtendedProperties.")
    if match.group("filter") is None:
        return ()
    ids = re.findall(r"id\s+eq\s+'([^']*)'", match.group("filter"), re.I)
    if not ids:
        raise bad_query("Only id eq '...' filters are supported inside $expand.")
    return tuple(ids)


def select(event: dict[str, Any], query: Query) -> dict[str, Any]:
    """`$select`: the named properties plus @odata.etag and id; 400 for an unknown name."""
    value = option(query, "$select")
    if value is None:
        return event
    names = [n.strip() for n in value.split(",") if n.strip()]
    for name in names:
        if name not in event and name not in ("transactionId", "originalStart"):
            raise GraphError(
                400,
                "RequestBroker--ParseUri",
                f"Could not find a property named '{name}' on type 'microsoft.graph.event'.",
            )
    keep = {"@odata.etag", "id", "singleValueExtendedProperties", *names}
    return {k: v for k, v in event.items() if k in keep}


@dataclass
class DeltaState:
    """What a delta token's holder has seen of one calendar window."""

    calendar_id: str
    low: datetime
    high: datetime
    seen: dict[Identity, tuple[str, str]]  # identity -> (etag, id as delivered)
    seq: int  # the mailbox's write counter when the state was taken
    initial_url: str
    issued: float = field(default_factory=time.monotonic)
    valid: bool = True


@dataclass
class Round:
    """One round of delta pages: its entries and the state its deltaLink hands out."""

    entries: list[dict[str, Any]]
    state: DeltaState
    position: int = 0  # the furthest offset served; earlier nextLinks are stale
    valid: bool = True


class Listings:
    """Paged listings and delta rounds of one emulator."""

    def __init__(self, mailbox: Mailbox, seed: int = 5) -> None:
        self.mailbox = mailbox
        self.page_cap = MAX_TOP  # the server's own cap on any page
        self.default_page_size = 10  # without $top or odata.maxpagesize
        self.empty_pages = 0  # the next N delta pages are empty but carry a nextLink
        self.replays = 0  # the next N delta rounds deliver one change twice
        self.replay_rate = 0.0  # chance that any other round does
        self.token_ttl: float | None = None  # delta tokens older than this many seconds die
        self.rng = random.Random(seed)
        self.delta_tokens: dict[str, DeltaState] = {}
        self.skip_tokens: dict[str, tuple[Round, int]] = {}
        self.gone_with_location = False  # expired tokens answer 410 with a Location header

    # ----- knobs --------------------------------------------------------------------------
    def expire_delta_tokens(self, *, with_location: bool = False) -> None:
        """Every delta token and unfinished round so far gets 410 from now on."""
        for state in self.delta_tokens.values():
            state.valid = False
        for rnd, _ in self.skip_tokens.values():
            rnd.valid = False
            rnd.state.valid = False
        self.gone_with_location = with_location

    # ----- plain paged lists --------------------------------------------------------------
    def page_size(self, query: Query, max_page: int | None) -> int:
        """$top, else the preferred page size, else the default; never above the cap."""
        top = option(query, "$top")
        if top is not None:
            if not top.isdigit() or not 1 <= int(top) <= MAX_TOP:
                raise bad_query(f"$top must be a whole number from 1 to {MAX_TOP}.")
            size = int(top)
        else:
            size = max_page or self.default_page_size
        return max(1, min(size, self.page_cap))

    def paged(
        self,
        link: str,
        query: Query,
        items: list[Any],
        max_page: int | None,
        render: Callable[[Any], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One `$skip` page of `items` (rendered by `render`, when given, only for the page)
        with an absolute nextLink."""
        skip_text = option(query, "$skip") or "0"
        if not skip_text.isdigit():
            raise bad_query("$skip must be a whole number.")
        skip, size = int(skip_text), self.page_size(query, max_page)
        chosen = items[skip : skip + size]
        body: dict[str, Any] = {"value": [render(i) for i in chosen] if render else chosen}
        if skip + size < len(items):
            params = {k: v[-1] for k, v in query.items() if k.lower() != "$skip"}
            params["$skip"] = str(skip + size)
            body["@odata.nextLink"] = link + "?" + urlencode(params, safe="$,/:'()=")
        return body

    def list_page(
        self, link: str, query: Query, insts: list[Inst], view: View, max_page: int | None
    ) -> dict[str, Any]:
        """A page of events in `$orderby` order (start by default), `$select` applied."""
        if option(query, "$filter") is not None:
            raise bad_query("The emulator does not implement $filter on this endpoint.")
        order = option(query, "$orderby")
        if order is None:  # already by start: render just the page
            return self.paged(
                link, query, insts, max_page, lambda i: select(self.mailbox.render(i, view), query)
            )
        name, _, direction = order.strip().partition(" ")
        key = _ORDERS.get(name.lower())
        if key is None or direction.lower() not in ("", "asc", "desc"):
            raise bad_query(f"The emulator cannot order events by {order!r}.")
        out = [self.mailbox.render(i, view) for i in insts]
        out.sort(key=key, reverse=direction.lower() == "desc")
        return self.paged(link, query, [select(e, query) for e in out], max_page)

    def calendar_view(
        self, calendar_id: str, link: str, query: Query, view: View, max_page: int | None
    ) -> dict[str, Any]:
        """GET calendarView: single instances, occurrences and exceptions in the window."""
        low, high = window_of(query)
        insts = self.mailbox.window(calendar_id, low, high)
        return self.list_page(link, query, insts, view, max_page)

    def events(
        self, calendar_id: str, link: str, query: Query, view: View, max_page: int | None
    ) -> dict[str, Any]:
        """GET events: single instances and series masters (no occurrences)."""
        items = [i for i in self.mailbox.items.values() if i.calendar_id == calendar_id]
        insts = [self.mailbox.as_inst(i) for i in items]
        insts.sort(key=lambda i: span(i.fields)[0])
        return self.list_page(link, query, insts, view, max_page)

    def instances(
        self, event_id: str, link: str, query: Query, view: View, max_page: int | None
    ) -> dict[str, Any]:
        """GET /events/{id}/instances: a master's occurrences and exceptions in the window
        (nothing for a single instance)."""
        low, high = window_of(query)
        item, original = self.mailbox.resolve(event_id)
        if original is not None or item.fields.get("recurrence") is None:
            insts: list[Inst] = []
        else:
            insts = self.mailbox.instances(item, low, high)
        return self.list_page(link, query, insts, view, max_page)

    # ----- delta --------------------------------------------------------------------------
    def delta(
        self,
        calendar_id: str,
        base: str,
        path: str,
        query: Query,
        view: View,
        max_page: int | None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """One calendarView/delta page: (body, extra response headers)."""
        for name in DELTA_REFUSED:
            if option(query, name) is not None:
                raise bad_query(
                    f"{name} is not supported with change tracking over events "
                    "(no $select, $filter, $expand, $orderby or $search)."
                )
        link = base + path
        skip, token = option(query, "$skiptoken"), option(query, "$deltatoken")
        headers: dict[str, str] = {}
        if skip is not None:
            found = self.skip_tokens.get(skip)
            if found is None or found[0].state.calendar_id != calendar_id:
                raise bad_query("The $skiptoken is not one this server issued.")
            rnd, offset = found
            if not rnd.valid or offset < rnd.position:
                self._gone(rnd.state)
        elif token is not None:
            state = self.delta_tokens.get(token)
            if state is None or state.calendar_id != calendar_id:
                raise bad_query("The $deltatoken is not one this server issued.")
            if self.token_ttl is not None and time.monotonic() - state.issued > self.token_ttl:
                state.valid = False
            if not state.valid:
                self._gone(state)
            rnd, offset = self._round(state, view), 0
        else:
            low, high = window_of(query)
            initial = (
                link + "?" + urlencode({"startDateTime": _iso(low), "endDateTime": _iso(high)})
            )
            empty = DeltaState(calendar_id, low, high, {}, -1, initial)
            rnd, offset = self._round(empty, view), 0
            headers["Preference-Applied"] = "odata.track-changes"
        size = max(1, min(max_page or self.default_page_size, self.page_cap))
        if max_page:
            applied = f"odata.maxpagesize={size}"
            headers["Preference-Applied"] = ", ".join(
                p for p in (headers.get("Preference-Applied"), applied) if p
            )
        rnd.position = max(rnd.position, offset)
        body: dict[str, Any] = {}
        if self.empty_pages > 0:
            self.empty_pages -= 1
            body["value"] = []
            body["@odata.nextLink"] = link + "?$skiptoken=" + self._skip(rnd, offset)
            return body, headers
        body["value"] = rnd.entries[offset : offset + size]
        if offset + size < len(rnd.entries):
            body["@odata.nextLink"] = link + "?$skiptoken=" + self._skip(rnd, offset + size)
        else:
            new = secrets.token_urlsafe(24)
            self.delta_tokens[new] = rnd.state
            body["@odata.deltaLink"] = link + "?$deltatoken=" + new
        return body, headers

    def _skip(self, rnd: Round, offset: int) -> str:
        token = secrets.token_urlsafe(24)
        self.skip_tokens[token] = (rnd, offset)
        return token

    def _gone(self, state: DeltaState) -> None:
        if self.gone_with_location:
            raise GraphError(
                410,
                "resyncRequired",
                "The delta state is gone; start again from the Location URL.",
                headers={"Location": state.initial_url},
            )
        raise GraphError(
            410,
            "syncStateNotFound",
            f"The sync state generation was not found; generation={state.seq}.",
        )

    def _round(self, prev: DeltaState, view: View) -> Round:
        """The changes since `prev` in the window, and the state after them."""
        box = self.mailbox
        seen: dict[Identity, tuple[str, str]] = {}
        entries: list[dict[str, Any]] = []
        unchanged: dict[Identity, Inst] = {}
        for inst in box.window(prev.calendar_id, prev.low, prev.high):
            seen[inst.identity] = (
                inst.stamp.etag,
                box.id_for(inst.item, inst.original, view.immutable),
            )
            if prev.seen.get(inst.identity, ("",))[0] != inst.stamp.etag:
                entries.append(box.render(inst, view))
            else:
                unchanged[inst.identity] = inst
        for identity, (_, delivered_id) in prev.seen.items():
            if identity not in seen:
                entries.append(_removed(delivered_id))
        if prev.seq >= 0:
            # Items of this calendar changed (or deleted) outside the window since the last
            # round come out as @removed, though the client never saw them.
            shown = {k for k, _ in prev.seen} | {k for k, _ in seen}
            for item in [*box.items.values(), *box.tombstones.values()]:
                if (
                    item.calendar_id == prev.calendar_id
                    and item.seq > prev.seq
                    and item.key not in shown
                ):
                    entries.append(_removed(box.id_for(item, None, view.immutable)))
        if entries or prev.seen:
            wants = self.replays > 0 or self.rng.random() < self.replay_rate
            again = next((unchanged[i] for i in prev.seen if i in unchanged), None)
            if wants and (again or entries):
                self.replays = max(0, self.replays - 1)
                entries.append(box.render(again, view) if again else dict(entries[0]))
        state = DeltaState(prev.calendar_id, prev.low, prev.high, seen, box.seq, prev.initial_url)
        return Round(entries, state)


def _removed(event_id: str) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.event",
        "id": event_id,
        "@removed": {"reason": "deleted"},
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
