"""The CalDAV provider (iCloud, Nextcloud, Fastmail, Radicale, Xandikos, any RFC 4791 server).

Items are whole resources: one ``.ics`` per UID, ``remote_id`` = the resource's path (decoded),
``version`` = its strong ETag. Reads use sync-collection (RFC 6578) when the calendar has a
sync token, else a ctag check plus an ETag listing; changed content comes by calendar-multiget,
never one GET per object. A pull without state (first sync, or after an expired token) fetches
everything by one calendar-query (see caldav_fetch), then reads the calendar's sync token and
checks an ETag listing against the download (see ``_pull_everything``).
Writes are conditional: If-None-Match: * on create (to the href derived from the UID, so a
retried create cannot duplicate), If-Match with the real ETag on update and delete (never the
wildcard, which iCloud reverses).

Threads: the coroutines run on the sync worker's event loop and hand each blocking exchange to a
worker thread (``asyncio.to_thread``); a complete pull's second step runs on a thread of its own
while the engine stores the first. The session is used by one request at a time (its lock).
Errors: only the domain's (see providers/base.py); credentials are never logged.

State strings: ``sync:<server token>`` or ``ctag:<json {ctag, etags}>``; anything else is
treated as expired.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from carecal.domain.errors import (
    CarecalError,
    NotFound,
    PreconditionFailed,
    SyncStateExpired,
    TransientError,
)
from carecal.domain.models import Event, ProviderKind
from carecal.providers import caldav_discovery as disco
from carecal.providers import caldav_fetch as fetch
from carecal.providers.base import (
    Capability,
    PullResult,
    RemoteCalendar,
    RemoteItem,
    RemoteRef,
    UidConflict,
    resource_name,
    settle,
)
from carecal.providers.caldav_http import Answer, Http, raise_for_item, remote_error
from carecal.providers.caldav_ics import prepare_for_put
from carecal.providers.caldav_xml import (
    CAL,
    CS,
    DAV,
    MalformedResponse,
    parse_multistatus,
    sync_collection_body,
)
from carecal.providers.presets import start_url

T = TypeVar("T")

MAX_SYNC_PAGES = 100
_ETAG = f"{{{DAV}}}getetag"
_TOKEN = f"{{{DAV}}}sync-token"
_CTAG = f"{{{CS}}}getctag"
_VALID_TOKEN = f"{{{DAV}}}valid-sync-token"
_UID_CONFLICT = f"{{{CAL}}}no-uid-conflict"


class CalDAVProvider:
    """One CalDAV account.

    ``url`` may be a bare domain, a server root, a principal, a calendar home or one calendar;
    ``preset`` ("icloud", "nextcloud", "fastmail", "generic") fills in or completes it.
    ``use_sync_collection=False`` forces the ctag + ETag listing (servers whose sync-collection
    is broken). Nothing touches the network until a coroutine is awaited.
    """

    kind = ProviderKind.CALDAV
    capabilities = frozenset({Capability.INCREMENTAL})

    def __init__(
        self,
        url: str | None,
        username: str | None,
        password: str | None,
        *,
        preset: str = "generic",
        timeout: float = 30.0,
        verify_tls: bool = True,
        use_sync_collection: bool = True,
    ) -> None:
        self.start_url = start_url(url, preset)
        self.preset = preset
        self._http = Http(username, password, timeout=timeout, verify_tls=verify_tls)
        self._use_sync = use_sync_collection

    @property
    def requests(self) -> list[str]:
        """Every HTTP request sent so far, as "METHOD /path" (for tests and diagnostics)."""
        return self._http.requests

    async def close(self) -> None:
        await self._run(self._http.close)

    # --- the protocol ------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The event calendars of the account. Raises AuthExpired, TransientError, NotFound."""
        return await self._run(lambda: disco.discover(self._http, self.start_url))

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        return await settle(await self.pull_staged(calendar, state))

    async def pull_staged(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """As ``pull``; a complete pull returns its items at once and reads the state in the
        background (``PullResult.follow_up``, see ``_pull_everything``)."""
        return await self._run(lambda: self._pull(calendar.remote_id, state))

    async def get(self, calendar: RemoteCalendar, remote_id: str) -> RemoteItem:
        def work() -> RemoteItem:
            items, _ = fetch.multiget(self._http, calendar.remote_id, [remote_id])
            if not items:
                raise NotFound(f"{remote_id} is not on the server")
            return items[0]

        return await self._run(work)

    async def create(self, calendar: RemoteCalendar, uid: str, raw: str) -> RemoteRef:
        def work() -> RemoteRef:
            url = disco.absolute(calendar.remote_id, _join(calendar.remote_id, resource_name(uid)))
            ans = self._put(url, raw, {"If-None-Match": "*"})
            if ans.status in (403, 409, 412) and _UID_CONFLICT in ans.pre:
                raise UidConflict(f"an item with UID {uid!r} exists at another address")
            raise_for_item(ans, f"the new item {resource_name(uid)}")
            return self._ref_after_put(url, ans)

        return await self._run(work)

    async def update(self, calendar: RemoteCalendar, ref: RemoteRef, raw: str) -> RemoteRef:
        def work() -> RemoteRef:
            _need_version(ref)
            url = disco.absolute(calendar.remote_id, ref.remote_id)
            ans = self._put(url, raw, {"If-Match": str(ref.version)})
            raise_for_item(ans, ref.remote_id)
            return self._ref_after_put(url, ans)

        return await self._run(work)

    async def delete(self, calendar: RemoteCalendar, ref: RemoteRef) -> None:
        def work() -> None:
            _need_version(ref)
            url = disco.absolute(calendar.remote_id, ref.remote_id)
            ans = self._http.request("DELETE", url, b"", {"If-Match": str(ref.version)})
            if ans.status in (404, 410):
                return  # already gone: the wanted end state
            if ans.status == 412 and self._etag(url) is None:
                return  # some servers check If-Match before existence
            raise_for_item(ans, ref.remote_id)

        await self._run(work)

    def to_events(self, item: RemoteItem, calendar_id: str) -> list[Event]:
        # Imported here: ``accounts add`` never reads an item (process start-up).
        from carecal.ical.reader import read_item

        return read_item(item.raw, source=item.ref.remote_id, calendar_id=calendar_id)

    def to_raw(self, events: Sequence[Event]) -> str:
        from carecal.ical.writer import write_ics  # only when pushing (process start-up)

        return write_ics(events).decode("utf-8")

    # --- blocking internals (worker thread) --------------------------------------------------

    async def _run(self, fn: Callable[[], T]) -> T:
        return await self._guard(asyncio.to_thread(fn))

    @staticmethod
    async def _guard(work: Awaitable[T]) -> T:
        """``work``'s result, with every failure as one of the domain's errors."""
        try:
            return await work
        except CarecalError:
            raise
        except MalformedResponse as exc:
            raise TransientError(str(exc)) from None
        except Exception as exc:
            raise remote_error(exc) from None

    def _pull(self, cal_url: str, state: str | None) -> PullResult:
        if state is None:
            return self._pull_everything(cal_url)
        if state.startswith("sync:") and len(state) > 5:
            return self._pull_sync(cal_url, state[5:])
        if state.startswith("ctag:"):
            try:
                prev = json.loads(state[5:])
                etags = {str(k): str(v) for k, v in prev["etags"].items()}
                old_ctag = prev.get("ctag")
            except (ValueError, KeyError, AttributeError, TypeError):
                raise SyncStateExpired("the saved sync state is unreadable") from None
            ms, _ = disco.propfind(self._http, cal_url, [_CTAG], 0)
            ctag = ms.responses[0].text(_CTAG) if ms.responses else None
            if ctag is not None and ctag == old_ctag:
                return PullResult(state=state)
            return self._pull_ctag(cal_url, etags, ctag)
        raise SyncStateExpired("the saved sync state is not a CalDAV one")

    def _pull_everything(self, cal_url: str) -> PullResult:
        """A complete pull in two steps: every item now, and (``follow_up``, on a thread of its
        own, started here) the calendar's state plus whatever changed since the download.

        The state is read AFTER the content so that its read (Radicale hashes every item for
        it: about 1 s at 20,000) runs while the engine stores the items, not before the
        download. A change made between the download and the state read would be covered by
        the state yet missing from the download, so the second step then lists the ETags the
        same way the download did and fetches what differs (or reports it deleted). Anything
        that changes after the state read is newer than the state and comes with the next pull.
        The state itself is the DAV:sync-token (RFC 6578 §4: the token a sync-collection would
        return now), or a ctag with the listing's ETags when the server has no token.
        Worker thread; raises what ``fetch_all`` raises (the second step's errors come from its
        follow-up).
        """
        items, by_query = fetch.fetch_all(self._http, cal_url)
        fetched = {it.ref.remote_id: it.ref.version or "" for it in items}
        step = _in_background(lambda: self._state_after(cal_url, fetched, by_query))
        return PullResult(
            changed=items, complete=True, follow_up=lambda: self._guard(asyncio.wrap_future(step))
        )

    def _state_after(self, cal_url: str, fetched: dict[str, str], by_query: bool) -> PullResult:
        """The second step of ``_pull_everything``: the state, then the changes since the
        download. Its own thread."""
        token = None
        if self._use_sync:
            ms, _ = disco.propfind(self._http, cal_url, [_TOKEN], 0)
            token = ms.responses[0].text(_TOKEN) if ms.responses else None
        ctag = None
        if not token:
            ms, _ = disco.propfind(self._http, cal_url, [_CTAG], 0)
            ctag = ms.responses[0].text(_CTAG) if ms.responses else None
        items, deleted, now = self._changes_since(cal_url, fetched, by_query)
        state = f"sync:{token}" if token else _ctag_state(ctag, now)
        return PullResult(changed=items, deleted=deleted, state=state)

    def _pull_sync(self, cal_url: str, token: str) -> PullResult:
        """Changes since a sync token: one sync-collection (paged while the server says 507),
        then one multiget of the changed hrefs. Raises SyncStateExpired for a refused token."""
        cal_path = _path(cal_url).rstrip("/")
        listed: dict[str, str] = {}
        deleted: set[str] = set()
        for _ in range(MAX_SYNC_PAGES):
            ans = self._http.request("REPORT", cal_url, sync_collection_body(token), {"Depth": "1"})
            if ans.status != 207:
                if _token_refused(ans):
                    raise SyncStateExpired("the server no longer knows this sync token")
                raise_for_item(ans, "the calendar's change list")
            ms = parse_multistatus(ans.body)
            truncated = False
            for r in ms.responses:
                if r.href.rstrip("/") == cal_path:
                    truncated = truncated or r.status == 507
                    continue  # iCloud lists the collection as its own member
                if r.href.endswith("/"):
                    continue
                if r.status in (404, 410):
                    deleted.add(r.href)
                    listed.pop(r.href, None)
                    continue
                listed[r.href] = r.text(_ETAG) or ""
                deleted.discard(r.href)
            if not ms.sync_token:
                raise TransientError("the server's change list carried no sync token")
            token = ms.sync_token
            if not truncated:
                break
        items, missing = fetch.multiget(self._http, cal_url, sorted(listed))
        return PullResult(
            changed=items, deleted=sorted(deleted | set(missing)), state=f"sync:{token}"
        )

    def _pull_ctag(self, cal_url: str, previous: dict[str, str], ctag: str | None) -> PullResult:
        """Changes since an ETag listing: a fresh listing, then one multiget of what differs."""
        items, deleted, now = self._changes_since(cal_url, previous, False)
        return PullResult(changed=items, deleted=deleted, state=_ctag_state(ctag, now))

    def _changes_since(
        self, cal_url: str, previous: dict[str, str], by_query: bool
    ) -> tuple[list[RemoteItem], list[str], dict[str, str]]:
        """What differs from ``previous`` (path -> ETag): a fresh ETag listing (``by_query`` as
        in ``fetch.list_etags``), then one multiget of the new and changed paths (a missing or
        weak ETag always counts as changed). Returns (items, deleted paths, path -> ETag now)."""
        now = fetch.list_etags(self._http, cal_url, by_query)
        wanted = sorted(h for h, e in now.items() if not e or previous.get(h) != e)
        items, missing = fetch.multiget(self._http, cal_url, wanted)
        for h in missing:
            now.pop(h, None)
        for it in items:
            now[it.ref.remote_id] = it.ref.version or ""
        deleted = sorted((set(previous) - set(now)) | set(missing))
        return items, deleted, now

    def _put(self, url: str, raw: str, cond: dict[str, str]) -> Answer:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **cond}
        return self._http.request("PUT", url, prepare_for_put(raw).encode("utf-8"), headers)

    def _ref_after_put(self, url: str, ans: Answer) -> RemoteRef:
        # A server that rewrote the body may leave the ETag out (RFC 4791 §5.3.4): ask for it.
        etag = ans.etag() or self._etag(url)
        return RemoteRef(_path(url), etag)

    def _etag(self, url: str) -> str | None:
        try:
            ms, _ = disco.propfind(self._http, url, [_ETAG], 0)
        except NotFound:
            return None
        tag = ms.responses[0].text(_ETAG) if ms.responses else None
        return tag if tag and not tag.startswith("W/") else None


