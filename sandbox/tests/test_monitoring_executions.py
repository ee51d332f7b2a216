"""Model Monitor executions really check captured traffic against the baseline.

Traffic goes through the sandbox's front door with the traffic generator's rows (so an
injected drift fault shifts what data capture records), capture is flushed, and
``POST /_sandbox/run-monitoring`` runs the schedule's execution at once; the verdict, the
report files in S3, the processing job and the CloudWatch metrics are then read back through
the AWS API. Each test monitors an endpoint of its own, so windows never share traffic.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from sandbox.endpoints import EndpointStore
from sandbox.faults import Fault, FaultStore
from sandbox.models import holdout
from sandbox.monitor import METRICS_NAMESPACE, NO_DATA, ModelMonitor, MonitorStore, ScheduleClock
from sandbox.seed import (
    MONITORED_ENDPOINT,
    MONITORING_SCHEDULE,
    REPORTS_PREFIX,
    bucket_name,
    ensure_bucket,
    upload_tumor_baseline,
)
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, unique
from sandbox.traffic import TrafficGenerator
from tests.test_monitoring_schedules import (
    MONITOR_REGION,
    FakeClock,
    capturing_endpoint,
    schedule_config,
)
from tests.world import runtime_client, upload_tumor_model

# One pass over the held-out rows, which the traffic generator replays without repeats: the
# window then has the held-out distribution (a stable verdict), sent in a second or two.
REQUESTS = len(holdout("tumor").features)
DRIFTED = "mean_radius"
BUCKET = bucket_name(MONITOR_REGION)
_REPORT = re.compile(
    rf"^s3://{BUCKET}/monitoring/reports/(?P<endpoint>[^/]+)/(?P<schedule>[^/]+)/"
    r"\d{4}/\d{2}/\d{2}/\d{2}$"
)


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    ensure_bucket(aws_client(running_sandbox.url, "s3", MONITOR_REGION), MONITOR_REGION)
    return upload_tumor_model(running_sandbox.url, MONITOR_REGION)


@pytest.fixture(scope="module")
def baseline(running_sandbox: SandboxServer, model: str) -> str:
    """The tumor model's baseline (the demo's), uploaded to this region's bucket."""
    return upload_tumor_baseline(
        aws_client(running_sandbox.url, "s3", MONITOR_REGION), MONITOR_REGION
    )


@pytest.fixture
def monitored(
    running_sandbox: SandboxServer, model: str, baseline: str
) -> Callable[..., tuple[str, str]]:
    """``monitored(**schedule options)``: a new capturing endpoint and its hourly schedule."""

    def make(**options: Any) -> tuple[str, str]:
        endpoint = capturing_endpoint(running_sandbox.url, model)
        name = unique("dq")
        options.setdefault("baseline", baseline)
        aws_client(running_sandbox.url, "sagemaker", MONITOR_REGION).create_monitoring_schedule(
            MonitoringScheduleName=name,
            MonitoringScheduleConfig=schedule_config(endpoint, **options),
        )
        return endpoint, name

    return make


@pytest.fixture(scope="module")
def sagemaker(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "sagemaker", MONITOR_REGION)


def send_traffic(server: SandboxServer, endpoint: str, count: int = REQUESTS) -> None:
    """Invoke with the traffic generator's rows, shifted by whatever drift fault is set."""
    generator = TrafficGenerator(server.url, server.state.endpoints, server.state.faults, 1.0)
    runtime = runtime_client(server.url, MONITOR_REGION)
    for _ in range(count):
        runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="text/csv",
            Body=generator.body_for(MONITOR_REGION, endpoint, "tumor").encode(),
        )
    control(server.url, "flush-capture")


def run_monitoring(url: str, schedule: str) -> dict[str, Any]:
    status, answer = control(
        url, "run-monitoring", body={"schedule": schedule, "region": MONITOR_REGION}
    )
    assert status == 200, answer
    (execution,) = answer["executions"]
    return dict(execution)


