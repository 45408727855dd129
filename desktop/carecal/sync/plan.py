"""Deciding what to do with each item, before doing it. Pure; any thread.

Push: every item with unsent ops becomes Create, Update or Delete (or Skip when it is in
conflict or waiting for its retry time). Pull: every remote change becomes Apply, Merge,
RemoveLocal, Conflict (remote delete of a locally edited item) or Skip (our own echo, or an item
in conflict).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from carecal.providers.base import PullResult, RemoteItem


@dataclass(frozen=True, slots=True)
class Create:
    uid: str


@dataclass(frozen=True, slots=True)
class Update:
    uid: str


@dataclass(frozen=True, slots=True)
class Delete:
    uid: str


@dataclass(frozen=True, slots=True)
class Apply:
    """Take the remote item as is (no local changes pending)."""

    item: RemoteItem


@dataclass(frozen=True, slots=True)
class Merge:
    """The remote changed an item that has unsent local changes: three-way merge."""

    item: RemoteItem


@dataclass(frozen=True, slots=True)
class RemoveLocal:
    """The remote deleted an item the local side did not change."""

    uid: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """The remote deleted an item the local side changed."""

    uid: str


@dataclass(frozen=True, slots=True)
class Skip:
    uid: str
    reason: str


PushAction = Create | Update | Delete | Skip
PullAction = Apply | Merge | RemoveLocal | Conflict | Skip


def plan_push(
    dirty: Collection[str],
    agreed: Collection[str],
    present: Collection[str],
    conflicted: Collection[str],
    waiting: Collection[str] = (),
) -> list[PushAction]:
    """``dirty``: uids with pending ops; ``agreed``: uids known remotely; ``present``: uids with
    local rows; ``waiting``: uids whose retry time has not come."""
    actions: list[PushAction] = []
    for uid in dirty:
        if uid in conflicted:
            actions.append(Skip(uid, "in conflict"))
        elif uid in waiting:
            actions.append(Skip(uid, "waiting to retry"))
        elif uid not in present:
            actions.append(Delete(uid))
        elif uid in agreed:
            actions.append(Update(uid))
        else:
            actions.append(Create(uid))
    return actions


def plan_pull(
    result: PullResult,
    agreed: Mapping[str, tuple[str, str | None]],
    dirty: Collection[str],
    present: Collection[str],
    conflicted: Collection[str],
) -> list[PullAction]:
    """``agreed``: uid -> (remote id, version) last agreed. A complete listing also deletes
    every agreed item it does not list."""
    by_remote = {rid: uid for uid, (rid, _) in agreed.items()}
    actions: list[PullAction] = []
    listed: set[str] = set()
    for item in result.changed:
        listed.add(item.ref.remote_id)
        uid = item.uid
        known = agreed.get(uid)
        if uid in conflicted:
            actions.append(Skip(uid, "in conflict"))
        elif known is not None and known == (item.ref.remote_id, item.ref.version):
            actions.append(Skip(uid, "unchanged"))
        elif uid in dirty:
            actions.append(Merge(item))
        else:
            actions.append(Apply(item))
    gone = set(result.deleted)
    if result.complete:
        gone |= {rid for rid in by_remote if rid not in listed}
    for rid in sorted(gone - listed):
        uid_or_none = by_remote.get(rid)
        if uid_or_none is None:
            continue
        uid = uid_or_none
        if uid in conflicted:
            actions.append(Skip(uid, "in conflict"))
        elif uid in dirty and uid in present:
            actions.append(Conflict(uid))
        else:
            actions.append(RemoveLocal(uid))
    return actions
