"""What every window of one session needs, passed in explicitly (there is no global app object)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from carecal.ui.events import AppEvents
from carecal.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from carecal.services.session import Session
    from carecal.ui.sync_runner import SyncRunner


def system_now() -> datetime:
    """The real clock (aware UTC)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class UiContext:
    """The session (repository + event service), the database lane, the app signals, a clock,
    and the sync lane."""

    session: Session
    tasks: TaskRunner
    events: AppEvents
    clock: Callable[[], datetime] = field(default=system_now)
    actor: str = "user"
    sync: SyncRunner | None = None  # the sync lane; None when nothing syncs (tests, no accounts)
