"""Three-way, field-level merge of events and of whole sync items.

Pure functions: no I/O, any thread, no exceptions of their own. The sync engine calls them when
both the local mirror and the remote changed an item since they last agreed (the *base*).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from carecal.domain.models import Event

MERGE_FIELDS: tuple[str, ...] = (
    "title",
    "start",
    "end",
    "all_day",
    "tzid",
    "description",
    "location",
    "status",
    "busy",
    "rrule",
    "rdates",
    "exdates",
    "patient_id",
    "participants",
    "capacity",
    "service_id",
    "mode",
    "video_url",
    "price",
    "reminder_minutes",
)
"""The modeled fields the merge looks at; everything else (ids, raw, sequence) follows a side."""

K = TypeVar("K", bound=Hashable)


def _same(a: object, b: object) -> bool:
    # A date and a datetime never compare equal, but an aware datetime in two zones does
    # (the same instant): tzid is its own field, so a zone change is still seen.
    return type(a) is type(b) and a == b if not isinstance(a, tuple) else a == b


def changed_fields(a: Event, b: Event) -> tuple[str, ...]:
    """The modeled fields whose values differ between two versions of an event."""
    return tuple(f for f in MERGE_FIELDS if not _same(getattr(a, f), getattr(b, f)))


@dataclass(frozen=True, slots=True)
class MergeResult:
    """``merged`` is the local event with the remote's changes taken (its ``raw`` is the
    remote's, to be patched by the writer); ``conflicts`` names the fields both sides changed
    differently (their values in ``merged`` are the local ones)."""

    merged: Event
    conflicts: tuple[str, ...]


def merge_event(base: Event | None, local: Event, remote: Event) -> MergeResult:
    """Merge two versions of one event against their common base (None: never agreed, so
    every differing field is a conflict). Any thread."""
    taken: dict[str, object] = {}
    conflicts: list[str] = []
    for name in MERGE_FIELDS:
        mine, theirs = getattr(local, name), getattr(remote, name)
        if _same(mine, theirs):
            continue
        if base is None:
            conflicts.append(name)
            continue
        was = getattr(base, name)
        if _same(mine, was):
            taken[name] = theirs
        elif not _same(theirs, was):
            conflicts.append(name)
    merged = local.with_changes(
        raw=remote.raw if remote.raw is not None else local.raw,
        sequence=max(local.sequence, remote.sequence),
        **taken,
    )
    return MergeResult(merged, tuple(conflicts))


@dataclass(frozen=True, slots=True)
class ItemMerge(Generic[K]):
    """The merge of a whole item (events keyed by recurrence id).

    ``merged``: the events the item should hold (valid when ``clean``). ``conflicts``: key ->
    fields changed on both sides. ``deleted_vs_edited``: keys one side deleted while the other
    edited them (also conflicts)."""

    merged: dict[K, Event] = field(default_factory=dict)
    conflicts: dict[K, tuple[str, ...]] = field(default_factory=dict)
    deleted_vs_edited: list[K] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts and not self.deleted_vs_edited

    def fields(self) -> list[str]:
        """Every conflicting field name once, plus "deleted" for a delete against an edit."""
        names = sorted({f for fs in self.conflicts.values() for f in fs})
        return names + (["deleted"] if self.deleted_vs_edited else [])


def merge_item(
    base: Mapping[K, Event] | None, local: Mapping[K, Event], remote: Mapping[K, Event]
) -> ItemMerge[K]:
    """Merge per recurrence key. An event present on one side only is taken when the other
    side never had it (added there) or dropped when that side deleted it unchanged; deleted on
    one side and edited on the other is reported. Any thread."""
    result: ItemMerge[K] = ItemMerge()
    known = base or {}
    for key in [*local, *(k for k in remote if k not in local)]:
        mine, theirs, was = local.get(key), remote.get(key), known.get(key)
        if mine is not None and theirs is not None:
            merged = merge_event(was, mine, theirs)
            result.merged[key] = merged.merged
            if merged.conflicts:
                result.conflicts[key] = merged.conflicts
            continue
        present = mine if mine is not None else theirs
        assert present is not None
        if was is None:
            result.merged[key] = present  # added on one side only
        elif changed_fields(was, present):
            result.deleted_vs_edited.append(key)
            result.merged[key] = present
        # else: deleted on the other side, untouched here: stays deleted
    return result
