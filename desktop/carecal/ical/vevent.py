"""One VEVENT component (a lenient ``Block``) -> one domain ``Event``.

Shared by the reader (whole files) and the writer (which re-reads ``Event.raw`` to see which
fields the user changed). Nothing here expands recurrence rules: rules are only checked for
syntax, so an absurd rule costs nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from dateutil.rrule import rrulestr

from carecal.domain.models import (
    AppointmentStatus,
    Attendance,
    Event,
    Participant,
    VisitMode,
    When,
    new_id,
)
from carecal.ical import props
from carecal.ical.lenient import Block, Line
from carecal.ical.tz import TzResolver
from carecal.ical.values import (
    parse_date_or_datetime,
    parse_duration,
    render_when,
    unescape_text,
)


class SkipEvent(Exception):
    """This VEVENT cannot become an Event; ``str(exc)`` says why (internal to ical/)."""


@dataclass(slots=True)
class Converted:
    event: Event
    notes: list[str] = field(default_factory=list)


_STATUS_FROM_ICAL = {
    "CANCELLED": AppointmentStatus.CANCELLED,
    "CONFIRMED": AppointmentStatus.CONFIRMED,
    "TENTATIVE": AppointmentStatus.SCHEDULED,
}


def stable_uid(block: Block) -> str:
    """A UID derived from the component's text, so re-importing the same file finds it again."""
    digest = hashlib.sha256(block.text().encode("utf-8", "surrogatepass")).hexdigest()
    return f"carecal-{digest[:40]}"


class _Times:
    """Reads DATE / DATE-TIME properties of one VEVENT, collecting repair notes."""

    def __init__(self, resolver: TzResolver, notes: list[str]) -> None:
        self.resolver = resolver
        self.notes = notes

    def one(self, line: Line, text: str | None = None) -> tuple[When, bool]:
        """(value, floating). Raises ValueError for unreadable values."""
        value, utc, note = parse_date_or_datetime(line.value if text is None else text)
        if note:
            self.notes.append(f"{line.name}: {note}")
        if line.params.get("VALUE", "").upper() == "DATE" and isinstance(value, datetime):
            self.notes.append(f"{line.name}: VALUE=DATE with a time; time dropped")
            value = value.date()
        if not isinstance(value, datetime):
            return value, False
        if utc:
            return value.replace(tzinfo=UTC), False
        tzid = line.params.get("TZID", "").strip()
        if not tzid:
            return value.replace(tzinfo=UTC), True
        zone, custom, warning = self.resolver.resolve(tzid, value.year)
        if warning:
            self.notes.append(warning)
        if zone is not None:
            if zone.key == "UTC":
                return value.replace(tzinfo=UTC), False
            return value.replace(tzinfo=zone), False
        if custom is not None:
            return value.replace(tzinfo=custom).astimezone(UTC), False
        return value.replace(tzinfo=UTC), False

    def many(self, lines: list[Line], like: When, floating: bool) -> tuple[When, ...]:
        """All values of RDATE/EXDATE lines, coerced to the kind of ``like`` (DTSTART)."""
        result: list[When] = []
        for line in lines:
            is_period = line.params.get("VALUE", "").upper() == "PERIOD"
            for item in line.value.split(","):
                item = item.strip()
                if not item:
                    continue
                if "/" in item:
                    if not is_period:
                        self.notes.append(f"{line.name}: period without VALUE=PERIOD")
                    item = item.split("/", 1)[0]
                try:
                    value, item_floating = self.one(line, item)
                except ValueError as exc:
                    self.notes.append(f"{line.name}: dropped unreadable value ({exc})")
                    continue
                result.append(self._coerce(line.name, value, like, item_floating, floating))
        return tuple(result)

    def _coerce(
        self, name: str, value: When, like: When, value_floating: bool, like_floating: bool
    ) -> When:
        if isinstance(like, datetime) and not isinstance(value, datetime):
            self.notes.append(f"{name}: date given for a timed event; used the event's time")
            return datetime.combine(value, like.timetz())
        if not isinstance(like, datetime) and isinstance(value, datetime):
            self.notes.append(f"{name}: time given for an all-day event; used its date")
            return value.date()
        if isinstance(like, datetime) and isinstance(value, datetime):
            if like_floating and not value_floating:
                self.notes.append(f"{name}: zoned time in a floating event; kept the clock time")
                return value.replace(tzinfo=UTC)
            if value_floating and not like_floating:
                self.notes.append(f"{name}: floating time in a zoned event; used the event's zone")
                return value.replace(tzinfo=like.tzinfo)
        return value


