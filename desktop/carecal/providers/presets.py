"""Presets for well-known CalDAV services: where discovery starts and what to tell the user.

Pure data; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from carecal.domain.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Preset:
    """A CalDAV service's starting point and sign-in hint."""

    key: str
    label: str
    url: str | None  # None: the user must give one
    password_help: str


PRESETS: dict[str, Preset] = {
    "icloud": Preset(
        "icloud",
        "iCloud",
        "https://caldav.icloud.com/",
        "Use your Apple ID and an app-specific password (appleid.apple.com > Sign-In and "
        "Security > App-Specific Passwords). Your normal Apple ID password will not work, and "
        "changing it revokes every app-specific password.",
    ),
    "nextcloud": Preset(
        "nextcloud",
        "Nextcloud",
        None,
        "Use your Nextcloud user name and an app password (Settings > Security > Devices & "
        "sessions) if two-factor sign-in is on.",
    ),
    "fastmail": Preset(
        "fastmail",
        "Fastmail",
        "https://caldav.fastmail.com/dav/",
        "Use your Fastmail address and an app password with CalDAV access "
        "(Settings > Privacy & Security > App passwords).",
    ),
    "generic": Preset(
        "generic",
        "CalDAV server",
        None,
        "Use the user name and password your calendar server gave you.",
    ),
}


def start_url(url: str | None, preset: str = "generic") -> str:
    """The URL discovery starts from, for what the user typed and the chosen preset.

    A bare domain becomes ``https://domain/``; Nextcloud's DAV root is appended to a bare
    Nextcloud host. Raises ValidationError for an unknown preset or a missing URL.
    """
    p = PRESETS.get(preset)
    if p is None:
        raise ValidationError(
            f"unknown CalDAV preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}"
        )
    text = (url or "").strip() or (p.url or "")
    if not text:
        raise ValidationError(f"{p.label} needs a server address (URL or domain)")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"not a server address: {text!r}")
    path = parts.path or "/"
    if preset == "nextcloud" and "/remote.php/" not in path:
        path = path.rstrip("/") + "/remote.php/dav/"
    if not path.endswith("/"):
        path += "/"
    netloc = parts.netloc.rsplit("@", 1)[-1]  # credentials never travel inside the URL
    return f"{parts.scheme}://{netloc}{path}"
