"""A child process for the crash test: a random stream of edits through the real edit path.

Run as ``python -m tests.integration.crash_driver DATA_DIR SEED``. It opens a session on
DATA_DIR and edits forever (until killed). Around every edit it writes one line to stdout,
flushed before the next edit starts:

- ``intent {json}``: the ids the next edit may touch (``{"ids": [...]}``);
- ``ack {json}``: the edit committed; ``{"events": {id: fingerprint or null}}`` is what each
  touched event now is on disk (null: deleted);
- ``skip {json}``: the edit was refused (a CarecalError): nothing was written.

``ready`` is written once the session is open. The parent kills this process with SIGKILL at
random moments and checks the database against the acknowledged lines.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from carecal.domain.errors import CarecalError, NotFound
from carecal.domain.models import AppointmentStatus, EditScope, Event, Occurrence, new_id
from carecal.services.events import EventService
from carecal.services.session import open_session
from carecal.store.repo import Repository

ZONE = ZoneInfo("Europe/Warsaw")
WINDOW_START = datetime(2030, 1, 7, tzinfo=ZONE)
WINDOW_END = datetime(2030, 2, 4, tzinfo=ZONE)


def fingerprint(event: Event) -> str:
    """A short digest of what an edit can change about an event. Any thread."""
    parts = [
        event.title,
        event.start.isoformat(),
        event.end.isoformat(),
        event.status.value,
        event.rrule or "",
        ",".join(sorted(str(x) for x in event.exdates)),
        str(event.recurrence_id or ""),
        event.master_id or "",
        event.uid,
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def _emit(kind: str, payload: object) -> None:
    sys.stdout.write(f"{kind} {json.dumps(payload, sort_keys=True)}\n")
    sys.stdout.flush()


def _state(repo: Repository, ids: set[str]) -> dict[str, str | None]:
    state: dict[str, str | None] = {}
    for event_id in sorted(ids):
        try:
            state[event_id] = fingerprint(repo.get_event(event_id))
        except NotFound:
            state[event_id] = None
    return state


def _touchable(repo: Repository, occ: Occurrence) -> set[str]:
    """Ids an edit of ``occ`` may change: the event, or its whole series."""
    event = occ.event
    master_id = event.master_id if event.is_override else event.id
    if master_id is None:
        return {event.id}
    try:
        master, overrides = repo.get_series(master_id)
    except NotFound:
        return {event.id}
    return {master.id, event.id, *(o.id for o in overrides)}


def _random_start(rng: random.Random) -> datetime:
    day = WINDOW_START + timedelta(days=rng.randrange(0, 21))
    return day.replace(hour=rng.randrange(7, 18), minute=rng.choice((0, 15, 30, 45)))


def _new_event(repo: Repository, rng: random.Random, *, series: bool) -> Event:
    event_id = new_id()
    start = _random_start(rng)
    return Event(
        id=event_id,
        calendar_id=repo.ensure_local_calendar().id,
        uid=f"{event_id}@crash.test",
        title=f"Visit {rng.randrange(10_000)}",
        start=start,
        end=start + timedelta(minutes=rng.choice((30, 50, 60))),
        tzid=ZONE.key,
        rrule=rng.choice(("FREQ=DAILY;COUNT=6", "FREQ=WEEKLY;COUNT=4")) if series else None,
    )


def _one_edit(service: EventService, rng: random.Random) -> None:
    repo = service.repo
    occs = service.occurrences(WINDOW_START, WINDOW_END)
    roll = rng.random()
    if not occs or roll < 0.25:
        event = _new_event(repo, rng, series=rng.random() < 0.4)
        _emit("intent", {"ids": [event.id]})
        changes = service.create(event)
        _emit("ack", {"events": _state(repo, {event.id, *changes.events})})
        return
    occ = rng.choice(occs)
    ids = _touchable(repo, occ)
    scope = rng.choice(list(EditScope))
    _emit("intent", {"ids": sorted(ids)})
    try:
        if roll < 0.40:
            current = repo.get_event(occ.event.id)
            changes = service.update(current.with_changes(title=f"Renamed {rng.randrange(10_000)}"))
        elif roll < 0.60:
            shift = timedelta(minutes=rng.choice((-60, -15, 15, 30, 120, 1440)))
            changes = service.move(occ, occ.start + shift, occ.end + shift, scope)
        elif roll < 0.72:
            status = rng.choice([s for s in AppointmentStatus if s is not occ.event.status])
            changes = service.set_status(occ, status)
        elif roll < 0.82:
            changes = service.edit(occ, {"title": f"Edited {rng.randrange(10_000)}"}, scope)
        else:
            changes, _undo = service.delete(occ, scope)
    except CarecalError as exc:
        _emit("skip", {"error": type(exc).__name__})
        return
    _emit("ack", {"events": _state(repo, ids | set(changes.events))})


def main(argv: list[str]) -> int:
    """Edit until killed. The main thread; disk I/O."""
    data_dir, seed = Path(argv[0]), int(argv[1])
    rng = random.Random(seed)
    with open_session(data_dir, actor="user") as session:
        _emit("ready", {"at": datetime.now(UTC).isoformat()})
        while True:
            _one_edit(session.events, rng)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
