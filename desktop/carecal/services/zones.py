"""Time-zone name checks shared by the services and the command line."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def is_known_zone(name: str) -> bool:
    """True when ``name`` is an IANA zone zoneinfo can load. Any thread; reads tz data."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def zone_or_utc(name: str) -> ZoneInfo:
    """The zone ``name`` (the display zone setting), or UTC when it names no known zone. Any
    thread; reads tz data."""
    return ZoneInfo(name) if is_known_zone(name) else ZoneInfo("UTC")
