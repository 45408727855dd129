"""Domain errors that also say what the server answered.

Each class derives from the matching error in ``carecal.domain.errors`` (so the sync engine
classifies it without knowing about HTTP) and adds the status, the response body and the
provider's reason code, for providers that need to look closer (Google's 410
``fullSyncRequired`` versus ``deleted``, 403 ``rateLimitExceeded`` versus ``quotaExceeded``).
The body never appears in ``str(err)``: messages name only the host, the path and the status.
Pure; any thread.
"""

from __future__ import annotations

from carecal.domain.errors import (
    AuthExpired,
    NotFound,
    PermanentItemError,
    PreconditionFailed,
    RateLimited,
    RemoteError,
    TransientError,
)


class HttpDetail:
    """What the server answered: status, body text (possibly truncated) and reason code."""

    status: int | None = None
    body: str = ""
    reason: str | None = None
    retry_after: float | None = None

    def _detail(
        self, status: int | None, body: str, reason: str | None, retry_after: float | None
    ) -> None:
        self.status = status
        self.body = body
        self.reason = reason
        self.retry_after = retry_after


class HttpAuthExpired(AuthExpired, HttpDetail):
    """401: the credentials no longer work."""

    def __init__(self, message: str, *, status: int, body: str = "", reason: str | None = None):
        super().__init__(message)
        self._detail(status, body, reason, None)


class HttpNotFound(NotFound, HttpDetail):
    """404 or 410: gone. A 410 may mean "sync again from scratch"; see ``status``/``reason``."""

    def __init__(self, message: str, *, status: int, body: str = "", reason: str | None = None):
        super().__init__(message)
        self._detail(status, body, reason, None)


class HttpPreconditionFailed(PreconditionFailed, HttpDetail):
    """409 or 412: the remote version is not the one the request was based on."""

    def __init__(self, message: str, *, status: int, body: str = "", reason: str | None = None):
        super().__init__(message)
        self._detail(status, body, reason, None)


class HttpRateLimited(RateLimited, HttpDetail):
    """429, or 503 with Retry-After: slow down; ``retry_after`` seconds when the server said."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: str = "",
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, retry_after)
        self._detail(status, body, reason, retry_after)


class HttpTransientError(TransientError, HttpDetail):
    """5xx, a timeout or a network failure (``status`` is None then): try again later."""

    def __init__(
        self, message: str, *, status: int | None = None, body: str = "", reason: str | None = None
    ) -> None:
        super().__init__(message)
        self._detail(status, body, reason, None)


class HttpPermanentError(PermanentItemError, HttpDetail):
    """Any other 4xx: the server refused this request for good."""

    def __init__(self, message: str, *, status: int, body: str = "", reason: str | None = None):
        super().__init__(message)
        self._detail(status, body, reason, None)


class SignInFailed(RemoteError):
    """A sign-in did not complete: declined, a mismatched answer, or a refused code.
    ``code`` is the OAuth error code when the server gave one (``access_denied`` ...)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class SignInCancelled(SignInFailed):
    """The user (or the app) cancelled a sign-in that was waiting for the browser."""


class SignInTimedOut(SignInFailed):
    """Nobody finished the sign-in in the browser in time."""