def _in_background(fn: Callable[[], T]) -> Future[T]:
    """Run ``fn`` on a thread of its own; its result or exception lands in the future. A result
    nobody awaits (the sync was cancelled or failed first) is dropped with the thread."""
    future: Future[T] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever awaits the future
            future.set_exception(exc)

    threading.Thread(target=work, name="caldav-state", daemon=True).start()
    return future


def _ctag_state(ctag: str | None, etags: dict[str, str]) -> str:
    return "ctag:" + json.dumps({"ctag": ctag, "etags": etags}, separators=(",", ":"))


def _token_refused(ans: Answer) -> bool:
    """An invalid or expired sync token, however the server words it."""
    if _VALID_TOKEN in ans.pre:
        return True
    return ans.status in (403, 409, 412) or (ans.status == 500 and b"valid-sync-token" in ans.body)


def _need_version(ref: RemoteRef) -> None:
    if not ref.version:
        raise PreconditionFailed(f"{ref.remote_id}: no known version to write against")


def _path(url: str) -> str:
    return unquote(urlsplit(url).path)


def _join(cal_url: str, name: str) -> str:
    return _path(cal_url).rstrip("/") + "/" + name


def provider_from_url(
    url: str | None, username: str | None, password: str | None, preset: str = "generic"
) -> CalDAVProvider:
    """Build a provider (for `accounts add caldav`); raises ValidationError for a bad address."""
    return CalDAVProvider(url, username, password, preset=preset)
