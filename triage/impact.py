"""An incident's impact from CloudWatch: its endpoint's errored requests and invocations
over the incident, and how many minutes had errors. One GetMetricData for every variant (in
the page's AWS budget, like every live read); an answer CloudWatch cannot give is said, not
guessed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.errors import AwsError
from core.aws.types import MetricQuery
from core.live_cache import read_through
from core.targets import target_by_name
from monitoring.live.metrics import choose_period
from triage.models import Incident
from triage.postmortem import Impact

if TYPE_CHECKING:
    from endpoints.models import Endpoint

# A past window's minutes do not change; an hour keeps a board refreshing every few seconds
# from asking CloudWatch again.
ERROR_FREE_CACHE_SECONDS = 3600


def _counts(
    *, endpoint: Endpoint, start: datetime, end: datetime, period: int
) -> dict[datetime, tuple[float, float]] | str:
    """Requests and 5XX errors of the endpoint's production variants per period (summed over
    variants), from one GetMetricData; or why CloudWatch could not say."""
    variants = [v.name for v in endpoint.variants.all() if not v.is_shadow]
    queries = [
        MetricQuery(
            id=f"v{i}_{key}",
            namespace="AWS/SageMaker",
            metric=metric,
            dimensions=(("EndpointName", endpoint.name), ("VariantName", variant)),
            stat="Sum",
            period=period,
        )
        for i, variant in enumerate(variants)
        for key, metric in (("errors", "Invocation5XXErrors"), ("calls", "Invocations"))
    ]
    if not queries:
        return "the endpoint has no production variant"
    try:
        series = aws_cloudwatch.get_metric_data(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            queries=queries,
            start=start,
            end=end,
        )
    except AwsError as exc:
        return str(exc)
    counts: dict[datetime, tuple[float, float]] = {}
    for item in series:
        erred = item.id.endswith("_errors")
        for at, value in zip(item.timestamps, item.values, strict=False):
            calls, errors = counts.get(at, (0.0, 0.0))
            counts[at] = (calls, errors + value) if erred else (calls + value, errors)
    return counts


def incident_impact(*, incident: Incident, now: datetime) -> Impact:
    endpoint = incident.endpoint
    start = incident.opened_at.replace(second=0, microsecond=0)
    end = incident.resolved_at or now
    period = choose_period(start=start, end=end, now=now)
    counts = _counts(endpoint=endpoint, start=start, end=end, period=period)
    if isinstance(counts, str):
        return Impact(None, None, None, counts)
    calls = sum(c for c, _ in counts.values())
    errors = sum(e for _, e in counts.values())
    minutes = sum(1 for _, e in counts.values() if e > 0) * period // 60
    return Impact(int(errors), int(calls), minutes)


def error_free_minutes(*, endpoint: Endpoint, start: datetime, end: datetime) -> int | None:
    """Minutes in [start, end) in which the endpoint served requests without a single 5XX
    error: evidence that a change at `start` did not break it. None when CloudWatch could
    not say (then nothing is concluded). Cached: the minutes are past and do not change."""
    start = start.replace(second=0, microsecond=0)
    end = end.replace(second=0, microsecond=0)
    if end <= start:
        return 0

    def read() -> int:
        counts = _counts(endpoint=endpoint, start=start, end=end, period=60)
        if isinstance(counts, str):
            raise AwsError(counts)
        return sum(1 for calls, errors in counts.values() if calls > 0 and errors == 0)

    key = f"error-free:{endpoint.pk}:{start.timestamp():.0f}:{end.timestamp():.0f}"
    return read_through(key=key, fresh_seconds=ERROR_FREE_CACHE_SECONDS, read=read).value
