"""UpdateEndpoint's DeploymentConfig: each policy's steps as DescribeEndpoint shows them and
InvokeEndpoint feels them, rollback on alarms and on the time limit, and the configs SageMaker
refuses or quietly deploys all at once.

Every endpoint here is the test's own, in a region nothing else uses. Deployments run on short
timings: fleets launch in a second, traffic switches take 0.4 s, and the waits a
DeploymentConfig names pass 1000 times faster than on AWS (a 600 s bake takes 0.6 s). Which
fleet answered an invocation shows in its answer: the old fleet's model and the new one's are
trained differently, so they give the same row different scores.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.inference_io import decode_rows, encode_predictions
from sandbox.model_data import FAILURE_RATE_VARIABLE
from sandbox.models import SandboxModel, artifact_bytes, holdout_rows, rows_to_csv, train_tumor
from sandbox.seed import EXECUTION_ROLE_ARN, put_endpoint_alarms
from sandbox.server import SandboxServer
from sandbox.testing import allow_endpoint_instances, aws_client, control, unique, wait_for_status
from tests.world import runtime_client, upload_tumor_model, variant_metric

REGION = "eu-south-2"
SPEED = 1000.0
LAUNCH_SECONDS = 1.0
SWITCH_SECONDS = 0.4
ROW = rows_to_csv([holdout_rows("tumor")[0]])
# The new fleet's model: the same data, trained with less regularization.
NEW_REGULARIZATION = 0.01
INSTANCE_TYPE = "ml.m5.large"
VARIANT = "AllTraffic"

Phase = tuple[str, str | None, int | None]


@pytest.fixture(scope="module")
def url(running_sandbox: SandboxServer) -> str:
    return running_sandbox.url


@pytest.fixture(scope="module")
def sagemaker(url: str) -> Any:
    return aws_client(url, "sagemaker", REGION)


@pytest.fixture(scope="module")
def cloudwatch(url: str) -> Any:
    return aws_client(url, "cloudwatch", REGION)


@pytest.fixture(scope="module")
def unchecked(url: str) -> Any:
    """A SageMaker client that sends what botocore would refuse itself (values under a
    member's minimum), so the sandbox's own refusal is what the test sees."""
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"mode": "standard"}),
    )


@pytest.fixture(scope="module")
def old_model(url: str) -> str:
    return upload_tumor_model(url, REGION, artifact=artifact_bytes(train_tumor()))


@pytest.fixture(scope="module")
def new_model(url: str) -> str:
    artifact = artifact_bytes(train_tumor(regularization=NEW_REGULARIZATION))
    return upload_tumor_model(url, REGION, artifact=artifact)


@pytest.fixture(scope="module")
def failing_model(url: str, sagemaker: Any, new_model: str) -> str:
    """The new model as a broken build: its container fails every request with a 500."""
    container = sagemaker.describe_model(ModelName=new_model)["PrimaryContainer"]
    name = unique("failing")
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": container["Image"],
            "ModelDataUrl": container["ModelDataUrl"],
            "Environment": {FAILURE_RATE_VARIABLE: "1"},
        },
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )
    return name


@pytest.fixture(autouse=True)
def guarded_timings(running_sandbox: SandboxServer) -> Iterator[None]:
    endpoints = running_sandbox.state.endpoints
    brief = endpoints.timings
    endpoints.timings = replace(
        brief,
        creating_seconds=LAUNCH_SECONDS,
        updating_seconds=SWITCH_SECONDS,
        clock_speed=SPEED,
    )
    yield
    endpoints.timings = brief


def _config(
    sagemaker: Any,
    model: str,
    count: int = 3,
    *,
    variants: tuple[str, ...] = (VARIANT,),
    instance_type: str = INSTANCE_TYPE,
    serverless: bool = False,
) -> str:
    name = unique("cfg")
    specs: list[dict[str, Any]] = []
    for variant in variants:
        spec: dict[str, Any] = {"VariantName": variant, "ModelName": model}
        if serverless:
            spec["ServerlessConfig"] = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
        else:
            spec.update(InstanceType=instance_type, InitialInstanceCount=count)
        specs.append(spec)
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=specs)
    return name


def _endpoint(url: str, sagemaker: Any, config: str) -> str:
    name = unique("ep")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    wait_for_status(url, REGION, name, "InService")
    return name


def _canary(size: dict[str, Any], wait: int, *, termination: int = 600, **extra: Any) -> Any:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": size,
                "WaitIntervalInSeconds": wait,
            },
            "TerminationWaitInSeconds": termination,
            **extra,
        }
    }


def _prediction(model: SandboxModel) -> bytes:
    return encode_predictions(model, decode_rows(ROW.encode(), "text/csv", model), "text/csv").body


@functools.cache
def _fleets() -> dict[bytes, str]:
    """Each fleet's answer to ROW, to tell which fleet served an invocation."""
    old, new = train_tumor(), train_tumor(regularization=NEW_REGULARIZATION)
    return {_prediction(old): "old", _prediction(new): "new"}


def _answers(url: str, endpoint: str, count: int) -> Counter[str]:
    """Which fleet answered each of ``count`` invocations ("error" for a failed one)."""
    runtime = runtime_client(url, REGION)
    answered: Counter[str] = Counter()
    for _ in range(count):
        try:
            body = runtime.invoke_endpoint(
                EndpointName=endpoint, ContentType="text/csv", Accept="text/csv", Body=ROW
            )["Body"].read()
        except ClientError:
            answered["error"] += 1
            continue
        answered[_fleets()[body]] += 1
    return answered


def _pending(described: dict[str, Any]) -> dict[str, Any] | None:
    summary = described.get("PendingDeploymentSummary")
    return summary["ProductionVariants"][0] if summary else None


def _phase(described: dict[str, Any]) -> Phase:
    """The endpoint's status, the new fleet's VariantStatus and its instances in traffic."""
    pending = _pending(described)
    if pending is None:
        return (described["EndpointStatus"], None, None)
    status = pending["VariantStatus"][0]["Status"]
    return (described["EndpointStatus"], status, pending.get("CurrentInstanceCount"))


def _moment(described: dict[str, Any]) -> tuple[Phase, Any]:
    """A phase and when it began: two bakes in a row are two moments."""
    pending = _pending(described)
    return _phase(described), pending["VariantStatus"][0]["StartTime"] if pending else None


def _watch(
    sagemaker: Any,
    endpoint: str,
    on_phase: Callable[[dict[str, Any]], None] | None = None,
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """DescribeEndpoint every 20 ms until the deployment is over: the first answer of each
    phase in order, the InService one last. ``on_phase`` sees each as it comes."""
    deadline = time.monotonic() + timeout
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        described = sagemaker.describe_endpoint(EndpointName=endpoint)
        if not seen or _moment(described) != _moment(seen[-1]):
            seen.append(described)
            if on_phase is not None:
                on_phase(described)
        if described["EndpointStatus"] == "InService":
            return seen
        time.sleep(0.02)
    raise AssertionError(f"{endpoint} still deploying: {[_phase(d) for d in seen]}")


def _messages(phases: list[dict[str, Any]]) -> list[str]:
    return [
        pending["VariantStatus"][0]["StatusMessage"]
        for pending in map(_pending, phases)
        if pending is not None
    ]


def test_all_at_once_moves_all_traffic_bakes_then_drops_the_old_fleet(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    old_config = _config(sagemaker, old_model)
    name = _endpoint(url, sagemaker, old_config)
    new_config = _config(sagemaker, new_model)
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 1200},
            "TerminationWaitInSeconds": 600,
            "MaximumExecutionTimeoutInSeconds": 3600,
        }
    }
    sagemaker.update_endpoint(
        EndpointName=name, EndpointConfigName=new_config, DeploymentConfig=deployment
    )
    during_bake: Counter[str] = Counter()

    def invoke_while_baking(described: dict[str, Any]) -> None:
        if _phase(described)[1] == "Baking" and not during_bake:
            during_bake.update(_answers(url, name, 20))

    phases = _watch(sagemaker, name, invoke_while_baking)

    assert [_phase(p) for p in phases] == [
        ("Updating", "Creating", None),
        ("Updating", "ActivatingTraffic", 3),
        ("Updating", "Baking", 3),
        ("Updating", "Baking", 3),
        ("InService", None, None),
    ]
    assert _messages(phases) == [
        "Launching 3 instance(s).",
        "Activating traffic on full capacity of 3 instance(s).",
        "Baking for 1200 seconds (WaitIntervalInSeconds) with traffic enabled on full "
        "capacity of 3 instance(s).",
        "Baking for 600 seconds (TerminationWaitInSeconds) with traffic enabled on full "
        "capacity of 3 instance(s).",
    ]
    assert during_bake == {"new": 20}
    done = phases[-1]
    assert done["EndpointConfigName"] == new_config
    assert "FailureReason" not in done
    assert done["LastDeploymentConfig"] == deployment
    assert _answers(url, name, 5) == {"new": 5}


