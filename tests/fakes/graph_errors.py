"""Microsoft Graph's JSON error shape, raised inside the Graph emulator and rendered by its
HTTP handler (or by $batch for one member request).

Graph answers every API failure as
`{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}`.
The codes are Graph's own; the messages are the emulator's wording.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

# Default error code for an injected fault that names only an HTTP status.
DEFAULT_CODES = {
    400: "ErrorInvalidRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ErrorItemNotFound",
    409: "ErrorIrresolvableConflict",
    410: "syncStateNotFound",
    412: "ErrorIrresolvableConflict",
    429: "ApplicationThrottled",
    500: "generalException",
    503: "serviceNotAvailable",
    504: "UnknownError",
}
_DEFAULT_MESSAGES = {
    412: "The change key in If-Match is not the item's current change key.",
    429: "Application is over its MailboxConcurrency limit.",
    500: "An internal server error occurred.",
    503: "The service is temporarily unavailable; retry after the delay.",
    504: "The gateway timed out waiting for the mailbox.",
}


class GraphError(Exception):
    """One Graph API error; raised by the emulator's state code under its lock and turned
    into a response by the HTTP handler (never escapes it)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self, client_request_id: str | None = None) -> dict[str, Any]:
        """The JSON body Graph sends for this error."""
        request_id = str(uuid.uuid4())
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": client_request_id or request_id,
                },
            }
        }


def fault(status: int, code: str | None = None, retry_after: str | None = None) -> GraphError:
    """An injected failure with Graph's default code and message for `status`."""
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return GraphError(
        status,
        code or DEFAULT_CODES.get(status, "UnknownError"),
        _DEFAULT_MESSAGES.get(status, "The request failed."),
        headers=headers,
    )


def not_found() -> GraphError:
    """404 for an unknown (or deleted, or moved under a non-immutable id) item or calendar."""
    return GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")


def malformed_id() -> GraphError:
    """400 for an id that is not one the mailbox could have issued."""
    return GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.")


def invalid(message: str) -> GraphError:
    """400 for a request whose values Graph refuses."""
    return GraphError(400, "ErrorInvalidRequest", message)


def body_read(message: str) -> GraphError:
    """400 for a body that is not JSON or names a property the type does not have."""
    return GraphError(400, "RequestBodyRead", message)


def bad_query(message: str) -> GraphError:
    """400 for a query option this endpoint refuses."""
    return GraphError(400, "ErrorInvalidUrlQuery", message)


def missing_window() -> GraphError:
    """400 for calendarView (or its delta, or instances) without both window bounds."""
    return GraphError(
        400,
        "ErrorInvalidParameter",
        "This request needs a time window: both startDateTime and endDateTime.",
    )


def auth_error(authorize_uri: str) -> GraphError:
    """401 for a missing, unknown, expired or revoked access token."""
    return GraphError(
        401,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
        headers={
            "WWW-Authenticate": f'Bearer realm="", authorization_uri="{authorize_uri}", '
            'client_id="00000003-0000-0000-c000-000000000000"'
        },
    )


def access_denied() -> GraphError:
    """403 when the token's scopes do not allow the request."""
    return GraphError(
        403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
    )


def throttled(retry_after: str = "1") -> GraphError:
    """429 for the per-mailbox concurrency or request-rate limits."""
    return GraphError(
        429,
        "ApplicationThrottled",
        "Application is over its MailboxConcurrency limit.",
        headers={"Retry-After": retry_after},
    )
