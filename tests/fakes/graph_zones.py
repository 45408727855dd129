"""Time-zone names as the Graph emulator accepts them: Windows zone names (mapped to IANA the
way CLDR's windowsZones table maps each Windows zone's "001" territory), a fixed set of IANA
names, and UTC spellings. Pure functions, any thread.

Only the zones Carecal's tests use are here; an unknown name gets Graph's 400
`TimeZoneNotSupportedException`, so a test that needs another zone fails loudly instead of
silently running in UTC.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.fakes.graph_errors import GraphError

# Windows zone id -> IANA zone (CLDR windowsZones, territory 001), for the zones tests use.
WINDOWS_TO_IANA: dict[str, str] = {
    "UTC": "Etc/UTC",
    "GMT Standard Time": "Europe/London",
    "Greenwich Standard Time": "Atlantic/Reykjavik",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Central European Standard Time": "Europe/Warsaw",
    "GTB Standard Time": "Europe/Bucharest",
    "FLE Standard Time": "Europe/Kiev",
    "Turkey Standard Time": "Europe/Istanbul",
    "Russian Standard Time": "Europe/Moscow",
    "Israel Standard Time": "Asia/Jerusalem",
    "South Africa Standard Time": "Africa/Johannesburg",
    "Arabian Standard Time": "Asia/Dubai",
    "India Standard Time": "Asia/Calcutta",
    "China Standard Time": "Asia/Shanghai",
    "Singapore Standard Time": "Asia/Singapore",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
    "Atlantic Standard Time": "America/Halifax",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "US Mountain Standard Time": "America/Phoenix",
    "Pacific Standard Time": "America/Los_Angeles",
    "Alaskan Standard Time": "America/Anchorage",
    "Hawaiian Standard Time": "Pacific/Honolulu",
}
# Other spellings of UTC Graph uses or accepts (the tzone:// form shows up in
# originalStartTimeZone of items written by some clients).
_UTC_ALIASES = ("UTC", "Etc/UTC", "Etc/GMT", "tzone://Microsoft/Utc", "Coordinated Universal Time")
# IANA names accepted as they are: the targets of the map above (Graph takes a fixed list of
# IANA names, not every name in the tz database), plus current names for two renamed zones.
IANA_ACCEPTED = frozenset(WINDOWS_TO_IANA.values()) | {"Asia/Kolkata", "Europe/Kyiv"}


def iana_name(name: str | None) -> str:
    """The IANA zone for a Graph `timeZone` value (None or "" mean UTC); 400 otherwise."""
    if not name or name in _UTC_ALIASES:
        return "UTC"
    if name in WINDOWS_TO_IANA:
        return WINDOWS_TO_IANA[name]
    if name in IANA_ACCEPTED:
        return name
    raise GraphError(
        400,
        "TimeZoneNotSupportedException",
        f"A valid TimeZone value must be specified; {name!r} is not supported.",
    )


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for a Graph `timeZone` value; 400 `TimeZoneNotSupportedException` for an
    unknown name."""
    return ZoneInfo(iana_name(name))
