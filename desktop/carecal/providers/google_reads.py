"""Reading a Google calendar: the calendar list, full and incremental pulls, one item, and
the search by UID (see providers/google.py for the representation).

A full pull lists everything (singleEvents=false so series stay series, showDeleted=true, 2500
a page) to the end, across empty pages, and keeps the nextSyncToken of the last page. An
incremental pull sends it back: changed single events come as they are (ten changes, one
request), and a series touched in any way (its master or one exception) is fetched whole (the
master, then a listing by its iCalUID) so an item is never partial.

Coroutines run on the sync worker's event loop; errors are the domain's (google_api.py).
"""

from __future__ import annotations

from typing import Any

from carecal.domain.errors import (
    NotFound,
    PermanentItemError,
    SyncStateExpired,
    TransientError,
)
from carecal.net.errors import HttpDetail
from carecal.providers.base import PullResult, RemoteCalendar, RemoteItem, RemoteRef
from carecal.providers.google_api import GoogleApi, path
from carecal.providers.google_map import (
    P_UID,
    is_cancelled,
    item_text,
    item_uid,
    version_text,
)

STATE_PREFIX = "google:"  # a saved state without it is not ours: the engine lists again
PAGE_SIZE = "2500"  # Google's maximum
MAX_PAGES = 2000  # 5 million events at 2500 a page; Google's empty pages count too