def report(url: str, execution: dict[str, Any], file_name: str) -> dict[str, Any]:
    key = f"{execution['ReportUri'].removeprefix(f's3://{BUCKET}/')}/{file_name}"
    body = aws_client(url, "s3", MONITOR_REGION).get_object(Bucket=BUCKET, Key=key)["Body"]
    return dict(json.loads(body.read()))


def data_metrics(url: str, endpoint: str, schedule: str) -> dict[str, float]:
    """Every data-quality metric of the schedule: its latest value in the last two hours."""
    cloudwatch = aws_client(url, "cloudwatch", MONITOR_REGION)
    listed = cloudwatch.list_metrics(
        Namespace=METRICS_NAMESPACE,
        Dimensions=[
            {"Name": "Endpoint", "Value": endpoint},
            {"Name": "MonitoringSchedule", "Value": schedule},
        ],
    )["Metrics"]
    if not listed:
        return {}
    now = datetime.now(UTC)
    queries = [
        {
            "Id": f"m{index}",
            "Label": metric["MetricName"],
            "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Maximum"},
        }
        for index, metric in enumerate(listed)
    ]
    values: dict[str, float] = {}
    for start in range(0, len(queries), 500):
        answer = cloudwatch.get_metric_data(
            MetricDataQueries=queries[start : start + 500],
            StartTime=now - timedelta(hours=2),
            EndTime=now + timedelta(minutes=1),
        )
        for result in answer["MetricDataResults"]:
            if result["Values"]:
                values[result["Label"]] = float(result["Values"][0])
    return values


# --- The verdicts ----------------------------------------------------------------------------


def test_drift_on_one_feature_is_a_baseline_drift_violation_for_that_feature_only(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]], sagemaker: Any
) -> None:
    url = running_sandbox.url
    endpoint, schedule = monitored()
    status, answer = control(
        url,
        "faults",
        body={
            "endpoint": endpoint,
            "region": MONITOR_REGION,
            "drift": 3.0,
            "features": ["mean radius"],
        },
    )
    assert status == 200 and answer["fault"]["features"] == [DRIFTED], answer
    try:
        send_traffic(running_sandbox, endpoint)
    finally:
        control(url, "faults", body={"clear": True, "endpoint": endpoint})
    execution = run_monitoring(url, schedule)

    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations"
    violations = report(url, execution, "constraint_violations.json")["violations"]
    assert {(v["feature_name"], v["constraint_check_type"]) for v in violations} == {
        (DRIFTED, "baseline_drift_check")
    }
    statistics = report(url, execution, "statistics.json")
    assert statistics["dataset"]["item_count"] == REQUESTS

    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobName"])
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["ExitMessage"].startswith("CompletedWithViolations")
    assert job["ProcessingJobArn"] == execution["ProcessingJobArn"]
    (output,) = job["ProcessingOutputConfig"]["Outputs"]
    match = _REPORT.match(output["S3Output"]["S3Uri"])
    assert match is not None, output
    assert (match["endpoint"], match["schedule"]) == (endpoint, schedule)
    assert job["Environment"]["sagemaker_monitoring_schedule_name"] == schedule

    metrics = data_metrics(url, endpoint, schedule)
    assert metrics[f"feature_data_{DRIFTED}"] == 1.0
    assert metrics[f"feature_non_null_{DRIFTED}"] == REQUESTS
    drifts = {
        name.removeprefix("feature_baseline_drift_"): value
        for name, value in metrics.items()
        if name.startswith("feature_baseline_drift_")
    }
    assert len(drifts) == 30
    assert max(drifts, key=lambda feature: drifts[feature]) == DRIFTED


