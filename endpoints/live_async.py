"""Asynchronous endpoints' queues, read from CloudWatch now.

An asynchronous endpoint queues what it cannot serve yet, and the queue is only visible in
the endpoint-level metrics SageMaker publishes every minute (dimension EndpointName alone):
ApproximateBacklogSize, ApproximateBacklogSizePerInstance, ApproximateAgeOfOldestRequest
(seconds) and HasBacklogWithoutCapacity (1 while requests wait and no instance runs, as
after scaling to zero). The endpoint page and the incident board read the last
WINDOW_MINUTES of them through `endpoint_backlogs`: one GetMetricData per account-region
for every endpoint asked about at once, each answer cached for
OPSPORTAL_METRICS_CACHE_SECONDS, so a board refreshing every few seconds costs one call a
minute. When CloudWatch fails, the last good answer is shown marked stale; it never fails
the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.errors import AwsError
from core.aws.types import MetricQuery, MetricSeries
from core.targets import target_by_name
from core.text import count, duration
from endpoints.models import Endpoint

WINDOW_MINUTES = 15
LAST_GOOD_SECONDS = 86400
NAMESPACE = "AWS/SageMaker"
# (query id suffix, metric): gauges, so each minute's Maximum is the level it reached.
METRICS = (
    ("size", "ApproximateBacklogSize"),
    ("per", "ApproximateBacklogSizePerInstance"),
    ("age", "ApproximateAgeOfOldestRequest"),
    ("idle", "HasBacklogWithoutCapacity"),
)
STAT = "Maximum"


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class Backlog:
    """One asynchronous endpoint's queue over the last WINDOW_MINUTES, oldest minute first
    (a minute without data is absent: no datapoint is not an empty queue)."""

    endpoint_pk: int
    sizes: tuple[Point, ...] = ()
    per_instance: tuple[Point, ...] = ()
    ages: tuple[Point, ...] = ()
    without_capacity: tuple[Point, ...] = ()
    fetched_at: datetime | None = None
    stale_since: datetime | None = None
    error: str = ""

    @property
    def known(self) -> bool:
        """Whether CloudWatch had any datapoint of the queue in the window."""
        return bool(self.sizes or self.ages or self.without_capacity)

    @property
    def size(self) -> int | None:
        return int(self.sizes[-1].value) if self.sizes else None

    @property
    def size_per_instance(self) -> float | None:
        return self.per_instance[-1].value if self.per_instance else None

    @property
    def oldest_seconds(self) -> int | None:
        return int(self.ages[-1].value) if self.ages else None

    @property
    def waiting_without_capacity(self) -> bool:
        """Requests are queued and no instance is running to take them."""
        return bool(self.without_capacity) and self.without_capacity[-1].value >= 1

    @property
    def rise(self) -> tuple[Point, Point] | None:
        """(the queue's low before now, now) when it is longer now than at the start of the
        window, else None: a queue draining with the odd uptick is not growing. The low is
        where the growth began."""
        if len(self.sizes) < 2:
            return None
        first, latest = self.sizes[0], self.sizes[-1]
        if latest.value <= first.value:
            return None
        low = min(self.sizes[:-1], key=lambda p: (p.value, -p.at.timestamp()))
        return (low, latest)

    @property
    def idle_since(self) -> datetime | None:
        """The first minute of the current run of "backlog without capacity"."""
        if not self.waiting_without_capacity:
            return None
        since = self.without_capacity[-1].at
        for point in reversed(self.without_capacity):
            if point.value < 1:
                break
            since = point.at
        return since

    @property
    def oldest_text(self) -> str:
        """The age of the oldest request in whole minutes ("9 min"), seconds below one."""
        age = self.oldest_seconds
        if age is None:
            return ""
        return duration(age - age % 60 if age >= 60 else age)

    @property
    def words(self) -> str:
        """The queue in a line: "backlog 240 requests (up from 40), oldest 9 min, no
        instances running"."""
        if self.size is None:
            parts = ["backlog unknown"]
        else:
            parts = [f"backlog {count(self.size, 'request')}"]
            rise = self.rise
            if rise is not None:
                parts[0] += f" (up from {int(rise[0].value):,})"
        if self.oldest_text:
            parts.append(f"oldest {self.oldest_text}")
        if self.waiting_without_capacity:
            parts.append("no instances running")
        return ", ".join(parts)


def _cache_key(endpoint: Endpoint, *, last_good: bool) -> str:
    kind = "async-backlog-last-good" if last_good else "async-backlog"
    return f"{kind}:{endpoint.pk}:{endpoint.name}"


def _queries(endpoints: list[Endpoint]) -> list[MetricQuery]:
    return [
        MetricQuery(
            id=f"e{index}_{suffix}",
            namespace=NAMESPACE,
            metric=metric,
            dimensions=(("EndpointName", endpoint.name),),
            stat=STAT,
            period=60,
            label=f"{endpoint.name} {metric}",
        )
        for index, endpoint in enumerate(endpoints)
        for suffix, metric in METRICS
    ]


def _points(series: MetricSeries | None) -> tuple[Point, ...]:
    if series is None:
        return ()
    return tuple(Point(t, v) for t, v in zip(series.timestamps, series.values, strict=True))


def _read_region(
    *, target: str, region: str, endpoints: list[Endpoint], now: datetime
) -> dict[int, Backlog]:
    """One account-region's endpoints in one GetMetricData, or each one's last good answer
    marked stale."""
    # Through the current minute: a backlog is a level, and the minute filling now is the
    # freshest level there is.
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=WINDOW_MINUTES)
    try:
        series = aws_cloudwatch.get_metric_data(
            target=target_by_name(target),
            region=region,
            queries=_queries(endpoints),
            start=start,
            end=end,
        )
    except AwsError as exc:
        out = {}
        for endpoint in endpoints:
            last_good: Backlog | None = cache.get(_cache_key(endpoint, last_good=True))
            if last_good is None:
                out[endpoint.pk] = Backlog(endpoint.pk, stale_since=now, error=str(exc))
            else:
                out[endpoint.pk] = replace(
                    last_good,
                    stale_since=last_good.stale_since or last_good.fetched_at,
                    error=str(exc),
                )
        return out
    by_id = {s.id: s for s in series}
    out = {}
    for index, endpoint in enumerate(endpoints):
        backlog = Backlog(
            endpoint.pk,
            sizes=_points(by_id.get(f"e{index}_size")),
            per_instance=_points(by_id.get(f"e{index}_per")),
            ages=_points(by_id.get(f"e{index}_age")),
            without_capacity=_points(by_id.get(f"e{index}_idle")),
            fetched_at=now,
        )
        cache.set(_cache_key(endpoint, last_good=False), backlog, _fresh_seconds())
        cache.set(_cache_key(endpoint, last_good=True), backlog, LAST_GOOD_SECONDS)
        out[endpoint.pk] = backlog
    return out


def _fresh_seconds() -> int:
    return int(settings.OPSPORTAL_METRICS_CACHE_SECONDS)


def endpoint_backlogs(
    *, endpoints: list[Endpoint], now: datetime | None = None
) -> dict[int, Backlog]:
    """Each endpoint's queue by pk: from the cache, else one GetMetricData per
    account-region for all the endpoints not cached."""
    now = now or timezone.now()
    found: dict[int, Backlog] = {}
    missing: dict[tuple[str, str], list[Endpoint]] = defaultdict(list)
    for endpoint in endpoints:
        cached: Backlog | None = cache.get(_cache_key(endpoint, last_good=False))
        if cached is not None:
            found[endpoint.pk] = cached
        else:
            missing[(endpoint.target, endpoint.region)].append(endpoint)
    for (target, region), members in missing.items():
        found.update(_read_region(target=target, region=region, endpoints=members, now=now))
    return found


def endpoint_backlog(*, endpoint: Endpoint) -> Backlog:
    """One endpoint's queue (shares the board's cache)."""
    return endpoint_backlogs(endpoints=[endpoint])[endpoint.pk]