class GoogleReads:
    """The read side of one account; see the module docstring."""

    def __init__(self, api: GoogleApi) -> None:
        self.api = api

    # --- calendars ----------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The calendars of the account's calendar list (calendarList.list, paged): name is the
        user's own name for it when set, read-only unless the account may write events.
        Raises AuthExpired, RateLimited, TransientError, PermanentItemError."""
        found: list[RemoteCalendar] = []
        page: str | None = None
        for _ in range(MAX_PAGES):
            params = {"maxResults": "250", **({"pageToken": page} if page else {})}
            data = await self.api.fetch(
                "GET", "/users/me/calendarList", "the calendar list", params
            )
            for entry in data.get("items") or []:
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    continue
                if entry.get("deleted") is True:
                    continue
                name = entry.get("summaryOverride") or entry.get("summary") or entry["id"]
                color = entry.get("backgroundColor")
                found.append(
                    RemoteCalendar(
                        remote_id=entry["id"],
                        name=str(name),
                        color=color if isinstance(color, str) else None,
                        read_only=entry.get("accessRole") not in ("owner", "writer"),
                    )
                )
            page = text(data.get("nextPageToken"))
            if not page:
                return found
        raise TransientError("Google's calendar list did not end; will try again")

    # --- reading ------------------------------------------------------------------------------

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """Everything (``state`` None; ``complete``) or the changes since ``state``. Raises
        SyncStateExpired (Google wants a full sync, or the state is not one of ours),
        AuthExpired, RateLimited, TransientError."""
        if state is None:
            return await self._pull_all(calendar)
        if not state.startswith(STATE_PREFIX) or len(state) == len(STATE_PREFIX):
            raise SyncStateExpired("the saved sync state is not a Google one")
        return await self._pull_changes(calendar, state[len(STATE_PREFIX) :])

    async def _pull_all(self, calendar: RemoteCalendar) -> PullResult:
        warnings: list[str] = []
        resources, token = await self.list_events(calendar, {}, "the event list", warnings)
        items = _group(resources)
        if token is None:
            warnings.append("Google sent no sync token; the next sync lists everything again")
        return PullResult(
            changed=[remote_item(r) for r in items],
            state=STATE_PREFIX + token if token else None,
            complete=True,
            warnings=warnings,
        )

    async def _pull_changes(self, calendar: RemoteCalendar, token: str) -> PullResult:
        warnings: list[str] = []
        try:
            resources, new_token = await self.list_events(
                calendar, {"syncToken": token}, "the change list", warnings
            )
        except NotFound as exc:  # 410 fullSyncRequired (or a calendar gone)
            if isinstance(exc, HttpDetail) and exc.status == 410:
                raise SyncStateExpired("Google asks for a full sync") from None
            raise
        except PermanentItemError as exc:
            if isinstance(exc, HttpDetail) and exc.status == 400:
                raise SyncStateExpired("Google refused the saved sync token") from None
            raise
        changed: dict[str, RemoteItem] = {}
        deleted: list[str] = []
        series: dict[str, dict[str, Any] | None] = {}
        for resource in resources:
            rid = resource["id"]
            parent = text(resource.get("recurringEventId"))
            if parent:
                series.setdefault(parent, None)
            elif is_cancelled(resource):
                deleted.append(rid)
            elif resource.get("recurrence"):
                series[rid] = resource
            else:
                changed[rid] = remote_item([resource])
        for master_id, master in series.items():
            if master_id in deleted:
                continue
            whole = await self.series(calendar, master_id, master, warnings)
            if whole is None:
                deleted.append(master_id)
            else:
                changed[master_id] = remote_item(whole)
        gone = [d for d in dict.fromkeys(deleted) if d not in changed]
        state = STATE_PREFIX + new_token if new_token else STATE_PREFIX + token
        return PullResult(
            changed=list(changed.values()), deleted=gone, state=state, warnings=warnings
        )

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        """The item whose master is ``remote_id``. Raises NotFound (absent or cancelled),
        AuthExpired, RateLimited, TransientError."""
        whole = await self.series(calendar, remote_id, None, [])
        if whole is None:
            raise NotFound(f"event {remote_id} is not on Google")
        return remote_item(whole)

    async def find(self, calendar: RemoteCalendar, uid: str) -> RemoteItem | None:
        """The live item holding ``uid``: one Carecal wrote (private carecalUid), else one with
        that iCalUID (written by another app), else None. Raises AuthExpired, RateLimited,
        TransientError."""
        for params in ({"privateExtendedProperty": f"{P_UID}={uid}"}, {"iCalUID": uid}):
            found, _ = await self.list_events(calendar, params, "the search by UID", [])
            masters: list[str] = []
            for resource in found:
                if is_cancelled(resource):
                    continue
                master_id = text(resource.get("recurringEventId")) or resource["id"]
                if master_id not in masters:
                    masters.append(master_id)
            for master_id in masters:
                whole = await self.series(calendar, master_id, None, [])
                if whole is not None:
                    return remote_item(whole)
        return None

    async def series(
        self,
        calendar: RemoteCalendar,
        master_id: str,
        master: dict[str, Any] | None,
        warnings: list[str],
    ) -> list[dict[str, Any]] | None:
        """The live item of ``master_id`` (master, then its exceptions), or None when it is
        deleted or absent. ``master``: the master as just listed, saving a GET."""
        if master is None:
            try:
                master = await self.api.fetch(
                    "GET", event_path(calendar, master_id), f"event {master_id}"
                )
            except NotFound:
                return None
            if not isinstance(master.get("id"), str):
                raise TransientError(f"event {master_id}: Google's answer had no id")
        if is_cancelled(master) or master.get("recurringEventId"):
            return None
        ical_uid = text(master.get("iCalUID"))
        if not master.get("recurrence") or not ical_uid:
            return [master]
        listed, _ = await self.list_events(
            calendar, {"iCalUID": ical_uid}, f"the occurrences of event {master_id}", warnings
        )
        exceptions = {r["id"]: r for r in listed if r.get("recurringEventId") == master_id}
        return [master, *exceptions.values()]

    async def list_events(
        self,
        calendar: RemoteCalendar,
        extra: dict[str, str],
        what: str,
        warnings: list[str],
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every resource of an events.list query, paged to the end (pages may be empty and
        still go on), and the nextSyncToken of the last page."""
        params = {"singleEvents": "false", "showDeleted": "true", "maxResults": PAGE_SIZE, **extra}
        out: list[dict[str, Any]] = []
        events_path = path("calendars", calendar.remote_id, "events")
        for _ in range(MAX_PAGES):
            data = await self.api.fetch("GET", events_path, what, params)
            items = data.get("items")
            for resource in items if isinstance(items, list) else []:
                if isinstance(resource, dict) and isinstance(resource.get("id"), str):
                    out.append(resource)
                else:
                    warnings.append("Google listed an entry without an id; it was skipped")
            page = text(data.get("nextPageToken"))
            if not page:
                return out, text(data.get("nextSyncToken")) or None
            params = {**params, "pageToken": page}
        raise TransientError(f"{what}: Google's pages did not end; will try again")


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def event_path(calendar: RemoteCalendar, event_id: str) -> str:
    return path("calendars", calendar.remote_id, "events", event_id)


def _group(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The live items (master or single, then its exceptions) of a full listing. Deleted ones
    and the exceptions of a master that is not listed live are left out."""
    masters: dict[str, dict[str, Any]] = {}
    exceptions: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in resources:
        parent = text(resource.get("recurringEventId"))
        if parent:
            exceptions.setdefault(parent, {})[resource["id"]] = resource
        else:
            masters[resource["id"]] = resource
    return [
        [master, *exceptions.get(master_id, {}).values()]
        for master_id, master in masters.items()
        if not is_cancelled(master)
    ]


def remote_item(resources: list[dict[str, Any]]) -> RemoteItem:
    """The RemoteItem of a live item's resources (master first)."""
    master = resources[0]
    return RemoteItem(
        RemoteRef(master["id"], version_text(resources)), item_uid(master), item_text(resources)
    )