def test_undrifted_traffic_completes_without_violations(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]], sagemaker: Any
) -> None:
    url = running_sandbox.url
    endpoint, schedule = monitored()
    send_traffic(running_sandbox, endpoint)
    execution = run_monitoring(url, schedule)
    assert execution["MonitoringExecutionStatus"] == "Completed", execution
    assert report(url, execution, "constraint_violations.json") == {"violations": []}
    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobName"])
    assert (job["ProcessingJobStatus"], job["ExitMessage"]) == (
        "Completed",
        "Completed: Job completed successfully with no violations.",
    )
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=schedule)
    last = described["LastMonitoringExecutionSummary"]
    assert last["ProcessingJobArn"] == execution["ProcessingJobArn"]
    assert last["MonitoringExecutionStatus"] == "Completed"
    assert last["EndpointName"] == endpoint


def test_a_window_without_captured_data_fails_as_aws_does(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]], sagemaker: Any
) -> None:
    _endpoint, schedule = monitored()
    execution = run_monitoring(running_sandbox.url, schedule)
    assert execution["MonitoringExecutionStatus"] == "Failed"
    assert execution["FailureReason"] == NO_DATA
    job = sagemaker.describe_processing_job(ProcessingJobName=execution["ProcessingJobName"])
    assert (job["ProcessingJobStatus"], job["FailureReason"]) == ("Failed", NO_DATA)
    assert job["ProcessingEndTime"] >= job["ProcessingStartTime"] >= job["CreationTime"]


def test_a_missing_baseline_fails_the_execution_with_its_location(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]]
) -> None:
    missing = f"s3://{BUCKET}/monitoring/{unique('nothing')}"
    endpoint, schedule = monitored(baseline=missing)
    send_traffic(running_sandbox, endpoint, 5)
    execution = run_monitoring(running_sandbox.url, schedule)
    assert execution["MonitoringExecutionStatus"] == "Failed"
    assert f"{missing}/statistics.json" in execution["FailureReason"]


def test_without_a_baseline_the_data_is_only_profiled(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]]
) -> None:
    endpoint, schedule = monitored(baseline=None)
    send_traffic(running_sandbox, endpoint, 10)
    execution = run_monitoring(running_sandbox.url, schedule)
    assert execution["MonitoringExecutionStatus"] == "Completed"
    assert report(running_sandbox.url, execution, "statistics.json")["dataset"]["item_count"] == 10
    metrics = data_metrics(running_sandbox.url, endpoint, schedule)
    assert metrics["feature_non_null__c0"] == 10
    assert not [name for name in metrics if name.startswith("feature_baseline_drift_")]


def test_metrics_are_not_published_when_disabled(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]]
) -> None:
    endpoint, schedule = monitored(environment={"publish_cloudwatch_metrics": "Disabled"})
    send_traffic(running_sandbox, endpoint, 10)
    execution = run_monitoring(running_sandbox.url, schedule)
    # Ten rows say little about drift; what matters is that the analysis ran.
    assert execution["MonitoringExecutionStatus"] in ("Completed", "CompletedWithViolations")
    assert data_metrics(running_sandbox.url, endpoint, schedule) == {}


def test_a_sped_up_clock_reads_only_the_last_3600_over_speed_real_seconds(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]]
) -> None:
    """At speed 30 an hourly execution reads the last two real minutes of capture, no more
    (two minutes, so a slow machine still sends all 20 requests inside the window)."""
    endpoint, name = monitored()
    started = time.time()
    send_traffic(running_sandbox, endpoint, 20)
    sent = time.time()
    assert sent - started < 110, "sending 20 requests took longer than the window"
    state = running_sandbox.state
    real = FakeClock(sent - 600.0)
    fast = MonitorStore(ScheduleClock(30.0, real))
    schedule = state.monitors.get("123456789012", MONITOR_REGION, name)
    assert schedule is not None
    fast.add(dataclasses.replace(schedule))
    monitor = ModelMonitor(fast, state.endpoints, state.capture, state.metrics)
    real.now = sent + 1.0
    (recent,) = monitor.run_now(name=name)
    real.now = sent + 180.0
    (later,) = monitor.run_now(name=name)
    # It ran on the window's data (20 rows are too few for a stable drift verdict, so
    # Completed and CompletedWithViolations are both right here).
    assert recent.status.value in ("Completed", "CompletedWithViolations")
    assert (
        report(running_sandbox.url, {"ReportUri": recent.report_uri}, "statistics.json")["dataset"][
            "item_count"
        ]
        == 20
    )
    assert (later.status.value, later.failure_reason) == ("Failed", NO_DATA)
    # ScheduledTime is the wall clock's, never in the future, while each report keeps
    # AWS's hour-folder layout on the fast clock (so every run's folder is its own).
    assert recent.scheduled_time == pytest.approx(sent + 1.0)
    assert later.scheduled_time == pytest.approx(sent + 180.0)
    fast_hour = datetime.fromtimestamp(fast.clock.now(), tz=UTC).strftime("%Y/%m/%d/%H")
    assert later.report_uri.rstrip("/").endswith(fast_hour)
    assert recent.report_uri != later.report_uri


