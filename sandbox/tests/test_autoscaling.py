"""Application Auto Scaling for SageMaker variants, answered as AWS answers it: only a
variant that exists and runs on instances can be registered, a policy needs a registered
target, a target-tracking policy makes its two CloudWatch alarms, deregistering removes
policies and alarms, and answers carry no JSON nulls. The scaling itself:
test_scaling_loop.py."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer
from sandbox.testing import aws_client, unique, wait_for_status
from tests.scaling_world import (
    DIMENSION,
    REGION,
    endpoint_on_instances,
    register,
    resource_of,
    track,
)
from tests.world import upload_tumor_model


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.fixture
def scaling(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "application-autoscaling", REGION)


@pytest.fixture
def cloudwatch(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "cloudwatch", REGION)


@pytest.fixture
def variant(running_sandbox: SandboxServer, model: str) -> str:
    """The resource ID of a new endpoint's one variant on one instance."""
    return resource_of(endpoint_on_instances(running_sandbox.url, model))


def refusal(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_only_an_existing_variant_on_instances_can_be_registered(
    running_sandbox: SandboxServer, model: str, scaling: Any
) -> None:
    missing = unique("missing")
    with pytest.raises(ClientError) as raised:
        register(scaling, resource_of(missing), MinCapacity=1, MaxCapacity=2)
    assert refusal(raised) == (
        "ValidationException",
        f"The endpoint '{missing}' does not exist.",
    )

    endpoint = endpoint_on_instances(running_sandbox.url, model)
    with pytest.raises(ClientError) as raised:
        register(scaling, resource_of(endpoint, "B"), MinCapacity=1, MaxCapacity=2)
    assert refusal(raised) == (
        "ValidationException",
        f"The variant 'B' does not exist in endpoint '{endpoint}'.",
    )

    sagemaker = aws_client(running_sandbox.url, "sagemaker", REGION)
    serverless = unique("serverless")
    sagemaker.create_endpoint_config(
        EndpointConfigName=serverless,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=serverless, EndpointConfigName=serverless)
    wait_for_status(running_sandbox.url, REGION, serverless, "InService")
    with pytest.raises(ClientError) as raised:
        register(scaling, resource_of(serverless), MinCapacity=1, MaxCapacity=2)
    code, message = refusal(raised)
    assert code == "ValidationException"
    assert message.startswith(f"The variant 'AllTraffic' of endpoint '{serverless}' is serverless")
    assert (
        scaling.describe_scalable_targets(
            ServiceNamespace="sagemaker",
            ResourceIds=[resource_of(missing), resource_of(serverless)],
        )["ScalableTargets"]
        == []
    )


def test_a_policy_needs_a_registered_target(scaling: Any, variant: str) -> None:
    resource = variant
    with pytest.raises(ClientError) as raised:
        track(scaling, resource)
    error = raised.value.response["Error"]
    assert error["Code"] == "ObjectNotFoundException"
    assert error["Message"] == (
        f"No scalable target registered for service namespace: sagemaker, resource ID: "
        f"{resource}, scalable dimension: {DIMENSION}"
    )


def test_target_tracking_makes_its_alarms_and_deregistering_removes_everything(
    scaling: Any, cloudwatch: Any, variant: str
) -> None:
    resource = variant
    endpoint = resource.split("/")[1]
    register(scaling, resource, MinCapacity=1, MaxCapacity=2)
    put = track(scaling, resource)

    names = sorted(a["AlarmName"] for a in put["Alarms"])
    assert [n.split("-", 2)[0] for n in names] == ["TargetTracking", "TargetTracking"]
    assert names[0].startswith(f"TargetTracking-{resource}-AlarmHigh-")
    assert names[1].startswith(f"TargetTracking-{resource}-AlarmLow-")
    alarms = {
        a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]
    }
    high, low = alarms[names[0]], alarms[names[1]]
    assert (high["MetricName"], high["Namespace"]) == ("InvocationsPerInstance", "AWS/SageMaker")
    assert {(d["Name"], d["Value"]) for d in high["Dimensions"]} == {
        ("EndpointName", endpoint),
        ("VariantName", "AllTraffic"),
    }
    assert (high["ComparisonOperator"], high["Threshold"], high["EvaluationPeriods"]) == (
        "GreaterThanThreshold",
        5.0,
        3,
    )
    assert (low["ComparisonOperator"], low["Threshold"], low["EvaluationPeriods"]) == (
        "LessThanThreshold",
        4.5,
        15,
    )
    assert high["AlarmActions"] == [put["PolicyARN"]]

    (policy,) = scaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=DIMENSION
    )["ScalingPolicies"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 5.0
    assert policy["TargetTrackingScalingPolicyConfiguration"]["ScaleInCooldown"] == 300

    scaling.deregister_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=DIMENSION
    )
    assert (
        scaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)[
            "ScalingPolicies"
        ]
        == []
    )
    assert cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] == []
    with pytest.raises(ClientError) as raised:
        scaling.deregister_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=DIMENSION
        )
    assert raised.value.response["Error"]["Code"] == "ObjectNotFoundException"


def test_registering_again_changes_only_what_is_given_and_min_may_not_exceed_max(
    scaling: Any, variant: str
) -> None:
    resource = variant
    register(scaling, resource, MinCapacity=1, MaxCapacity=2)
    register(
        scaling,
        resource,
        MaxCapacity=4,
        SuspendedState={"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True},
    )
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": True,
        "ScheduledScalingSuspended": False,
    }
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in target["RoleARN"]

    with pytest.raises(ClientError) as raised:
        register(scaling, resource, MinCapacity=5)
    assert raised.value.response["Error"] == {
        "Code": "ValidationException",
        "Message": "Minimum capacity cannot be greater than maximum capacity",
    }


def test_answers_page_and_carry_no_nulls(
    running_sandbox: SandboxServer, model: str, scaling: Any
) -> None:
    bodies: list[tuple[str, str]] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append((http_response.headers.get("Content-Type", ""), http_response.text))

    scaling.meta.events.register("after-call.application-autoscaling.*", keep)
    variants = ("v0", "v1", "v2")
    endpoint = endpoint_on_instances(running_sandbox.url, model, variants=variants)
    for name in variants:
        register(scaling, resource_of(endpoint, name), MinCapacity=1, MaxCapacity=2)
    first = scaling.describe_scalable_targets(ServiceNamespace="sagemaker", MaxResults=2)
    assert len(first["ScalableTargets"]) == 2 and "NextToken" in first
    everything = first["ScalableTargets"]
    token = first["NextToken"]
    while token:
        page = scaling.describe_scalable_targets(
            ServiceNamespace="sagemaker", MaxResults=2, NextToken=token
        )
        everything += page["ScalableTargets"]
        token = page.get("NextToken")
    assert len({t["ResourceId"] for t in everything}) == len(everything) >= 3
    activities = scaling.describe_scaling_activities(
        ServiceNamespace="sagemaker", ResourceId=resource_of(endpoint, "v0")
    )
    assert activities["ScalingActivities"] == [] and "NextToken" not in activities
    assert bodies and all(
        kind.startswith("application/x-amz-json-1.1") and "null" not in text
        for kind, text in bodies
    )


def test_other_namespaces_are_still_answered(scaling: Any) -> None:
    resource = f"table/{unique('table')}"
    scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource,
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=1,
        MaxCapacity=10,
    )
    targets = scaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert resource in {t["ResourceId"] for t in targets}