def test_a_canary_serves_its_share_from_the_new_fleet_then_all_traffic_moves(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    old_config = _config(sagemaker, old_model)
    name = _endpoint(url, sagemaker, old_config)
    new_config = _config(sagemaker, new_model)
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=new_config,
        DeploymentConfig=_canary({"Type": "INSTANCE_COUNT", "Value": 1}, 3600),
    )
    canary: Counter[str] = Counter()

    def invoke_the_canary(described: dict[str, Any]) -> None:
        if _phase(described) == ("Updating", "Baking", 1):
            canary.update(_answers(url, name, 80))

    phases = _watch(sagemaker, name, invoke_the_canary)

    assert [_phase(p) for p in phases] == [
        ("Updating", "Creating", None),
        ("Updating", "ActivatingTraffic", 1),
        ("Updating", "Baking", 1),
        ("Updating", "ActivatingTraffic", 3),
        ("Updating", "Baking", 3),
        ("InService", None, None),
    ]
    assert _messages(phases)[1:3] == [
        "Activating traffic on canary capacity of 1 instance(s).",
        "Baking for 3600 seconds (WaitIntervalInSeconds) with traffic enabled on canary "
        "capacity of 1 instance(s).",
    ]
    # One new instance beside three old ones takes a quarter of the requests.
    assert sum(canary.values()) == 80 and canary["error"] == 0
    assert 6 <= canary["new"] <= 40
    for described in phases[:-1]:
        assert described["EndpointConfigName"] == old_config
        assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 3
    assert phases[-1]["EndpointConfigName"] == new_config
    assert _answers(url, name, 5) == {"new": 5}


