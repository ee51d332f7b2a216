"""Page reads that ask AWS: cached for a few seconds, with the last good answer kept.

Every live read on the portal's pages keeps the same promise (DESIGN.md, reliability): a
fresh-enough answer comes from the cache, so viewers of one page share one AWS call; a read
that fails (AWS throttling, down, or past the page's budget) shows the last good answer,
marked stale since it was read, or says what could not be read. It never fails the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Generic, TypeVar

from django.core.cache import cache
from django.utils import timezone

from core.aws.errors import AwsError

T = TypeVar("T")

LAST_GOOD_SECONDS = 86_400


@dataclass(frozen=True)
class LiveRead(Generic[T]):
    """An answer from AWS (or the cache) and how old it is, or why there is none.

    `value` is None only when AWS failed and no earlier answer was kept; `stale_since` is
    set when `value` is an earlier answer shown because the latest read failed.
    """

    value: T | None
    fetched_at: datetime | None = None
    stale_since: datetime | None = None
    error: str = ""


def read_through(
    *,
    key: str,
    fresh_seconds: int,
    read: Callable[[], T],
    last_good_seconds: int = LAST_GOOD_SECONDS,
) -> LiveRead[T]:
    """The cached answer under `key`, else `read()` (cached for `fresh_seconds`), else the
    last good answer marked stale. `read` raises AwsError (or LookupError for a target that
    is no longer configured) when it cannot answer."""
    cached: LiveRead[T] | None = cache.get(key)
    if cached is not None:
        return cached
    try:
        value = read()
    except (AwsError, LookupError) as exc:
        last_good: LiveRead[T] | None = cache.get(_last_good_key(key))
        if last_good is None:
            return LiveRead(value=None, error=str(exc))
        return replace(last_good, error=str(exc), stale_since=last_good.fetched_at)
    fresh = LiveRead(value=value, fetched_at=timezone.now())
    cache.set(key, fresh, fresh_seconds)
    cache.set(_last_good_key(key), fresh, last_good_seconds)
    return fresh


def _last_good_key(key: str) -> str:
    return f"{key}:last-good"
