"""CalDAV-specific behaviour beyond the contract: discovery entry points, error mapping,
scheduling safety, presets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from carecal.domain.errors import (
    AuthExpired,
    NotFound,
    PermanentItemError,
    RateLimited,
    TransientError,
    ValidationError,
)
from carecal.providers.base import RemoteCalendar
from carecal.providers.caldav import CalDAVProvider
from carecal.providers.caldav_ics import prepare_for_put
from carecal.providers.presets import start_url
from tests.integration.servers import PASSWORD, USERNAME, ServerInfo, free_port
from tests.providers.contract import run, vcalendar


class _Canned(BaseHTTPRequestHandler):
    status = 500
    headers_out: ClassVar[dict[str, str]] = {}
    body = b""

    def _answer(self) -> None:
        self.send_response(self.status)
        for k, v in self.headers_out.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_PROPFIND = do_REPORT = do_PUT = do_DELETE = do_GET = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture()
def canned() -> Iterator[tuple[str, type[_Canned]]]:
    handler = type("Handler", (_Canned,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


def test_discovery_from_a_calendar_url_and_from_the_home(radicale_server: ServerInfo) -> None:
    url = radicale_server.new_calendar()
    one = run(CalDAVProvider(url, USERNAME, PASSWORD).discover())
    assert [c.remote_id for c in one] == [url]
    home = run(CalDAVProvider(radicale_server.home_url, USERNAME, PASSWORD).discover())
    assert url in {c.remote_id for c in home}


def test_discovery_of_several_calendars(xandikos_server: ServerInfo) -> None:
    a, b = xandikos_server.new_calendar(), xandikos_server.new_calendar()
    found = run(CalDAVProvider(xandikos_server.base_url, None, None).discover())
    assert {a, b} <= {c.remote_id for c in found}
    assert all(not c.read_only for c in found)


def test_attendees_never_trigger_server_scheduling(radicale_server: ServerInfo) -> None:
    url = radicale_server.new_calendar()
    p = CalDAVProvider(url, USERNAME, PASSWORD)
    cal = RemoteCalendar(url, "x")
    extra = "ORGANIZER:mailto:doctor@example.com\r\nATTENDEE;CN=Patient:mailto:p@example.com\r\n"
    ref = run(p.create(cal, "sched-1", vcalendar("sched-1", extra=extra)))
    raw = run(p.get(cal, ref.remote_id)).raw.replace("\r\n ", "").replace("\n ", "")
    lines = [ln for ln in raw.splitlines() if ln.startswith(("ATTENDEE", "ORGANIZER"))]
    assert len(lines) == 2  # kept, each marked so the server sends no invitation
    assert all("SCHEDULE-AGENT=CLIENT" in ln.split(":", 1)[0] for ln in lines)


def test_an_event_without_an_end_gets_one() -> None:
    raw = vcalendar("x").replace("DTEND:20250310T095000Z\r\n", "")
    assert "DURATION:PT0S\r\nEND:VEVENT" in prepare_for_put(raw)
    assert prepare_for_put(vcalendar("y")) == vcalendar("y")


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (401, {"WWW-Authenticate": 'Basic realm="x"'}, AuthExpired),
        (429, {"Retry-After": "7"}, RateLimited),
        (503, {}, TransientError),
        (500, {}, TransientError),
        (404, {}, NotFound),
        (403, {}, PermanentItemError),
    ],
)
def test_failures_map_to_domain_errors(
    canned: tuple[str, type[_Canned]], status: int, headers: dict[str, str], error: type
) -> None:
    url, handler = canned
    handler.status, handler.headers_out = status, headers
    p = CalDAVProvider(url + "cal/", "someone", "secret")
    cal = RemoteCalendar(url + "cal/", "x")
    with pytest.raises(error) as info:
        run(p.update(cal, p_ref(), vcalendar("u")))
    assert "secret" not in str(info.value)
    if status == 429:
        assert info.value.retry_after == 7.0


def test_an_unreadable_answer_is_transient(canned: tuple[str, type[_Canned]]) -> None:
    url, handler = canned
    handler.status, handler.body = 207, b"<?xml version='1.0'?><D:multistatus xmlns:D="
    p = CalDAVProvider(url + "cal/", None, None)
    with pytest.raises(TransientError):
        run(p.pull(RemoteCalendar(url + "cal/", "x"), "sync:abc"))


def test_a_server_that_is_down_is_transient() -> None:
    url = f"http://127.0.0.1:{free_port()}/cal/"
    with pytest.raises(TransientError):
        run(CalDAVProvider(url, None, None, timeout=2).discover())


def p_ref() -> object:
    from carecal.providers.base import RemoteRef

    return RemoteRef("/cal/u.ics", '"1"')


def test_presets_complete_the_address() -> None:
    assert start_url(None, "icloud") == "https://caldav.icloud.com/"
    assert start_url("", "fastmail") == "https://caldav.fastmail.com/dav/"
    assert (
        start_url("cloud.example.org", "nextcloud") == "https://cloud.example.org/remote.php/dav/"
    )
    assert start_url("https://me:pw@dav.example.org/cal", "generic") == (
        "https://dav.example.org/cal/"
    )
    with pytest.raises(ValidationError):
        start_url(None, "generic")
    with pytest.raises(ValidationError):
        start_url("x", "gmail")
