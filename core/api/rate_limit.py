"""Per-token request limits (OPSPORTAL_API_RATE, e.g. "120/min") in fixed windows kept in
the Django cache, so every web process counts against the same budget when the cache is
shared (Redis)."""

from __future__ import annotations

import math
import re
import time

from django.conf import settings
from django.core.cache import cache

PERIODS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
_RATE = re.compile(r"\s*(\d+)\s*/\s*([a-z]+)\s*", re.ASCII)


class RateLimited(Exception):
    """Too many requests in the window; `retry_after` seconds until the next one opens."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many requests; retry in {retry_after} s.")


def parse_rate(text: str) -> tuple[int, int]:
    """("120/min") -> (120, 60); ValueError with the accepted forms otherwise."""
    match = _RATE.fullmatch(text.lower())
    if not match or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        raise ValueError(f"{text!r} is not a rate like 120/min (periods: s, min, hour).")
    return int(match.group(1)), PERIODS[match.group(2)]


def rate_check(*, key: str, now: float | None = None) -> None:
    """Count one request for `key`; raise RateLimited once the window's budget is spent."""
    allowed, period = parse_rate(settings.OPSPORTAL_API_RATE)
    now = time.time() if now is None else now
    window = int(now // period)
    cache_key = f"api-rate:{key}:{window}"
    cache.add(cache_key, 0, timeout=period + 1)
    try:
        used = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr: this request opens the window
        cache.set(cache_key, 1, timeout=period + 1)
        used = 1
    if used > allowed:
        raise RateLimited(max(1, math.ceil((window + 1) * period - now)))