def test_pending_deployment_summary_describes_the_new_fleet_beside_the_live_one(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    name = _endpoint(url, sagemaker, _config(sagemaker, old_model, 2))
    live = sagemaker.describe_endpoint(EndpointName=name)
    new_config = _config(sagemaker, new_model, 4, instance_type="ml.m5.xlarge")
    allow_endpoint_instances(url, "ml.m5.xlarge", 8, region=REGION)
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=new_config,
        DeploymentConfig=_canary({"Type": "CAPACITY_PERCENT", "Value": 50}, 600),
    )
    phases = _watch(sagemaker, name)

    launching, canary = phases[0], phases[2]
    summary = launching["PendingDeploymentSummary"]
    assert set(summary) == {"EndpointConfigName", "ProductionVariants", "StartTime"}
    assert summary["EndpointConfigName"] == new_config
    (variant,) = summary["ProductionVariants"]
    assert variant["VariantName"] == VARIANT
    assert variant["InstanceType"] == "ml.m5.xlarge"
    assert (variant["DesiredWeight"], variant["DesiredInstanceCount"]) == (1.0, 4)
    assert "CurrentWeight" not in variant and "CurrentInstanceCount" not in variant
    assert variant["DeployedImages"][0]["SpecifiedImage"]
    (status,) = variant["VariantStatus"]
    assert (status["Status"], status["StatusMessage"]) == ("Creating", "Launching 4 instance(s).")
    assert status["StartTime"] == summary["StartTime"]
    # DescribeEndpoint's own fields keep describing the live fleet.
    assert launching["ProductionVariants"] == live["ProductionVariants"]
    assert launching["EndpointConfigName"] == live["EndpointConfigName"]
    assert launching["LastModifiedTime"] > live["LastModifiedTime"]

    baking = _pending(canary)
    assert baking is not None
    assert (baking["CurrentWeight"], baking["CurrentInstanceCount"]) == (1.0, 2)
    assert baking["VariantStatus"][0]["Status"] == "Baking"
    assert baking["VariantStatus"][0]["StartTime"] > status["StartTime"]
    assert "PendingDeploymentSummary" not in phases[-1]


