"""Docplanner's error shapes, raised inside the Docplanner emulator and rendered by its HTTP
handler with the error content type.

The API answers `{"errors": [...], "message": "..."}`, where `errors` is usually an empty
list but, for validation failures (slots above all), an object keyed by field path such as
`{"slots[1].end": ["..."]}`: clients must parse both shapes. With no (or a dead) access
token it answers 401 with `{"message": "..."}` only. The messages are the emulator's wording
except the few the reference quotes ("Authentication credentials could not be found.",
"No notifications found", "No slots found on given address", "Slots comes from different
days").
"""

from __future__ import annotations

from typing import Any

RESPONSE_TYPE = "application/vnd.docplanner+json; charset=UTF-8"
ERROR_TYPE = "application/vnd.error+docplanner+json"

_DEFAULT_MESSAGES = {
    400: "Bad request.",
    401: "Authentication credentials could not be found.",
    403: "Access denied.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    422: "Unprocessable entity.",
    429: "Too many requests.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
}


class DocplannerError(Exception):
    """One API error; raised by the emulator's state code under its lock and turned into a
    response by the HTTP handler (it never escapes it)."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        errors: list[Any] | dict[str, list[str]] | None = None,
        *,
        headers: dict[str, str] | None = None,
        bare: bool = False,
    ) -> None:
        text = message or _DEFAULT_MESSAGES.get(status, "Error.")
        super().__init__(f"{status}: {text}")
        self.status = status
        self.message = text
        self.errors: list[Any] | dict[str, list[str]] = [] if errors is None else errors
        self.headers = headers or {}
        self.bare = bare  # the 401 shape: message only

    def body(self) -> dict[str, Any]:
        """The JSON body Docplanner sends for this error."""
        if self.bare:
            return {"message": self.message}
        return {"errors": self.errors, "message": self.message}


class FieldErrors:
    """Collects validation messages keyed by field path (`slots[0].end`)."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        """One more message for `path`."""
        self.found.setdefault(path, []).append(message)

    def raise_if_any(self, status: int = 400, message: str = "Validation failed") -> None:
        """400 (or `status`) with the field-keyed `errors` object when anything was added."""
        if self.found:
            raise DocplannerError(status, message, dict(self.found))


def unauthenticated(
    message: str = "Authentication credentials could not be found.",
) -> DocplannerError:
    """401 with Docplanner's bare `{"message"}` body."""
    return DocplannerError(401, message, bare=True)


def bad_request(message: str) -> DocplannerError:
    """400 with an empty `errors` list."""
    return DocplannerError(400, message)


def forbidden(message: str = "You are not authorized to access this resource.") -> DocplannerError:
    """403: the facility, doctor, address or booking is not the client's or does not belong
    to its parent."""
    return DocplannerError(403, message)


def not_found(message: str = "Resource not found.") -> DocplannerError:
    """404 for an unknown id."""
    return DocplannerError(404, message)


def conflict(message: str) -> DocplannerError:
    """409 on a natural-key conflict or a state that refuses the action."""
    return DocplannerError(409, message)


def unprocessable(message: str) -> DocplannerError:
    """422."""
    return DocplannerError(422, message)


def fault(
    status: int, message: str | None = None, retry_after: str | None = None
) -> DocplannerError:
    """An injected failure in the JSON error shape."""
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return DocplannerError(status, message, headers=headers)
