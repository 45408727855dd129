"""Time zones of iCalendar files: TZID names and VTIMEZONE components to IANA zones, and back.

Carecal keeps every timed event in an IANA zone (``zoneinfo``). Files name zones in many ways:
IANA names, Windows names ("W. Europe Standard Time"), vendor-prefixed names
("/freeassociation.sourceforge.net/Europe/Berlin") and made-up names whose meaning is only in the
file's VTIMEZONE ("Customized Time Zone"). For the last kind we look for an IANA zone with the same
UTC offsets through the event's year; when none matches, the caller converts the times to UTC.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo

from carecal.ical.lenient import Block
from carecal.ical.values import unescape_text

_UTC_NAMES = frozenset({"UTC", "Z", "GMT", "ETC/UTC", "ETC/GMT", "UNIVERSAL", "ZULU"})


@functools.lru_cache(maxsize=512)
def zone_for_name(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone a TZID names by itself (IANA, Windows or vendor-prefixed), else None.

    Any thread; raises nothing.
    """
    cleaned = name.strip().strip('"').strip()
    if not cleaned:
        return None
    if cleaned.upper() in _UTC_NAMES:
        return zoneinfo.ZoneInfo("UTC")
    candidates = [cleaned.strip("/")]
    try:  # the usual case first, without importing icalendar (process start-up)
        return zoneinfo.ZoneInfo(candidates[0])
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    if cleaned in WINDOWS_TO_OLSON:
        candidates.append(WINDOWS_TO_OLSON[cleaned])
    parts = cleaned.strip("/").split("/")
    candidates.extend("/".join(parts[i:]) for i in range(1, len(parts)))
    for candidate in candidates:
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


@functools.lru_cache(maxsize=1)
def _all_zones() -> tuple[zoneinfo.ZoneInfo, ...]:
    names = sorted(
        n
        for n in zoneinfo.available_timezones()
        if "/" in n and not n.startswith(("Etc/", "SystemV/"))
    )
    return tuple(zoneinfo.ZoneInfo(n) for n in names)


def _samples(year: int) -> list[datetime]:
    start = datetime(year, 1, 1, 12, tzinfo=UTC)
    return [start + timedelta(days=d) for d in range(0, 366, 1)]


def _offsets(tz: tzinfo, instants: Iterable[datetime]) -> list[timedelta | None]:
    return [i.astimezone(tz).utcoffset() for i in instants]


def match_iana(custom: tzinfo, year: int, hint: str = "") -> zoneinfo.ZoneInfo | None:
    """An IANA zone whose UTC offset equals ``custom``'s on every day of ``year``, or None.

    Zones whose city appears in ``hint`` (the TZID text) win ties, so "(UTC+01:00) Amsterdam,
    Berlin" maps to Amsterdam. Any thread; about 20 ms the first time, raises nothing.
    """
    year = min(max(year, 1971), 2037)
    quarter = [datetime(year, m, 15, 12, tzinfo=UTC) for m in (1, 4, 7, 10)]
    try:
        want_quarter = _offsets(custom, quarter)
        full = _samples(year)
        want = _offsets(custom, full)
    except (ValueError, OverflowError, TypeError, AttributeError):
        return None
    matches = [
        z
        for z in _all_zones()
        if _offsets(z, quarter) == want_quarter and _offsets(z, full) == want
    ]
    if not matches:
        return None
    lowered = hint.lower().replace(" ", "_")
    for z in matches:
        if z.key.rsplit("/", 1)[-1].lower() in lowered:
            return z
    # Zones Windows names map to are the well-known representative of their region.
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    preferred = set(WINDOWS_TO_OLSON.values())
    return min(matches, key=lambda z: (z.key not in preferred, z.key))


class TzResolver:
    """Resolves the TZIDs of one file, with that file's VTIMEZONE components.

    Not thread-safe; one per read. ``resolve`` returns ``(zone, warning)``: an IANA zone, or
    None when the caller must fall back (the warning says how).
    """

    def __init__(
        self,
        vtimezones: Iterable[Block] | Callable[[], Iterable[Block]] = (),
        default: str | None = None,
    ) -> None:
        # A callable is called the first time a TZID is not a zone name by itself: the reader of
        # a CalDAV item then never parses VTIMEZONEs that name IANA zones (nearly all of them).
        self._source = vtimezones
        self._loaded: dict[str, Block] | None = None
        self._default = default
        self._cache: dict[tuple[str, int], tuple[zoneinfo.ZoneInfo | None, tzinfo | None]] = {}

    def resolve(
        self, tzid: str, year: int
    ) -> tuple[zoneinfo.ZoneInfo | None, tzinfo | None, str | None]:
        """(IANA zone, or None plus the VTIMEZONE's own tzinfo if usable, warning).

        Caller's thread; raises nothing.
        """
        named = zone_for_name(tzid)
        if named is not None:
            return named, None, None
        key = (tzid, year)
        if key not in self._cache:
            self._cache[key] = self._from_vtimezone(tzid, year)
        zone, custom = self._cache[key]
        if zone is not None:
            return zone, None, None
        if custom is not None:
            return None, custom, f"time zone '{tzid}' matches no known zone; times kept in UTC"
        if self._default is not None:
            fallback = zone_for_name(self._default)
            if fallback is not None:
                return fallback, None, f"unknown time zone '{tzid}'; used {fallback.key}"
        return None, None, f"unknown time zone '{tzid}'; times read as UTC"

    def _blocks(self) -> dict[str, Block]:
        if self._loaded is None:
            source = self._source
            self._loaded = {}
            for block in source() if callable(source) else source:
                line = block.first("TZID")
                if line is not None:
                    self._loaded.setdefault(unescape_text(line.value).strip(), block)
        return self._loaded

    def _from_vtimezone(
        self, tzid: str, year: int
    ) -> tuple[zoneinfo.ZoneInfo | None, tzinfo | None]:
        block = self._blocks().get(tzid.strip())
        if block is None:
            return None, None
        from icalendar import Timezone

        try:
            component = Timezone.from_ical(block.text())
            if not isinstance(component, Timezone):
                return None, None
            custom = component.to_tz(lookup_tzid=False)
        except Exception:  # icalendar raises many types for broken VTIMEZONEs
            return None, None
        return match_iana(custom, year, tzid), custom


def vtimezone_text(tzid: str, zone: zoneinfo.ZoneInfo, first: date, last: date) -> str:
    """A VTIMEZONE named ``tzid`` with ``zone``'s rules between two dates (CRLF text).

    Any thread; raises ValueError if icalendar cannot describe the zone.
    """
    from icalendar import Timezone

    first = max(first, date(1971, 1, 1))
    last = max(min(last, date(2100, 1, 1)), first + timedelta(days=1))
    component = Timezone.from_tzinfo(zone, tzid=tzid, first_date=first, last_date=last)
    text: str = component.to_ical().decode("utf-8")
    return text if text.endswith("\r\n") else text + "\r\n"
