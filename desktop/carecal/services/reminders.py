"""Desktop reminders for the practitioner: which notices are due, and remembering shown ones.

Two kinds of notice, both computed from the local calendar only (no network):

- "before": ``notify_before_minutes`` before each timed appointment that is not cancelled, until
  it starts, with the video link for video visits ("Join video").
- "summary": once a day from ``summary_time`` (for four hours, so a laptop opened a little later
  still gets it): how many appointments, the first one, and the gaps of half an hour or more.

``due_notices`` is pure (``now``, the occurrences and the keys already shown in, the notices
out). ``ReminderService`` feeds it from the store and remembers what it handed out in the
``notices_shown`` table *before* returning it, so a notice is never shown twice, also across a
restart (a crash between remembering and showing loses that one notice instead). Patients are
named as the kiosk names them (Settings > Kiosk): notifications may show on a locked or shared
screen. Nothing is logged about patients.

Threads: ``due_notices`` any thread; ``ReminderService`` the caller's thread (the GUI's database
lane), disk I/O, raises StoreError.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from carecal.domain.errors import NotFound
from carecal.domain.models import AppointmentStatus, Event, Occurrence, Settings, VisitMode
from carecal.domain.timeutil import utc_instant
from carecal.services.events import EventService, day_bounds
from carecal.services.kiosk_rules import NameStyle, patient_label
from carecal.store.db import Database
from carecal.store.reminders import NoticesShown
from carecal.store.repo import Repository

SUMMARY_WINDOW = timedelta(hours=4)
MIN_GAP = timedelta(minutes=30)
KEEP_SHOWN = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Notice:
    """One desktop notification. ``key`` identifies it for "shown once"."""

    key: str
    kind: str  # "before" or "summary"
    title: str
    body: str
    video_url: str = ""
    start: datetime | None = None  # the visit's, for "before" notices (when video opens)
    end: datetime | None = None


def parse_clock(text: str) -> time | None:
    """ "07:30" -> time(7, 30); None for anything else."""
    try:
        hours, minutes = (int(p) for p in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        return None


def _counts(occ: Occurrence) -> bool:
    return (
        isinstance(occ.start, datetime)
        and not occ.event.all_day
        and occ.event.status is not AppointmentStatus.CANCELLED
    )


def due_notices(
    now: datetime,
    occurrences: Sequence[Occurrence],
    settings: Settings,
    shown: set[str],
    zone: ZoneInfo,
    label: Callable[[Event], str],
) -> list[Notice]:
    """The notices due at ``now`` that are not in ``shown``, summary first. Pure.

    ``label`` names an appointment ("Anna N. · Physiotherapy"); ``occurrences`` should cover
    today (local) and the next ``notify_before_minutes``.
    """
    out: list[Notice] = []
    local_now = now.astimezone(zone)
    timed = sorted((o for o in occurrences if _counts(o)), key=lambda o: utc_instant(o.start))
    if settings.summary_enabled:
        at = parse_clock(settings.summary_time)
        if at is not None:
            today = local_now.date()
            start = datetime.combine(today, at, tzinfo=zone)
            key = f"summary:{today.isoformat()}"
            if start <= now < start + SUMMARY_WINDOW and key not in shown:
                todays = [o for o in timed if utc_instant(o.start).astimezone(zone).date() == today]
                out.append(_summary(key, todays, zone, label))
    if settings.notify_before_enabled:
        lead = timedelta(minutes=max(0, settings.notify_before_minutes))
        for occ in timed:
            start = utc_instant(occ.start)
            key = f"before:{occ.key[0]}:{occ.key[1]}:{start.astimezone(UTC).isoformat()}"
            if start - lead <= now < start and key not in shown:
                out.append(_before(key, occ, now, zone, label))
    return out


def _hhmm(value: datetime | date, zone: ZoneInfo) -> str:
    return f"{utc_instant(value).astimezone(zone):%H:%M}"


def _before(
    key: str, occ: Occurrence, now: datetime, zone: ZoneInfo, label: Callable[[Event], str]
) -> Notice:
    minutes = max(0, round((utc_instant(occ.start) - now).total_seconds() / 60))
    when = "now" if minutes == 0 else f"in {minutes} min"
    event = occ.event
    video = event.video_url if event.mode is VisitMode.VIDEO else ""
    where = "Video visit" if event.mode is VisitMode.VIDEO else event.location
    if event.mode is VisitMode.PHONE:
        where = "Phone call"
    body = f"{_hhmm(occ.start, zone)}–{_hhmm(occ.end, zone)} ({when})"
    if where:
        body += f" · {where}"
    return Notice(
        key, "before", label(event), body, video, utc_instant(occ.start), utc_instant(occ.end)
    )


def gaps(
    occurrences: Sequence[Occurrence], minimum: timedelta = MIN_GAP
) -> list[tuple[datetime, datetime]]:
    """Free spans of at least ``minimum`` between the first start and the last end. Pure."""
    spans = sorted((utc_instant(o.start), utc_instant(o.end)) for o in occurrences if o.event.busy)
    out: list[tuple[datetime, datetime]] = []
    if not spans:
        return out
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach >= minimum:
            out.append((reach, start))
        reach = max(reach, end)
    return out


def _summary(
    key: str, todays: Sequence[Occurrence], zone: ZoneInfo, label: Callable[[Event], str]
) -> Notice:
    count = len(todays)
    if not todays:
        return Notice(key, "summary", "Today: no appointments", "The day is free.")
    first = todays[0]
    lines = [f"First: {_hhmm(first.start, zone)} {label(first.event)}"]
    free = gaps(todays)
    if free:
        shown = ", ".join(f"{a.astimezone(zone):%H:%M}–{b.astimezone(zone):%H:%M}" for a, b in free)
        lines.append(f"Gaps: {shown}")
    else:
        lines.append("No gaps of 30 minutes or more.")
    last_end = max(utc_instant(o.end) for o in todays)
    lines.append(f"Last ends at {last_end.astimezone(zone):%H:%M}")
    title = f"Today: {count} appointment{'s' if count != 1 else ''}"
    return Notice(key, "summary", title, "\n".join(lines))


class ReminderService:
    """Due notices from the store, each handed out once (see the module docstring)."""

    def __init__(self, repo: Repository, db: Database) -> None:
        self.repo = repo
        self.events = EventService(repo, actor="reminders")
        self.shown = NoticesShown(db)

    def take_due(self, now: datetime) -> list[Notice]:
        """The notices due at ``now``, remembered as shown before they are returned."""
        settings = self.repo.settings()
        if not (settings.notify_before_enabled or settings.summary_enabled):
            return []
        zone = self.events.display_zone()
        start, _ = day_bounds(now.astimezone(zone).date(), zone)
        lead = timedelta(minutes=max(0, settings.notify_before_minutes))
        end = max(now + lead + timedelta(minutes=1), start + timedelta(days=1))
        occurrences = self.events.occurrences(start, end)
        style = NameStyle.of(settings.kiosk_names)
        notices = due_notices(
            now,
            occurrences,
            settings,
            self.shown.keys(now - KEEP_SHOWN),
            zone,
            lambda event: self._label(event, style),
        )
        if notices:
            # Pruned only when a key is added: ``keys`` already ignores old ones, so a quiet
            # check (every 30 s from the window) takes no write lock.
            self.shown.add((n.key for n in notices), now)
            self.shown.prune(now - KEEP_SHOWN)
        return notices

    def _label(self, event: Event, style: NameStyle) -> str:
        names: list[str] = []
        for pid in event.patient_ids()[:3]:
            try:
                names.append(patient_label(self.repo.get_patient(pid), style))
            except NotFound:
                continue
        service = ""
        if event.service_id:
            try:
                service = self.repo.get_service(event.service_id).name
            except NotFound:
                service = ""
        if not names:
            return event.title or service or "Appointment"
        more = len(event.patient_ids()) - len(names)
        who = ", ".join(names) + (f" +{more}" if more > 0 else "")
        return f"{who} · {service}" if service else who
