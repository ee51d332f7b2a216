"""CloudWatch alarms change state on the sandbox's metrics, and remember how they did."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed import put_endpoint_alarms
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, live_endpoint, unique
from tests.world import TRAFFIC_REGION, runtime_client, upload_tumor_model

ROW = rows_to_csv(holdout_rows("tumor")[:1])


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)


@pytest.fixture
def cloudwatch(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "cloudwatch", TRAFFIC_REGION)


@pytest.fixture
def watched(running_sandbox: SandboxServer, model: str, cloudwatch: Any) -> str:
    """An endpoint with the demo world's two alarms, evaluated once (no traffic yet: OK)."""
    name = live_endpoint(running_sandbox.url, model, weights=(1.0, 0.0))
    put_endpoint_alarms(cloudwatch, name, "v0")
    control(running_sandbox.url, "evaluate-alarms")
    yield name
    control(running_sandbox.url, f"faults?endpoint={name}", method="DELETE")


def _alarm(cloudwatch: Any, name: str) -> dict:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


def _invoke(url: str, endpoint: str, count: int) -> None:
    runtime = runtime_client(url)

    def call(_: int) -> None:
        with contextlib.suppress(ClientError):  # failures are the point of a fault
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(call, range(count)))


def test_new_alarms_start_insufficient_then_quiet_traffic_is_ok(
    running_sandbox: SandboxServer, model: str, cloudwatch: Any
) -> None:
    name = live_endpoint(running_sandbox.url, model, weights=(1.0,))
    put_endpoint_alarms(cloudwatch, name, "v0")
    fresh = _alarm(cloudwatch, f"{name}-5xx-rate")
    assert (fresh["StateValue"], fresh["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    control(running_sandbox.url, "evaluate-alarms")
    quiet = _alarm(cloudwatch, f"{name}-5xx-rate")
    assert quiet["StateValue"] == "OK"
    assert "treated as [NonBreaching]" in quiet["StateReason"]


def test_injected_errors_drive_the_5xx_alarm_to_alarm_with_history(
    running_sandbox: SandboxServer, watched: str, cloudwatch: Any
) -> None:
    alarm_name = f"{watched}-5xx-rate"
    assert _alarm(cloudwatch, alarm_name)["StateValue"] == "OK"
    control(running_sandbox.url, "faults", body={"endpoint": watched, "error_rate": 0.5})
    _invoke(running_sandbox.url, watched, 40)
    status, evaluated = control(running_sandbox.url, "evaluate-alarms")
    assert status == 200

    alarm = _alarm(cloudwatch, alarm_name)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
    assert alarm["StateReason"].endswith(
        "was greater than the threshold (0.05) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    reason_data = json.loads(alarm["StateReasonData"])
    assert reason_data["statistic"] == "Average"
    assert reason_data["threshold"] == 0.05
    assert reason_data["recentDatapoints"][0] > 0.05
    assert alarm["StateTransitionedTimestamp"] == alarm["StateUpdatedTimestamp"]

    history = cloudwatch.describe_alarm_history(
        AlarmName=alarm_name, HistoryItemType="StateUpdate"
    )["AlarmHistoryItems"]
    newest = history[0]
    assert newest["HistorySummary"] == "Alarm updated from OK to ALARM"
    data = json.loads(newest["HistoryData"])
    assert data["oldState"]["stateValue"] == "OK"
    assert data["newState"]["stateValue"] == "ALARM"
    assert data["newState"]["stateReason"] == alarm["StateReason"]
    assert [h["HistorySummary"] for h in history[1:]] == [
        "Alarm updated from INSUFFICIENT_DATA to OK"
    ]
    # The latency alarm of the same endpoint saw nothing slow.
    assert _alarm(cloudwatch, f"{watched}-model-latency-p99")["StateValue"] == "OK"


def test_added_latency_drives_the_p99_alarm(
    running_sandbox: SandboxServer, watched: str, cloudwatch: Any
) -> None:
    control(running_sandbox.url, "faults", body={"endpoint": watched, "latency_ms": 600})
    _invoke(running_sandbox.url, watched, 4)
    control(running_sandbox.url, "evaluate-alarms")
    alarm = _alarm(cloudwatch, f"{watched}-model-latency-p99")
    assert alarm["StateValue"] == "ALARM"
    assert "(500000.0)" in alarm["StateReason"]
    assert json.loads(alarm["StateReasonData"])["extendedStatistic"] == "p99"
    assert _alarm(cloudwatch, f"{watched}-5xx-rate")["StateValue"] == "OK"


def test_a_state_set_by_hand_is_corrected_by_the_next_evaluation(
    running_sandbox: SandboxServer, watched: str, cloudwatch: Any
) -> None:
    alarm_name = f"{watched}-5xx-rate"
    cloudwatch.set_alarm_state(
        AlarmName=alarm_name, StateValue="ALARM", StateReason="Testing the pager"
    )
    control(running_sandbox.url, "evaluate-alarms")
    assert _alarm(cloudwatch, alarm_name)["StateValue"] == "OK"
    summaries = [
        h["HistorySummary"]
        for h in cloudwatch.describe_alarm_history(
            AlarmName=alarm_name, HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
        )["AlarmHistoryItems"]
    ]
    assert summaries == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]


def test_alarm_history_pages_and_records_configuration_changes(
    running_sandbox: SandboxServer, watched: str, cloudwatch: Any
) -> None:
    alarm_name = f"{watched}-5xx-rate"
    for reason in ("one", "two", "three"):
        cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason=reason)
        cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="OK", StateReason=reason)
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        AlarmName=alarm_name, PaginationConfig={"PageSize": 2}
    )
    items = [item for page in pages for item in page["AlarmHistoryItems"]]
    stamps = [item["Timestamp"] for item in items]
    assert stamps == sorted(stamps, reverse=True)
    assert len(items) == 1 + 1 + 6  # created, first evaluation, six state changes
    assert items[-1]["HistoryItemType"] == "ConfigurationUpdate"
    assert items[-1]["HistorySummary"] == f'Alarm "{alarm_name}" created'

    cloudwatch.delete_alarms(AlarmNames=[alarm_name])
    deleted = cloudwatch.describe_alarm_history(
        AlarmName=alarm_name, HistoryItemType="ConfigurationUpdate"
    )["AlarmHistoryItems"][0]
    assert deleted["HistorySummary"] == f'Alarm "{alarm_name}" deleted'


