"""One exception tree for all of Carecal.

Every error a user may see derives from ``CarecalError`` and carries a message fit to show as is
(one line, no traceback). Lower layers translate foreign exceptions (peewee, icalendar, httpx,
caldav) into these before they leave their package.
"""

from __future__ import annotations


class CarecalError(Exception):
    """Base of every error Carecal raises on purpose; ``str(err)`` is a user-facing sentence."""


class ValidationError(CarecalError):
    """Input that cannot be accepted: an end before its start, an unknown time zone, a bad RRULE."""


class NotFound(CarecalError):
    """The asked-for entity (event, calendar, patient, service ...) does not exist."""


class ReadOnlyCalendar(CarecalError):
    """A local edit was attempted on a calendar that only mirrors a read-only remote."""


class RecurrenceError(ValidationError):
    """A recurrence rule that cannot be expanded (unparsable, or refused as unbounded)."""


class RecurrenceBudgetExceeded(CarecalError):
    """Expansion of one series hit its instance cap or time budget; results were truncated."""


class IcsError(CarecalError):
    """An iCalendar file or component that cannot be read. ``source`` names the file."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source
        self.detail = message


class StoreError(CarecalError):
    """The local database failed (locked, damaged, newer than this version of Carecal)."""


class AuditChainBroken(StoreError):
    """The audit log's hash chain does not verify; ``entry_id`` is the first bad entry."""

    def __init__(self, entry_id: int, reason: str) -> None:
        super().__init__(f"audit log entry {entry_id}: {reason}")
        self.entry_id = entry_id


# --- sync and providers (used from the sync issue on) -------------------------------------


class RemoteError(CarecalError):
    """Something went wrong talking to a remote calendar."""


class TransientError(RemoteError):
    """Worth retrying later: network down, 5xx, timeouts."""


class RateLimited(TransientError):
    """429 or a provider's rate-limit error; ``retry_after`` seconds, if the server said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthExpired(RemoteError):
    """Credentials no longer work (401, invalid_grant): the account needs sign-in."""


class PreconditionFailed(RemoteError):
    """The remote version changed since we last saw it (412, etag mismatch)."""


class SyncStateExpired(RemoteError):
    """The sync token / delta link is no longer valid: a full listing is needed."""


class PermanentItemError(RemoteError):
    """The remote refused this one item for good (400, 403 on one event)."""
