"""Edits and deletes of one occurrence of a series, as pure plans the store applies in one go.

The three scopes a calendar offers:

* THIS: the instance gets (or keeps) an override; a delete adds an EXDATE.
* THIS_AND_FOLLOWING: the series is split. The old master ends just before the instance (UNTIL),
  a new series (new id, new UID) starts there with the changes; overrides, EXDATEs and RDATEs from
  the instance on move to it. A COUNT is shared out so the total number of occurrences stays.
* ALL: the master changes; a new time moves the whole series by the same shift, and overrides
  keep the fields they changed themselves.

Everything here is pure and safe on any thread. Errors: ValidationError (end before start, a series
switched between all-day and timed), RecurrenceError (a rule that cannot be split cheaply).
"""

from __future__ import annotations

import time as _time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from dateutil import rrule as du

from carecal.domain.errors import RecurrenceError, ValidationError
from carecal.domain.models import EditScope, Event, When, new_id
from carecal.domain.recurrence import MAX_INSTANCES_PER_SERIES, SERIES_BUDGET_SECONDS
from carecal.domain.recurrence_engine import scan
from carecal.domain.rrule_parts import (
    ParsedRule,
    format_byday,
    format_until,
    parse_rule,
)
from carecal.domain.timeutil import add_real, get_zone, localize, same_instance, to_local_naive

__all__ = ["EditPlan", "new_uid", "plan_occurrence_delete", "plan_occurrence_edit"]

_TIME_FIELDS = ("start", "end")


@dataclass(frozen=True, slots=True)
class EditPlan:
    upserts: tuple[Event, ...]  # events to insert or replace (by id)
    deletes: tuple[str, ...]  # event ids to delete (tombstone)


def new_uid() -> str:
    """A fresh iCalendar UID for a series Carecal creates. Safe on any thread."""
    return f"{uuid.uuid4().hex}@carecal"


# --- helpers -------------------------------------------------------------------------------------


def _zone(master: Event) -> tzinfo:
    if master.tzid and not master.floating:
        try:
            return get_zone(master.tzid)
        except ValidationError:
            pass
    if isinstance(master.start, datetime) and master.start.tzinfo is not None:
        return master.start.tzinfo
    return UTC


def _naive(value: When, zone: tzinfo, floating: bool) -> datetime:
    if not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    if value.tzinfo is None or floating:
        return value.replace(tzinfo=None, fold=0)
    return to_local_naive(value, zone)


def _from_naive(naive: datetime, like: When, zone: tzinfo, floating: bool) -> When:
    """A naive wall time back in the form of ``like`` (a date, or aware in like's own tzinfo)."""
    if not isinstance(like, datetime):
        return naive.date()
    if floating:
        return naive.replace(tzinfo=like.tzinfo)
    local = localize(naive, zone)
    return local.astimezone(like.tzinfo) if like.tzinfo is not None else local


def _instance(master: Event, rid: When) -> When:
    """The instance start a recurrence id names, in the master's own form and zone."""
    zone = _zone(master)
    if not isinstance(master.start, datetime):
        return rid.date() if isinstance(rid, datetime) else rid
    if isinstance(rid, datetime):
        if rid.tzinfo is None or master.floating:
            return rid.replace(tzinfo=master.start.tzinfo)
        return rid.astimezone(zone)
    return localize(datetime.combine(rid, master.start.time()), zone)


def _end_for(start: When, duration: timedelta) -> When:
    if isinstance(start, datetime):
        return add_real(start, duration)
    return start + timedelta(days=duration.days)


def _before(a: When, b: When, master: Event) -> bool:
    """a < b comparing recurrence ids of this master (dates as local days)."""
    zone = _zone(master)
    return _naive_key(a, zone, master) < _naive_key(b, zone, master)


def _naive_key(value: When, zone: tzinfo, master: Event) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None and not master.floating:
        return value.astimezone(UTC).replace(tzinfo=None)
    naive = _naive(value, zone, master.floating)
    if master.floating or not isinstance(master.start, datetime):
        return naive
    return localize(naive, zone).astimezone(UTC).replace(tzinfo=None)


