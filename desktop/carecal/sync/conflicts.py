"""Conflict policies and resolutions. Every resolution is audited; the engine applies the
account's policy through the same functions the conflict inbox uses.

Threads: the caller's (the thread that owns the Repository); does disk I/O; raises StoreError,
NotFound, ValidationError.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from carecal.domain.errors import ValidationError
from carecal.domain.models import Account, Event, new_id
from carecal.store.repo import Repository
from carecal.store.syncstate import ConflictRecord, SyncStore, keyed, local_modified

ALL_OPS = 2**62  # "every op of the item", for mark_done's upper bound


class Policy(enum.StrEnum):
    ASK = "ask"
    MINE = "mine"
    THEIRS = "theirs"
    NEWEST = "newest"


class Take(enum.StrEnum):
    MINE = "mine"
    THEIRS = "theirs"
    BOTH = "both"
    MERGED = "merged"


def account_policy(account: Account) -> Policy:
    """The account's conflict policy (settings key ``conflict_policy``; default ask)."""
    value = account.settings.get("conflict_policy", Policy.ASK.value)
    try:
        return Policy(str(value))
    except ValueError:
        return Policy.ASK


def set_policy(repo: Repository, account_id: str, policy: Policy, *, actor: str) -> None:
    SyncStore(repo).update_account_settings(
        account_id, {"conflict_policy": policy.value}, actor=actor
    )


def list_conflicts(repo: Repository, calendar_id: str | None = None) -> list[ConflictRecord]:
    """Open conflicts, oldest first (both versions in each record)."""
    return SyncStore(repo).open_conflicts(calendar_id)


_STAMP = re.compile(r"^(?:LAST-MODIFIED|DTSTAMP)[^:\r\n]*:(\d{8}T\d{6})Z?\s*$", re.M)


def _remote_modified(record: ConflictRecord) -> datetime | None:
    stamps = _STAMP.findall(record.remote_raw or "")
    if not stamps:
        return None
    return max(datetime.strptime(s, "%Y%m%dT%H%M%S").replace(tzinfo=UTC) for s in stamps)


def newest_side(store: SyncStore, record: ConflictRecord) -> Take | None:
    """Which side changed last, or None when the remote does not say when it changed."""
    remote = _remote_modified(record)
    local_text = local_modified(store, record.calendar_id, record.uid)
    if remote is None or local_text is None:
        return None
    local = datetime.fromisoformat(local_text)
    if local.tzinfo is None:
        local = local.replace(tzinfo=UTC)
    return Take.MINE if local > remote else Take.THEIRS


_UID_LINE = re.compile(r"^UID[;:].*(?:\r?\n[ \t].*)*", re.M)


def _copy_with_uid(events: Sequence[Event], uid: str) -> list[Event]:
    """The events as a new item: fresh ids and UID (the raw text's UID rewritten too; a raw
    that is not iCalendar, such as Google's event JSON, names the old item and is dropped)."""
    ids = {e.id: new_id() for e in events}
    out = []
    for e in events:
        ical = e.raw is not None and e.raw.lstrip().upper().startswith("BEGIN:")
        raw = _UID_LINE.sub(lambda _m: f"UID:{uid}", e.raw, count=1) if ical and e.raw else None
        out.append(
            e.with_changes(
                id=ids[e.id],
                uid=uid,
                master_id=None if e.master_id is None else ids.get(e.master_id, e.master_id),
                raw=raw,
            )
        )
    return out


def resolve(
    repo: Repository,
    conflict_id: int,
    take: Take,
    *,
    actor: str,
    merged: Sequence[Event] | None = None,
) -> None:
    """Resolve a conflict: ``mine`` (the local version is pushed over the remote's),
    ``theirs`` (the remote version replaces the local one), ``both`` (the remote version is
    kept and the local one re-created as a new item with a new UID), ``merged`` (``merged``, a
    user-edited version of the item, is stored locally and pushed). One transaction, audited.
    Raises NotFound, ValidationError (``merged`` missing, or the conflict already resolved)."""
    store = SyncStore(repo)
    record = store.conflict(conflict_id)
    if record.resolved_at is not None:
        raise ValidationError(f"conflict {conflict_id} is already resolved")
    if take is Take.MERGED and not merged:
        raise ValidationError("a merged resolution needs the merged version")
    cal, uid = record.calendar_id, record.uid
    remote_ref = (record.remote_id or "", record.remote_version)
    with store.transaction():
        if take is Take.MINE or (take is Take.BOTH and record.remote is None):
            if record.remote is None:
                store.forget_item(cal, uid)  # gone remotely: the push creates it again
            else:
                store.rebase(cal, uid, *remote_ref, record.remote)
            store.ensure_pending(cal, uid, record.event_id)
        elif take is Take.MERGED:
            assert merged is not None
            stored = store.replace_item(
                cal,
                uid,
                merged,
                actor=actor,
                pending=True,
                agreed=(*remote_ref, record.remote) if record.remote is not None else None,
            )
            if record.remote is None:
                store.forget_item(cal, uid)
            store.ensure_pending(cal, uid, stored[0].id)
        else:  # theirs, or both with a remote version to keep
            local_now = store.local_events(cal, uid)
            if record.remote is None:
                store.remove_item(cal, uid, actor=actor, upto_seq=ALL_OPS)
            else:
                store.replace_item(
                    cal,
                    uid,
                    list(record.remote.values()),
                    actor=actor,
                    agreed=(*remote_ref, None),
                    upto_seq=ALL_OPS,
                )
            if take is Take.BOTH and local_now:
                copy_uid = f"{new_id()}@carecal"
                for event in sorted(_copy_with_uid(local_now, copy_uid), key=_master_first):
                    repo.add_event(event, actor=actor)
        store.close_conflict(conflict_id, take.value, actor=actor)


def _master_first(event: Event) -> bool:
    return event.recurrence_id is not None


__all__ = [
    "ConflictRecord",
    "Policy",
    "Take",
    "account_policy",
    "keyed",
    "list_conflicts",
    "newest_side",
    "resolve",
    "set_policy",
]