def test_linear_steps_turn_on_the_new_fleet_a_step_at_a_time(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    name = _endpoint(url, sagemaker, _config(sagemaker, old_model, 4))
    new_config = _config(sagemaker, new_model, 4)
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=new_config,
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "LINEAR",
                    "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    "WaitIntervalInSeconds": 600,
                },
            }
        },
    )
    with pytest.raises(ClientError) as refused:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=new_config)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot update in-progress endpoint" in refused.value.response["Error"]["Message"]

    phases = _watch(sagemaker, name)

    assert [_phase(p) for p in phases] == [
        ("Updating", "Creating", None),
        ("Updating", "ActivatingTraffic", 1),
        ("Updating", "Baking", 1),
        ("Updating", "ActivatingTraffic", 2),
        ("Updating", "Baking", 2),
        ("Updating", "ActivatingTraffic", 3),
        ("Updating", "Baking", 3),
        ("Updating", "ActivatingTraffic", 4),
        ("InService", None, None),
    ]
    assert _messages(phases)[2] == (
        "Baking for 600 seconds (WaitIntervalInSeconds) with traffic enabled on capacity of "
        "1 instance(s)."
    )
    assert _messages(phases)[-1] == "Activating traffic on full capacity of 4 instance(s)."
    assert phases[-1]["EndpointConfigName"] == new_config


def test_rolling_replaces_the_fleet_batch_by_batch_within_a_quota_blue_green_would_break(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    allow_endpoint_instances(url, "ml.c5.xlarge", 6, region=REGION)
    name = _endpoint(url, sagemaker, _config(sagemaker, old_model, 4, instance_type="ml.c5.xlarge"))
    new_config = _config(sagemaker, new_model, 4, instance_type="ml.c5.xlarge")
    with pytest.raises(ClientError) as refused:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=new_config)
    assert refused.value.response["Error"]["Code"] == "ResourceLimitExceeded"

    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=new_config,
        DeploymentConfig={
            "RollingUpdatePolicy": {
                "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
                "WaitIntervalInSeconds": 600,
            }
        },
    )
    phases = _watch(sagemaker, name)

    assert [_phase(p) for p in phases] == [
        ("Updating", "Creating", None),
        ("Updating", "ActivatingTraffic", 2),
        ("Updating", "Baking", 2),
        ("Updating", "Updating", 2),
        ("Updating", "ActivatingTraffic", 4),
        ("Updating", "Baking", 4),
        ("InService", None, None),
    ]
    assert _messages(phases)[:4] == [
        "Launching 2 instance(s).",
        "Activating traffic on batch capacity of 2 instance(s).",
        "Baking for 600 seconds (WaitIntervalInSeconds) with traffic enabled on batch "
        "capacity of 2 instance(s).",
        "Launching 2 instance(s).",
    ]
    assert phases[-1]["EndpointConfigName"] == new_config
    assert phases[-1]["ProductionVariants"][0]["CurrentInstanceCount"] == 4


def _guarded_canary(
    url: str, sagemaker: Any, cloudwatch: Any, old_model: str, new_model: str
) -> tuple[str, str, str, dict[str, Any]]:
    """An endpoint on `old_model` being updated to `new_model` by a canary with an hour's
    bake, watched by a 5XX-rate alarm: (old config, endpoint, alarm, DeploymentConfig)."""
    old_config = _config(sagemaker, old_model)
    name = _endpoint(url, sagemaker, old_config)
    alarm = f"{name}-guard"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[
            {"Name": "EndpointName", "Value": name},
            {"Name": "VariantName", "Value": VARIANT},
        ],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    deployment = _canary(
        {"Type": "INSTANCE_COUNT", "Value": 1},
        3600,
        MaximumExecutionTimeoutInSeconds=7200,
    ) | {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]}}
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=_config(sagemaker, new_model),
        DeploymentConfig=deployment,
    )
    return old_config, name, alarm, deployment


