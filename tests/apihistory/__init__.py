"""CloudTrail ingestion against the sandbox. Helpers shared by the modules here.

Each test reads its own region, one the demo world and the sandbox's own tests leave
alone, because the sandbox (and its recorded events) lives for the whole session while
the database is emptied after every test.
"""

from __future__ import annotations

import gc
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from core.aws import cloudtrail as aws_cloudtrail
from core.targets import Target
from sandbox.testing import (
    EVENT_SOURCES,
    MARIA_KEY,
    Call,
    CallKind,
    SandboxServer,
    control,
    identity_for,
    resources_named,
)

ACCOUNT = "123456789012"


def target_for(*regions: str) -> Target:
    return Target(name="sandbox", account_id=ACCOUNT, regions=regions)


def record_events(
    server: SandboxServer,
    *,
    region: str,
    count: int,
    start: float,
    step: float = 1.0,
    operation: str = "DescribeEndpoint",
    key: str = MARIA_KEY,
    service: str = "sagemaker",
) -> list[str]:
    """Record `count` calls straight into the sandbox's CloudTrail, at whole seconds from
    `start` on (CloudTrail's own resolution), visible at once; returns their event ids."""
    ids = []
    for number in range(count):
        params = {"EndpointName": f"ep-{number % 7}"}
        event_id = str(uuid.uuid4())
        call = Call(
            kind=CallKind(service, EVENT_SOURCES[service], operation, operation.startswith("D")),
            time=float(int(start + number * step)),
            region=region,
            account_id=ACCOUNT,
            access_key=key,
            identity=identity_for(key),
            source_ip="198.51.100.20",
            user_agent="aws-cli/2.22.4",
            request_parameters=params,
            event_id=event_id,
        )
        server.state.cloudtrail.record(
            call, resources_named(service, params, region, ACCOUNT), backfill=True
        )
        ids.append(event_id)
    return ids


@contextmanager
def cloudtrail_settings(url: str, **values: float) -> Iterator[None]:
    """Change the sandbox's LookupEvents rate or delivery lag, and put them back after."""
    _status, before = control(url, "cloudtrail", "GET")
    status, answer = control(url, "cloudtrail", body=values)
    assert status == 200, answer
    try:
        yield
    finally:
        control(
            url,
            "cloudtrail",
            body={"lookup_rate": before["lookup_rate"], "lag_seconds": before["lag_seconds"]},
        )


class LookupArrivals:
    """When each LookupEvents reached the sandbox and whether its rate limit let it through,
    recorded where the sandbox checks its limit (the first thing it does for the call)."""

    def __init__(self, server: SandboxServer) -> None:
        self.limiter = server.state.lookup_limiter
        self.seen: list[tuple[float, tuple[str, str], bool]] = []

    def __enter__(self) -> LookupArrivals:
        original = self.limiter.allow

        def allow(key: tuple[str, str]) -> bool:
            allowed = original(key)
            self.seen.append((time.monotonic(), key, allowed))
            return allowed

        self.limiter.allow = allow  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        del self.limiter.allow

    def times(self, region: str) -> list[float]:
        return sorted(t for t, key, _ in self.seen if key == (ACCOUNT, region))

    def refused(self, region: str) -> int:
        return sum(1 for _, key, allowed in self.seen if key == (ACCOUNT, region) and not allowed)


class SendTimes:
    """When the portal's own LookupEvents requests left (botocore's before-send event on
    the gateway's client): what the shared limiter paces, before any network delay."""

    def __init__(self, *targets_regions: tuple[Target, str]) -> None:
        self.clients = [aws_cloudtrail._cloudtrail(t, r) for t, r in targets_regions]
        self.times: list[float] = []

    def _sent(self, **_: Any) -> None:
        self.times.append(time.monotonic())

    def __enter__(self) -> SendTimes:
        for client in self.clients:
            client.meta.events.register("before-send.cloudtrail.LookupEvents", self._sent)
        return self

    def __exit__(self, *_: Any) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-send.cloudtrail.LookupEvents", self._sent)


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Keep the session's objects (the whole sandbox lives in this process) out of the
    garbage collector while timing calls: a full collection of them pauses every thread
    for tens of milliseconds, which would show up as network delay no real AWS has."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def most_in_any_window(times: list[float], width: float = 1.0) -> int:
    """The most calls in any window [t, t + width) sliding over the time line."""
    times = sorted(times)
    best = 0
    first = 0
    for last, moment in enumerate(times):
        while moment - times[first] >= width:
            first += 1
        best = max(best, last - first + 1)
    return best


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each result or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
