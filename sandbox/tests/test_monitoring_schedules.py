"""Model Monitor schedules: AWS's shapes, errors, filters and paging, and when they fire.

The API tests create their endpoints and schedules in a region the demo world leaves empty;
the scheduling tests drive ``MonitorStore`` with an injected clock, so an hour (or a sped-up
hour) passes in no time at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.monitor import (
    CadenceError,
    JobDefinition,
    MonitorStore,
    Schedule,
    ScheduleClock,
    ScheduleStatus,
    parse_cadence,
    parse_offset,
)
from sandbox.seed import EXECUTION_ROLE_ARN, bucket_name, ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, unique, wait_for_status
from tests.world import upload_tumor_model

# Monitoring tests keep their endpoints, schedules and reports here.
MONITOR_REGION = "eu-central-2"
ANALYZER_IMAGE = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
HOURLY = "cron(0 * ? * * *)"
AwsFactory = Callable[..., Any]


def capturing_endpoint(url: str, model: str, *, capture: bool = True) -> str:
    """An InService one-variant endpoint on the model, capturing its CSV input and output."""
    sagemaker = aws_client(url, "sagemaker", MONITOR_REGION)
    name = unique("monitored")
    config: dict[str, Any] = {
        "EndpointConfigName": name,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    }
    if capture:
        config["DataCaptureConfig"] = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{bucket_name(MONITOR_REGION)}/datacapture/",
            "CaptureOptions": [{"CaptureMode": "InputAndOutput"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        }
    sagemaker.create_endpoint_config(**config)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, MONITOR_REGION, name, "InService")
    return name


def schedule_config(
    endpoint: str,
    *,
    expression: str = HOURLY,
    baseline: str | None = None,
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """MonitoringScheduleConfig with an inline DataQuality job, as the SageMaker SDK sends it."""
    bucket = bucket_name(MONITOR_REGION)
    definition: dict[str, Any] = {
        "MonitoringInputs": [
            {"EndpointInput": {"EndpointName": endpoint, "LocalPath": "/opt/ml/processing/input"}}
        ],
        "MonitoringOutputConfig": {
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": f"s3://{bucket}/monitoring/reports",
                        "LocalPath": "/opt/ml/processing/output",
                    }
                }
            ]
        },
        "MonitoringResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 20,
            }
        },
        "MonitoringAppSpecification": {"ImageUri": ANALYZER_IMAGE},
        "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        "RoleArn": EXECUTION_ROLE_ARN,
    }
    if baseline is not None:
        definition["BaselineConfig"] = {
            "StatisticsResource": {"S3Uri": f"{baseline}/statistics.json"},
            "ConstraintsResource": {"S3Uri": f"{baseline}/constraints.json"},
        }
    if environment is not None:
        definition["Environment"] = environment
    return {
        "ScheduleConfig": {"ScheduleExpression": expression},
        "MonitoringJobDefinition": definition,
        "MonitoringType": "DataQuality",
    }


@pytest.fixture(scope="module")
def sagemaker(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "sagemaker", MONITOR_REGION)


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    ensure_bucket(aws_client(running_sandbox.url, "s3", MONITOR_REGION), MONITOR_REGION)
    return upload_tumor_model(running_sandbox.url, MONITOR_REGION)


@pytest.fixture(scope="module")
def endpoint(running_sandbox: SandboxServer, model: str) -> str:
    return capturing_endpoint(running_sandbox.url, model)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# --- CreateMonitoringSchedule / DescribeMonitoringSchedule -----------------------------------


def test_a_created_schedule_is_described_as_aws_does(sagemaker: Any, endpoint: str) -> None:
    name = unique("dq")
    arn = sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig=schedule_config(endpoint),
        Tags=[{"Key": "team", "Value": "ml-platform"}],
    )["MonitoringScheduleArn"]
    assert arn == f"arn:aws:sagemaker:{MONITOR_REGION}:123456789012:monitoring-schedule/{name}"
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["MonitoringScheduleArn"] == arn
    assert described["MonitoringScheduleName"] == name
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    assert described["MonitoringType"] == "DataQuality"
    assert described["EndpointName"] == endpoint
    assert isinstance(described["CreationTime"], datetime)
    assert described["LastModifiedTime"] >= described["CreationTime"]
    assert "LastMonitoringExecutionSummary" not in described
    config = described["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"] == {"ScheduleExpression": HOURLY}
    assert config["MonitoringType"] == "DataQuality"
    definition = config["MonitoringJobDefinition"]
    endpoint_input = definition["MonitoringInputs"][0]["EndpointInput"]
    assert endpoint_input["EndpointName"] == endpoint
    assert endpoint_input["S3InputMode"] == "File"
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    assert output["S3UploadMode"] == "Continuous"
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert definition["RoleArn"] == EXECUTION_ROLE_ARN


def test_a_taken_name_is_resource_in_use(sagemaker: Any, endpoint: str) -> None:
    name = unique("dq")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(endpoint)
    )
    with pytest.raises(ClientError) as error:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(endpoint)
        )
    assert _code(error) == "ResourceInUse"
    assert name in str(error.value)


def test_an_unknown_endpoint_is_a_validation_error(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as error:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=unique("dq"),
            MonitoringScheduleConfig=schedule_config("no-such-endpoint"),
        )
    assert _code(error) == "ValidationException"
    assert "Could not find endpoint" in str(error.value)


def test_an_endpoint_without_data_capture_is_a_validation_error(
    running_sandbox: SandboxServer, sagemaker: Any, model: str
) -> None:
    uncaptured = capturing_endpoint(running_sandbox.url, model, capture=False)
    with pytest.raises(ClientError) as error:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=unique("dq"),
            MonitoringScheduleConfig=schedule_config(uncaptured),
        )
    assert _code(error) == "ValidationException"
    assert "does not capture its input" in str(error.value)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda c: c["ScheduleConfig"].update(ScheduleExpression="rate(1 hour)"), "not supported"),
        (lambda c: c["ScheduleConfig"].update(ScheduleExpression="cron(0 25 ? * * *)"), "0-23"),
        (lambda c: c["ScheduleConfig"].update(ScheduleExpression="NOW"), "DataAnalysisStartTime"),
        (lambda c: c.update(MonitoringType="ModelQuality"), "DataQuality monitoring only"),
        (lambda c: c.update(MonitoringJobDefinitionName="also-named"), "exactly one"),
        (
            lambda c: c["MonitoringJobDefinition"].update(
                Environment={"publish_cloudwatch_metrics": "Maybe"}
            ),
            "Enabled or Disabled",
        ),
        (
            lambda c: c["MonitoringJobDefinition"]["MonitoringOutputConfig"]["MonitoringOutputs"][
                0
            ]["S3Output"].update(S3Uri="file:///tmp/reports"),
            "regular expression",
        ),
    ],
    ids=["rate", "hour-25", "now-without-window", "model-quality", "both-definitions", "env", "s3"],
)
def test_bad_schedules_are_validation_errors(
    sagemaker: Any, endpoint: str, change: Callable[[dict[str, Any]], None], complaint: str
) -> None:
    config = schedule_config(endpoint)
    change(config)
    with pytest.raises(ClientError) as error:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=unique("dq"), MonitoringScheduleConfig=config
        )
    assert _code(error) == "ValidationException"
    assert complaint in str(error.value)


def test_daily_every_n_hours_and_now_schedules_are_accepted(sagemaker: Any, endpoint: str) -> None:
    for expression in ("cron(0 12 ? * * *)", "cron(0 17/12 ? * * *)", "cron(0 0/2 ? * * *)"):
        name = unique("dq")
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=name,
            MonitoringScheduleConfig=schedule_config(endpoint, expression=expression),
        )
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        assert described["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == (
            expression
        )
    once = schedule_config(endpoint, expression="NOW")
    once["ScheduleConfig"].update(DataAnalysisStartTime="-PT1H", DataAnalysisEndTime="-PT0H")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=unique("dq"), MonitoringScheduleConfig=once
    )


def test_a_schedule_can_use_a_named_data_quality_job_definition(
    sagemaker: Any, endpoint: str
) -> None:
    inline = schedule_config(endpoint)["MonitoringJobDefinition"]
    definition_name = unique("dq-definition")
    sagemaker.create_data_quality_job_definition(
        JobDefinitionName=definition_name,
        DataQualityAppSpecification={"ImageUri": ANALYZER_IMAGE},
        DataQualityJobInput={"EndpointInput": inline["MonitoringInputs"][0]["EndpointInput"]},
        DataQualityJobOutputConfig=inline["MonitoringOutputConfig"],
        JobResources=inline["MonitoringResources"],
        RoleArn=EXECUTION_ROLE_ARN,
    )
    name = unique("dq")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name,
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": HOURLY},
            "MonitoringJobDefinitionName": definition_name,
            "MonitoringType": "DataQuality",
        },
    )
    described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert described["EndpointName"] == endpoint
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == definition_name
    summaries = sagemaker.list_monitoring_schedules(MonitoringJobDefinitionName=definition_name)[
        "MonitoringScheduleSummaries"
    ]
    assert [(s["MonitoringScheduleName"], s["MonitoringJobDefinitionName"]) for s in summaries] == [
        (name, definition_name)
    ]
    with pytest.raises(ClientError) as error:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=unique("dq"),
            MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": HOURLY},
                "MonitoringJobDefinitionName": "no-such-definition",
            },
        )
    assert _code(error) == "ValidationException"


# --- Stop, start, delete -------------------------------------------------------------------


def test_stop_start_and_delete(sagemaker: Any, endpoint: str) -> None:
    name = unique("dq")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(endpoint)
    )

    def status() -> str:
        described = sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
        return str(described["MonitoringScheduleStatus"])

    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=name)
    assert status() == "Stopped"
    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=name)
    assert status() == "Stopped"
    sagemaker.start_monitoring_schedule(MonitoringScheduleName=name)
    assert status() == "Scheduled"
    sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)
    with pytest.raises(ClientError) as error:
        sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    assert _code(error) == "ResourceNotFound"
    names = [
        s["MonitoringScheduleName"]
        for s in sagemaker.list_monitoring_schedules(EndpointName=endpoint, MaxResults=100)[
            "MonitoringScheduleSummaries"
        ]
    ]
    assert name not in names


@pytest.mark.parametrize(
    "operation",
    [
        "describe_monitoring_schedule",
        "delete_monitoring_schedule",
        "stop_monitoring_schedule",
        "start_monitoring_schedule",
    ],
)
def test_an_unknown_schedule_is_resource_not_found(sagemaker: Any, operation: str) -> None:
    with pytest.raises(ClientError) as error:
        getattr(sagemaker, operation)(MonitoringScheduleName="no-such-schedule")
    assert _code(error) == "ResourceNotFound"
    assert "no-such-schedule" in str(error.value)


# --- ListMonitoringSchedules and ListMonitoringExecutions -----------------------------------


@pytest.fixture(scope="module")
def listed(sagemaker: Any, running_sandbox: SandboxServer, model: str) -> tuple[str, list[str]]:
    """A fresh endpoint with five schedules, the third of them stopped."""
    endpoint = capturing_endpoint(running_sandbox.url, model)
    names = [f"paged-{endpoint}-{index}" for index in range(5)]
    for name in names:
        sagemaker.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(endpoint)
        )
    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=names[2])
    return endpoint, names


def test_list_filters_by_endpoint_name_status_and_type(
    sagemaker: Any, listed: tuple[str, list[str]]
) -> None:
    endpoint, names = listed

    def listed_names(**filters: Any) -> list[str]:
        answer = sagemaker.list_monitoring_schedules(MaxResults=100, **filters)
        return [s["MonitoringScheduleName"] for s in answer["MonitoringScheduleSummaries"]]

    assert sorted(listed_names(EndpointName=endpoint)) == names
    assert listed_names(EndpointName=endpoint, StatusEquals="Stopped") == [names[2]]
    assert sorted(listed_names(EndpointName=endpoint, StatusEquals="Scheduled")) == sorted(
        names[:2] + names[3:]
    )
    assert listed_names(NameContains=names[4]) == [names[4]]
    assert listed_names(EndpointName=endpoint, MonitoringTypeEquals="ModelBias") == []
    summary = sagemaker.list_monitoring_schedules(NameContains=names[0])[
        "MonitoringScheduleSummaries"
    ][0]
    assert set(summary) == {
        "MonitoringScheduleName",
        "MonitoringScheduleArn",
        "CreationTime",
        "LastModifiedTime",
        "MonitoringScheduleStatus",
        "EndpointName",
        "MonitoringType",
    }


def test_list_pages_two_at_a_time_in_name_order(
    sagemaker: Any, listed: tuple[str, list[str]]
) -> None:
    endpoint, names = listed
    pages = sagemaker.get_paginator("list_monitoring_schedules").paginate(
        EndpointName=endpoint,
        SortBy="Name",
        SortOrder="Ascending",
        PaginationConfig={"PageSize": 2},
    )
    seen = [
        [s["MonitoringScheduleName"] for s in page["MonitoringScheduleSummaries"]] for page in pages
    ]
    assert seen == [names[0:2], names[2:4], names[4:5]]


def test_list_defaults_to_newest_first(sagemaker: Any, listed: tuple[str, list[str]]) -> None:
    endpoint, names = listed
    answer = sagemaker.list_monitoring_schedules(EndpointName=endpoint)
    assert [s["MonitoringScheduleName"] for s in answer["MonitoringScheduleSummaries"]] == list(
        reversed(names)
    )


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("list_monitoring_schedules", {"MaxResults": 101}),
        ("list_monitoring_schedules", {"StatusEquals": "Running"}),
        ("list_monitoring_schedules", {"SortBy": "ScheduledTime"}),
        ("list_monitoring_schedules", {"NameContains": "bad name"}),
        ("list_monitoring_schedules", {"NextToken": "forged"}),
        ("list_monitoring_executions", {"SortBy": "Name"}),
        ("list_monitoring_executions", {"StatusEquals": "Done"}),
        ("list_monitoring_executions", {"MaxResults": 101}),
    ],
)
def test_bad_list_parameters_are_validation_errors(
    sagemaker: Any, operation: str, params: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as error:
        getattr(sagemaker, operation)(**params)
    assert _code(error) == "ValidationException"


def test_a_schedule_without_executions_lists_none(sagemaker: Any, endpoint: str) -> None:
    name = unique("dq")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(endpoint)
    )
    answer = sagemaker.list_monitoring_executions(MonitoringScheduleName=name)
    assert answer["MonitoringExecutionSummaries"] == []


def test_other_processing_jobs_are_left_to_moto(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as error:
        sagemaker.describe_processing_job(ProcessingJobName="not-a-monitoring-job")
    assert "Could not find processing job" in str(error.value)


def test_schedule_calls_are_recorded_for_cloudtrail(
    running_sandbox: SandboxServer, sagemaker: Any, endpoint: str
) -> None:
    name = unique("dq")
    sagemaker.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=schedule_config(endpoint)
    )
    sagemaker.stop_monitoring_schedule(MonitoringScheduleName=name)
    events = aws_client(running_sandbox.url, "cloudtrail", MONITOR_REGION).lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}]
    )["Events"]
    assert sorted(e["EventName"] for e in events) == [
        "CreateMonitoringSchedule",
        "StopMonitoringSchedule",
    ]
    assert {e["ReadOnly"] for e in events} == {"false"}
    assert events[0]["Resources"][0]["ResourceType"] == "AWS::SageMaker::MonitoringSchedule"


# --- When schedules fire: cadences and the (sped-up) schedule clock -------------------------

T0 = datetime(2026, 11, 24, 10, 20, tzinfo=UTC).timestamp()


def at(hour: int, minute: int = 0, day: int = 24) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC).timestamp()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stored_schedule(store: MonitorStore, expression: str = HOURLY, **fields: Any) -> Schedule:
    definition = JobDefinition(
        endpoint_name="ep",
        input_local_path="/opt/ml/processing/input",
        output_uri="s3://bucket/reports",
        output_local_path="/opt/ml/processing/output",
        statistics_uri=None,
        constraints_uri=None,
        publish_metrics=True,
        role_arn=EXECUTION_ROLE_ARN,
        image_uri=ANALYZER_IMAGE,
        cluster={},
        environment={},
        max_runtime_seconds=3600,
    )
    now = store.clock.real()
    schedule = Schedule(
        account_id="123456789012",
        region="us-east-1",
        name=fields.pop("name", "sched"),
        arn="arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/sched",
        monitoring_type="DataQuality",
        cadence=parse_cadence(expression),
        definition=definition,
        config={},
        creation_time=now,
        last_modified_time=now,
        **fields,
    )
    store.add(schedule)
    return schedule


def test_cadences_fire_at_the_hours_model_monitor_documents() -> None:
    hourly = parse_cadence(HOURLY)
    assert hourly.next_after(at(10, 20)) == at(11)
    assert hourly.next_after(at(11)) == at(12)
    assert hourly.previous_before(at(11)) == at(10)
    daily = parse_cadence("cron(0 12 ? * * *)")
    assert daily.next_after(at(13)) == at(12, day=25)
    assert daily.previous_before(at(12, day=25)) == at(12)
    every_twelve = parse_cadence("cron(0 17/12 ? * * *)")
    assert every_twelve.hours == frozenset({17})
    assert parse_cadence("cron(0 0/6 ? * * *)").hours == frozenset({0, 6, 12, 18})
    assert parse_cadence("NOW").once
    for bad in ("cron(5 * ? * * *)", "cron(0 24 ? * * *)", "cron(0 1/25 ? * * *)", "hourly"):
        with pytest.raises(CadenceError):
            parse_cadence(bad)
    assert parse_offset("-PT1H", "x") == -3600
    assert parse_offset("-P1DT30M", "x") == -(86400 + 1800)
    with pytest.raises(CadenceError):
        parse_offset("PT1H", "x")


def test_an_hourly_schedule_fires_at_the_top_of_each_hour_only() -> None:
    real = FakeClock(at(10, 20))
    store = MonitorStore(ScheduleClock(1.0, real))
    schedule = stored_schedule(store)
    assert store.due() == []
    real.now = at(10, 59)
    assert store.due() == []
    real.now = at(11, 0) + 5
    assert store.due() == [(schedule, at(11))]
    assert store.due() == []
    real.now = at(11, 30)
    assert store.due() == []
    assert schedule.window(at(11)) == (at(10), at(11))


def test_a_sped_up_clock_fires_an_hourly_schedule_every_3600_over_speed_seconds() -> None:
    real = FakeClock(T0)
    clock = ScheduleClock(60.0, real)
    store = MonitorStore(clock)
    schedule = stored_schedule(store)
    fired: list[float] = []
    for _ in range(5 * 60):  # five real minutes, one tick per real second
        real.now += 1.0
        fired += [scheduled for _schedule, scheduled in store.due()]
    assert fired == [at(11), at(12), at(13), at(14), at(15)]
    # The first firing is at 11:00 on the schedule clock: 40 sped-up minutes after 10:20.
    assert clock.real_time(at(11)) == pytest.approx(T0 + 40 * 60 / 60)
    # Each execution reads one real minute of capture: its sped-up hour mapped back.
    start, end = (clock.real_time(moment) for moment in schedule.window(at(12)))
    assert end - start == pytest.approx(60.0)


def test_stopped_schedules_do_not_fire_and_restart_from_the_next_hour() -> None:
    real = FakeClock(at(10, 20))
    store = MonitorStore(ScheduleClock(1.0, real))
    schedule = stored_schedule(store)
    store.set_running(schedule, False)
    assert schedule.status == ScheduleStatus.STOPPED
    real.now = at(13, 30)
    assert store.due() == []
    store.set_running(schedule, True)
    assert store.due() == []
    real.now = at(14, 1)
    assert store.due() == [(schedule, at(14))]


def test_a_scheduler_that_fell_behind_runs_the_latest_hour_only() -> None:
    real = FakeClock(at(10, 20))
    store = MonitorStore(ScheduleClock(1.0, real))
    schedule = stored_schedule(store)
    real.now = at(15, 10)
    assert store.due() == [(schedule, at(15))]
    real.now = at(16, 0)
    assert store.due() == [(schedule, at(16))]


def test_a_now_schedule_fires_once_over_its_offsets() -> None:
    real = FakeClock(at(10, 20))
    store = MonitorStore(ScheduleClock(1.0, real))
    schedule = stored_schedule(store, "NOW", start_offset=-7200.0, end_offset=-3600.0)
    assert store.due() == [(schedule, at(10, 20))]
    real.now = at(12)
    assert store.due() == []
    assert schedule.window(at(10, 20)) == (at(8, 20), at(9, 20))


def test_the_cli_takes_a_clock_speed_and_drift_features() -> None:
    from sandbox.__main__ import build_parser

    assert build_parser().parse_args(["serve", "--clock-speed", "60"]).clock_speed == 60.0
    assert build_parser().parse_args(["serve"]).clock_speed == 1.0
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--clock-speed", "0.5"])
    with pytest.raises(ValueError, match="clock_speed"):
        SandboxServer(clock_speed=0.5)
    fault = build_parser().parse_args(
        ["fault", "--endpoint", "e", "--drift", "3", "--feature", "mean radius", "--feature", "x"]
    )
    assert fault.features == ["mean radius", "x"]
