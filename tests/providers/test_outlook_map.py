"""Graph's patternedRecurrence <-> RRULE and the Windows zone names, without a server."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from carecal.providers.outlook_recur import Unexpressible, same_pattern, to_pattern, to_rrule
from carecal.providers.outlook_zones import iana_of, windows_of

WARSAW = ZoneInfo("Europe/Warsaw")
START = datetime(2026, 3, 16, 9, 0, tzinfo=WARSAW)  # a Monday
CET = "Central European Standard Time"


@pytest.mark.parametrize(
    ("rule", "pattern", "back"),
    [
        ("FREQ=DAILY;INTERVAL=2;COUNT=10",
         {"type": "daily", "interval": 2}, "FREQ=DAILY;INTERVAL=2;COUNT=10"),
        ("FREQ=WEEKLY;BYDAY=MO,WE;WKST=SU",
         {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "wednesday"],
          "firstDayOfWeek": "sunday"}, "FREQ=WEEKLY;BYDAY=MO,WE;WKST=SU"),
        ("FREQ=WEEKLY", {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"],
                         "firstDayOfWeek": "monday"}, "FREQ=WEEKLY;BYDAY=MO"),
        ("FREQ=MONTHLY;BYMONTHDAY=16",
         {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 16},
         "FREQ=MONTHLY;BYMONTHDAY=16"),
        ("FREQ=MONTHLY;BYDAY=-1FR",
         {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
         "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1"),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=16",
         {"type": "absoluteYearly", "interval": 1, "month": 3, "dayOfMonth": 16},
         "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=16"),
        ("FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYSETPOS=4",
         {"type": "relativeYearly", "interval": 1, "month": 11, "daysOfWeek": ["thursday"],
          "index": "fourth"}, "FREQ=YEARLY;BYMONTH=11;BYDAY=TH;BYSETPOS=4"),
    ],
)  # fmt: skip
def test_patterns_both_ways(rule: str, pattern: dict[str, object], back: str) -> None:
    made = to_pattern(rule, START, WARSAW, CET)
    assert made["pattern"] == pattern
    assert to_rrule(made, START, WARSAW) == back
    assert same_pattern(rule, made, START, WARSAW, CET)


def test_ranges() -> None:
    numbered = to_pattern("FREQ=DAILY;COUNT=5", START, WARSAW, CET)["range"]
    assert numbered == {"type": "numbered", "startDate": "2026-03-16",
                        "recurrenceTimeZone": CET, "numberOfOccurrences": 5}  # fmt: skip
    # UNTIL in UTC late on 30 March is still 30 March locally... and 31 March after midnight.
    assert (
        to_pattern("FREQ=DAILY;UNTIL=20260330T215959Z", START, WARSAW, CET)["range"]["endDate"]
        == "2026-03-30"
    )
    assert (
        to_pattern("FREQ=DAILY;UNTIL=20260330T230000Z", START, WARSAW, CET)["range"]["endDate"]
        == "2026-03-31"
    )
    ended = {
        "pattern": {"type": "daily", "interval": 1},
        "range": {"type": "endDate", "startDate": "2026-03-16", "endDate": "2026-03-30"},
    }
    # The last local day ends at 23:59:59 Warsaw summer time: 21:59:59 UTC.
    assert to_rrule(ended, START, WARSAW) == "FREQ=DAILY;UNTIL=20260330T215959Z"
    assert to_rrule(ended, date(2026, 3, 16), WARSAW) == "FREQ=DAILY;UNTIL=20260330"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY", "FREQ=DAILY;BYHOUR=9,12", "FREQ=MONTHLY;BYMONTHDAY=1,15",
        "FREQ=MONTHLY;BYMONTHDAY=-1", "FREQ=YEARLY;BYMONTH=1,7", "FREQ=YEARLY;BYYEARDAY=100",
        "FREQ=MONTHLY;BYDAY=MO", "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5", "FREQ=DAILY;COUNT=1000",
        "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=1", "FREQ=DAILY;BYDAY=MO",
    ],
)  # fmt: skip
def test_rules_outlook_cannot_hold_are_refused(rule: str) -> None:
    with pytest.raises(Unexpressible, match="Outlook cannot hold"):
        to_pattern(rule, START, WARSAW, CET)


def test_unknown_patterns_read_as_none() -> None:
    assert to_rrule({"pattern": {"type": "hourly"}, "range": {}}, START, WARSAW) is None
    assert to_rrule("weekly", START, WARSAW) is None


def test_zone_names() -> None:
    assert iana_of("W. Europe Standard Time") == "Europe/Berlin"
    assert iana_of("Europe/Warsaw") == "Europe/Warsaw"
    assert iana_of("tzone://Microsoft/Utc") == iana_of(None) == iana_of("Nowhere/City") == "UTC"
    assert windows_of("Europe/Warsaw") == CET and windows_of("Europe/Amsterdam") == (
        "W. Europe Standard Time"
    )
    assert windows_of("UTC") == "UTC" and windows_of("America/Nome") is None
