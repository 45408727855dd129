"""A Radicale for the sync benchmark: preloaded calendars, INFO log, request accounting.

Radicale's new-item PUT scans the whole collection (O(N), about 0.8 s each at 20,000 items), so
the calendars are written straight into its storage folder, one ``.ics`` per event as Radicale
itself stores them, and its item and sync-token caches are warmed once. The warmed storage is
cached under tests/bench/_work/ (keyed by sizes, seed and a digest of gen.py) and each benchmark
run serves a hard-linked copy: Radicale replaces files atomically (write, then rename), so the
pristine copy is never written through.

Radicale logs each response with its own server-side duration at INFO level; ``requests_since``
turns the lines written since a log offset into request counts and server time.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "_work"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from benchdata import SEED, WEEK, gen_digest  # noqa: E402
from gen import BenchEvent, calendar_text, generate  # noqa: E402

USER = "carecal"
PASSWORD = "bench-not-a-secret"
SHAPE = "anchors"  # perf-anchors.md's shape: 10 % weekly series, 5 % all-day
REPORT_LIMIT = 1_000_000  # [reporting] max_expand_occurrence; Radicale's default is 10,000

RESPONSE_LINE = re.compile(
    r"\] \[\w+\] (?P<method>[A-Z]+) response status for '(?P<path>[^']*)'"
    r".*? in (?P<secs>[\d.]+) seconds.*: (?P<status>\d{3})"
)


def calendar_slug(n: int) -> str:
    return f"bench-{n}"


def events_for(n: int) -> list[BenchEvent]:
    return list(generate(n, week_start=WEEK, seed=SEED, shape=SHAPE))


def href_name(uid: str) -> str:
    """The file name (and href) of an event: its UID, as Radicale names items it receives."""
    return f"{uid}.ics"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(root: Path, port: int, storage: Path) -> Path:
    cfg = root / "config"
    cfg.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = none\n"
        "delay = 0\n"
        "[storage]\n"
        f"filesystem_folder = {storage}\n"
        "[logging]\n"
        "level = info\n"
        "[reporting]\n"
        f"max_expand_occurrence = {REPORT_LIMIT}\n",
        encoding="utf-8",
    )
    return cfg


@dataclass
class Requests:
    """What Radicale logged for a span of the log: counts per method and server seconds."""

    by_method: Counter[str] = field(default_factory=Counter)
    server_s: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.by_method.values())

    def label(self) -> str:
        return " + ".join(f"{c} {m}" for m, c in sorted(self.by_method.items())) or "none"


class Radicale:
    """One Radicale child process on 127.0.0.1 serving a copy of the prepared storage."""

    def __init__(self, root: Path, storage: Path) -> None:
        self.root = root
        self.port = free_port()
        self.log = root / "radicale.log"
        cfg = _config(root, self.port, storage)
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(cfg)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self.base_url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"radicale exited: {self.log.read_text(errors='replace')}")
            try:
                self.request("OPTIONS", "/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def collection_path(self, n: int) -> str:
        return f"/{USER}/{calendar_slug(n)}/"

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            hdrs = {"Content-Type": "application/xml; charset=utf-8"}
            hdrs.update(headers or {})
            conn.request(method, path, body=body.encode(), headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def log_offset(self) -> int:
        self._out.flush()
        return self.log.stat().st_size

    def requests_since(self, offset: int) -> Requests:
        # Radicale writes the response line after the body has gone out; give it a moment.
        time.sleep(0.05)
        with self.log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", errors="replace")
        out = Requests()
        for m in RESPONSE_LINE.finditer(text):
            out.by_method[m["method"]] += 1
            out.statuses[m["status"]] += 1
            out.server_s += float(m["secs"])
        return out

    def change_check(self, n: int) -> tuple[float, float]:
        """One PROPFIND Depth 0 for the calendar's sync-token and getctag (the cheapest "did
        anything change?" question a client can ask): (client wall s, server s)."""
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/">'
            "<D:prop><D:sync-token/><CS:getctag/></D:prop></D:propfind>"
        )
        off = self.log_offset()
        t0 = time.perf_counter()
        status, _ = self.request("PROPFIND", self.collection_path(n), body, {"Depth": "0"})
        wall = time.perf_counter() - t0
        if status != 207:
            raise RuntimeError(f"change check answered {status}")
        return wall, self.requests_since(off).server_s

    def change_events(self, n: int, picks: list[tuple[str, str]], round_no: int) -> None:
        """Ten remote edits, as another client makes them: SUMMARY and SEQUENCE of the picked
        events (file name, stored text), PUT without precondition."""
        for name, text in picks:
            lines = [ln for ln in text.split("\r\n") if not ln.startswith(("SUMMARY", "SEQUENCE"))]
            at = lines.index("END:VEVENT")
            lines[at:at] = [f"SUMMARY:Changed {round_no} {name}", f"SEQUENCE:{round_no + 1}"]
            status, _ = self.request(
                "PUT",
                self.collection_path(n) + name,
                "\r\n".join(lines),
                {"Content-Type": "text/calendar; charset=utf-8"},
            )
            if status not in (200, 201, 204):
                raise RuntimeError(f"PUT of a change answered {status}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._out.close()


def _warm(server: Radicale, n: int) -> None:
    """Let Radicale parse every item once (its item cache) and build its sync history, so
    neither tool pays for the preload's first touch."""
    etags = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
    )
    status, _ = server.request("PROPFIND", server.collection_path(n), etags, {"Depth": "1"})
    if status != 207:
        raise RuntimeError(f"warm-up PROPFIND answered {status}")
    sync = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>'
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    status, _ = server.request("REPORT", server.collection_path(n), sync, {"Depth": "1"})
    if status != 207:
        raise RuntimeError(f"warm-up sync REPORT answered {status}")
    server.change_check(n)


