"""SageMaker's per-variant CloudWatch metrics, as the portal's charts read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from sandbox.endpoint_metrics import EndpointMetrics, Outcome
from sandbox.endpoints import EndpointRecord, EndpointStatus, EndpointStore, Timings, VariantState
from sandbox.metric_store import MetricStore, SeriesKey
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, live_endpoint
from tests.world import TRAFFIC_REGION, runtime_client, upload_tumor_model, variant_metric

ROW = rows_to_csv(holdout_rows("tumor")[:1])


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def endpoint(running_sandbox: SandboxServer) -> str:
    """An endpoint whose only routed variant got 12 good requests and 3 unreadable ones."""
    model = upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)
    name = live_endpoint(running_sandbox.url, model, weights=(1.0, 0.0))
    runtime = runtime_client(running_sandbox.url)
    for _ in range(12):
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=ROW)
    for _ in range(3):
        with pytest.raises(ClientError):
            runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=b"x,y\n")
    control(running_sandbox.url, "flush-metrics")
    return name


def test_model_latency_is_in_microseconds(running_sandbox: SandboxServer, endpoint: str) -> None:
    (median,) = variant_metric(running_sandbox.url, endpoint, "v0", "ModelLatency", "p50")
    (slowest,) = variant_metric(running_sandbox.url, endpoint, "v0", "ModelLatency", "Maximum")
    # A one-row logistic regression takes tens to hundreds of microseconds, not 0.0001 (s)
    # nor 0.1 (ms); the whole request stays well under a second.
    assert 5 <= median <= 50_000
    assert median <= slowest < 1_000_000
    (overhead,) = variant_metric(running_sandbox.url, endpoint, "v0", "OverheadLatency", "p50")
    assert 1 <= overhead < 1_000_000


def test_model_errors_count_as_4xx_with_a_rate_as_average(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    def stat(metric: str, statistic: str) -> float:
        return sum(variant_metric(running_sandbox.url, endpoint, "v0", metric, statistic))

    assert stat("Invocations", "Sum") == 15
    assert stat("Invocation4XXErrors", "Sum") == 3
    assert stat("Invocation4XXErrors", "Average") == pytest.approx(0.2)
    assert stat("InvocationModelErrors", "Sum") == 3
    assert stat("Invocation5XXErrors", "Sum") == 0
    assert stat("InvocationsPerInstance", "Sum") == 15
    # Rejected rows never produced a prediction, but the model did look at them.
    assert stat("ModelLatency", "SampleCount") == 15


def test_the_unrouted_variant_publishes_no_invocations(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    assert variant_metric(running_sandbox.url, endpoint, "v1", "Invocations", "Sum") == []


def test_metrics_are_listed_with_endpoint_and_variant_dimensions(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    listed = aws_client(running_sandbox.url, "cloudwatch", TRAFFIC_REGION).list_metrics(
        Namespace="AWS/SageMaker",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}],
    )["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert names == {
        "Invocations",
        "InvocationsPerInstance",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
        "InvocationModelErrors",
        "ModelLatency",
        "OverheadLatency",
    }
    assert all(
        {d["Name"] for d in m["Dimensions"]} == {"EndpointName", "VariantName"} for m in listed
    )


def test_demo_endpoints_have_a_day_of_history(running_sandbox: SandboxServer) -> None:
    """Read-only: the seed's backfill gives the charts 24 hourly points with a daily shape."""
    now = datetime.now(UTC)
    cloudwatch = aws_client(running_sandbox.url, "cloudwatch", "us-east-1")
    dimensions = [
        {"Name": "EndpointName", "Value": "fraud-detection"},
        {"Name": "VariantName", "Value": "xgb-m5"},
    ]

    def query(query_id: str, namespace: str, metric: str, stat: str) -> dict:
        return {
            "Id": query_id,
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
                "Period": 3600,
                "Stat": stat,
            },
        }

    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            query("calls", "AWS/SageMaker", "Invocations", "Sum"),
            query("p99", "AWS/SageMaker", "ModelLatency", "p99"),
            query("cpu", "/aws/sagemaker/Endpoints", "CPUUtilization", "Average"),
        ],
        StartTime=now - timedelta(hours=24) + timedelta(minutes=2),
        EndTime=now - timedelta(minutes=5),
        ScanBy="TimestampAscending",
    )
    calls, p99, cpu = (r["Values"] for r in answer["MetricDataResults"])
    assert len(calls) == 24
    assert max(calls) > 1.5 * min(calls) > 0  # busy afternoons, quiet nights
    assert all(0 < latency < 500_000 for latency in p99)
    # Summed over the 4 vCPUs of an ml.m5.xlarge: idle plus load, far from saturated.
    assert all(4 <= level <= 100 for level in cpu)


def test_cpu_follows_load_and_is_published_every_minute_even_idle() -> None:
    """The publisher alone, on a clock the test moves: one busy minute, then an idle one."""
    clock = FakeClock(1_800_000_000.0)
    endpoints = EndpointStore(Timings(0.0), clock=clock)
    variant = VariantState("A", "m", "ml.m5.xlarge", 1.0, 2, None)
    endpoints.add(
        EndpointRecord(
            "123456789012",
            "us-east-1",
            "busy",
            "arn",
            "cfg",
            [variant],
            None,
            clock(),
            clock(),
            EndpointStatus.CREATING,
            transition_at=clock(),
            transition_to=EndpointStatus.IN_SERVICE,
        )
    )
    store = MetricStore()
    publisher = EndpointMetrics(store, endpoints, clock=clock)
    publisher.flush()  # first sighting: utilization starts with the next full minute
    busy_minute = int(clock() // 60) * 60
    live = endpoints.get("123456789012", "us-east-1", "busy")
    assert live is not None
    for _ in range(3000):
        publisher.record(
            "123456789012", "us-east-1", "busy", live.variants[0], Outcome("ok", False, 20_000, 500)
        )
    clock.now += 120
    assert publisher.flush() == 3  # one invocation put, two utilization puts (two minutes)

    def cpu(minute: int) -> float:
        key = SeriesKey(
            "123456789012",
            "us-east-1",
            "/aws/sagemaker/Endpoints",
            "CPUUtilization",
            (("EndpointName", "busy"), ("VariantName", "A")),
        )
        (aggregate,) = store.aggregate(key, minute, minute + 60, 60)
        value = aggregate.bucket.statistic("Average")
        assert value is not None
        return value

    assert cpu(busy_minute) > 5 * cpu(busy_minute + 60) > 0
    assert cpu(busy_minute) <= 400  # 4 vCPUs, summed
