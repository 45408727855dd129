"""Event times and bounded recurrence expansion for the Google emulator (python-dateutil).

Google stores a series as a master event whose `recurrence` holds RRULE/EXRULE/RDATE/EXDATE
lines and whose `start`/`end` give DTSTART/DTEND; instances get the id
`<masterId>_<YYYYMMDDTHHMMSSZ>` (timed, UTC) or `<masterId>_<YYYYMMDD>` (all-day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rruleset, rrulestr

from tests.fakes.google_errors import GoogleApiError

MAX_INSTANCES = 2500  # expansion bound: enough for tests, small enough to stay fast
HORIZON = timedelta(days=3 * 366)  # unbounded series stop this long after their start


def invalid(message: str, location: str) -> GoogleApiError:
    """A 400 about one field of the request body."""
    return GoogleApiError(400, "invalid", message, location=location, location_type="other")


def parse_rfc3339(value: str, location: str) -> datetime:
    """An aware datetime from an RFC 3339 string; 400 when it is not one."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for {location}: {value!r}", location) from None
    if parsed.tzinfo is None:
        raise invalid(f"Missing offset in {location}: {value!r}", location)
    return parsed


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The IANA zone `name` (or the calendar's zone); 400 for an unknown name."""
    try:
        return ZoneInfo(name or fallback)
    except (ValueError, KeyError, OSError):
        raise invalid(f"Invalid time zone definition: {name}", "timeZone") from None


def moment(edt: dict[str, Any], cal_tz: str, location: str) -> tuple[datetime, bool]:
    """(aware local datetime, all-day?) for an EventDateTime; all-day days start at midnight in
    the event's (or calendar's) zone."""
    tz = zone(edt.get("timeZone"), cal_tz)
    if "date" in edt and edt["date"] is not None:
        try:
            day = date.fromisoformat(edt["date"])
        except (TypeError, ValueError):
            raise invalid(f"Invalid date in {location}", location) from None
        return datetime.combine(day, time(0), tz), True
    if "dateTime" in edt and edt["dateTime"] is not None:
        parsed = parse_rfc3339(edt["dateTime"], location)
        return parsed.astimezone(tz), False
    raise GoogleApiError(
        400, "required", f"Missing {location}.", location=location, location_type="other"
    )


def instance_id(master_id: str, start: datetime, all_day: bool) -> str:
    """Google's id for the instance of `master_id` originally starting at `start`."""
    if all_day:
        return f"{master_id}_{start.strftime('%Y%m%d')}"
    return f"{master_id}_{start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def edt_for(start: datetime, all_day: bool, tz_name: str | None) -> dict[str, Any]:
    """An EventDateTime for a local moment."""
    if all_day:
        return {"date": start.date().isoformat()}
    out: dict[str, Any] = {"dateTime": start.isoformat()}
    if tz_name:
        out["timeZone"] = tz_name
    return out


def _date_list(line: str, tz: ZoneInfo, all_day: bool) -> list[datetime]:
    """The moments of one RDATE/EXDATE line, made comparable with the series' DTSTART."""
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    line_tz = ZoneInfo(params["TZID"]) if "TZID" in params else tz
    out = []
    for value in values.split(","):
        value = value.strip()
        if len(value) == 8:
            parsed = datetime.combine(
                date(int(value[:4]), int(value[4:6]), int(value[6:])), time(0)
            )
            out.append(parsed.replace(tzinfo=tz))
            continue
        parsed = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
        aware = parsed.replace(tzinfo=UTC if value.endswith("Z") else line_tz)
        out.append(aware.astimezone(tz) if not all_day else aware.replace(tzinfo=tz))
    return out


def expand(
    lines: list[str],
    dtstart: datetime,
    all_day: bool,
    *,
    until: datetime | None = None,
) -> list[datetime]:
    """The series' original start moments (local, aware) up to `until` or the horizon, at
    most MAX_INSTANCES of them; 400 for a line Google would refuse."""
    tz = dtstart.tzinfo
    assert isinstance(tz, ZoneInfo)
    # dateutil expands in naive wall-clock time so DST shifts keep the local time of day.
    naive_start = dtstart.replace(tzinfo=None)
    rset = rruleset()
    rset.rdate(naive_start)
    try:
        for line in lines:
            kind = line.split(":", 1)[0].split(";", 1)[0].upper()
            if kind in ("RRULE", "EXRULE"):
                rule = rrulestr(line.split(":", 1)[1], dtstart=naive_start, ignoretz=True)
                (rset.rrule if kind == "RRULE" else rset.exrule)(rule)
            elif kind in ("RDATE", "EXDATE"):
                for moment_ in _date_list(line, tz, all_day):
                    naive = moment_.replace(tzinfo=None)
                    (rset.rdate if kind == "RDATE" else rset.exdate)(naive)
            else:
                raise ValueError(line)
    except (ValueError, KeyError, TypeError, OverflowError):
        raise invalid("Invalid recurrence rule.", "recurrence") from None
    stop = (until.astimezone(tz) if until else dtstart + HORIZON).replace(tzinfo=None)
    out: list[datetime] = []
    for occurrence in rset:
        if occurrence >= stop or len(out) >= MAX_INSTANCES:
            break
        out.append(occurrence.replace(tzinfo=tz))
    return out
