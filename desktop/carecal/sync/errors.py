"""Errors the sync engine raises besides the domain's remote errors."""

from __future__ import annotations

from carecal.domain.errors import CarecalError


class MassDeletion(CarecalError):
    """A pull would delete too much of a calendar; nothing was applied. Sync again with
    ``allow_mass_delete`` once the user has confirmed."""

    def __init__(self, calendar: str, count: int, total: int) -> None:
        super().__init__(
            f"{calendar}: the server deleted {count} of {total} events; "
            "confirm before Carecal deletes them here"
        )
        self.count = count
        self.total = total


class SyncCancelled(CarecalError):
    """The user cancelled the sync; what was stored so far stays, the token was not moved."""
