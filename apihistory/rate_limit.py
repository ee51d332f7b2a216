"""Pacing LookupEvents across every worker, and one ingest at a time per account-region.

CloudTrail allows LookupEvents 2 requests a second per account and region, counted over
everyone calling it: every Celery worker, the backfill command, a colleague's script. A
per-process limit would multiply by the number of processes, so the pacing lives where
all of them see it: in Redis when REDIS_URL is set, else in a file under VAR_DIR (the
one-machine SQLite setup, where workers are processes on this host).

The limiter hands out slots spaced slightly more than 1/rate apart (rather than a bucket
allowing bursts), so no one-second window holds more than `rate` calls even when jitter
delays a call by tens of milliseconds, and CloudTrail's own bucket never throttles us.
A slot is reserved atomically (a Lua script in Redis, an flock-protected timestamp file
otherwise) and the caller sleeps until it.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

# Added to 1/rate. For three calls to land in one second, a call would have to reach AWS
# 2 x margin later after its slot than the call two slots on: this absorbs thread
# scheduling, collector pauses and network jitter up to 60 ms, for 6 % of the throughput
# at 2 requests a second.
SPACING_MARGIN_SECONDS = 0.03
# A reservation further ahead than this means the clock moved backwards, not a queue.
_MAX_AHEAD_SECONDS = 60.0
_KEY_PREFIX = "opsportal:cloudtrail"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")

# KEYS[1]: the next free slot (microseconds, Redis clock). ARGV[1]: the spacing, ARGV[2]:
# the furthest ahead a slot may be (microseconds). Returns how long the caller must wait
# for its slot, in microseconds. Redis's own clock keeps workers on different hosts
# consistent.
_RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local spacing = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt - now > tonumber(ARGV[2]) then nxt = 0 end
local slot = math.max(now, nxt)
local ttl = math.ceil((slot + spacing - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', slot + spacing), 'PX', ttl)
return slot - now
"""


class LimiterUnavailable(RuntimeError):
    """The shared limiter's store (Redis, or the state directory) cannot be used."""


class Limiter(Protocol):
    def acquire(self, key: str, *, rate: float) -> float: ...


def spacing(rate: float) -> float:
    """Seconds between two slots at `rate` calls a second."""
    if rate <= 0:
        raise ValueError("rate must be positive.")
    return 1.0 / rate + SPACING_MARGIN_SECONDS


def lookup_key(account_id: str, region: str) -> str:
    return f"{account_id}-{region}"


class FileLimiter:
    """Slots recorded in one small file per key, reserved under an exclusive flock.

    flock (not fcntl's POSIX locks) conflicts between threads of one process as well as
    between processes, and is released by the kernel if the holder dies.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _reserve(self, key: str, gap: float) -> float:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(self.directory / f"{_SAFE.sub('_', key)}.next", "a+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.seek(0)
                raw = handle.read().strip()
                now = time.time()
                try:
                    nxt = float(raw) if raw else 0.0
                except ValueError:
                    nxt = 0.0
                if nxt - now > _MAX_AHEAD_SECONDS:
                    nxt = 0.0
                slot = max(now, nxt)
                handle.seek(0)
                handle.truncate()
                handle.write(repr(slot + gap).encode())
                handle.flush()
                return slot - now
        except OSError as exc:
            raise LimiterUnavailable(f"rate limiter state in {self.directory}: {exc}") from exc

    def acquire(self, key: str, *, rate: float) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        wait = self._reserve(key, spacing(rate))
        if wait > 0:
            time.sleep(wait)
        return wait


class RedisLimiter:
    """Slots reserved by one atomic Lua script per call in the shared Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        self._reserve = self.redis.register_script(_RESERVE_LUA)

    def acquire(self, key: str, *, rate: float) -> float:
        """Block until this caller's slot; returns the seconds waited."""
        gap_us = round(spacing(rate) * 1_000_000)
        try:
            wait_us = int(
                self._reserve(
                    keys=[f"{_KEY_PREFIX}:lookup:{key}"],
                    args=[gap_us, round(_MAX_AHEAD_SECONDS * 1_000_000)],
                )
            )
        except self._errors as exc:
            raise LimiterUnavailable(f"rate limiter in Redis: {exc}") from exc
        wait = wait_us / 1_000_000
        if wait > 0:
            time.sleep(wait)
        return wait


@cache
def _redis_limiter(url: str) -> RedisLimiter:
    return RedisLimiter(url)


def limiter() -> Limiter:
    """The limiter every process of this installation shares."""
    if settings.REDIS_URL:
        return _redis_limiter(settings.REDIS_URL)
    return FileLimiter(Path(settings.VAR_DIR) / "cloudtrail-limiter")


def acquire(key: str, *, rate: float | None = None) -> float:
    """Wait for a LookupEvents slot for `key` (see lookup_key); returns the seconds waited."""
    return limiter().acquire(key, rate=rate or settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE)


@contextmanager
def exclusive(key: str, *, timeout: int) -> Iterator[bool]:
    """Hold the ingest lock for `key` if free: yields True when held, False when another
    run has it. It never waits: the other run is doing the same work.

    In Redis the lock expires after `timeout` seconds in case its holder died; a file lock
    needs no timeout because the kernel releases it with the process.
    """
    if settings.REDIS_URL:
        with _redis_lock(key, timeout=timeout) as held:
            yield held
        return
    directory = Path(settings.VAR_DIR) / "cloudtrail-locks"
    directory.mkdir(parents=True, exist_ok=True)
    handle: Any = open(directory / f"{_SAFE.sub('_', key)}.lock", "a+b")  # noqa: SIM115
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {time.time():.0f}".encode())
        handle.flush()
        yield True
    finally:
        handle.close()


@contextmanager
def _redis_lock(key: str, *, timeout: int) -> Iterator[bool]:
    import redis

    lock = _redis_limiter(settings.REDIS_URL).redis.lock(
        f"{_KEY_PREFIX}:ingest:{key}", timeout=timeout, blocking=False
    )
    try:
        held = bool(lock.acquire(blocking=False))
    except redis.RedisError as exc:
        raise LimiterUnavailable(f"ingest lock in Redis: {exc}") from exc
    try:
        yield held
    finally:
        if held:
            # An expired lock (the run outlived its timeout) has nothing left to release.
            with suppress(redis.RedisError):
                lock.release()