def test_an_alarm_in_alarm_while_baking_rolls_back_to_the_old_config(
    url: str, sagemaker: Any, cloudwatch: Any, old_model: str, new_model: str
) -> None:
    old_config, name, alarm, deployment = _guarded_canary(
        url, sagemaker, cloudwatch, old_model, new_model
    )

    def trip_while_baking(described: dict[str, Any]) -> None:
        if _phase(described) == ("Updating", "Baking", 1):
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    phases = _watch(sagemaker, name, trip_while_baking)

    assert [_phase(p) for p in phases] == [
        ("Updating", "Creating", None),
        ("Updating", "ActivatingTraffic", 1),
        ("Updating", "Baking", 1),
        ("RollingBack", "Deleting", None),
        ("InService", None, None),
    ]
    assert _messages(phases)[-1] == "Terminating 3 instance(s)."
    rolling_back, done = phases[-2], phases[-1]
    assert rolling_back["EndpointConfigName"] == old_config
    assert rolling_back["LastModifiedTime"] < done["LastModifiedTime"]
    assert done["EndpointConfigName"] == old_config
    assert done["FailureReason"] == (
        f"Deployment was rolled back because alarm(s) {alarm} went into ALARM state."
    )
    assert done["LastDeploymentConfig"] == deployment
    assert "PendingDeploymentSummary" not in done
    assert _answers(url, name, 10) == {"old": 10}


def test_an_alarm_that_was_in_alarm_for_a_moment_while_baking_still_rolls_back(
    url: str, sagemaker: Any, cloudwatch: Any, old_model: str, new_model: str
) -> None:
    old_config, name, alarm, deployment = _guarded_canary(
        url, sagemaker, cloudwatch, old_model, new_model
    )

    def trip_while_baking(described: dict[str, Any]) -> None:
        if _phase(described) == ("Updating", "Baking", 1):
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")
            # Back to OK before SageMaker next looks (as the alarm's next evaluation does):
            # the spell in ALARM was during the bake, so it still rolls back.
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test")

    phases = _watch(sagemaker, name, trip_while_baking)

    assert [_phase(p) for p in phases] == [
        ("Updating", "Creating", None),
        ("Updating", "ActivatingTraffic", 1),
        ("Updating", "Baking", 1),
        ("RollingBack", "Deleting", None),
        ("InService", None, None),
    ]


def test_a_failing_canary_drives_a_real_5xx_alarm_that_rolls_it_back(
    url: str, sagemaker: Any, cloudwatch: Any, old_model: str, failing_model: str
) -> None:
    old_config = _config(sagemaker, old_model)
    name = _endpoint(url, sagemaker, old_config)
    rate_alarm, _latency = put_endpoint_alarms(cloudwatch, name, VARIANT)
    control(url, "evaluate-alarms")
    deployment = _canary({"Type": "INSTANCE_COUNT", "Value": 1}, 3600) | {
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": rate_alarm}]}
    }
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=_config(sagemaker, failing_model),
        DeploymentConfig=deployment,
    )
    canary: Counter[str] = Counter()

    def send_traffic_then_evaluate(described: dict[str, Any]) -> None:
        if _phase(described) == ("Updating", "Baking", 1):
            canary.update(_answers(url, name, 60))
            control(url, "evaluate-alarms")

    phases = _watch(sagemaker, name, send_traffic_then_evaluate)

    assert canary["error"] > 0 and canary["old"] > 0
    assert phases[-1]["EndpointConfigName"] == old_config
    assert phases[-1]["FailureReason"] == (
        f"Deployment was rolled back because alarm(s) {rate_alarm} went into ALARM state."
    )
    # The new fleet's failures count under the variant's name, as on AWS.
    errors = variant_metric(url, name, VARIANT, "Invocation5XXErrors", "Sum", region=REGION)
    assert errors == [float(canary["error"])]
    state = cloudwatch.describe_alarms(AlarmNames=[rate_alarm])["MetricAlarms"][0]
    assert state["StateValue"] == "ALARM"
    assert _answers(url, name, 10) == {"old": 10}


