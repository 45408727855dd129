"""WebDAV/CalDAV request bodies and multistatus parsing for the CalDAV provider.

Pure functions over bytes; any thread. Parsing raises ``MalformedResponse`` for a body that is not
a readable multistatus (a truncated answer, an HTML error page), which the provider treats as a
transient failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from lxml import etree

DAV = "DAV:"
CAL = "urn:ietf:params:xml:ns:caldav"
CS = "http://calendarserver.org/ns/"
APPLE = "http://apple.com/ns/ical/"
NS = {"D": DAV, "C": CAL, "CS": CS, "A": APPLE}

_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
_RESPONSE = f"{{{DAV}}}response"
_HREF = f"{{{DAV}}}href"
_STATUS = f"{{{DAV}}}status"
_PROPSTAT = f"{{{DAV}}}propstat"
_PROP = f"{{{DAV}}}prop"
_SYNC_TOKEN = f"{{{DAV}}}sync-token"
# Characters that make urlsplit() do more than return a path that starts with "/": a query, a
# fragment, and the tab and line breaks it removes.
_NOT_PLAIN = frozenset("?#\t\r\n")


class MalformedResponse(Exception):
    """The server's answer could not be read as WebDAV XML."""


@dataclass
class Response:
    """One ``<D:response>``: its href (a path, unquoted), status and the properties found."""

    href: str
    status: int | None  # the response-level status (sync-collection removals, 507)
    props: dict[str, etree._Element] = field(default_factory=dict)  # Clark tag -> element

    def text(self, tag: str) -> str | None:
        el = self.props.get(tag)
        if el is None:
            return None
        if len(el) == 0:
            return el.text or ""  # the usual leaf (calendar data, an ETag): no tree walk
        return "".join(el.itertext())


@dataclass
class Multistatus:
    responses: list[Response]
    sync_token: str | None


def href_path(href: str) -> str:
    """The canonical remote id of an href: its path, percent-decoded."""
    href = href.strip()
    if href[:1] == "/" and href[1:2] != "/" and not _NOT_PLAIN.intersection(href):
        return unquote(href)  # already a bare path: what urlsplit would return as its path
    return unquote(urlsplit(href).path)


def propfind_body(props: Iterable[str]) -> bytes:
    """A PROPFIND for the given Clark-notation properties."""
    inner = "".join(_empty(p) for p in props)
    return (
        f'{_HEAD}<D:propfind xmlns:D="DAV:" xmlns:C="{CAL}" xmlns:CS="{CS}" xmlns:A="{APPLE}">'
        f"<D:prop>{inner}</D:prop></D:propfind>"
    ).encode()


def sync_collection_body(token: str | None) -> bytes:
    """A sync-collection REPORT asking for ETags only (RFC 6578); no DAV:limit (servers differ)."""
    tok = f"<D:sync-token>{escape(token)}</D:sync-token>" if token else "<D:sync-token/>"
    return (
        f'{_HEAD}<D:sync-collection xmlns:D="DAV:">{tok}<D:sync-level>1</D:sync-level>'
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


def multiget_body(hrefs: Iterable[str]) -> bytes:
    """A calendar-multiget REPORT for ETags and calendar data of the given (quoted) hrefs."""
    items = "".join(f"<D:href>{escape(h)}</D:href>" for h in hrefs)
    return (
        f'{_HEAD}<C:calendar-multiget xmlns:D="DAV:" xmlns:C="{CAL}">'
        f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{items}</C:calendar-multiget>"
    ).encode()


def calendar_query_body(data: bool = True) -> bytes:
    """A calendar-query REPORT for the ETag (and with ``data`` the calendar data) of every
    resource of a calendar: a filter on VCALENDAR alone matches every calendar object resource
    (RFC 4791 §9.7.1)."""
    prop = "<D:getetag/><C:calendar-data/>" if data else "<D:getetag/>"
    return (
        f'{_HEAD}<C:calendar-query xmlns:D="DAV:" xmlns:C="{CAL}">'
        f"<D:prop>{prop}</D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>'
    ).encode()


def parse_multistatus(body: bytes) -> Multistatus:
    """Parse a 207 body. Raises MalformedResponse."""
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise MalformedResponse(f"unreadable server answer: {exc}") from None
    if root is None or root.tag != f"{{{DAV}}}multistatus":
        raise MalformedResponse("the server's answer is not a WebDAV multistatus")
    # The children are walked directly (not found by path): a first sync parses tens of
    # thousands of responses, and each namespaced find() costs a path lookup. The same elements
    # are taken as find()/findall() would: the first href, status and prop, every propstat.
    out: list[Response] = []
    for resp in root.iterchildren(_RESPONSE):
        href_el = resp.find(_HREF)
        if href_el is None or not (href_el.text or "").strip():
            continue
        status_el = None
        propstats = []
        for child in resp:
            if child.tag == _PROPSTAT:
                propstats.append(child)
            elif child.tag == _STATUS and status_el is None:
                status_el = child
        r = Response(href_path(href_el.text or ""), _status(status_el))
        for ps in propstats:
            code = _status(ps.find(_STATUS))
            if code is not None and not 200 <= code < 300:
                continue
            prop = ps.find(_PROP)
            if prop is None:
                continue
            for el in prop:
                if isinstance(el.tag, str):
                    r.props[el.tag] = el
        out.append(r)
    tok = root.find(_SYNC_TOKEN)
    return Multistatus(out, (tok.text or "").strip() if tok is not None else None)


def preconditions(body: bytes) -> set[str]:
    """Clark names of the precondition elements in a ``<D:error>`` body (empty if none)."""
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return set()
    if root is None or root.tag != f"{{{DAV}}}error":
        return set()
    return {el.tag for el in root if isinstance(el.tag, str)}


def hrefs_in(prop: etree._Element | None) -> list[str]:
    """The href texts inside a property such as current-user-principal or calendar-home-set."""
    if prop is None:
        return []
    return [(h.text or "").strip() for h in prop.findall("D:href", NS) if (h.text or "").strip()]


def _status(el: etree._Element | None) -> int | None:
    if el is None or not el.text:
        return None
    return _status_code(el.text)


@lru_cache(maxsize=64)
def _status_code(line: str) -> int | None:
    """The code of a status line ("HTTP/1.1 200 OK"); servers repeat a handful of lines."""
    parts = line.split()
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None


def _empty(clark: str) -> str:
    ns, _, local = clark[1:].partition("}")
    prefix = {v: k for k, v in NS.items()}[ns]
    return f"<{prefix}:{local}/>"
