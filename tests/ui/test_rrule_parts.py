"""The editor's simple recurrence rules to and from RRULE text."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from carecal.ui.rrule_parts import RuleParts, describe, from_rrule, to_rrule

TZ = ZoneInfo("Europe/Warsaw")


def test_weekly_rule_round_trips() -> None:
    parts = RuleParts("WEEKLY", 2, (0, 3), None, 10)
    text = to_rrule(parts, all_day=False, tz=TZ)
    assert text == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=10"
    assert from_rrule(text, tz=TZ) == parts
    assert describe(parts) == "Every 2 weeks on Mon, Thu, 10 times"


def test_until_is_the_end_of_the_local_day_in_utc() -> None:
    parts = RuleParts("DAILY", until=date(2025, 6, 30))
    text = to_rrule(parts, all_day=False, tz=TZ)
    assert text == "FREQ=DAILY;UNTIL=20250630T215959Z"
    assert from_rrule(text, tz=TZ) == parts
    assert to_rrule(parts, all_day=True, tz=TZ) == "FREQ=DAILY;UNTIL=20250630"


def test_rules_the_editor_cannot_show_are_reported() -> None:
    assert from_rrule("FREQ=YEARLY", tz=TZ) is None
    assert from_rrule("FREQ=MONTHLY;BYDAY=1MO", tz=TZ) is None
    assert from_rrule(None, tz=TZ) == RuleParts()
    assert to_rrule(RuleParts(), all_day=False, tz=TZ) is None
