"""The endpoint list's health column: alarms in ALARM, and the last hour of each endpoint's
invocations and 5XX rate as a sparkline, for a whole page of rows at once.

The list page itself never calls AWS; this column is filled by one request after it loads.
That request makes one GetMetricData call per account-region the page spans (split only
past 500 queries), never one per row, and caches the answer for
OPSPORTAL_METRICS_CACHE_SECONDS, so the list's 15-second refresh costs no AWS call. When
CloudWatch fails, the last good answer is shown and marked stale. Alarms come from the
synced alarm table.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.types import MetricQuery, MetricSeries
from core.live_cache import read_through
from core.targets import target_by_name
from core.text import count
from monitoring.live.grid import period_grid
from monitoring.selectors import firing_alarms_by_endpoint

if TYPE_CHECKING:
    from endpoints.models import Endpoint

MINUTES = 60
WIDTH, HEIGHT = 120, 24
# A 5XX rate is drawn against at least this ceiling, so 0.2 % does not fill the box.
ERROR_RATE_FLOOR = 0.05


@dataclass(frozen=True)
class Minutes:
    """One endpoint's last hour, all production variants summed: requests and 5XX errors
    per minute, None for a minute CloudWatch has no data for (a gap, never a zero)."""

    invocations: list[float | None]
    errors: list[float | None]


@dataclass
class EndpointHealth:
    """What one row's health cell shows."""

    pk: int
    name: str
    alarms: list[str] = field(default_factory=list)
    invocations: int | None = None  # requests in the last hour; None when unknown
    error_rate: float | None = None  # 5XX % of them; None without requests
    invocations_path: str = ""  # SVG path data, broken where a minute has no data
    errors_path: str = ""
    stale_since: datetime | None = None
    error: str = ""

    @property
    def alarm_label(self) -> str:
        return f"{count(len(self.alarms), 'alarm')} firing"

    @property
    def figures(self) -> str:
        """The cell's short text beside the sparkline: "8,456 req · 5XX 0.2 %"."""
        if not self.invocations:
            return "no requests"
        return f"{self.invocations:,} req · 5XX {self.error_rate or 0.0:.1f} %"

    @property
    def summary(self) -> str:
        """The sparkline in words, for screen readers and the tooltip."""
        if self.invocations is None:
            return "No metrics for the last hour"
        if not self.invocations:
            return "Last hour: no requests"
        rate = "no requests" if self.error_rate is None else f"5XX {self.error_rate:.1f} %"
        return f"Last hour: {self.invocations:,} requests, {rate}"


def _queries(endpoints: list[Endpoint]) -> list[MetricQuery]:
    queries = []
    for e, endpoint in enumerate(endpoints):
        production = [v for v in endpoint.variants.all() if not v.is_shadow]
        for v, variant in enumerate(production):
            dims = (("EndpointName", endpoint.name), ("VariantName", variant.name))
            for suffix, metric in (("i", "Invocations"), ("x", "Invocation5XXErrors")):
                queries.append(
                    MetricQuery(
                        id=f"e{e}v{v}{suffix}",
                        namespace="AWS/SageMaker",
                        metric=metric,
                        dimensions=dims,
                        stat="Sum",
                        period=60,
                    )
                )
    return queries


def _summed(
    series: list[MetricSeries], endpoints: list[Endpoint], grid: list[datetime]
) -> dict[str, Minutes]:
    """Per endpoint name, its variants' per-minute sums laid on the hour's grid."""
    totals: dict[tuple[int, str], dict[datetime, float]] = defaultdict(dict)
    for answer in series:
        endpoint_index = int(answer.id[1:].split("v", 1)[0])
        per_minute = totals[(endpoint_index, answer.id[-1])]
        for moment, value in zip(answer.timestamps, answer.values, strict=True):
            per_minute[moment] = per_minute.get(moment, 0.0) + value
    out = {}
    for index, endpoint in enumerate(endpoints):
        requests, errors = totals.get((index, "i"), {}), totals.get((index, "x"), {})
        out[endpoint.name] = Minutes(
            invocations=[requests.get(t) for t in grid],
            errors=[errors.get(t, 0.0) if t in requests else None for t in grid],
        )
    return out