def prepared_storage(sizes: list[int]) -> Path:
    """A warmed Radicale storage folder holding one calendar per size (built once, cached)."""
    key = "-".join(str(n) for n in sorted(sizes))
    folder = WORK / f"radicale-{key}-{SHAPE}-s{SEED}-{gen_digest()}"
    storage = folder / "collections"
    if (folder / "done").exists():
        return storage
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    for n in sizes:
        cal = storage / "collection-root" / USER / calendar_slug(n)
        cal.mkdir(parents=True)
        props = {
            "C:supported-calendar-component-set": "VEVENT",
            "D:displayname": calendar_slug(n),
            "tag": "VCALENDAR",
        }
        (cal / ".Radicale.props").write_text(json.dumps(props), encoding="utf-8")
        for ev in events_for(n):
            (cal / href_name(ev.uid)).write_text(calendar_text([ev]), encoding="utf-8", newline="")
    server = Radicale(folder, storage)
    try:
        for n in sizes:
            _warm(server, n)
    finally:
        server.stop()
    (folder / "done").write_text(f"{time.perf_counter() - t0:.1f} s to build\n", encoding="utf-8")
    return storage


def change_picks(storage: Path, n: int) -> list[tuple[str, str]]:
    """Ten events spread over the calendar of size n: (file name, text) from the storage."""
    cal = storage / "collection-root" / USER / calendar_slug(n)
    names = sorted(p.name for p in cal.glob("*.ics"))
    step = max(1, len(names) // 10)
    picked = names[::step][:10]
    return [(name, (cal / name).read_bytes().decode("utf-8")) for name in picked]


def serve_copy(storage: Path, run_root: Path) -> Radicale:
    """Start Radicale on a hard-linked copy of a prepared storage folder."""
    copy = run_root / "collections"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(storage, copy, copy_function=os.link)
    return Radicale(run_root, copy)


if __name__ == "__main__":
    sys.stdout.write(f"{prepared_storage([int(a) for a in sys.argv[1:]])}\n")
