"""The Docplanner emulator's rate limiter (reference 1.4): GET 8,000 per hour, writes
(POST/PUT/PATCH/DELETE) 40 per minute, both adjustable per client and switchable.

Every API answer while the limiter is on carries `X-RateLimit-Limit`, `X-RateLimit-Reset` (an
ISO date: when the current window ends), `X-RateLimit-Used` and `X-RateLimit-Remaining`; with
the limiter off there are no such headers. Over the limit: 429 in the error shape, with the
same headers (the window's end is the backoff hint). Windows are fixed, starting at the first
request after the previous window ended (the references do not say; guess). `retry_after`
adds a `Retry-After` in seconds to the 429 (off by default: the references document it only
for `/notifications/release`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.fakes.docplanner_clock import render
from tests.fakes.docplanner_errors import DocplannerError


@dataclass
class Bucket:
    """One fixed window: `limit` requests per `period`."""

    limit: int
    period: timedelta
    window_start: datetime | None = None
    used: int = 0

    def roll(self, now: datetime) -> None:
        """Start a new window when the current one is over."""
        if self.window_start is None or now >= self.window_start + self.period:
            self.window_start = now
            self.used = 0

    def reset_at(self) -> datetime:
        """When the current window ends."""
        assert self.window_start is not None
        return self.window_start + self.period


class RateLimiter:
    """Counts reads and writes on the emulator's clock; runs under the emulator's lock."""

    def __init__(
        self, reads_per_hour: int = 8000, writes_per_minute: int = 40, *, enabled: bool = True
    ) -> None:
        self.enabled = enabled
        self.reads = Bucket(reads_per_hour, timedelta(hours=1))
        self.writes = Bucket(writes_per_minute, timedelta(minutes=1))
        self.retry_after = False
        self.refused = 0

    def configure(
        self,
        *,
        reads: int | None = None,
        read_period: timedelta | None = None,
        writes: int | None = None,
        write_period: timedelta | None = None,
    ) -> None:
        """Change the limits (the current windows start over)."""
        for bucket, limit, period in (
            (self.reads, reads, read_period),
            (self.writes, writes, write_period),
        ):
            if limit is not None:
                bucket.limit = limit
            if period is not None:
                bucket.period = period
            bucket.window_start, bucket.used = None, 0

    def admit(self, write: bool, now: datetime, zone: ZoneInfo) -> dict[str, str]:
        """The headers for this request; raises 429 (with them) when over the limit."""
        if not self.enabled:
            return {}
        bucket = self.writes if write else self.reads
        bucket.roll(now)
        over = bucket.used >= bucket.limit
        if not over:
            bucket.used += 1
        headers = {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Reset": render(bucket.reset_at(), zone),
            "X-RateLimit-Used": str(bucket.used),
            "X-RateLimit-Remaining": str(max(0, bucket.limit - bucket.used)),
        }
        if over:
            self.refused += 1
            if self.retry_after:
                wait = (bucket.reset_at() - now).total_seconds()
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
            raise DocplannerError(429, "API rate limit exceeded.", headers=headers)
        return headers
