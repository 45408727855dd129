"""Fetching a CalDAV calendar's content: the whole calendar in one request where the server allows
it, else an ETag listing plus calendar-multiget in chunks that shrink when the server finds them
too big.

Why one calendar-query first: servers answer "everything" from one pass over their storage,
while a multiget makes them resolve each href (Radicale checks every href against a list of the
collection's file names, so fetching N items by multiget costs it O(N^2): 5 s at 20,000 items
against 1.7 s for the single query). Servers that cap a REPORT's size (Radicale's
``max_expand_occurrence``, 10,000 VEVENTs by default, answered with 400) or cannot run the query
get the chunked multiget instead, which is what every server supports.

Blocking: every function runs on a worker thread (the provider calls them through
``asyncio.to_thread``). Errors: the domain's (TransientError, NotFound, PermanentItemError,
AuthExpired, RateLimited) and ``MalformedResponse`` for an unreadable 207, which the provider
reports as transient.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from carecal.providers import caldav_discovery as disco
from carecal.providers.base import RemoteItem, RemoteRef
from carecal.providers.caldav_http import Answer, Http, raise_for_item
from carecal.providers.caldav_ics import first_uid
from carecal.providers.caldav_xml import (
    CAL,
    DAV,
    Response,
    calendar_query_body,
    multiget_body,
    parse_multistatus,
)

MULTIGET_CHUNK = 2000  # fewer round trips than 500 (Radicale: 5.1 s vs 5.6 s at 20k items)
_ETAG = f"{{{DAV}}}getetag"
_DATA = f"{{{CAL}}}calendar-data"
# How servers refuse a whole-calendar query they will not answer: too many components (Radicale:
# 400), too large (413, 507), or the query itself unsupported (403, 405, 415, 422, 501).
_QUERY_REFUSED = frozenset({400, 403, 405, 413, 415, 422, 501, 507})
# How servers refuse a multiget whose answer would be too large.
_TOO_BIG = frozenset({400, 413, 507})


def path_of(url: str) -> str:
    """The path of a URL, percent-decoded (the form remote ids take). Any thread."""
    return unquote(urlsplit(url).path)


def fetch_all(
    http: Http, cal_url: str, on_answer: Callable[[], None] | None = None
) -> tuple[list[RemoteItem], bool]:
    """Every item of the calendar with its ETag and data: one calendar-query, or, when the server
    refuses or truncates it, an ETag listing plus chunked multiget. Also says which: True for
    the calendar-query (``list_etags`` then lists the same way). ``on_answer`` is called when
    the calendar-query's answer has arrived, before it is parsed. Worker thread.
    Raises NotFound (calendar gone), TransientError, PermanentItemError, MalformedResponse."""
    items = _query_all(http, cal_url, on_answer)
    if items is not None:
        return items, True
    hrefs = sorted(_propfind_etags(http, cal_url))
    fetched, _missing = multiget(http, cal_url, hrefs)
    return fetched, False  # a resource deleted between listing and fetch is simply not there


def list_etags(http: Http, cal_url: str, by_query: bool) -> dict[str, str]:
    """Path -> ETag ("" when the server gave none) of every resource of the calendar: by a
    calendar-query without data when ``by_query`` (the listing ``fetch_all`` made; Radicale
    answers it in about 70 % of a Depth 1 PROPFIND's time), else by PROPFIND. Worker thread.
    Raises NotFound, TransientError, PermanentItemError, MalformedResponse."""
    if by_query:
        ans = http.request("REPORT", cal_url, calendar_query_body(data=False), {"Depth": "1"})
        if ans.status == 207:
            cal_path = path_of(cal_url).rstrip("/")
            ms = parse_multistatus(ans.body)
            if not any(r.href.rstrip("/") == cal_path and r.status == 507 for r in ms.responses):
                return _etags_of(ms.responses, cal_path)
        elif ans.status not in _QUERY_REFUSED:
            raise_for_item(ans, "the calendar's items")
    return _propfind_etags(http, cal_url)


def _propfind_etags(http: Http, cal_url: str) -> dict[str, str]:
    ms, _ = disco.propfind(http, cal_url, [_ETAG], 1)
    return _etags_of(ms.responses, path_of(cal_url).rstrip("/"))


def _etags_of(responses: list[Response], cal_path: str) -> dict[str, str]:
    return {r.href: r.text(_ETAG) or "" for r in responses if _is_member(r, cal_path)}


def _query_all(
    http: Http, cal_url: str, on_answer: Callable[[], None] | None
) -> list[RemoteItem] | None:
    """The calendar's items by one calendar-query, or None when the server will not give them
    all in one answer."""
    ans = http.request("REPORT", cal_url, calendar_query_body(), {"Depth": "1"})
    if ans.status in _QUERY_REFUSED:
        return None
    if ans.status != 207:
        raise_for_item(ans, "the calendar's items")
        return None  # another 2xx is no multistatus: take the listing path
    if on_answer is not None:
        on_answer()
    cal_path = path_of(cal_url).rstrip("/")
    items: list[RemoteItem] = []
    without_data: list[str] = []
    for r in parse_multistatus(ans.body).responses:
        if r.href.rstrip("/") == cal_path:
            if r.status == 507:
                return None  # the server cut the answer short (RFC 6578 style)
            continue  # some servers list the collection as its own member
        if not _is_member(r, cal_path):
            continue
        item = item_from(r)
        if item is None:
            without_data.append(r.href)
        else:
            items.append(item)
    if without_data:
        more, _missing = multiget(http, cal_url, sorted(without_data))
        items.extend(more)
    return items


def multiget(
    http: Http, cal_url: str, hrefs: list[str], chunk: int = MULTIGET_CHUNK
) -> tuple[list[RemoteItem], list[str]]:
    """Fetch items by path in chunks; a chunk the server finds too big is halved, and a single
    resource it still refuses by REPORT is fetched by GET. Returns (items, paths the server no
    longer has). Worker thread. Raises TransientError, PermanentItemError, MalformedResponse."""
    items: list[RemoteItem] = []
    missing: list[str] = []
    size = max(1, chunk)
    pos = 0
    while pos < len(hrefs):
        part = hrefs[pos : pos + size]
        absolute = [disco.absolute(cal_url, h) for h in part]
        wanted = {path_of(u) for u in absolute}
        quoted = [urlsplit(u).path for u in absolute]
        ans = http.request("REPORT", cal_url, multiget_body(quoted), {"Depth": "1"})
        if ans.status in _TOO_BIG and len(part) > 1:
            size = max(1, len(part) // 2)
            continue
        if ans.status in _TOO_BIG:
            got = _get_one(http, absolute[0])
            if got is None:
                missing.append(path_of(absolute[0]))
            else:
                items.append(got)
            pos += 1
            continue
        if ans.status != 207:
            raise_for_item(ans, "the calendar's items")
        seen: set[str] = set()
        for r in parse_multistatus(ans.body).responses:
            if r.href not in wanted:
                continue
            item = item_from(r)
            if item is not None:
                seen.add(r.href)
                items.append(item)
        missing.extend(sorted(wanted - seen))
        pos += len(part)
    return items, missing


def item_from(r: Response) -> RemoteItem | None:
    """A RemoteItem from a response carrying calendar data (None without data). Any thread."""
    data = r.text(_DATA)
    if not data:
        return None
    etag = r.text(_ETAG)
    uid = first_uid(data) or r.href.rsplit("/", 1)[-1].removesuffix(".ics")
    # A weak ETag can never satisfy If-Match: no version, so a write first asks for a strong one.
    ref = RemoteRef(r.href, etag if etag and not etag.startswith("W/") else None)
    return RemoteItem(ref, uid, data)


def _get_one(http: Http, url: str) -> RemoteItem | None:
    """One resource by GET (no REPORT size limit applies); None when it is gone."""
    ans: Answer = http.request("GET", url)
    if ans.status in (404, 410):
        return None
    raise_for_item(ans, path_of(url))
    data = ans.body.decode("utf-8", errors="replace")
    uid = first_uid(data) or url.rsplit("/", 1)[-1].removesuffix(".ics")
    return RemoteItem(RemoteRef(path_of(url), ans.etag()), uid, data)


def _is_member(r: Response, cal_path: str) -> bool:
    """A resource of the calendar whose path (decoded, no final slash) is ``cal_path``: not the
    collection itself, a sub-collection or an error."""
    if r.href.endswith("/") or r.href.rstrip("/") == cal_path:
        return False
    return r.status is None or 200 <= r.status < 300