def test_a_rolling_rollback_relaunches_the_retired_old_instances_a_batch_at_a_time(
    url: str, sagemaker: Any, cloudwatch: Any, old_model: str, new_model: str
) -> None:
    old_config = _config(sagemaker, old_model, 4)
    name = _endpoint(url, sagemaker, old_config)
    alarm = f"{name}-guard"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Dimensions=[{"Name": "EndpointName", "Value": name}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1e6,
        ComparisonOperator="GreaterThanThreshold",
    )
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=_config(sagemaker, new_model, 4),
        DeploymentConfig={
            "RollingUpdatePolicy": {
                "MaximumBatchSize": _instances(2),
                "WaitIntervalInSeconds": 600,
                "RollbackMaximumBatchSize": _instances(1),
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
        },
    )

    def trip_in_the_second_batch(described: dict[str, Any]) -> None:
        if _phase(described) == ("Updating", "Updating", 2):
            cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test")

    phases = _watch(sagemaker, name, trip_in_the_second_batch)

    rolling_back, done = phases[-2], phases[-1]
    assert _phase(rolling_back) == ("RollingBack", "Deleting", None)
    # The new fleet's four instances go; the two old ones the first batch retired come back.
    assert _messages([rolling_back]) == ["Terminating 4 instance(s)."]
    (live,) = rolling_back["ProductionVariants"]
    assert live["VariantStatus"][0]["Status"] == "Creating"
    assert live["VariantStatus"][0]["StatusMessage"] == "Launching 2 instance(s)."
    # One relaunch batch per retired instance, then traffic back: 2 x 1.0 s + 0.4 s.
    took = (done["LastModifiedTime"] - rolling_back["LastModifiedTime"]).total_seconds()
    assert took == pytest.approx(2 * LAUNCH_SECONDS + SWITCH_SECONDS, abs=0.01)
    assert done["EndpointConfigName"] == old_config
    assert "VariantStatus" not in done["ProductionVariants"][0]
    assert alarm in done["FailureReason"]


def test_running_past_the_execution_timeout_rolls_back(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    old_config = _config(sagemaker, old_model, 1)
    name = _endpoint(url, sagemaker, old_config)
    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=_config(sagemaker, new_model, 1),
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "ALL_AT_ONCE",
                    "WaitIntervalInSeconds": 3600,
                },
                "MaximumExecutionTimeoutInSeconds": 600,
            }
        },
    )
    phases = _watch(sagemaker, name)

    assert [_phase(p)[:2] for p in phases] == [
        ("Updating", "Creating"),
        ("Updating", "ActivatingTraffic"),
        ("Updating", "Baking"),
        ("RollingBack", "Deleting"),
        ("InService", None),
    ]
    assert phases[-1]["EndpointConfigName"] == old_config
    assert phases[-1]["FailureReason"] == (
        "Deployment was rolled back because it did not complete within "
        "MaximumExecutionTimeoutInSeconds (600 seconds)."
    )


def test_retain_deployment_config_deploys_with_the_last_one(
    url: str, sagemaker: Any, old_model: str, new_model: str
) -> None:
    canary = _canary({"Type": "CAPACITY_PERCENT", "Value": 50}, 0, termination=0)
    config = _config(sagemaker, old_model, 2)
    name = unique("ep")
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config, DeploymentConfig=canary)
    assert wait_for_status(url, REGION, name, "InService")["LastDeploymentConfig"] == canary

    sagemaker.update_endpoint(
        EndpointName=name,
        EndpointConfigName=_config(sagemaker, new_model, 2),
        RetainDeploymentConfig=True,
    )
    phases = _watch(sagemaker, name)

    assert "Activating traffic on canary capacity of 1 instance(s)." in _messages(phases)
    assert phases[-1]["LastDeploymentConfig"] == canary


@pytest.mark.parametrize(
    "instance_type, serverless",
    [("ml.inf1.xlarge", False), (INSTANCE_TYPE, True)],
    ids=["inf1", "serverless"],
)
def test_endpoints_guardrails_do_not_cover_deploy_all_at_once_whatever_was_asked(
    url: str, sagemaker: Any, old_model: str, new_model: str, instance_type: str, serverless: bool
) -> None:
    if not serverless:
        allow_endpoint_instances(url, instance_type, 10, region=REGION)
    old = _config(sagemaker, old_model, 2, instance_type=instance_type, serverless=serverless)
    name = _endpoint(url, sagemaker, old)
    new_config = _config(
        sagemaker, new_model, 2, instance_type=instance_type, serverless=serverless
    )
    deployment = _canary({"Type": "CAPACITY_PERCENT", "Value": 50}, 600)
    sagemaker.update_endpoint(
        EndpointName=name, EndpointConfigName=new_config, DeploymentConfig=deployment
    )
    phases = _watch(sagemaker, name)

    assert [_phase(p)[:2] for p in phases] == [("Updating", "Creating"), ("InService", None)]
    assert phases[-1]["EndpointConfigName"] == new_config
    assert phases[-1]["LastDeploymentConfig"] == deployment