# --- Listing executions and the run hook -----------------------------------------------------


def test_executions_are_listed_filtered_and_paged(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]], sagemaker: Any
) -> None:
    endpoint, schedule = monitored()
    before = datetime.now(UTC) - timedelta(seconds=1)
    runs = [run_monitoring(running_sandbox.url, schedule) for _ in range(3)]
    arns = [run["ProcessingJobArn"] for run in runs]

    def listed(**filters: Any) -> list[dict[str, Any]]:
        """Only this test's runs: the scheduler may add one if an hour turns meanwhile."""
        answer = sagemaker.list_monitoring_executions(MaxResults=100, **filters)
        return [e for e in answer["MonitoringExecutionSummaries"] if e["ProcessingJobArn"] in arns]

    mine = listed(MonitoringScheduleName=schedule, ScheduledTimeAfter=before)
    assert [e["ProcessingJobArn"] for e in mine] == list(reversed(arns))
    assert set(mine[0]) >= {
        "MonitoringScheduleName",
        "ScheduledTime",
        "CreationTime",
        "LastModifiedTime",
        "MonitoringExecutionStatus",
        "ProcessingJobArn",
        "EndpointName",
        "FailureReason",
        "MonitoringType",
    }
    failed = listed(EndpointName=endpoint, StatusEquals="Failed", SortOrder="Ascending")
    assert [e["ProcessingJobArn"] for e in failed] == arns
    assert listed(MonitoringScheduleName=schedule, StatusEquals="Completed") == []
    assert listed(MonitoringScheduleName=schedule, ScheduledTimeBefore=before) == []
    pages = sagemaker.get_paginator("list_monitoring_executions").paginate(
        MonitoringScheduleName=schedule,
        ScheduledTimeAfter=before,
        SortBy="ScheduledTime",
        SortOrder="Ascending",
        PaginationConfig={"PageSize": 2},
    )
    seen = [[e["ProcessingJobArn"] for e in page["MonitoringExecutionSummaries"]] for page in pages]
    assert seen[:2] == [arns[:2], arns[2:]]


def test_the_run_hook_refuses_unknown_and_stopped_schedules(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]], sagemaker: Any
) -> None:
    url = running_sandbox.url
    status, answer = control(url, "run-monitoring", body={"schedule": "no-such-schedule"})
    assert status == 404 and "no-such-schedule" in answer["message"]
    _endpoint, schedule = monitored()
    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=schedule)
    status, answer = control(url, "run-monitoring", body={"schedule": schedule})
    assert status == 409 and "Stopped" in answer["message"]
    status, answer = control(url, "run-monitoring", body={"schedule": schedule, "when": "now"})
    assert status == 400 and "when" in answer["message"]


def test_deleting_a_schedule_keeps_its_execution_history(
    running_sandbox: SandboxServer, monitored: Callable[..., tuple[str, str]], sagemaker: Any
) -> None:
    _endpoint, schedule = monitored()
    execution = run_monitoring(running_sandbox.url, schedule)
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=schedule)
    listed = sagemaker.list_monitoring_executions(MonitoringScheduleName=schedule)
    summaries = listed["MonitoringExecutionSummaries"]
    assert [e["ProcessingJobArn"] for e in summaries] == [execution["ProcessingJobArn"]]


