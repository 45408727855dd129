"""Error classification and retry timing. Pure; any thread."""

from __future__ import annotations

import enum
import random
from datetime import datetime, timedelta

from carecal.domain.errors import (
    AuthExpired,
    CarecalError,
    IcsError,
    PermanentItemError,
    RateLimited,
    TransientError,
    ValidationError,
)

BASE_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 15 * 60.0


class ErrorClass(enum.StrEnum):
    TRANSIENT = "transient"  # retry later, the op stays pending
    AUTH = "auth"  # the account needs sign-in; stop the account, keep the queue
    PERMANENT = "permanent"  # this item is refused for good: park its ops
    OTHER = "other"


def classify(error: BaseException) -> ErrorClass:
    if isinstance(error, TransientError):
        return ErrorClass.TRANSIENT
    if isinstance(error, AuthExpired):
        return ErrorClass.AUTH
    if isinstance(error, PermanentItemError | IcsError | ValidationError):
        return ErrorClass.PERMANENT
    return ErrorClass.OTHER


def backoff_seconds(attempts: int, rng: random.Random, retry_after: float | None = None) -> float:
    """Delay before attempt number ``attempts + 1`` (``attempts`` >= 1 failures so far):
    exponential from 5 s, with jitter (half to all of the step), capped at 15 minutes, and never
    shorter than the server's Retry-After."""
    step = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempts - 1))
    delay = rng.uniform(step / 2, step)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def next_attempt(now: datetime, attempts: int, error: CarecalError, rng: random.Random) -> datetime:
    """When to try again after ``error`` (a transient one) at ``now``."""
    retry_after = error.retry_after if isinstance(error, RateLimited) else None
    return now + timedelta(seconds=backoff_seconds(attempts, rng, retry_after))