# Refusals: a 3-instance endpoint, a two-variant one and a serverless one, none of which a
# refused UpdateEndpoint changes.


@pytest.fixture(scope="module")
def fleets(url: str, sagemaker: Any, old_model: str, new_model: str) -> dict[str, str]:
    endpoint = _endpoint(url, sagemaker, _config(sagemaker, old_model))
    pair = _endpoint(url, sagemaker, _config(sagemaker, old_model, 2, variants=("a", "b")))
    serverless = _endpoint(url, sagemaker, _config(sagemaker, old_model, serverless=True))
    return {
        "endpoint": endpoint,
        "next": _config(sagemaker, new_model),
        "renamed": _config(sagemaker, new_model, variants=("Renamed",)),
        "pair": pair,
        "next-pair": _config(sagemaker, new_model, 2, variants=("a", "b")),
        "serverless": serverless,
        "next-serverless": _config(sagemaker, new_model, serverless=True),
    }


def _routing(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": kind, "WaitIntervalInSeconds": 60, **fields}
        }
    }


def _rolling(batch: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "RollingUpdatePolicy": {"MaximumBatchSize": batch, "WaitIntervalInSeconds": 60, **fields}
    }


def _percent(value: int) -> dict[str, Any]:
    return {"Type": "CAPACITY_PERCENT", "Value": value}


def _instances(value: int) -> dict[str, Any]:
    return {"Type": "INSTANCE_COUNT", "Value": value}


def _blue_green(**fields: Any) -> dict[str, Any]:
    """ALL_AT_ONCE with a one-minute bake, plus the policy fields given."""
    return {"BlueGreenUpdatePolicy": _routing("ALL_AT_ONCE")["BlueGreenUpdatePolicy"] | fields}


def _alarms(*names: str) -> dict[str, Any]:
    return {"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in names]}}


_BLUE_GREEN = "deploymentConfig.blueGreenUpdatePolicy"
REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "wait over an hour": (
        _routing("ALL_AT_ONCE", WaitIntervalInSeconds=3601),
        f"1 validation error detected: Value '3601' at '{_BLUE_GREEN}.trafficRoutingConfiguration"
        ".waitIntervalInSeconds' failed to satisfy constraint: Member must have value less "
        "than or equal to 3600",
    ),
    "negative termination wait": (
        _blue_green(TerminationWaitInSeconds=-1),
        f"Value '-1' at '{_BLUE_GREEN}.terminationWaitInSeconds' failed to satisfy constraint: "
        "Member must have value greater than or equal to 0",
    ),
    "timeout under ten minutes": (
        _blue_green(MaximumExecutionTimeoutInSeconds=599),
        f"Value '599' at '{_BLUE_GREEN}.maximumExecutionTimeoutInSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 600",
    ),
    "timeout over eight hours": (
        _blue_green(MaximumExecutionTimeoutInSeconds=28801),
        "Member must have value less than or equal to 28800",
    ),
    "unknown traffic routing type": (
        _routing("BIG_BANG"),
        "Member must satisfy enum value set: [ALL_AT_ONCE, CANARY, LINEAR]",
    ),
    "no traffic routing configuration": (
        {"BlueGreenUpdatePolicy": {"TerminationWaitInSeconds": 0}},
        f"Value null at '{_BLUE_GREEN}.trafficRoutingConfiguration' failed to satisfy "
        "constraint: Member must not be null",
    ),
    "canary without a size": (
        _routing("CANARY"),
        "CanarySize must be specified when TrafficRoutingConfiguration Type is CANARY.",
    ),
    "canary over half in percent": (
        _routing("CANARY", CanarySize=_percent(60)),
        "CanarySize must be at most 50% of the new fleet's capacity; got 60%.",
    ),
    "canary over half in instances": (
        _routing("CANARY", CanarySize=_instances(2)),
        "CanarySize must be at most 50% of the new fleet's capacity; 2 instance(s) is "
        '66.6667% of variant "AllTraffic"\'s 3 instance(s).',
    ),
    "linear step too small": (
        _routing("LINEAR", LinearStepSize=_percent(5)),
        "LinearStepSize must be between 10% and 50% of the new fleet's capacity; got 5%.",
    ),
    "linear step over half in instances": (
        _routing("LINEAR", LinearStepSize=_instances(2)),
        "LinearStepSize must be between 10% and 50% of the new fleet's capacity; 2 instance(s) is",
    ),
    "linear size on a canary": (
        _routing("CANARY", CanarySize=_percent(10), LinearStepSize=_percent(10)),
        "LinearStepSize is only allowed when TrafficRoutingConfiguration Type is LINEAR, "
        "not CANARY.",
    ),
    "rolling batch over half": (
        _rolling(_percent(60)),
        "MaximumBatchSize must be between 5% and 50% of the new fleet's capacity; got 60%.",
    ),
    "rolling without a batch size": (
        {"RollingUpdatePolicy": {"WaitIntervalInSeconds": 60}},
        "Value null at 'deploymentConfig.rollingUpdatePolicy.maximumBatchSize' failed to "
        "satisfy constraint: Member must not be null",
    ),
    "both update policies": (
        _routing("ALL_AT_ONCE") | _rolling(_percent(50)),
        "DeploymentConfig can specify only one update policy: BlueGreenUpdatePolicy or "
        "RollingUpdatePolicy.",
    ),
    "no alarms listed": (
        _routing("ALL_AT_ONCE") | _alarms(),
        "at 'deploymentConfig.autoRollbackConfiguration.alarms' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
    ),
    "eleven alarms": (
        _routing("ALL_AT_ONCE") | _alarms(*(f"alarm-{i}" for i in range(11))),
        "Member must have length less than or equal to 10",
    ),
    "blank alarm name": (
        _routing("ALL_AT_ONCE") | _alarms(" "),
        "at 'deploymentConfig.autoRollbackConfiguration.alarms.1.member.alarmName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern",
    ),
}


