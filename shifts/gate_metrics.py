"""The numbers a staged shift's gates judge, for every variant of one endpoint over one bake
window, in a single GetMetricData call.

Each metric is asked for with the whole window as its period, so CloudWatch aggregates it
(the p99 of the window, not an average of per-minute p99s). CloudWatch buckets periods
from the start time, so a window that is not a whole number of minutes, or a start that
falls between buckets, can come back as more than one point: counts are then summed and
latencies take the worst point, which can only make a gate stricter.
"""

from __future__ import annotations

import math
from datetime import datetime

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.types import MetricQuery, MetricSeries
from core.targets import Target
from shifts.gates import VariantWindow

NAMESPACE = "AWS/SageMaker"
# VariantWindow field, CloudWatch metric, statistic.
WINDOW_METRICS = (
    ("invocations", "Invocations", "Sum"),
    ("errors_5xx", "Invocation5XXErrors", "Sum"),
    ("errors_4xx", "Invocation4XXErrors", "Sum"),
    ("latency_p99_us", "ModelLatency", "p99"),
    ("latency_p50_us", "ModelLatency", "p50"),
)
COUNTS = {"invocations", "errors_5xx", "errors_4xx"}


def window_period(*, start: datetime, end: datetime) -> int:
    """The window's length rounded up to whole minutes (GetMetricData's periods are
    multiples of 60 s)."""
    seconds = max((end - start).total_seconds(), 60.0)
    return int(math.ceil(seconds / 60.0) * 60)


def window_queries(*, endpoint_name: str, variants: list[str], period: int) -> list[MetricQuery]:
    """One query per variant and metric; ids are `v<index>_<field>` (lowercase first)."""
    return [
        MetricQuery(
            id=f"v{index}_{field}",
            namespace=NAMESPACE,
            metric=metric,
            dimensions=(("EndpointName", endpoint_name), ("VariantName", variant)),
            stat=stat,
            period=period,
            label=f"{variant} {field}",
        )
        for index, variant in enumerate(variants)
        for field, metric, stat in WINDOW_METRICS
    ]


def _value(field: str, series: MetricSeries | None) -> float | None:
    if series is None or not series.values:
        return 0.0 if field in COUNTS else None
    return float(sum(series.values)) if field in COUNTS else float(max(series.values))


def read_windows(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    variants: list[str],
    start: datetime,
    end: datetime,
) -> dict[str, VariantWindow]:
    """Each variant's invocations, 5XX and 4XX errors and model latency over [start, end):
    one GetMetricData call for all of them (raises core.aws.errors.AwsError)."""
    queries = window_queries(
        endpoint_name=endpoint_name,
        variants=variants,
        period=window_period(start=start, end=end),
    )
    answered = {
        series.id: series
        for series in aws_cloudwatch.get_metric_data(
            target=target, region=region, queries=queries, start=start, end=end
        )
    }
    windows: dict[str, VariantWindow] = {}
    for index, variant in enumerate(variants):
        values = {
            field: _value(field, answered.get(f"v{index}_{field}"))
            for field, _metric, _stat in WINDOW_METRICS
        }
        windows[variant] = VariantWindow(
            invocations=int(values["invocations"] or 0),
            errors_5xx=int(values["errors_5xx"] or 0),
            errors_4xx=int(values["errors_4xx"] or 0),
            latency_p99_us=values["latency_p99_us"],
            latency_p50_us=values["latency_p50_us"],
        )
    return windows