def _shift(value: When, delta: timedelta, master: Event) -> When:
    """Move a start-like value by a wall-clock ``delta`` in the master's zone."""
    if not delta:
        return value
    if not isinstance(value, datetime):
        return value + timedelta(days=delta.days)
    zone = _zone(master)
    return _from_naive(_naive(value, zone, master.floating) + delta, value, zone, master.floating)


def _checked(event: Event) -> Event:
    if type(event.start) is not type(event.end):
        raise ValidationError("Start and end must both be dates or both be times.")
    if event.end < event.start:
        raise ValidationError("The appointment ends before it starts.")
    return event


def _rule(master: Event) -> ParsedRule | None:
    return parse_rule(master.rrule) if master.rrule else None


def _until_before(master: Event, instance: When) -> str:
    """UNTIL text that ends a series just before ``instance``."""
    if not isinstance(instance, datetime):
        return format_until(instance - timedelta(days=1))
    last = instance - timedelta(seconds=1)
    if master.floating:
        return format_until(last.replace(tzinfo=None))
    return format_until(last.astimezone(UTC))


def _retime_rule(rule: ParsedRule, master: Event, old: When, new: When) -> ParsedRule:
    """Keep a rule in step with a moved start: UNTIL, and one-value BYDAY/BYMONTHDAY/BYHOUR."""
    zone = _zone(master)
    old_n = _naive(old, zone, master.floating)
    new_n = _naive(new, zone, master.floating)
    delta = new_n - old_n
    if not delta:
        return rule
    if rule.until is not None:
        until = rule.until
        if isinstance(until, datetime) and until.tzinfo is not None:
            moved = localize(to_local_naive(until, zone) + delta, zone)
            rule = rule.with_part("UNTIL", format_until(moved))
        elif isinstance(until, datetime):
            rule = rule.with_part("UNTIL", format_until(until + delta))
        else:
            rule = rule.with_part("UNTIL", format_until(until + timedelta(days=delta.days)))
    if rule.freq == du.WEEKLY and rule.byday and len(rule.byday) == 1:
        day, nth = rule.byday[0]
        if day == old_n.weekday():
            rule = rule.with_part("BYDAY", format_byday(((new_n.weekday(), nth),)))
    if rule.freq == du.MONTHLY and rule.bymonthday == (old_n.day,):
        rule = rule.with_part("BYMONTHDAY", str(new_n.day))
    if rule.byhour == (old_n.hour,):
        rule = rule.with_part("BYHOUR", str(new_n.hour))
    if rule.byminute == (old_n.minute,):
        rule = rule.with_part("BYMINUTE", str(new_n.minute))
    return rule


def _count_before(master: Event, rule: ParsedRule, instance: When) -> int:
    """How many rule instances start before ``instance`` (for sharing out a COUNT)."""
    zone = _zone(master)
    start = _naive(master.start, zone, master.floating)
    hi = _naive(instance, zone, master.floating) - timedelta(microseconds=1)
    result = scan(
        rule,
        start,
        start,
        hi,
        zone=zone,
        all_day=not isinstance(master.start, datetime),
        cap=MAX_INSTANCES_PER_SERIES,
        deadline=_time.perf_counter() + SERIES_BUDGET_SECONDS,
    )
    if result.truncated:
        raise RecurrenceError("This series is too long to split at this occurrence.")
    return len(result.instances)


def _new_times(master: Event, instance: When, changed: Mapping[str, object]) -> tuple[When, When]:
    start = changed.get("start", instance)
    if not isinstance(start, date):
        raise ValidationError("The start must be a date or a time.")
    end = changed["end"] if "end" in changed else _end_for(start, master.duration)
    if not isinstance(end, date):
        raise ValidationError("The end must be a date or a time.")
    if isinstance(start, datetime) != isinstance(instance, datetime):
        raise ValidationError("A repeating series cannot switch between all-day and timed here.")
    return start, end


