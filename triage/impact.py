"""An incident's impact from CloudWatch: its endpoint's errored requests and invocations
over the incident, and how many minutes had errors. One GetMetricData for every variant (in
the page's AWS budget, like every live read); an answer CloudWatch cannot give is said, not
guessed."""

from __future__ import annotations

from datetime import datetime

from core.aws import cloudwatch as aws_cloudwatch
from core.aws.errors import AwsError
from core.aws.types import MetricQuery
from core.targets import target_by_name
from monitoring.live.metrics import choose_period
from triage.models import Incident
from triage.postmortem import Impact


def incident_impact(*, incident: Incident, now: datetime) -> Impact:
    endpoint = incident.endpoint
    start = incident.opened_at.replace(second=0, microsecond=0)
    end = incident.resolved_at or now
    period = choose_period(start=start, end=end, now=now)
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
        return Impact(None, None, None, "the endpoint has no production variant")
    try:
        series = aws_cloudwatch.get_metric_data(
            target=target_by_name(endpoint.target),
            region=endpoint.region,
            queries=queries,
            start=start,
            end=end,
        )
    except AwsError as exc:
        return Impact(None, None, None, str(exc))
    errors = calls = 0.0
    bad: set[datetime] = set()
    for item in series:
        if item.id.endswith("_errors"):
            errors += sum(item.values)
            bad.update(t for t, v in zip(item.timestamps, item.values, strict=False) if v > 0)
        else:
            calls += sum(item.values)
    minutes = len(bad) * period // 60
    return Impact(int(errors), int(calls), minutes)
