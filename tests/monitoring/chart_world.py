"""Endpoints and a CloudWatch that answers exactly what a chart test says it holds.

`FakeCloudWatch` stands in for `core.aws.cloudwatch.get_metric_data` (patched by the test):
it records the queries it is asked and answers each with the datapoints the test put for
that variant, metric and statistic, leaving out every other period as CloudWatch does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from core.aws.types import MetricQuery, MetricSeries
from endpoints.models import Endpoint, Variant
from monitoring.live.metrics import TimeRange


def chart_endpoint(name: str, *, variants: dict[str, bool], status: str = "InService") -> Endpoint:
    """An inventory endpoint whose variants are serverless (True) or on instances (False)."""
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}",
        status=status,
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )
    for index, (variant, serverless) in enumerate(variants.items()):
        Variant.objects.create(
            endpoint=endpoint,
            name=variant,
            position=index,
            instance_type="" if serverless else "ml.m5.large",
            current_weight=1.0,
            current_instance_count=None if serverless else 1,
            serverless={"memory_size_mb": 2048, "max_concurrency": 5} if serverless else None,
        )
    return endpoint


def hour_range() -> TimeRange:
    """The last hour, ending on a whole minute (60 one-minute periods)."""
    end = timezone.now().replace(second=0, microsecond=0)
    return TimeRange(key="custom", start=end - timedelta(hours=1), end=end)


@dataclass
class FakeCloudWatch:
    """Datapoints by (variant, metric, stat): {minute index from the range start: value}."""

    time_range: TimeRange
    points: dict[tuple[str, str, str], dict[int, float]] = field(default_factory=dict)
    queries: list[MetricQuery] = field(default_factory=list)

    def put(self, variant: str, metric: str, stat: str, minutes: dict[int, float]) -> None:
        self.points[(variant, metric, stat)] = minutes

    def minute(self, index: int) -> datetime:
        return self.time_range.start + timedelta(minutes=index)

    def __call__(self, **kwargs: Any) -> list[MetricSeries]:
        self.queries.extend(kwargs["queries"])
        answers = []
        for query in kwargs["queries"]:
            variant = dict(query.dimensions)["VariantName"]
            held = self.points.get((variant, query.metric, query.stat), {})
            ordered = sorted(held.items())
            answers.append(
                MetricSeries(
                    id=query.id,
                    label=query.label,
                    timestamps=tuple(self.minute(i) for i, _ in ordered),
                    values=tuple(v for _, v in ordered),
                    status="Complete",
                )
            )
        return answers
