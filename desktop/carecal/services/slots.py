"""Free slots for a service on one day, from working hours, breaks and every calendar's busy time.

Runs on the caller's thread and does disk I/O (one window query).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from carecal.domain.availability import Interval, busy_intervals, free_slots
from carecal.domain.models import ServiceType
from carecal.domain.recurrence import occurrences_in_window
from carecal.services.zones import zone_or_utc
from carecal.store.repo import Repository


def free_slots_for(
    repo: Repository, day: date, service: ServiceType, *, now: datetime | None = None
) -> list[Interval]:
    """Bookable (start, end) slots for ``service`` on ``day`` in the display zone.

    Busy time comes from all calendars (a private appointment blocks the practice too). Slots
    start on the user's slot grid and, when ``now`` is given, not before it. Raises StoreError.
    """
    settings = repo.settings()
    zone = zone_or_utc(settings.display_tz)
    # A day's slots can only collide with events overlapping that day (plus the buffer).
    pad = timedelta(minutes=service.buffer_minutes)
    start = datetime.combine(day, time(0), tzinfo=zone) - pad
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) + pad
    occs, _warnings = occurrences_in_window(
        repo.events_in_window(start, end), start, end, display_tz=zone
    )
    return free_slots(
        day,
        service,
        repo.working_hours(),
        repo.breaks(),
        busy_intervals(occs),
        zone,
        slot_minutes=settings.slot_minutes,
        now=now,
    )
