"""The Monitoring tab's charts that need AWS: drift metrics and baseline-vs-latest bars.

Drift comes from CloudWatch (the ``feature_baseline_drift_<feature>`` metrics an execution
publishes), all features in one GetMetricData call, cached like the metrics panel and with
the last good answer kept for when CloudWatch fails. Feature names come from the baseline's
statistics.json. Baselines and execution reports never change once written, so each is read
from S3 once and then served from the cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

import dataquality as quality
from core.aws import cloudwatch as aws_cloudwatch
from core.aws import s3 as aws_s3
from core.aws.errors import AwsError
from core.aws.types import MetricQuery
from core.live_cache import read_through
from core.targets import target_by_name
from monitoring.models import MonitoringExecution, MonitoringSchedule

if TYPE_CHECKING:
    from endpoints.models import Endpoint

DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"
DOCUMENT_CACHE_SECONDS = 86400
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
LAST_GOOD_SECONDS = 7 * 86400
DRIFT_HOURS = 48
DRIFT_PERIOD = 3600  # executions run hourly at most


def read_document(*, endpoint: Endpoint, uri: str) -> dict[str, Any]:
    """A JSON document from S3, read once and cached; raises AwsError or ValueError."""
    key = f"mm-doc:{endpoint.account_id}:{endpoint.region}:{uri}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    document = aws_s3.read_json_object(
        target=target_by_name(endpoint.target),
        region=endpoint.region,
        uri=uri,
        max_bytes=DOCUMENT_MAX_BYTES,
    )
    cache.set(key, document, DOCUMENT_CACHE_SECONDS)
    return document


@dataclass
class ChartsPanel:
    """What the charts fragment renders; `errors` say which part could not be drawn."""

    features: list[str] = field(default_factory=list)
    feature: str = ""
    charts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stale_since: datetime | None = None
    execution: MonitoringExecution | None = None


def charts_panel(
    *,
    endpoint: Endpoint,
    schedule: MonitoringSchedule | None,
    execution: MonitoringExecution | None,
    feature: str,
    preferred: list[str],
) -> ChartsPanel:
    """Drift lines for every baseline feature and the chosen feature's distributions.

    `preferred` (the features that violated most) picks the default feature.
    """
    panel = ChartsPanel(execution=execution)
    if schedule is None or not schedule.statistics_uri:
        panel.errors.append("No schedule with a baseline: nothing to compare against.")
        return panel
    try:
        baseline = read_document(endpoint=endpoint, uri=schedule.statistics_uri)
    except (AwsError, ValueError) as exc:
        panel.errors.append(f"Baseline statistics unavailable: {exc}")
        return panel
    panel.features = [str(f.get("name")) for f in baseline.get("features") or []]
    chosen = feature if feature in panel.features else ""
    panel.feature = (
        chosen
        or next((f for f in preferred if f in panel.features), "")
        or (panel.features[0] if panel.features else "")
    )
    drift = _drift_chart(endpoint=endpoint, schedule=schedule, features=panel.features)
    if drift.get("error"):
        panel.errors.append(f"Drift metrics: {drift['error']}")
        panel.stale_since = drift.get("stale_since")
    if drift.get("traces"):
        panel.charts.append(drift)
    if execution is not None and execution.report_uri and panel.feature:
        try:
            current = read_document(
                endpoint=endpoint, uri=f"{execution.report_uri.rstrip('/')}/statistics.json"
            )
        except (AwsError, ValueError) as exc:
            panel.errors.append(f"Statistics of the run unavailable: {exc}")
        else:
            bars = quality.compare_distribution(
                baseline_statistics=baseline, current_statistics=current, name=panel.feature
            )
            panel.charts.append(
                {
                    "id": "distribution",
                    "kind": "bars",
                    "title": f"{panel.feature}: baseline vs run of "
                    f"{execution.scheduled_time:%Y-%m-%d %H:%M} UTC",
                    "x": [b.label for b in bars],
                    "baseline": [round(b.baseline, 4) for b in bars],
                    "current": [round(b.current, 4) for b in bars],
                }
            )
    return panel


def _drift_chart(
    *, endpoint: Endpoint, schedule: MonitoringSchedule, features: list[str]
) -> dict[str, Any]:
    """One GetMetricData for every feature's drift over DRIFT_HOURS, cached."""
    end = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=DRIFT_HOURS)
    dimensions = (("Endpoint", endpoint.name), ("MonitoringSchedule", schedule.name))
    queries = [
        MetricQuery(
            id=f"d{index}",
            namespace=DATA_METRICS,
            metric=f"feature_baseline_drift_{name}",
            dimensions=dimensions,
            stat="Maximum",
            period=DRIFT_PERIOD,
            label=name,
        )
        for index, name in enumerate(features)
    ]

    def read() -> dict[str, Any]:
        series = aws_cloudwatch.get_metric_data(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            queries=queries,
            start=start,
            end=end,
        )
        return {
            "id": "drift",
            "kind": "lines",
            "title": "Baseline drift per feature (distance, hourly maximum)",
            "traces": [
                {
                    "name": s.label,
                    "x": [t.isoformat() for t in s.timestamps],
                    "y": [round(v, 4) for v in s.values],
                }
                for s in series
                if s.values
            ],
        }

    answer = read_through(
        key=f"mm-drift:{endpoint.pk}:{schedule.name}",
        fresh_seconds=settings.OPSPORTAL_METRICS_CACHE_SECONDS,
        read=read,
        last_good_seconds=LAST_GOOD_SECONDS,
    )
    if answer.value is None:
        return {"error": answer.error}
    chart = {**answer.value, "fetched_at": answer.fetched_at}
    if answer.error:
        chart.update(error=answer.error, stale_since=answer.stale_since)
    return chart


# What a chart carries for the page around it (a stale chart's error and its age), not
# for the JS that draws it; datetimes besides, which JSON has no form for.
_NOT_DRAWN = ("fetched_at", "stale_since", "error")


def charts_json(panel: ChartsPanel) -> str:
    """The charts for the data-charts attribute."""
    return json.dumps(
        [{k: v for k, v in c.items() if k not in _NOT_DRAWN} for c in panel.charts],
        separators=(",", ":"),
    )