def test_an_updated_alarm_keeps_its_state(
    running_sandbox: SandboxServer, watched: str, cloudwatch: Any
) -> None:
    alarm_name = f"{watched}-5xx-rate"
    cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason="paged")
    put_endpoint_alarms(cloudwatch, watched, "v0")
    assert _alarm(cloudwatch, alarm_name)["StateValue"] == "ALARM"
    newest = cloudwatch.describe_alarm_history(
        AlarmName=alarm_name, HistoryItemType="ConfigurationUpdate"
    )["AlarmHistoryItems"][0]
    assert newest["HistorySummary"] == f'Alarm "{alarm_name}" updated'


def test_put_metric_alarm_refuses_what_aws_refuses(cloudwatch: Any) -> None:
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_alarm(
            AlarmName=unique("bad"),
            Namespace="AWS/SageMaker",
            MetricName="ModelLatency",
            Statistic="Average",
            ExtendedStatistic="p99",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    assert raised.value.response["Error"]["Code"] == "InvalidParameterCombination"
    with pytest.raises(ClientError) as raised:
        cloudwatch.put_metric_alarm(
            AlarmName=unique("bad"),
            Namespace="AWS/SageMaker",
            MetricName="ModelLatency",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=2,
            DatapointsToAlarm=3,
            Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold",
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_demo_world_alarms_watch_the_busiest_variant_and_start_ok(
    running_sandbox: SandboxServer,
) -> None:
    """Read-only: every serving demo endpoint has both alarms, judged OK on the backfill.

    Other tests may fire a demo alarm later, so the first state change is what is checked.
    """
    expected = {
        ("us-east-1", "fraud-detection", "xgb-m5"),
        ("us-east-1", "tumor-classifier", "A"),
        ("us-east-1", "churn-serverless", "AllTraffic"),
        ("eu-west-1", "iris-classifier", "AllTraffic"),
    }
    demo = {endpoint for _, endpoint, _ in expected} | {"sentiment-legacy"}
    found = set()
    for region in ("us-east-1", "eu-west-1"):
        cloudwatch = aws_client(running_sandbox.url, "cloudwatch", region)
        for alarm in cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]:
            dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            endpoint = dimensions.get("EndpointName")
            if endpoint not in demo:
                continue  # another test's endpoint
            if alarm["AlarmName"].startswith("TargetTracking-"):
                continue  # auto scaling's own (tests/test_autoscaling.py)
            assert alarm["AlarmName"] in (f"{endpoint}-5xx-rate", f"{endpoint}-model-latency-p99")
            first_change = cloudwatch.describe_alarm_history(
                AlarmName=alarm["AlarmName"],
                HistoryItemType="StateUpdate",
                ScanBy="TimestampAscending",
                MaxRecords=1,
            )["AlarmHistoryItems"][0]
            assert first_change["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to OK"
            found.add((region, endpoint, dimensions["VariantName"]))
    assert found == expected