def _refusal(client: Any, endpoint: str, config: str, deployment: dict[str, Any]) -> str:
    with pytest.raises(ClientError) as refused:
        client.update_endpoint(
            EndpointName=endpoint, EndpointConfigName=config, DeploymentConfig=deployment
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    return str(error["Message"])


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_deployment_configs_sagemaker_refuses(
    case: str, unchecked: Any, sagemaker: Any, fleets: dict[str, str]
) -> None:
    deployment, expected = REFUSALS[case]
    message = _refusal(unchecked, fleets["endpoint"], fleets["next"], deployment)
    assert expected in message
    described = sagemaker.describe_endpoint(EndpointName=fleets["endpoint"])
    assert described["EndpointStatus"] == "InService"
    assert "PendingDeploymentSummary" not in described
    assert "LastDeploymentConfig" not in described


def test_constraint_failures_are_reported_together(unchecked: Any, fleets: dict[str, str]) -> None:
    deployment = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 4000},
            "MaximumExecutionTimeoutInSeconds": 100,
        }
    }
    message = _refusal(unchecked, fleets["endpoint"], fleets["next"], deployment)
    assert message.startswith("2 validation errors detected: Value '4000' at ")
    assert "; Value '100' at 'deploymentConfig.blueGreenUpdatePolicy." in message


@pytest.mark.parametrize(
    "endpoint, config, deployment, expected",
    [
        (
            "endpoint",
            "renamed",
            _routing("CANARY", CanarySize=_percent(50)),
            "must have the same variant names as the endpoint's current configuration "
            "(AllTraffic) to deploy with CANARY guardrails; it has Renamed.",
        ),
        (
            "pair",
            "next-pair",
            _rolling(_percent(50)),
            "RollingUpdatePolicy is not supported for endpoints with multiple production "
            "variants; use BlueGreenUpdatePolicy.",
        ),
        (
            "serverless",
            "next-serverless",
            _rolling(_percent(50)),
            "RollingUpdatePolicy is not supported for serverless endpoints; use "
            "BlueGreenUpdatePolicy.",
        ),
    ],
    ids=["renamed variants", "rolling two variants", "rolling serverless"],
)
def test_guardrails_sagemaker_refuses_for_the_fleets_involved(
    sagemaker: Any,
    fleets: dict[str, str],
    endpoint: str,
    config: str,
    deployment: dict[str, Any],
    expected: str,
) -> None:
    message = _refusal(sagemaker, fleets[endpoint], fleets[config], deployment)
    assert message.endswith(expected)
    assert sagemaker.describe_endpoint(EndpointName=fleets[endpoint])["EndpointStatus"] == (
        "InService"
    )
