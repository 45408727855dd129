"""CalDAV discovery (RFC 6764 well-known, RFC 5397 principal, RFC 4791 calendar home).

Blocking: runs on the provider's worker thread. Raises the domain's errors only: AuthExpired,
TransientError, RateLimited, NotFound (no CalDAV service at that address).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from carecal.domain.errors import NotFound, TransientError
from carecal.providers.base import RemoteCalendar
from carecal.providers.caldav_http import Http, raise_for_item
from carecal.providers.caldav_xml import (
    APPLE,
    CAL,
    CS,
    DAV,
    MalformedResponse,
    Multistatus,
    Response,
    hrefs_in,
    parse_multistatus,
    propfind_body,
)

_PRINCIPAL = f"{{{DAV}}}current-user-principal"
_HOME = f"{{{CAL}}}calendar-home-set"
_RTYPE = f"{{{DAV}}}resourcetype"
_NAME = f"{{{DAV}}}displayname"
_COLOR = f"{{{APPLE}}}calendar-color"
_COMPS = f"{{{CAL}}}supported-calendar-component-set"
_PRIVS = f"{{{DAV}}}current-user-privilege-set"
_CALENDAR = f"{{{CAL}}}calendar"
_WRITES = {f"{{{DAV}}}write", f"{{{DAV}}}write-content", f"{{{DAV}}}all", f"{{{DAV}}}bind"}


def absolute(base: str, href: str) -> str:
    """An href as an absolute URL on ``base``'s host (hrefs may name another host or none)."""
    path = urlsplit(href).path or href
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{quote(path, safe='/@:%+~!$&()*,;=')}"


def propfind(http: Http, url: str, props: list[str], depth: int) -> tuple[Multistatus, str]:
    """PROPFIND and parse; returns the multistatus and the URL that answered (after redirects).
    Raises NotFound, PermanentItemError, TransientError (also for an unreadable answer)."""
    ans = http.request("PROPFIND", url, propfind_body(props), {"Depth": str(depth)})
    if ans.status != 207:
        raise_for_item(ans, url)
        raise NotFound(f"{url} did not answer as a WebDAV server")
    try:
        return parse_multistatus(ans.body), ans.url
    except MalformedResponse:
        # A 207 is a WebDAV answer: unreadable XML means it was cut short on the way.
        raise TransientError(f"the answer from {urlsplit(url).hostname} was cut short") from None


def _first(ms: Multistatus) -> Response | None:
    return ms.responses[0] if ms.responses else None


def _is_calendar(r: Response) -> bool:
    rt = r.props.get(_RTYPE)
    return rt is not None and rt.find(_CALENDAR) is not None


def _find_context(http: Http, start: str) -> tuple[Response, str]:
    """The first of [start, start's /.well-known/caldav] that answers a principal PROPFIND."""
    parts = urlsplit(start)
    candidates = [start]
    if parts.path in ("", "/"):
        candidates.append(f"{parts.scheme}://{parts.netloc}/.well-known/caldav")
    last: NotFound | None = None
    for url in candidates:
        try:
            ms, answered = propfind(http, url, [_PRINCIPAL, _HOME, _RTYPE], 0)
        except NotFound as exc:
            last = exc
            continue
        r = _first(ms)
        if r is not None:
            return r, answered
    raise last or NotFound(f"no CalDAV service found at {start}")


def calendar_homes(http: Http, start: str) -> list[str] | RemoteCalendar:
    """The calendar-home URLs of the account at ``start`` (or, when ``start`` is itself a
    calendar collection, that calendar)."""
    r, answered = _find_context(http, start)
    if _is_calendar(r):
        return _calendar(r, answered)
    homes = hrefs_in(r.props.get(_HOME))
    if homes:
        return [absolute(answered, h) for h in homes]
    principals = hrefs_in(r.props.get(_PRINCIPAL))
    if not principals:
        raise NotFound(f"{start} names no CalDAV principal; check the address")
    principal = absolute(answered, principals[0])
    ms, answered = propfind(http, principal, [_HOME], 0)
    p = _first(ms)
    homes = hrefs_in(p.props.get(_HOME)) if p is not None else []
    if not homes:
        raise NotFound(f"the account at {start} has no calendar home")
    # The home may live on another host (iCloud's partition hosts): keep its absolute URL.
    return [h if urlsplit(h).netloc else absolute(answered, h) for h in homes]


def list_calendars(http: Http, home: str) -> list[RemoteCalendar]:
    """The event calendars in one calendar home (Depth:1), sorted by name."""
    ms, answered = propfind(http, home, [_RTYPE, _NAME, _COLOR, _COMPS, _PRIVS], 1)
    home_path = urlsplit(answered).path.rstrip("/")
    out = []
    for r in ms.responses:
        if r.href.rstrip("/") == home_path or not _is_calendar(r):
            continue
        comps = r.props.get(_COMPS)
        if comps is not None:
            names = {c.get("name", "").upper() for c in comps}
            if names and "VEVENT" not in names:
                continue
        out.append(_calendar(r, answered))
    return sorted(out, key=lambda c: (c.name.lower(), c.remote_id))


def _calendar(r: Response, answered: str) -> RemoteCalendar:
    url = absolute(answered, r.href)
    if not url.endswith("/"):
        url += "/"
    name = (r.text(_NAME) or "").strip() or urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    color = (r.text(_COLOR) or "").strip() or None
    privs = r.props.get(_PRIVS)
    read_only = False
    if privs is not None:
        granted = {el.tag for el in privs.iter() if isinstance(el.tag, str)}
        read_only = not (granted & _WRITES)
    return RemoteCalendar(url, name, color[:7] if color else None, read_only)


def discover(http: Http, start: str) -> list[RemoteCalendar]:
    """All event calendars of the account reachable from ``start``."""
    found = calendar_homes(http, start)
    if isinstance(found, RemoteCalendar):
        return [found]
    out: list[RemoteCalendar] = []
    for home in found:
        out.extend(list_calendars(http, home))
    return out


__all__ = ["CS", "absolute", "discover", "propfind"]
