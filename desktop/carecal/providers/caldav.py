"""The CalDAV provider (iCloud, Nextcloud, Fastmail, Radicale, Xandikos, any RFC 4791 server).

Items are whole resources: one ``.ics`` per UID, ``remote_id`` = the resource's path (decoded),
``version`` = its strong ETag. Reads use sync-collection (RFC 6578) when the calendar has a
sync token, else a ctag check plus an ETag listing; changed content comes by calendar-multiget,
never one GET per object. A pull without state (first sync, or after an expired token) fetches
everything by one calendar-query (see caldav_fetch), then reads the calendar's sync token and
checks an ETag listing against the download (see ``_pull_everything``). Adding an account can
start that download right after discovery (``discover_and_download``).
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
        # Downloads started by discover_and_download, by calendar URL, until a pull takes them.
        self._early: dict[str, _FirstPull] = {}

    @property
    def requests(self) -> list[str]:
        """Every HTTP request sent so far, as "METHOD /path" (for tests and diagnostics)."""
        return self._http.requests

    async def close(self) -> None:
        await self._run(self.close_blocking)

    def close_blocking(self) -> None:
        """``close`` for a caller without an event loop; closing twice is harmless. Waits for a
        request under way. Any thread."""
        self._early.clear()  # a download nobody took is dropped
        self._http.close()

    # --- the protocol ------------------------------------------------------------------------

    async def discover(self) -> list[RemoteCalendar]:
        """The event calendars of the account. Raises AuthExpired, TransientError, NotFound."""
        return await self._run(lambda: disco.discover(self._http, self.start_url))

    def discover_and_download(
        self, choose: Callable[[list[RemoteCalendar]], Sequence[RemoteCalendar]]
    ) -> Future[list[RemoteCalendar]]:
        """Discover the account's calendars on a thread of its own and then, on that thread,
        download everything in the first calendar ``choose`` picks from them, for the first
        pull of that calendar without state to take (``_pull_everything``).

        For adding an account: the server answers while the caller opens its store and records
        the account, instead of after. Taking the download later is as safe as taking it at
        once: the pull's second step lists the ETags after reading the state, so what changed
        in between is fetched too.

        The future holds the calendars, or the domain error discovery raised (AuthExpired,
        TransientError, NotFound, ValidationError). ``choose`` runs on that thread; an error it
        raises only means nothing is downloaded early (the caller checks the choice itself).
        Any thread.
        """
        found: Future[list[RemoteCalendar]] = Future()
        found.set_running_or_notify_cancel()

        def work() -> None:
            try:
                calendars = disco.discover(self._http, self.start_url)
            except Exception as exc:
                found.set_exception(_domain_error(exc))
                return
            try:
                first = list(choose(calendars))[:1]
            except Exception:
                first = []
            pull = _FirstPull(self, first[0].remote_id) if first else None
            if pull is not None:
                # Registered before the calendars are handed over, so a pull cannot miss it.
                self._early[pull.cal_url] = pull
            found.set_result(calendars)
            if pull is not None:
                pull.download()

        threading.Thread(target=work, name="caldav-discovery", daemon=True).start()
        return found

    async def pull(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        return await settle(await self.pull_staged(calendar, state))

    async def pull_staged(self, calendar: RemoteCalendar, state: str | None) -> PullResult:
        """As ``pull``; a complete pull returns its items at once and reads the state in the
        background (``PullResult.follow_up``, see ``_pull_everything``)."""
        work = self._run(lambda: self._pull(calendar.remote_id, state))
        if state is not None:
            return await work
        import asyncio  # see _run

        task = asyncio.ensure_future(work)
        await asyncio.sleep(0)  # the download is under way (or taken over) first
        # A complete pull reads every item it brings (``to_events``): the reader's modules load
        # while the server answers, not after (about 7 ms of a 1,000-event first sync).
        from carecal.ical import reader  # noqa: F401

        return await task

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
        # asyncio is imported where it is used, not with the module: adding an account starts
        # discovery before it (about 0.02 s of a process start that waits for nothing else).
        import asyncio

        return await self._guard(asyncio.to_thread(fn))

    @staticmethod
    async def _guard(work: Awaitable[T]) -> T:
        """``work``'s result, with every failure as one of the domain's errors."""
        try:
            return await work
        except Exception as exc:
            raise _domain_error(exc) from None

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
        own, started once the download's answer is in: ``_FirstPull``) the calendar's state
        plus whatever changed since the download. The download may have begun before the pull
        was asked for (``discover_and_download``).

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
        pull = self._early.pop(cal_url, None)
        if pull is None:
            pull = _FirstPull(self, cal_url)
            pull.download()
        items = pull.items.result()
        step = pull.second_step()
        return PullResult(changed=items, complete=True, follow_up=lambda: _awaiting(step))

    def _state_after(
        self, cal_url: str, downloaded: Callable[[], tuple[dict[str, str], bool]]
    ) -> PullResult:
        """The second step of ``_pull_everything``: the state, then the changes since the
        download (``downloaded`` waits for its path -> ETag map and whether it came by
        calendar-query). Its own thread."""
        token = None
        if self._use_sync:
            ms, _ = disco.propfind(self._http, cal_url, [_TOKEN], 0)
            token = ms.responses[0].text(_TOKEN) if ms.responses else None
        ctag = None
        if not token:
            ms, _ = disco.propfind(self._http, cal_url, [_CTAG], 0)
            ctag = ms.responses[0].text(_CTAG) if ms.responses else None
        fetched, by_query = downloaded()
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


class _FirstPull:
    """A pull without state (``CalDAVProvider._pull_everything``): the download of everything,
    and its second step, started as soon as the download's answer is in: the state is read
    while the answer is still being parsed (Radicale: 0.06 s at 1,000 items, 1 s at 20,000).
    That is as safe as reading it after the parse, since it is still read after the server
    answered; the step waits for the parsed download only to compare its listing with it.

    Threads: ``download`` on the thread that downloads (a worker, or discovery's thread);
    ``items`` and ``second_step`` from any."""

    def __init__(self, provider: CalDAVProvider, cal_url: str) -> None:
        self.cal_url = cal_url
        self.items: Future[list[RemoteItem]] = Future()
        self.items.set_running_or_notify_cancel()
        self._provider = provider
        self._summary: Future[tuple[dict[str, str], bool]] = Future()
        self._summary.set_running_or_notify_cancel()
        self._step: Future[PullResult] | None = None
        self._lock = threading.Lock()

    def download(self) -> None:
        """Fetch every item (``fetch.fetch_all``); its result or error lands in ``items``."""
        try:
            items, by_query = fetch.fetch_all(
                self._provider._http, self.cal_url, on_answer=self._start_step
            )
        except BaseException as exc:  # handed to the pull (and the step) that wait for it
            self._summary.set_exception(exc)
            self.items.set_exception(exc)
            return
        self._summary.set_result(
            ({it.ref.remote_id: it.ref.version or "" for it in items}, by_query)
        )
        self._start_step()  # a download by listing and multiget gives no early answer
        self.items.set_result(items)

    def second_step(self) -> Future[PullResult]:
        """The running second step (``download`` ended well, so it has started it)."""
        assert self._step is not None
        return self._step

    def _start_step(self) -> None:
        with self._lock:
            if self._step is None:
                self._step = _in_background(
                    lambda: self._provider._state_after(self.cal_url, self._summary.result)
                )


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


async def _awaiting(step: Future[PullResult]) -> PullResult:
    import asyncio  # see CalDAVProvider._run

    return await CalDAVProvider._guard(asyncio.wrap_future(step))


def _domain_error(exc: Exception) -> CarecalError:
    """Any failure of a request as one of the domain's errors (a malformed answer is transient:
    the next try may get a whole one)."""
    if isinstance(exc, CarecalError):
        return exc
    if isinstance(exc, MalformedResponse):
        return TransientError(str(exc))
    return remote_error(exc)


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