def _cache_key(target: str, region: str, endpoints: list[Endpoint]) -> str:
    shape = ";".join(
        f"{e.name}:{','.join(v.name for v in e.variants.all() if not v.is_shadow)}"
        for e in endpoints
    )
    digest = hashlib.sha256(shape.encode()).hexdigest()[:24]
    return f"list-health:{target}:{region}:{digest}"


@dataclass
class _Answer:
    minutes: dict[str, Minutes]
    fetched_at: datetime
    stale_since: datetime | None = None
    error: str = ""


def _region_minutes(
    *, target: str, region: str, endpoints: list[Endpoint], now: datetime
) -> _Answer:
    """One account-region's endpoints: from cache, one GetMetricData, or the last good."""
    # Up to the last whole minute: the current one is still filling and would read as a drop.
    end = now.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=MINUTES)
    grid = period_grid(start=start, end=end, period=60, now=now)[-MINUTES:]

    def read() -> _Answer:
        series = aws_cloudwatch.get_metric_data(
            target=target_by_name(target),
            region=region,
            queries=_queries(endpoints),
            start=start,
            end=end,
        )
        return _Answer(minutes=_summed(series, endpoints, grid), fetched_at=now)

    answer = read_through(
        key=_cache_key(target, region, endpoints),
        fresh_seconds=settings.OPSPORTAL_METRICS_CACHE_SECONDS,
        read=read,
    )
    if answer.value is None:
        return _Answer(minutes={}, fetched_at=now, stale_since=now, error=answer.error)
    return replace(answer.value, stale_since=answer.stale_since, error=answer.error)


def sparkline_path(values: list[float | None], *, top: float) -> str:
    """SVG path data across WIDTH x HEIGHT: a new subpath after every gap, and a dot
    (`h0`, drawn with round caps) where a minute stands alone."""
    step = WIDTH / max(1, len(values) - 1)
    parts: list[str] = []
    pen_up = True
    for index, value in enumerate(values):
        if value is None:
            pen_up = True
            continue
        x = round(index * step, 1)
        y = round(HEIGHT - 1 - (HEIGHT - 2) * (min(value, top) / top if top > 0 else 0.0), 1)
        parts.append(f"M{x},{y}h0" if pen_up else f"L{x},{y}")
        pen_up = False
    return "".join(parts)


def _health(endpoint: Endpoint, minutes: Minutes | None, answer: _Answer) -> EndpointHealth:
    health = EndpointHealth(
        pk=endpoint.pk, name=endpoint.name, stale_since=answer.stale_since, error=answer.error
    )
    if minutes is None:
        return health
    requests = [v for v in minutes.invocations if v is not None]
    errors = [v for v in minutes.errors if v is not None]
    health.invocations = int(sum(requests))
    if health.invocations:
        health.error_rate = 100.0 * sum(errors) / health.invocations
    rates = [
        None if r is None or e is None or r <= 0 else e / r
        for r, e in zip(minutes.invocations, minutes.errors, strict=True)
    ]
    health.invocations_path = sparkline_path(minutes.invocations, top=max(requests, default=0.0))
    top_rate = max([ERROR_RATE_FLOOR, *(r for r in rates if r is not None)])
    health.errors_path = sparkline_path(rates, top=top_rate)
    return health


def endpoints_health(
    *, endpoints: list[Endpoint], now: datetime | None = None
) -> list[EndpointHealth]:
    """Each endpoint's health cell, in the order given: one alarm query for all of them,
    one GetMetricData per account-region (none when cached)."""
    now = now or timezone.now()
    groups: dict[tuple[str, str], list[Endpoint]] = defaultdict(list)
    for endpoint in endpoints:
        groups[(endpoint.target, endpoint.region)].append(endpoint)
    answers = {
        key: _region_minutes(target=key[0], region=key[1], endpoints=members, now=now)
        for key, members in groups.items()
    }
    firing = firing_alarms_by_endpoint(keys={(e.account_id, e.region, e.name) for e in endpoints})
    out = []
    for endpoint in endpoints:
        answer = answers[(endpoint.target, endpoint.region)]
        health = _health(endpoint, answer.minutes.get(endpoint.name), answer)
        health.alarms = [
            a.name for a in firing.get((endpoint.account_id, endpoint.region, endpoint.name), [])
        ]
        out.append(health)
    return out
