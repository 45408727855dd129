"""Reading an Outlook calendar through Graph: the calendar list, full and incremental pulls
over the sliding window, one item, and the search by UID (providers/outlook.py has the
representation).

The state Carecal keeps per calendar is ``"outlook:" + JSON``: the calendarView/delta link
(replayed verbatim), the window it covers, and, per series, short hashes of its occurrences'
ids in that window (delta reports a deleted occurrence by its id alone, and Graph ids must
never be parsed).

- Full pull: one delta round to its end (the delta link, and every occurrence and exception in
  the window), then the calendar's events (single events and series masters of any date) with
  Carecal's property expanded; the exceptions are fetched again with it ($batch). Series are
  their master plus the exceptions in the window; the occurrences the pattern makes there that
  Graph does not list were deleted (EXDATEs). A series that began before the window is read
  from its own start (``reach``; one $batch for 20 such series), so its earlier exceptions and
  deleted occurrences are never taken for removed as the window slides past them.
  ``complete`` holds: every single event and series is listed, whatever its date.
- Incremental pull: the delta pages from the saved link. Changed single events are fetched
  with Carecal's property (one $batch for up to 20); a series touched in any way (an
  occurrence or exception changed, added or removed) is fetched whole (master, then its
  instances in the window). ``@removed`` entries are looked up before anything is deleted:
  Graph also reports items that only left the window, or changed outside it; those come back
  as changes. When the window has slid more than ``slide_days`` the pull is a full one.

Coroutines run on the sync worker's event loop; errors are the domain's (outlook_api.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from carecal.domain.errors import (
    NotFound,
    PermanentItemError,
    SyncStateExpired,
    TransientError,
)
from carecal.net.errors import HttpDetail
from carecal.providers.base import PullResult, RemoteCalendar, RemoteItem, RemoteRef
from carecal.providers.outlook_api import OutlookApi, member_json, path
from carecal.providers.outlook_map import (
    EXPAND,
    item_text,
    item_uid,
    removed_originals,
    start_of,
    utc_text,
    version_text,
)

STATE_PREFIX = "outlook:"
MAX_PAGES = 5000
LIST_PAGE = "1000"  # Graph's largest $top for event lists


@dataclass(frozen=True)
class Window:
    """The sliding window a calendar is mirrored over: ``back`` days before now to ``ahead``
    days after; a saved window that lags more than ``slide_days`` behind is renewed."""

    back: float = 90.0
    ahead: float = 548.0  # 18 months
    slide_days: float = 7.0

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return day - timedelta(days=self.back), day + timedelta(days=self.ahead)


@dataclass
class State:
    """A parsed saved state."""

    link: str
    low: datetime
    high: datetime
    occ: dict[str, list[str]]  # master id -> short hashes of its occurrences' ids

    def text(self) -> str:
        data = {"link": self.link, "low": utc_text(self.low), "high": utc_text(self.high),
                "occ": self.occ}  # fmt: skip
        return STATE_PREFIX + json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def parse(cls, text: str) -> State:
        """Raises SyncStateExpired for a state that is not an Outlook one."""
        if not text.startswith(STATE_PREFIX):
            raise SyncStateExpired("the saved sync state is not an Outlook one")
        try:
            data = json.loads(text[len(STATE_PREFIX) :])
            occ = {str(k): [str(h) for h in v] for k, v in data.get("occ", {}).items()}
            return cls(
                str(data["link"]),
                datetime.fromisoformat(str(data["low"]).replace("Z", "+00:00")),
                datetime.fromisoformat(str(data["high"]).replace("Z", "+00:00")),
                occ,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            raise SyncStateExpired("the saved Outlook sync state cannot be read") from None


def short(event_id: str) -> str:
    """A short, stable hash of an id (the state keeps these, not whole ids)."""
    return hashlib.sha1(event_id.encode("utf-8")).hexdigest()[:12]


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def event_path(event_id: str) -> str:
    return path("me", "events", event_id)


def reach(master: dict[str, Any], low: datetime) -> datetime:
    """Where a series' instances are read from: the window's start, or the series' own start
    when that is earlier (its exceptions and deleted occurrences before the window stay part of
    the item, so the history a practice keeps is never taken for removed)."""
    first = start_of(master)
    if first is None or first >= low:
        return low
    return first - timedelta(days=1)


def remote_item(resources: list[dict[str, Any]], removed: list[str]) -> RemoteItem:
    master = resources[0]
    return RemoteItem(
        RemoteRef(master["id"], version_text(resources)),
        item_uid(master),
        item_text(resources, removed),
    )


class OutlookReads:
    """The read side of one account; see the module docstring."""

    def __init__(self, api: OutlookApi, window: Window, clock: Callable[[], datetime]) -> None:
        self.api = api
        self.window = window
        self.clock = clock
        self.delta_page = 500

    # --- calendars ----------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The mailbox's calendars (paged). Raises AuthExpired, RateLimited, TransientError,
        PermanentItemError."""
        found: list[RemoteCalendar] = []
        for entry in await self.list_all("/me/calendars", {}, "the calendar list"):
            color = text(entry.get("hexColor")) or None
            found.append(
                RemoteCalendar(
                    remote_id=entry["id"],
                    name=text(entry.get("name")) or entry["id"],
                    color=color,
                    read_only=entry.get("canEdit") is False,
                )
            )
        return found

    # --- pulls --------------------------------------------------------------------------------

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """See the module docstring. Raises SyncStateExpired (Graph forgot the delta state,
        or the state is not ours), AuthExpired, RateLimited, TransientError."""
        if state is None:
            return await self.pull_all(calendar)
        saved = State.parse(state)
        low, _high = self.window.bounds(self.clock())
        if abs((low - saved.low).total_seconds()) > self.window.slide_days * 86400:
            return await self.pull_all(calendar)
        return await self._pull_changes(calendar, saved)

    async def pull_all(self, calendar: RemoteCalendar) -> PullResult:
        low, high = self.window.bounds(self.clock())
        cal = path("me", "calendars", calendar.remote_id)
        params = {"startDateTime": utc_text(low), "endDateTime": utc_text(high)}
        entries, link = await self.delta_pages(cal + "/calendarView/delta", params)
        stored = await self.list_all(
            cal + "/events", {"$expand": EXPAND, "$top": LIST_PAGE}, "the event list"
        )
        # The round lists every occurrence and exception in the window (without Carecal's
        # property, which delta cannot expand): exceptions are fetched with it.
        by_master: dict[str, dict[str, dict[str, Any]]] = {}
        for entry in entries:
            master_id = text(entry.get("seriesMasterId"))
            if master_id and "@removed" not in entry:
                by_master.setdefault(master_id, {})[entry["id"]] = entry
        exceptions = [
            eid
            for listed in by_master.values()
            for eid, entry in listed.items()
            if entry.get("type") == "exception"
        ]
        if exceptions:
            found = await self.fetch_many(exceptions, "the changed occurrences")
            for listed in by_master.values():
                for eid in list(listed):
                    if eid in found:
                        fetched = found[eid]
                        if fetched is None:
                            del listed[eid]
                        else:
                            listed[eid] = fetched
        older = [r for r in stored if r.get("type") == "seriesMaster" and reach(r, low) < low]
        for master_id, found_before in (await self.history(older, low)).items():
            by_master.setdefault(master_id, {}).update({i["id"]: i for i in found_before})
        items: list[RemoteItem] = []
        occ: dict[str, list[str]] = {}
        for resource in stored:
            if resource.get("type") == "seriesMaster":
                seen = list(by_master.get(resource["id"], {}).values())
                items.append(self._series_item(resource, seen, low, high))
                occ[resource["id"]] = sorted(short(i["id"]) for i in seen)
            elif resource.get("type") in (None, "singleInstance"):
                items.append(remote_item([resource], []))
        return PullResult(changed=items, state=State(link, low, high, occ).text(), complete=True)

    def _series_item(
        self,
        master: dict[str, Any],
        listed: list[dict[str, Any]],
        low: datetime,
        high: datetime,
    ) -> RemoteItem:
        exceptions = [i for i in listed if i.get("type") == "exception"]
        removed = removed_originals(master, listed, reach(master, low), high)
        return remote_item([master, *exceptions], removed)

    async def _pull_changes(self, calendar: RemoteCalendar, saved: State) -> PullResult:
        try:
            entries, link = await self.delta_pages(self.api.relative(saved.link), None)
        except PermanentItemError as exc:
            if isinstance(exc, HttpDetail) and exc.status == 400:
                raise SyncStateExpired("Outlook refused the saved delta link") from None
            raise
        except NotFound:
            raise SyncStateExpired("Outlook no longer knows the saved delta link") from None
        by_hash = {h: m for m, hashes in saved.occ.items() for h in hashes}
        singles: set[str] = set()
        series: set[str] = set()
        unknown: set[str] = set()
        for entry in entries:
            eid = entry["id"]
            if "@removed" in entry:
                if eid in saved.occ:
                    series.add(eid)
                elif short(eid) in by_hash:
                    series.add(by_hash[short(eid)])
                else:
                    unknown.add(eid)
            elif entry.get("type") in ("occurrence", "exception") and entry.get("seriesMasterId"):
                series.add(entry["seriesMasterId"])
            elif entry.get("type") == "seriesMaster":
                series.add(eid)
            else:
                singles.add(eid)
        changed: dict[str, RemoteItem] = {}
        deleted: list[str] = []
        masters: dict[str, dict[str, Any] | None] = {}
        wanted = sorted(singles | unknown | series)
        for _ in range(3):  # the events, then the masters of occurrences found among them
            if not wanted:
                break
            found = await self.fetch_many(wanted, "the changed events")
            wanted = []
            for eid, resource in found.items():
                if resource is None:
                    if eid in series:
                        masters[eid] = None
                    else:
                        deleted.append(eid)
                    continue
                kind = resource.get("type")
                if kind == "seriesMaster":
                    masters[eid] = resource
                elif kind in ("occurrence", "exception"):
                    parent = text(resource.get("seriesMasterId"))
                    if parent and parent not in masters and parent not in wanted:
                        series.add(parent)
                        wanted.append(parent)
                else:
                    changed[eid] = remote_item([resource], [])
        occ = dict(saved.occ)
        for master_id, master in masters.items():
            if master is None:
                deleted.append(master_id)
                occ.pop(master_id, None)
                continue
            listed = await self.instances(master, saved.low, saved.high)
            changed[master_id] = self._series_item(master, listed, saved.low, saved.high)
            occ[master_id] = sorted(short(i["id"]) for i in listed)
        gone = [d for d in dict.fromkeys(deleted) if d not in changed]
        new_state = State(link, saved.low, saved.high, occ)
        return PullResult(changed=list(changed.values()), deleted=gone, state=new_state.text())

    # --- one item -----------------------------------------------------------------------------

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        """The item whose master (or single event) is ``remote_id``. Raises NotFound,
        AuthExpired, RateLimited, TransientError."""
        low, high = self.window.bounds(self.clock())
        whole = await self.series(remote_id, low, high)
        if whole is None:
            raise NotFound(f"event {remote_id[:24]} is not in Outlook")
        return whole

    async def find(self, calendar: RemoteCalendar, uid: str) -> RemoteItem | None:
        """The item holding ``uid`` (Carecal's property, else Graph's iCalUId of a master or
        single event), or None. Lists the calendar's events: Graph cannot search delta
        results, and this is only asked after a create was refused. Raises AuthExpired,
        RateLimited, TransientError."""
        cal = path("me", "calendars", calendar.remote_id)
        listed = await self.list_all(
            cal + "/events", {"$expand": EXPAND, "$top": LIST_PAGE}, "the search by UID"
        )
        low, high = self.window.bounds(self.clock())
        for resource in listed:
            if item_uid(resource) == uid:
                found = await self.series(resource["id"], low, high, resource)
                if found is not None:
                    return found
        return None

    async def series(
        self,
        master_id: str,
        low: datetime,
        high: datetime,
        master: dict[str, Any] | None = None,
    ) -> RemoteItem | None:
        """The item of ``master_id`` (a single event, or a master with its exceptions in the
        window), or None when it is not there (or is an occurrence, not an item)."""
        if master is None:
            master = await self._event(master_id)
            if master is None:
                return None
        if master.get("type") in ("occurrence", "exception"):
            return None
        if master.get("type") != "seriesMaster":
            return remote_item([master], [])
        listed = await self.instances(master, low, high)
        return self._series_item(master, listed, low, high)

    async def parts(
        self, master_id: str, low: datetime, high: datetime
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """(master or single event, its occurrences and exceptions in the window), or None
        when it is not an item in Outlook."""
        master = await self._event(master_id)
        if master is None or master.get("type") in ("occurrence", "exception"):
            return None
        if master.get("type") != "seriesMaster":
            return master, []
        return master, await self.instances(master, low, high)

    async def _event(self, event_id: str) -> dict[str, Any] | None:
        """One event with Carecal's property, or None when Outlook has none of that id.
        Raises TransientError (an answer without an id) and as ``OutlookApi.call``."""
        try:
            event = await self.api.call(
                "GET", event_path(event_id), what=f"event {event_id[:24]}",
                params={"$expand": EXPAND},
            )  # fmt: skip
        except NotFound:
            return None
        if not isinstance(event.get("id"), str):
            raise TransientError("Outlook's answer had no event id")
        return event

    def item_of(
        self, master: dict[str, Any], listed: list[dict[str, Any]], low: datetime, high: datetime
    ) -> RemoteItem:
        """The RemoteItem of a master (or single event) and its listed instances."""
        if master.get("type") != "seriesMaster":
            return remote_item([master], [])
        return self._series_item(master, listed, low, high)

    async def instances(
        self, master: dict[str, Any], low: datetime, high: datetime
    ) -> list[dict[str, Any]]:
        """A series' occurrences and exceptions from ``reach(master, low)`` to ``high``, with
        Carecal's property."""
        return await self.instances_between(master["id"], reach(master, low), high)

    async def instances_between(
        self, master_id: str, low: datetime, high: datetime
    ) -> list[dict[str, Any]]:
        """A series' occurrences and exceptions in [low, high), with Carecal's property."""
        params = {"startDateTime": utc_text(low), "endDateTime": utc_text(high),
                  "$expand": EXPAND, "$top": LIST_PAGE}  # fmt: skip
        return await self.list_all(
            event_path(master_id) + "/instances", params, "the occurrences of a series"
        )

    async def history(
        self, masters: list[dict[str, Any]], low: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        """The instances of series that began before the window, from their start to ``low``
        ($batch of first pages, then each page's nextLink)."""
        out: dict[str, list[dict[str, Any]]] = {}
        what = "the earlier occurrences of the series"
        urls = []
        for master in masters:
            query = {"startDateTime": utc_text(reach(master, low)), "endDateTime": utc_text(low),
                     "$expand": EXPAND, "$top": LIST_PAGE}  # fmt: skip
            urls.append(
                event_path(master["id"]) + "/instances?" + urlencode(query, quote_via=quote)
            )
        if len(urls) == 1:
            out[masters[0]["id"]] = await self.list_all(urls[0], {}, what)
            return out
        members = await self.api.batch_get(urls, what) if urls else []
        for master, member in zip(masters, members, strict=True):
            try:
                page = member_json(member, what)
            except NotFound:
                continue
            found = [e for e in page.get("value") or [] if isinstance(e, dict) and "id" in e]
            following = text(page.get("@odata.nextLink"))
            if following:
                found += await self.list_all(self.api.relative(following), {}, what)
            out[master["id"]] = found
        return out

    async def fetch_many(self, ids: list[str], what: str) -> dict[str, dict[str, Any] | None]:
        """Each event with Carecal's property (None for one that is gone): one request for a
        single id, $batch for more."""
        urls = [event_path(i) + "?$expand=" + quote(EXPAND, safe="") for i in ids]
        out: dict[str, dict[str, Any] | None] = {}
        if len(ids) == 1:
            try:
                out[ids[0]] = await self.api.call("GET", urls[0], what=what)
            except NotFound:
                out[ids[0]] = None
            return out
        for eid, member in zip(ids, await self.api.batch_get(urls, what), strict=True):
            try:
                out[eid] = member_json(member, what)
            except NotFound:
                out[eid] = None
        return out

    # --- listings -----------------------------------------------------------------------------

    async def delta_pages(
        self, start: str, params: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], str]:
        """The entries of one delta round from ``start`` (pages may be empty and go on) and its
        deltaLink. Raises SyncStateExpired (410), and as OutlookApi.call."""
        prefer = f"odata.maxpagesize={self.delta_page}"
        out: list[dict[str, Any]] = []
        url, query = start, params
        for _ in range(MAX_PAGES):
            data = await self.api.call("GET", url, what="the change list", params=query,
                                       prefer=prefer)  # fmt: skip
            for entry in data.get("value") or []:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    out.append(entry)
            delta = text(data.get("@odata.deltaLink"))
            if delta:
                return out, delta
            following = text(data.get("@odata.nextLink"))
            if not following:
                raise TransientError("Outlook's change list ended without a delta link")
            url, query = self.api.relative(following), None
        raise TransientError("Outlook's change list did not end; will try again")

    async def list_all(self, url: str, params: dict[str, str], what: str) -> list[dict[str, Any]]:
        """Every entry of a paged Graph list (entries without an id are skipped)."""
        out: list[dict[str, Any]] = []
        query: dict[str, str] | None = params
        for _ in range(MAX_PAGES):
            data = await self.api.call("GET", url, what=what, params=query)
            for entry in data.get("value") or []:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    out.append(entry)
            following = text(data.get("@odata.nextLink"))
            if not following:
                return out
            url, query = self.api.relative(following), None
        raise TransientError(f"{what}: Outlook's pages did not end; will try again")
