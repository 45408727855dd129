"""Which IANA time zone this computer runs in, found cheaply (no subprocesses, no network)."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_LOCALTIME = Path("/etc/localtime")


def _valid(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def system_zone_name(*, environ: dict[str, str] | None = None, localtime: Path = _LOCALTIME) -> str:
    """The system's IANA zone name: ``TZ`` if it names a known zone, else the target of the
    ``/etc/localtime`` symlink (``.../zoneinfo/Europe/Warsaw``), else ``"UTC"``.

    Runs on any thread; reads one symlink at most. Never raises.
    """
    env = os.environ if environ is None else environ
    tz = env.get("TZ", "").strip().lstrip(":")
    if tz and _valid(tz):
        return tz
    try:
        # The link's own text, not the fully resolved path: distributions chain links
        # inside the zoneinfo tree and the first one carries the familiar name.
        target = str(localtime.readlink()) if localtime.is_symlink() else ""
    except OSError:
        target = ""
    marker = "/zoneinfo/"
    if marker in target:
        name = target.split(marker, 1)[1]
        # "posix/Europe/Warsaw" and "right/..." are variants of the same zone database.
        for prefix in ("posix/", "right/"):
            name = name.removeprefix(prefix)
        if _valid(name):
            return name
    return "UTC"
