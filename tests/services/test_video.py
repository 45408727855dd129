"""When a video visit can be joined: the link, the hour-before window, the end, the hints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecal.domain.models import Event, VisitMode, new_id
from carecal.services.video import JOIN_EARLY, can_join, join_hint, join_link

WARSAW = ZoneInfo("Europe/Warsaw")
START = datetime(2025, 5, 14, 11, 0, tzinfo=WARSAW)
END = START + timedelta(minutes=50)


def _event(mode: VisitMode, url: str) -> Event:
    return Event(
        id=new_id(),
        calendar_id="cal",
        uid="",
        title="Consultation",
        start=START,
        end=END,
        tzid="Europe/Warsaw",
        mode=mode,
        video_url=url,
    )


def test_join_link_only_for_video_visits_with_a_link() -> None:
    assert join_link(_event(VisitMode.VIDEO, "  https://meet.example.com/a  ")) == (
        "https://meet.example.com/a"
    )
    assert join_link(_event(VisitMode.VIDEO, "")) == ""
    assert join_link(_event(VisitMode.VIDEO, "   ")) == ""
    # A link left over from when the visit was online does not make an office visit joinable.
    assert join_link(_event(VisitMode.IN_PERSON, "https://meet.example.com/a")) == ""
    assert join_link(_event(VisitMode.PHONE, "https://meet.example.com/a")) == ""


@pytest.mark.parametrize(
    ("offset", "joinable"),
    [
        (-timedelta(minutes=61), False),
        (-timedelta(hours=1, seconds=1), False),
        (-JOIN_EARLY, True),
        (-timedelta(minutes=59), True),
        (timedelta(0), True),
        (timedelta(minutes=49, seconds=59), True),
        (timedelta(minutes=50), False),
        (timedelta(hours=3), False),
    ],
)
def test_can_join_from_an_hour_before_until_the_end(offset: timedelta, joinable: bool) -> None:
    assert can_join(START, END, START + offset) is joinable
    # The same instant in another zone answers the same.
    assert can_join(START, END, (START + offset).astimezone(UTC)) is joinable


def test_join_hint_says_when_the_room_opens_in_the_visit_zone() -> None:
    early = (START - timedelta(hours=3)).astimezone(UTC)
    assert join_hint(START, END, early) == (
        "The video room opens an hour before the visit, at 10:00."
    )
    assert join_hint(START, END, START - timedelta(minutes=59)) == (
        "Open the video room in the browser."
    )
    assert join_hint(START, END, START + timedelta(minutes=10)) == (
        "Open the video room in the browser."
    )
    assert join_hint(START, END, END) == "The visit is over."