# --- Per-feature drift -----------------------------------------------------------------------


def test_a_drift_fault_on_one_feature_shifts_only_that_column() -> None:
    faults = FaultStore()
    generator = TrafficGenerator("http://127.0.0.1:9", EndpointStore(), faults, rate=1.0)
    data = holdout("tumor")
    column = data.feature_names.index(DRIFTED)

    def mean_sent() -> np.ndarray:
        rows = [
            [float(v) for v in generator.body_for("us-east-1", "drifty", "tumor").split(",")]
            for _ in range(400)
        ]
        return np.mean(rows, axis=0)

    before = mean_sent()
    faults.put(Fault(endpoint="drifty", drift=3.0, features=(DRIFTED,)))
    shift = (mean_sent() - before) / data.features.std(axis=0)
    assert shift[column] == pytest.approx(3.0, abs=0.6)
    assert np.abs(np.delete(shift, column)).max() < 0.6


def test_drift_features_are_checked_against_the_model(
    running_sandbox: SandboxServer, model: str
) -> None:
    url = running_sandbox.url
    endpoint = capturing_endpoint(url, model)
    status, answer = control(
        url, "faults", body={"endpoint": endpoint, "drift": 2.0, "features": ["mean radios"]}
    )
    assert status == 400
    assert "'mean radios'" in answer["message"] and "mean_radius" in answer["message"]
    status, answer = control(url, "faults", body={"endpoint": endpoint, "features": [DRIFTED]})
    assert status == 400 and "drift" in answer["message"]
    status, answer = control(
        url, "faults", body={"endpoint": endpoint, "drift": 2.0, "features": "mean_radius"}
    )
    assert status == 400 and "list" in answer["message"]
    status, answer = control(
        url, "faults", body={"endpoint": endpoint, "drift": 2.0, "features": ["Mean Radius"]}
    )
    assert status == 200 and answer["fault"]["features"] == [DRIFTED]
    control(url, "faults", body={"clear": True, "endpoint": endpoint})


# --- The demo world ------------------------------------------------------------------------


def test_the_demo_schedule_shows_a_day_of_history(
    running_sandbox: SandboxServer, aws: Callable[..., Any]
) -> None:
    sagemaker = aws("sagemaker")
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=MONITORING_SCHEDULE)
    assert described["EndpointName"] == MONITORED_ENDPOINT
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    config = described["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"
    assert "LastMonitoringExecutionSummary" in described
    executions = [
        e
        for page in sagemaker.get_paginator("list_monitoring_executions").paginate(
            MonitoringScheduleName=MONITORING_SCHEDULE
        )
        for e in page["MonitoringExecutionSummaries"]
    ]
    # The seeded day comes first; live hours (no traffic in tests: no data) may follow.
    seeded = sorted(executions, key=lambda e: e["ScheduledTime"])[:24]
    statuses = [e["MonitoringExecutionStatus"] for e in seeded]
    assert statuses.count("CompletedWithViolations") == 2
    assert statuses.count("Failed") == 1
    assert statuses.count("Completed") == 21
    hours = [e["ScheduledTime"] for e in seeded]
    assert all(moment.minute == 0 and moment.second == 0 for moment in hours)
    assert hours[-1] - hours[0] == timedelta(hours=23)
    violated = next(
        e for e in seeded if e["MonitoringExecutionStatus"] == "CompletedWithViolations"
    )
    job = sagemaker.describe_processing_job(
        ProcessingJobName=violated["ProcessingJobArn"].split("/")[-1]
    )
    uri = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    assert prefix.startswith(f"{REPORTS_PREFIX}/{MONITORED_ENDPOINT}/{MONITORING_SCHEDULE}/")
    body = aws("s3").get_object(Bucket=bucket, Key=f"{prefix}/constraint_violations.json")["Body"]
    violations = json.loads(body.read())["violations"]
    assert {(v["feature_name"], v["constraint_check_type"]) for v in violations} == {
        ("mean_radius", "baseline_drift_check")
    }
