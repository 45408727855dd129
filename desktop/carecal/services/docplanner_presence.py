"""Presence from the front desk to Docplanner: a visit booked on Docplanner that Carecal marked
arrived or completed (the kiosk's check-in, the practitioner's status) becomes "present" there,
one marked a no-show becomes "absent".

``queue_presence`` runs in each sync cycle just before the queued actions are sent, so the
status at that moment is what goes out (a no-show corrected to arrived before the sync sends
only "present"). It queues a ``presence`` action (services.docplanner_actions) for each current
booking that:

- is still booked and has no presence yet on its link (a presence Docplanner reported, by a
  ``presence-marked`` notification or a listing, is stored on the link, so it is never sent
  back; and once Carecal's own action is done the link carries it too, so the echoed
  notification queues nothing);
- has started (Docplanner's presence is about a visit that took place);
- has no presence action for any id of its chain already pending, done or parked (a manual
  ``carecal docplanner presence`` included; a parked one waits for the user, not for a retry).

Threads: the Repository's thread (the sync worker's, or the command line's). Disk I/O; raises
StoreError. Logs carry booking ids only, never patient data.
"""

from __future__ import annotations

import logging
from datetime import datetime

from carecal.domain.errors import NotFound
from carecal.domain.models import Account, AppointmentStatus
from carecal.services.docplanner_actions import queue_simple
from carecal.store.docplanner import BookingLink, DocplannerStore
from carecal.store.docplanner_actions import ActionStore
from carecal.store.repo import Repository

log = logging.getLogger(__name__)

PRESENT = frozenset({AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED})
ABSENT = frozenset({AppointmentStatus.NO_SHOW})
# Every action of the account is looked at (they are made by people, so they stay few); a
# parked presence action far back must still keep its booking from being queued again.
_ALL_ACTIONS = 1_000_000


def presence_of(status: AppointmentStatus) -> bool | None:
    """True (present), False (absent) or None (nothing to say) for an appointment status.
    Pure."""
    if status in PRESENT:
        return True
    if status in ABSENT:
        return False
    return None


def _chain_ids(store: DocplannerStore, link: BookingLink) -> set[str]:
    return {x.booking_id for x in store.links_of_event(link.event_id)} | {link.booking_id}


def queue_presence(repo: Repository, account: Account, *, now: datetime) -> list[int]:
    """Queue the presence actions the front desk's marks call for (see the module docstring);
    the seqs queued, oldest booking first. Raises StoreError."""
    store = DocplannerStore(repo)
    candidates = [
        link
        for link in store.current_links(account.id)
        if link.status == "booked" and link.presence is None and link.start <= now
    ]
    if not candidates:
        return []
    asked = {
        a.booking_id
        for a in ActionStore(repo).actions(account.id, _ALL_ACTIONS)
        if a.kind == "presence" and a.booking_id is not None
    }
    queued: list[int] = []
    for link in candidates:
        try:
            event = repo.get_event(link.event_id)
        except NotFound:
            continue  # deleted in Carecal: nothing to report
        present = presence_of(event.status)
        if present is None:
            continue  # most visits: no mark, so no need to read the booking's chain
        if _chain_ids(store, link) & asked:
            continue
        seq = queue_simple(repo, account, "presence", link.booking_id, present=present, now=now)
        log.info(
            "Docplanner booking %s: presence %s queued",
            link.booking_id,
            "present" if present else "absent",
        )
        queued.append(seq)
    return queued