def _text(block: Block, name: str) -> str:
    line = block.first(name)
    return unescape_text(line.value) if line is not None else ""


def _end(block: Block, times: _Times, start: When, floating: bool, notes: list[str]) -> When:
    dtend = block.first("DTEND")
    if dtend is not None:
        try:
            value, end_floating = times.one(dtend)
        except ValueError as exc:
            notes.append(f"DTEND unreadable ({exc}); used a default length")
        else:
            end = times._coerce("DTEND", value, start, end_floating, floating)
            if end < start:  # same kind after _coerce
                notes.append("DTEND before DTSTART; the event was given no length")
                return _default_end(start)
            if not isinstance(start, datetime) and end == start:
                return _default_end(start)
            return end
    duration = block.first("DURATION")
    if duration is not None:
        try:
            delta = parse_duration(duration.value)
            if delta < timedelta(0):
                raise ValueError("negative duration")
            if isinstance(start, datetime):
                return start + delta
            return start + timedelta(days=max(1, delta.days))
        except (ValueError, OverflowError) as exc:
            notes.append(f"DURATION unusable ({exc}); used a default length")
    return _default_end(start)


def _default_end(start: When) -> When:
    # RFC 5545: a DATE start without end lasts one day; a DATE-TIME start lasts no time.
    return start if isinstance(start, datetime) else start + timedelta(days=1)


def _rrule(block: Block, start: When, floating: bool, notes: list[str]) -> str | None:
    lines = block.all("RRULE")
    if not lines:
        return None
    if len(lines) > 1:
        notes.append(f"{len(lines)} RRULEs; only the first is used")
    rule = lines[0].value.strip()
    while rule.upper().startswith("RRULE:"):
        rule = rule[6:].strip()
        notes.append("RRULE value repeated its own name; repaired")
    parts: list[str] = []
    for part in rule.split(";"):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        key = key.strip().upper()
        if key == "UNTIL":
            try:
                value = _repair_until(value.strip(), start, floating, notes)
            except ValueError as exc:
                notes.append(f"RRULE dropped: invalid UNTIL ({exc}); only the first date is kept")
                return None
        parts.append(f"{key}={value.strip()}")
    rule = ";".join(parts)
    try:
        anchor = (
            start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
        )
        if floating and isinstance(anchor, datetime):
            anchor = anchor.replace(tzinfo=None)
        rrulestr(rule, dtstart=anchor, cache=False)
    except (ValueError, TypeError, KeyError, OverflowError, IndexError) as exc:
        notes.append(
            f"RRULE dropped: {str(exc)[:80] or 'invalid rule'}; only the first date is kept"
        )
        return None
    return rule


def _repair_until(value: str, start: When, floating: bool, notes: list[str]) -> str:
    until, utc, _note = parse_date_or_datetime(value)
    if not isinstance(start, datetime):
        wanted = until.date() if isinstance(until, datetime) else until
        fixed = wanted.strftime("%Y%m%d")
    elif floating:
        naive = until if isinstance(until, datetime) else datetime.combine(until, start.time())
        fixed = render_when(naive, floating=True, tzid=None)[1]
    else:
        if not isinstance(until, datetime):
            local = datetime.combine(until, datetime.max.time().replace(microsecond=0))
            aware = local.replace(tzinfo=start.tzinfo)
        elif utc:
            aware = until.replace(tzinfo=UTC)
        else:
            aware = until.replace(tzinfo=start.tzinfo)
        fixed = render_when(aware.astimezone(UTC), floating=False, tzid=None)[1]
    if fixed != value.upper():
        notes.append(f"RRULE UNTIL {value} did not match DTSTART; read as {fixed}")
    return fixed


def _status(block: Block) -> AppointmentStatus:
    ical = _text(block, "STATUS").strip().upper()
    own = _text(block, props.X_STATUS).strip().lower()
    try:
        mine = AppointmentStatus(own)
    except ValueError:
        mine = None
    # Another calendar may have changed STATUS since Carecal wrote it: STATUS then wins.
    if mine is not None and (not ical or mine.to_ical_status() == ical):
        return mine
    return _STATUS_FROM_ICAL.get(ical, AppointmentStatus.SCHEDULED)


