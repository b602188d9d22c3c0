"""When to try a request again: full-jitter exponential backoff and the ``Retry-After`` header."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

RETRY_STATUS = {408, 429}  # and every 5xx


class RetryableError(Exception):
    """A failed attempt worth repeating; ``retry_after`` is the server's wish in seconds, if any."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def retryable_status(status: int) -> bool:
    return status in RETRY_STATUS or status >= 500


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def delay(attempt: int, base: float, cap: float, server_wish: float | None = None) -> float:
    """Wait before retry ``attempt`` (1, 2, ...): the server's wish if given, else full jitter; at most ``cap``."""
    if server_wish is not None:
        return min(cap, server_wish)
    return random.uniform(0.0, min(cap, base * 2 ** (attempt - 1)))