def _find_override(overrides: Sequence[Event], instance: When) -> Event | None:
    for ov in overrides:
        if ov.recurrence_id is not None and same_instance(ov.recurrence_id, instance):
            return ov
    return None


def _others(changed: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in changed.items() if k not in _TIME_FIELDS}


# --- edits ---------------------------------------------------------------------------------------


def plan_occurrence_edit(
    master: Event,
    overrides: Sequence[Event],
    recurrence_id: When,
    changed: Mapping[str, object],
    scope: EditScope,
) -> EditPlan:
    """The rows to write for editing one occurrence of ``master`` with ``scope``.

    ``changed`` maps Event field names to new values. Safe on any thread. Raises
    ValidationError or RecurrenceError (see the module docstring).
    """
    if not master.is_recurring:
        raise ValidationError("This appointment does not repeat.")
    instance = _instance(master, recurrence_id)
    if scope is EditScope.THIS:
        return _edit_this(master, overrides, instance, changed)
    if scope is EditScope.THIS_AND_FOLLOWING and _before(master.start, instance, master):
        return _edit_following(master, overrides, instance, changed)
    return _edit_all(master, overrides, instance, changed)


def _edit_this(
    master: Event, overrides: Sequence[Event], instance: When, changed: Mapping[str, object]
) -> EditPlan:
    existing = _find_override(overrides, instance)
    if existing is not None:
        updated = existing.with_changes(**changed, sequence=existing.sequence + 1)
        return EditPlan((_checked(updated),), ())
    start, end = _new_times(master, instance, changed)
    override = master.with_changes(
        **_others(changed),
        id=new_id(),
        start=start,
        end=end,
        rrule=None,
        rdates=(),
        exdates=(),
        recurrence_id=instance,
        master_id=master.id,
        uid=master.uid,
        raw=None,
    )
    return EditPlan((_checked(override),), ())


def _edit_following(
    master: Event, overrides: Sequence[Event], instance: When, changed: Mapping[str, object]
) -> EditPlan:
    start, end = _new_times(master, instance, changed)
    zone = _zone(master)
    delta = _naive(start, zone, master.floating) - _naive(instance, zone, master.floating)
    rule = _rule(master)
    old_rule = new_rule = None
    if rule is not None:
        new_rule = _retime_rule(rule, master, instance, start)
        if rule.count is not None:
            before = _count_before(master, rule, instance)
            new_rule = new_rule.with_part("COUNT", str(max(rule.count - before, 1)))
        old_rule = rule.with_part("COUNT", None).with_part("UNTIL", _until_before(master, instance))

    def later(value: When) -> bool:
        return not _before(value, instance, master)

    old_master = master.with_changes(
        rrule=old_rule.text() if old_rule else None,
        rdates=tuple(r for r in master.rdates if not later(r)),
        exdates=tuple(x for x in master.exdates if not later(x)),
        sequence=master.sequence + 1,
    )
    new_master = master.with_changes(
        **_others(changed),
        id=new_id(),
        uid=new_uid(),
        start=start,
        end=end,
        rrule=new_rule.text() if new_rule else None,
        rdates=tuple(_shift(r, delta, master) for r in master.rdates if later(r)),
        exdates=tuple(_shift(x, delta, master) for x in master.exdates if later(x)),
        sequence=0,
        raw=None,
    )
    upserts = [old_master, _checked(new_master)]
    for ov in overrides:
        if ov.recurrence_id is None or not later(ov.recurrence_id):
            continue
        moved = _moved_override(master, ov, delta, new_master.duration)
        moved = moved.with_changes(master_id=new_master.id, uid=new_master.uid)
        if same_instance(ov.recurrence_id, instance):
            moved = moved.with_changes(**changed)
        upserts.append(_checked(moved))
    return EditPlan(tuple(upserts), ())


