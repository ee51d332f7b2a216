"""A circuit breaker per target, region and AWS service, for the reads pages make.

When an AWS service keeps failing (timeouts, refused connections, 5xx, throttling), every
page that asks it waits for its timeout and fails anyway. After
OPSPORTAL_AWS_BREAKER_FAILURES failures in a row the breaker opens: page reads of that
service in that target-region fail at once, and pages show their last good data marked
stale. After OPSPORTAL_AWS_BREAKER_SECONDS one page read is let through as a probe; its
success closes the breaker, its failure opens it again.

Outcomes of background calls count too (a sync that succeeds proves the service is back),
but only page reads are ever refused. The state lives in the Django cache, shared by every
web process when the cache is Redis; a cache that fails leaves the breaker closed, never a
page broken.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from core.aws.errors import Unavailable

logger = logging.getLogger(__name__)
STATE_TTL_SECONDS = 86400


class BreakerOpen(Unavailable):
    """The breaker is open: the call was not made."""


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0
    failing_since: float | None = None  # wall-clock seconds of the first failure in a row
    open_until: float = 0.0  # wall-clock seconds

    @property
    def is_open(self) -> bool:
        return self.open_until > time.time()


def _key(target: str, region: str, service: str) -> str:
    return f"aws-breaker:{target}:{region}:{service}"


def _load(key: str) -> BreakerState:
    try:
        stored: Any = cache.get(key)
    except Exception:  # the breaker must never be why a page fails
        logger.warning("circuit breaker state unreadable", exc_info=True)
        return BreakerState()
    return stored if isinstance(stored, BreakerState) else BreakerState()


def _save(key: str, state: BreakerState | None) -> None:
    try:
        if state is None:
            cache.delete(key)
        else:
            cache.set(key, state, STATE_TTL_SECONDS)
    except Exception:
        logger.warning("circuit breaker state not saved", exc_info=True)


def breaker_state(*, target: str, region: str, service: str) -> BreakerState:
    return _load(_key(target, region, service))


def breaker_admit(*, target: str, region: str, service: str, operation: str) -> None:
    """Raise BreakerOpen unless a page may call this service now. Once the open period
    has passed, only the first caller gets through (the probe) until it reports back."""
    key = _key(target, region, service)
    state = _load(key)
    if state.failures < settings.OPSPORTAL_AWS_BREAKER_FAILURES:
        return
    if not state.is_open:
        try:
            probing = cache.add(f"{key}:probe", 1, settings.OPSPORTAL_AWS_BREAKER_SECONDS)
        except Exception:
            probing = True
        if probing:
            return
    since = time.strftime("%H:%M:%S", time.gmtime(state.failing_since or time.time()))
    raise BreakerOpen(
        f"{service} in {target}/{region} has been failing since {since} UTC; "
        f"pages stop asking it for up to {settings.OPSPORTAL_AWS_BREAKER_SECONDS} s at a time",
        code="CircuitOpen",
        operation=operation,
    )


def breaker_record(*, target: str, region: str, service: str, ok: bool) -> None:
    """Count one call's outcome: a success closes the breaker, a failure counts towards
    opening it (and re-opens it at once after a failed probe)."""
    key = _key(target, region, service)
    state = _load(key)
    if ok:
        if state.failures:
            _save(key, None)
            _clear_probe(key)
        return
    failures = state.failures + 1
    opens = failures >= settings.OPSPORTAL_AWS_BREAKER_FAILURES
    _save(
        key,
        BreakerState(
            failures=failures,
            failing_since=state.failing_since or time.time(),
            open_until=time.time() + settings.OPSPORTAL_AWS_BREAKER_SECONDS
            if opens
            else state.open_until,
        ),
    )
    if opens:
        _clear_probe(key)


def _clear_probe(key: str) -> None:
    try:
        cache.delete(f"{key}:probe")
    except Exception:
        logger.warning("circuit breaker probe not cleared", exc_info=True)
