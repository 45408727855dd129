"""Opening Carecal's data: where the data directory is, the database in it, first-run set-up.

Used by the command line and by the GUI wiring (``carecal.app``); both get a ``Session``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from carecal.domain.errors import StoreError

if TYPE_CHECKING:
    from carecal.services.events import EventService
    from carecal.store.db import Database
    from carecal.store.repo import Repository

log = logging.getLogger(__name__)

APP_NAME = "Carecal"
DATA_DIR_ENV = "CARECAL_DATA_DIR"
DB_FILE = "carecal.db"
LOG_FILE = "carecal.log"


@dataclass(slots=True)
class SessionArgs:
    """What the command line hands to the GUI: ``carecal.app.main(SessionArgs(...))``."""

    data_dir: Path | None = None
    demo: bool = False


def resolve_data_dir(flag: Path | None = None) -> Path:
    """The data directory: ``--data-dir`` flag, else $CARECAL_DATA_DIR, else the platform default.

    Any thread; no I/O beyond reading the environment (the directory is not created here).
    """
    if flag is not None:
        return Path(flag).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    # Imported here: platformdirs is only needed when neither override is given.
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(slots=True)
class Session:
    """An open database with its repository and the event service on top of it.

    The event service (and the recurrence code it imports) is built on first use: ``carecal
    sync`` and ``accounts add`` never need it, and a process's start-up is most of a small sync.
    """

    repo: Repository
    data_dir: Path
    db: Database
    actor: str
    _events: EventService | None = None

    @property
    def events(self) -> EventService:
        if self._events is None:
            from carecal.services.events import EventService

            self._events = EventService(self.repo, actor=self.actor)
        return self._events

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    def close(self) -> None:
        """Close the database. The caller's thread."""
        self.db.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_session(data_dir: Path | None, *, actor: str) -> Session:
    """Open (creating on first run) the data directory's database; ensure the local calendar.

    ``data_dir`` None means: $CARECAL_DATA_DIR, else the platform default. On first run the
    display time zone is set to the system's zone. The caller's thread; does disk I/O.
    Raises StoreError when the directory or the database cannot be opened.
    """
    # Imported here, not with the module: a command that talks to a server first (adding an
    # account) starts that before the store's modules load.
    from carecal.store.db import Database
    from carecal.store.repo import Repository

    directory = resolve_data_dir(data_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {directory}: {exc.strerror}") from exc
    db = Database.open(directory / DB_FILE)
    try:
        repo = Repository(db)
        repo.ensure_local_calendar()
        _first_run_settings(repo)
    except BaseException:
        db.close()
        raise
    return Session(repo=repo, data_dir=directory, db=db, actor=actor)


def _first_run_settings(repo: Repository) -> None:
    from carecal.store.localzone import system_zone_name

    if repo.has_settings():
        return
    settings = replace(repo.settings(), display_tz=system_zone_name())
    repo.save_settings(settings, actor="system")
