"""Calendar breaks in the Docplanner emulator (reference 1.2): time blocked for events that are
not bookings. `GET breaks?since&till` (both required) lists the breaks overlapping the window;
`POST` adds one (201 + Location, empty body; 409 for the same range and description; 422 for a
bad range or a non-commercial address); `PATCH {since,till}` moves it (204; 422 for the same
range or till before since); `DELETE` removes it (204). `apply_on_coupled_addresses` (1.14)
mirrors the break onto the coupled online or offline address, as a break with its own id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_clock import render


@dataclass
class CalendarBreak:
    """One break on one address (`mirror_of`: the break it was mirrored from)."""

    id: str
    address_id: str
    since: datetime
    till: datetime
    description: str = ""
    mirror_of: str | None = None

    def resource(self, zone: ZoneInfo) -> dict[str, Any]:
        """The CalendarBreak type."""
        return {
            "id": self.id,
            "since": render(self.since, zone),
            "till": render(self.till, zone),
            "description": self.description,
        }

    def notification(self, zone: ZoneInfo) -> dict[str, Any]:
        """The BreakNotification form."""
        return {"id": self.id, "since": render(self.since, zone), "till": render(self.till, zone)}
