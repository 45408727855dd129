"""The CalDAV read path's short cuts give exactly what the plain forms give.

``first_uid`` unfolds only the UID line when nothing before it is folded, ``href_path`` skips
``urlsplit`` for a bare path, and ``parse_multistatus`` walks children instead of finding them by
path. Each is checked against the plain form on generated inputs, including the awkward ones
(folds before and inside the UID line, lower-case names, queries, fragments, tabs).
"""

from __future__ import annotations

import random
import re
from urllib.parse import unquote, urlsplit

from carecal.providers.caldav_ics import first_uid, unfold
from carecal.providers.caldav_xml import DAV, href_path, parse_multistatus

_UID = re.compile(r"^UID[;:](?:[^:\r\n]*:)?(.*)$", re.MULTILINE)


def _plain_uid(raw: str) -> str | None:
    m = _UID.search(unfold(raw))
    return m.group(1).strip() if m else None


def test_first_uid_matches_searching_the_unfolded_text() -> None:
    rng = random.Random(7)
    atoms = ["UID", ":", ";", "X=1", "\r\n", "\n", " ", "\t", "abc", "U", "ID", "\r", "é"]
    atoms += ["\nUID:", "\r\n UID", "BEGIN:VEVENT\r\n", "uid:x"]
    for _ in range(50_000):
        raw = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 16)))
        assert first_uid(raw) == _plain_uid(raw), repr(raw)


def test_first_uid_of_typical_resources() -> None:
    zone = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\n"
    plain = f"BEGIN:VCALENDAR\r\n{zone}BEGIN:VEVENT\r\nUID:abc@x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    assert first_uid(plain) == "abc@x"
    folded = plain.replace("UID:abc@x", "UID:abc\r\n @x\r\n\tyz")
    assert first_uid(folded) == "abc@xyz"
    params = plain.replace("UID:abc@x", "UID;X-A=1:abc@x")
    assert first_uid(params) == "abc@x"
    fold_before = plain.replace("TZID:Europe/Berlin", "TZID:Europe/\r\n Berlin")
    assert first_uid(fold_before) == "abc@x"
    # A UID split by a fold right after its first letters is only a UID once unfolded.
    split_name = plain.replace("UID:abc@x", "U\r\n ID:abc@x")
    assert first_uid(split_name) == "abc@x"
    assert first_uid("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") is None
    assert first_uid("UID:first\nUID:second") == "first"


def test_href_path_matches_urlsplit() -> None:
    rng = random.Random(11)
    atoms = ["/", "//", "a", "%40", "%", "?", "#", " ", "http:", "x.ics", ":", "@", "%2F", ";"]
    atoms += ["\t", "\r", "\n", "[", "]", "\u00a0", "https://h.example"]
    checked = 0
    for _ in range(50_000):
        href = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 8)))
        try:
            want = unquote(urlsplit(href.strip()).path)
        except ValueError:
            continue  # urlsplit refuses it (a bad IPv6 literal): no short cut either way
        checked += 1
        assert href_path(href) == want, repr(href)
    assert checked > 40_000
    assert href_path(" /cal/a%40b.ics ") == "/cal/a@b.ics"
    assert href_path("https://h.example/cal/x.ics?v=1") == "/cal/x.ics"


def test_multistatus_takes_the_first_status_and_every_good_propstat() -> None:
    body = f"""<?xml version="1.0"?>
<D:multistatus xmlns:D="{DAV}" xmlns:C="urn:ietf:params:xml:ns:caldav">
 <D:response>
  <D:href>/cal/a%40x.ics</D:href>
  <D:propstat><D:prop><D:getetag>"1"</D:getetag></D:prop>
   <D:status>HTTP/1.1 200 OK</D:status></D:propstat>
  <D:propstat><D:prop><C:calendar-data>BEGIN:VCALENDAR</C:calendar-data></D:prop>
   <D:status>HTTP/1.1 200 OK</D:status></D:propstat>
  <D:propstat><D:prop><D:displayname/></D:prop>
   <D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
 </D:response>
 <D:response>
  <D:href>/cal/gone.ics</D:href>
  <D:status>HTTP/1.1 404 Not Found</D:status>
  <D:status>HTTP/1.1 200 OK</D:status>
 </D:response>
 <D:response><D:href>  </D:href></D:response>
 <D:response>
  <D:href>/cal/mixed.ics</D:href>
  <D:propstat><D:prop><D:getetag>"a<D:x>b</D:x>c"</D:getetag></D:prop></D:propstat>
 </D:response>
 <D:sync-token> tok-1 </D:sync-token>
</D:multistatus>""".encode()
    ms = parse_multistatus(body)
    assert [r.href for r in ms.responses] == ["/cal/a@x.ics", "/cal/gone.ics", "/cal/mixed.ics"]
    first, gone, mixed = ms.responses
    assert first.status is None
    assert first.text(f"{{{DAV}}}getetag") == '"1"'
    assert first.text("{urn:ietf:params:xml:ns:caldav}calendar-data") == "BEGIN:VCALENDAR"
    assert first.text(f"{{{DAV}}}displayname") is None
    assert gone.status == 404
    assert mixed.text(f"{{{DAV}}}getetag") == '"abc"'
    assert ms.sync_token == "tok-1"
