"""When a video visit can be joined: from an hour before it starts until it ends (Docplanner's
video room opens to the patient an hour before, and the practitioner's views follow the same
rule). Pure functions on the domain model.

Threads: any. Raises nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from carecal.domain.models import Event, VisitMode

JOIN_EARLY = timedelta(hours=1)


def join_link(event: Event) -> str:
    """The link to join, for a video visit that has one ("" otherwise)."""
    return event.video_url.strip() if event.mode is VisitMode.VIDEO else ""


def can_join(start: datetime, end: datetime, now: datetime) -> bool:
    """Whether an occurrence running [start, end) can be joined at ``now`` (aware datetimes)."""
    return start - JOIN_EARLY <= now < end


def join_hint(start: datetime, end: datetime, now: datetime) -> str:
    """A tooltip for the "Join video" button: why it is (not yet / no longer) enabled."""
    if now < start - JOIN_EARLY:
        opens = (start - JOIN_EARLY).astimezone(start.tzinfo)
        return f"The video room opens an hour before the visit, at {opens:%H:%M}."
    if now >= end:
        return "The visit is over."
    return "Open the video room in the browser."
