"""Which days a view shows and how back/forward moves (pure, any thread)."""

from __future__ import annotations

import calendar
import enum
from datetime import date, timedelta

AGENDA_DAYS = 14


class ViewMode(enum.StrEnum):
    DAY = "day"
    WORK_WEEK = "work_week"
    WEEK = "week"
    MONTH = "month"
    AGENDA = "agenda"

    @property
    def label(self) -> str:
        return {
            "day": "Day",
            "work_week": "Work week",
            "week": "Week",
            "month": "Month",
            "agenda": "Agenda",
        }[self.value]


def week_start_of(day: date, week_start: int) -> date:
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def visible_days(mode: ViewMode, anchor: date, week_start: int) -> list[date]:
    """Every day the view shows for ``anchor`` (month: the 6-week grid)."""
    if mode is ViewMode.DAY:
        return [anchor]
    if mode is ViewMode.WORK_WEEK:
        monday = anchor - timedelta(days=anchor.weekday())
        return [monday + timedelta(days=i) for i in range(5)]
    if mode is ViewMode.WEEK:
        first = week_start_of(anchor, week_start)
        return [first + timedelta(days=i) for i in range(7)]
    if mode is ViewMode.MONTH:
        first = week_start_of(anchor.replace(day=1), week_start)
        return [first + timedelta(days=i) for i in range(42)]
    return [anchor + timedelta(days=i) for i in range(AGENDA_DAYS)]


def step(mode: ViewMode, anchor: date, direction: int) -> date:
    """The anchor one period back (-1) or forward (+1)."""
    if mode is ViewMode.DAY:
        return anchor + timedelta(days=direction)
    if mode in (ViewMode.WEEK, ViewMode.WORK_WEEK):
        return anchor + timedelta(days=7 * direction)
    if mode is ViewMode.AGENDA:
        return anchor + timedelta(days=AGENDA_DAYS * direction)
    month = anchor.month - 1 + direction
    year = anchor.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def period_label(mode: ViewMode, anchor: date, week_start: int) -> str:
    """The toolbar title: "May 2025", "12 – 18 May 2025", "Tuesday, 13 May 2025"."""
    if mode is ViewMode.DAY:
        return anchor.strftime("%A, %-d %B %Y")
    if mode is ViewMode.MONTH:
        return anchor.strftime("%B %Y")
    days = visible_days(mode, anchor, week_start)
    a, b = days[0], days[-1]
    if a.year != b.year:
        return f"{a:%-d %b %Y} – {b:%-d %b %Y}"
    if a.month != b.month:
        return f"{a:%-d %b} – {b:%-d %b %Y}"
    return f"{a.day} – {b:%-d %B %Y}"