def _reminder(block: Block) -> int | None:
    for alarm in block.blocks("VALARM"):
        trigger = alarm.first("TRIGGER")
        if trigger is None or trigger.params.get("VALUE", "").upper() == "DATE-TIME":
            continue
        if trigger.params.get("RELATED", "START").upper() != "START":
            continue
        try:
            delta = parse_duration(trigger.value)
        except ValueError:
            continue
        if delta <= timedelta(0):
            return int(-delta.total_seconds() // 60)
    return None


def _own_fields(block: Block, notes: list[str]) -> dict[str, object]:
    fields: dict[str, object] = {}
    if patient := _text(block, props.X_PATIENT).strip():
        fields["patient_id"] = patient
    if service := _text(block, props.X_SERVICE).strip():
        fields["service_id"] = service
    fields["video_url"] = _text(block, props.X_VIDEO_URL).strip()
    if mode := _text(block, props.X_MODE).strip().lower():
        try:
            fields["mode"] = VisitMode(mode)
        except ValueError:
            notes.append(f"{props.X_MODE}: unknown value ignored")
    if price := _text(block, props.X_PRICE).strip():
        try:
            fields["price"] = Decimal(price)
        except InvalidOperation:
            notes.append(f"{props.X_PRICE}: not a number; ignored")
    if capacity := _text(block, props.X_CAPACITY).strip():
        try:
            fields["capacity"] = int(capacity)
        except ValueError:
            notes.append(f"{props.X_CAPACITY}: not a number; ignored")
    participants: list[Participant] = []
    for line in block.all(props.X_PARTICIPANT):
        pid, _, attendance = unescape_text(line.value).partition(";")
        try:
            participants.append(
                Participant(pid.strip(), Attendance(attendance.strip() or "expected"))
            )
        except ValueError:
            notes.append(f"{props.X_PARTICIPANT}: unknown attendance ignored")
            participants.append(Participant(pid.strip()))
    fields["participants"] = tuple(p for p in participants if p.patient_id)
    return fields


def vevent_to_event(block: Block, resolver: TzResolver, calendar_id: str) -> Converted:
    """Convert one VEVENT. Gives it a stable UID (inserted into the block) when it has none.

    Caller's thread; CPU only. Raises SkipEvent when the component cannot be an event
    (no or unreadable DTSTART).
    """
    notes: list[str] = []
    uid_line = block.first("UID")
    uid = unescape_text(uid_line.value).strip() if uid_line is not None else ""
    if not uid:
        uid = stable_uid(block)
        if uid_line is not None:
            block.items.remove(uid_line)
        block.items.insert(0, Line("UID", {}, uid, f"UID:{uid}"))
        notes.append("had no UID; gave it one derived from its content")
    dtstart = block.first("DTSTART")
    if dtstart is None:
        raise SkipEvent("it has no DTSTART")
    times = _Times(resolver, notes)
    try:
        start, floating = times.one(dtstart)
    except (ValueError, OverflowError) as exc:
        raise SkipEvent(f"DTSTART is unreadable ({exc})") from exc
    all_day = not isinstance(start, datetime)
    end = _end(block, times, start, floating, notes)
    recurrence_id: When | None = None
    if (rid := block.first("RECURRENCE-ID")) is not None:
        try:
            recurrence_id, _rid_floating = times.one(rid)
        except (ValueError, OverflowError) as exc:
            raise SkipEvent(f"RECURRENCE-ID is unreadable ({exc})") from exc
    sequence = 0
    if (seq := block.first("SEQUENCE")) is not None:
        try:
            sequence = int(seq.value.strip())
        except ValueError:
            notes.append("SEQUENCE is not a number; read as 0")
    tzid: str | None = None
    if isinstance(start, datetime) and not floating:
        tzid = getattr(start.tzinfo, "key", None) or "UTC"
    event = Event(
        id=new_id(),
        calendar_id=calendar_id,
        uid=uid,
        title=_text(block, "SUMMARY"),
        start=start,
        end=end,
        all_day=all_day,
        floating=floating,
        tzid=tzid,
        description=_text(block, "DESCRIPTION"),
        location=_text(block, "LOCATION"),
        status=_status(block),
        busy=_text(block, "TRANSP").strip().upper() != "TRANSPARENT",
        rrule=_rrule(block, start, floating, notes),
        rdates=times.many(block.all("RDATE"), start, floating),
        exdates=times.many(block.all("EXDATE"), start, floating),
        recurrence_id=recurrence_id,
        reminder_minutes=_reminder(block),
        sequence=sequence,
        raw=block.text(),
        **_own_fields(block, notes),  # type: ignore[arg-type]
    )
    return Converted(event, notes)


def describe(block: Block, index: int) -> str:
    """How warnings name a component: its position and UID (never its title: patient data)."""
    uid_line = block.first("UID")
    uid = uid_line.value.strip()[:60] if uid_line is not None else ""
    return f"VEVENT #{index}" + (f" (UID {uid})" if uid else "")
