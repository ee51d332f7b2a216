"""CloudWatch's metric API as AWS answers it: percentiles, validation, paging and math."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer
from sandbox.testing import aws_client, unique
from tests.world import TRAFFIC_REGION

BASE = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)


@pytest.fixture
def cloudwatch(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "cloudwatch", TRAFFIC_REGION)


@pytest.fixture
def namespace() -> Iterator[str]:
    yield unique("Tests/Latency")


def stat_query(query_id: str, namespace: str, metric: str, stat: str, period: int = 60) -> dict:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric},
            "Period": period,
            "Stat": stat,
        },
    }


def test_percentiles_come_from_values_and_counts(cloudwatch: Any, namespace: str) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Latency",
                "Timestamp": BASE,
                "Values": [float(v) for v in range(1, 101)],
                "Counts": [1.0] * 100,
                "Unit": "Microseconds",
            }
        ],
    )
    stats = ["Sum", "Average", "SampleCount", "Minimum", "Maximum", "p50", "p90", "p99"]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            stat_query(f"q{i}", namespace, "Latency", stat) for i, stat in enumerate(stats)
        ],
        StartTime=BASE,
        EndTime=BASE + timedelta(minutes=1),
    )
    values = {stats[int(r["Id"][1:])]: r["Values"] for r in answer["MetricDataResults"]}
    assert values == {
        "Sum": [5050.0],
        "Average": [50.5],
        "SampleCount": [100.0],
        "Minimum": [1.0],
        "Maximum": [100.0],
        "p50": [50.0],
        "p90": [90.0],
        "p99": [99.0],
    }
    assert all(r["StatusCode"] == "Complete" for r in answer["MetricDataResults"])
    assert answer["MetricDataResults"][0]["Label"] == "Latency"


def test_a_statistic_set_gives_sums_but_no_percentile(cloudwatch: Any, namespace: str) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Batch",
                "Timestamp": BASE,
                "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4},
            }
        ],
    )
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            stat_query("total", namespace, "Batch", "Sum"),
            stat_query("tail", namespace, "Batch", "p99"),
        ],
        StartTime=BASE,
        EndTime=BASE + timedelta(minutes=1),
    )
    total, tail = answer["MetricDataResults"]
    assert total["Values"] == [10.0]
    assert tail["Values"] == []


def test_start_is_inclusive_end_exclusive_and_scan_order_is_honoured(
    cloudwatch: Any, namespace: str
) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Ticks", "Timestamp": BASE + timedelta(minutes=m), "Value": float(m)}
            for m in range(4)
        ],
    )

    def read(scan_by: str) -> dict:
        return cloudwatch.get_metric_data(
            MetricDataQueries=[{**stat_query("t", namespace, "Ticks", "Sum"), "Label": "ticks"}],
            StartTime=BASE + timedelta(minutes=1),
            EndTime=BASE + timedelta(minutes=3),
            ScanBy=scan_by,
        )["MetricDataResults"][0]

    ascending = read("TimestampAscending")
    assert ascending["Values"] == [1.0, 2.0]
    assert ascending["Timestamps"] == [BASE + timedelta(minutes=1), BASE + timedelta(minutes=2)]
    assert ascending["Label"] == "ticks"
    assert read("TimestampDescending")["Values"] == [2.0, 1.0]


def test_more_datapoints_than_max_come_in_pages(cloudwatch: Any, namespace: str) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Ticks", "Timestamp": BASE + timedelta(minutes=m), "Value": float(m)}
            for m in range(10)
        ],
    )
    request = {
        "MetricDataQueries": [stat_query("t", namespace, "Ticks", "Sum")],
        "StartTime": BASE,
        "EndTime": BASE + timedelta(minutes=10),
        "ScanBy": "TimestampAscending",
        "MaxDatapoints": 4,
    }
    first = cloudwatch.get_metric_data(**request)
    assert first["MetricDataResults"][0]["StatusCode"] == "PartialData"
    assert first["MetricDataResults"][0]["Values"] == [0.0, 1.0, 2.0, 3.0]
    values = []
    for page in cloudwatch.get_paginator("get_metric_data").paginate(**request):
        values += page["MetricDataResults"][0]["Values"]
    assert values == [float(m) for m in range(10)]


def test_query_ids_must_start_lowercase(cloudwatch: Any, namespace: str) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_data(
            MetricDataQueries=[stat_query("Invocations", namespace, "Ticks", "Sum")],
            StartTime=BASE,
            EndTime=BASE + timedelta(minutes=1),
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "Invocations" in raised.value.response["Error"]["Message"]


def test_more_than_500_queries_are_refused(cloudwatch: Any, namespace: str) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_data(
            MetricDataQueries=[stat_query(f"q{i}", namespace, "Ticks", "Sum") for i in range(501)],
            StartTime=BASE,
            EndTime=BASE + timedelta(minutes=1),
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "500" in raised.value.response["Error"]["Message"]


def test_period_must_be_a_multiple_of_60(cloudwatch: Any, namespace: str) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.get_metric_data(
            MetricDataQueries=[stat_query("t", namespace, "Ticks", "Sum", period=90)],
            StartTime=BASE,
            EndTime=BASE + timedelta(minutes=3),
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_metric_math_combines_hidden_queries(cloudwatch: Any, namespace: str) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Errors", "Timestamp": BASE, "Value": 3.0},
            {"MetricName": "Calls", "Timestamp": BASE, "Value": 60.0},
        ],
    )
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {**stat_query("errors", namespace, "Errors", "Sum"), "ReturnData": False},
            {**stat_query("calls", namespace, "Calls", "Sum"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * errors / calls", "Label": "Error %"},
            {"Id": "everything", "Expression": "SUM(METRICS())"},
        ],
        StartTime=BASE,
        EndTime=BASE + timedelta(minutes=1),
    )
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    assert set(results) == {"rate", "everything"}
    assert results["rate"]["Values"] == [5.0]
    assert results["rate"]["Label"] == "Error %"
    assert results["everything"]["Values"] == [63.0]


def test_aws_namespaces_are_reserved_for_aws(cloudwatch: Any) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_data(
            Namespace="AWS/SageMaker", MetricData=[{"MetricName": "Invocations", "Value": 1.0}]
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_large_compressed_put_is_accepted(cloudwatch: Any, namespace: str) -> None:
    """botocore gzips PutMetricData bodies from 10 KB up."""
    data = [
        {
            "MetricName": "Wide",
            "Dimensions": [{"Name": "Shard", "Value": f"shard-{i:03d}"}],
            "Timestamp": BASE,
            "Values": [float(v) for v in range(50)],
        }
        for i in range(40)
    ]
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)
    listed = cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace)
    assert sum(len(page["Metrics"]) for page in listed) == 40


def test_get_metric_statistics_gives_extended_statistics(cloudwatch: Any, namespace: str) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": "Latency", "Timestamp": BASE, "Values": [10.0, 20.0, 1000.0]},
        ],
    )
    answer = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="Latency",
        StartTime=BASE,
        EndTime=BASE + timedelta(minutes=5),
        Period=300,
        Statistics=["Average"],
        ExtendedStatistics=["p50", "p99"],
    )
    (point,) = answer["Datapoints"]
    assert point["Average"] == pytest.approx(343.333, rel=1e-3)
    assert point["ExtendedStatistics"] == {"p50": 20.0, "p99": 1000.0}
