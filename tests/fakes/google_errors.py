"""Google's JSON error shape, raised inside the emulator and rendered by its HTTP handler."""

from __future__ import annotations

from typing import Any

# HTTP status -> top-level message Google sends next to the per-error reason.
_STATUS_TEXT = {
    400: "Bad Request",
    401: "Invalid Credentials",
    403: "Forbidden",
    404: "Not Found",
    409: "The requested identifier already exists.",
    410: "Gone",
    412: "Precondition Failed",
    429: "Rate Limit Exceeded",
    500: "Backend Error",
    503: "Service Unavailable",
}

# Reasons whose domain is not "global" in Google's answers.
_DOMAINS = {
    "fullSyncRequired": "calendar",
    "updatedMinTooLongAgo": "calendar",
    "timeRangeEmpty": "calendar",
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "quotaExceeded": "usageLimits",
}


class GoogleApiError(Exception):
    """One Google API error; raised by the emulator's state code on any thread, never escapes
    the HTTP handler (which turns it into a response)."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        location: str | None = None,
        location_type: str | None = None,
        domain: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message
        self.location = location
        self.location_type = location_type
        self.domain = domain or _DOMAINS.get(reason, "global")
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends for this error."""
        item: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location is not None:
            item["locationType"] = self.location_type or "parameter"
            item["location"] = self.location
        return {"error": {"errors": [item], "code": self.status, "message": self.message}}


def status_message(status: int) -> str:
    """A default message for an injected fault with this HTTP status."""
    return _STATUS_TEXT.get(status, "Error")


def bad_param(name: str, message: str, reason: str = "invalid") -> GoogleApiError:
    """A 400 about one query parameter."""
    return GoogleApiError(400, reason, message, location=name, location_type="parameter")


def not_found() -> GoogleApiError:
    """Google's 404 for an unknown calendar or event."""
    return GoogleApiError(404, "notFound", "Not Found")


def auth_error() -> GoogleApiError:
    """Google's 401 for a missing, unknown, expired or revoked access token."""
    return GoogleApiError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        location_type="header",
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
    )