def _moved_override(master: Event, ov: Event, delta: timedelta, duration: timedelta) -> Event:
    """An override re-keyed to a shifted instance; an unmoved override moves along with it."""
    assert ov.recurrence_id is not None
    new_rid = _shift(ov.recurrence_id, delta, master)
    unmoved = same_instance(ov.start, _instance(master, ov.recurrence_id))
    if unmoved and ov.duration == master.duration:
        start = _shift(ov.start, delta, master)
        return ov.with_changes(
            recurrence_id=new_rid,
            start=start,
            end=_end_for(start, duration),
            sequence=ov.sequence + 1,
        )
    if unmoved:
        start = _shift(ov.start, delta, master)
        return ov.with_changes(
            recurrence_id=new_rid,
            start=start,
            end=_shift(ov.end, delta, master),
            sequence=ov.sequence + 1,
        )
    return ov.with_changes(recurrence_id=new_rid, sequence=ov.sequence + 1)


def _edit_all(
    master: Event, overrides: Sequence[Event], instance: When, changed: Mapping[str, object]
) -> EditPlan:
    start, end = _new_times(master, instance, changed)
    zone = _zone(master)
    delta = _naive(start, zone, master.floating) - _naive(instance, zone, master.floating)
    duration = _span(start, end)
    others = _others(changed)
    rrule = others.pop("rrule", master.rrule)
    if rrule == master.rrule and master.rrule and delta:
        rrule = _retime_rule(parse_rule(master.rrule), master, instance, start).text()
    new_start = _shift(master.start, delta, master)
    updated = master.with_changes(
        **others,
        start=new_start,
        end=_end_for(new_start, duration),
        rrule=rrule,
        rdates=tuple(_shift(r, delta, master) for r in master.rdates),
        exdates=tuple(_shift(x, delta, master) for x in master.exdates),
        sequence=master.sequence + 1,
    )
    upserts = [_checked(updated)]
    for ov in overrides:
        fields = {k: v for k, v in others.items() if getattr(ov, k, None) == getattr(master, k)}
        moved = _moved_override(master, ov, delta, duration) if delta or "end" in changed else ov
        if fields or moved is not ov:
            upserts.append(_checked(moved.with_changes(**fields)))
    return EditPlan(tuple(upserts), ())


def _span(start: When, end: When) -> timedelta:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return end - start
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        return end - start
    raise ValidationError("Start and end must both be dates or both be times.")


# --- deletes -------------------------------------------------------------------------------------


def plan_occurrence_delete(
    master: Event, overrides: Sequence[Event], recurrence_id: When, scope: EditScope
) -> EditPlan:
    """The rows to write and delete for removing one occurrence of ``master`` with ``scope``.

    THIS adds an EXDATE (and drops that instance's override); THIS_AND_FOLLOWING ends the series
    before the instance; ALL deletes the master and its overrides. Safe on any thread; raises
    RecurrenceError for an unreadable rule.
    """
    instance = _instance(master, recurrence_id)
    if scope is EditScope.THIS and master.is_recurring:
        existing = _find_override(overrides, instance)
        updated = master.with_changes(
            exdates=(*master.exdates, instance), sequence=master.sequence + 1
        )
        return EditPlan((updated,), (existing.id,) if existing else ())
    if (
        scope is EditScope.THIS_AND_FOLLOWING
        and master.is_recurring
        and _before(master.start, instance, master)
    ):
        rule = _rule(master)

        def later(value: When) -> bool:
            return not _before(value, instance, master)

        old_rule = None
        if rule is not None:
            old_rule = rule.with_part("COUNT", None).with_part(
                "UNTIL", _until_before(master, instance)
            )
        updated = master.with_changes(
            rrule=old_rule.text() if old_rule else None,
            rdates=tuple(r for r in master.rdates if not later(r)),
            exdates=tuple(x for x in master.exdates if not later(x)),
            sequence=master.sequence + 1,
        )
        gone = tuple(
            ov.id for ov in overrides if ov.recurrence_id is not None and later(ov.recurrence_id)
        )
        return EditPlan((updated,), gone)
    return EditPlan((), (master.id, *(ov.id for ov in overrides)))
