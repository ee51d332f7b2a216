"""Application Auto Scaling for SageMaker variants, answered as AWS answers it: a policy
needs a registered target, a target-tracking policy makes its two CloudWatch alarms,
deregistering removes policies and alarms, and answers carry no JSON nulls."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer
from sandbox.testing import aws_client, unique

REGION = "ap-south-1"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@pytest.fixture
def scaling(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "application-autoscaling", REGION)


@pytest.fixture
def cloudwatch(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "cloudwatch", REGION)


def variant() -> str:
    return f"endpoint/{unique('scaled')}/variant/AllTraffic"


def register(scaling: Any, resource: str, **values: Any) -> None:
    scaling.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=DIMENSION, **values
    )


def track(scaling: Any, resource: str, target: float = 5.0) -> dict[str, Any]:
    return scaling.put_scaling_policy(
        PolicyName="invocations",
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 300,
        },
    )


def test_a_policy_needs_a_registered_target(scaling: Any) -> None:
    resource = variant()
    with pytest.raises(ClientError) as raised:
        track(scaling, resource)
    error = raised.value.response["Error"]
    assert error["Code"] == "ObjectNotFoundException"
    assert error["Message"] == (
        f"No scalable target registered for service namespace: sagemaker, resource ID: "
        f"{resource}, scalable dimension: {DIMENSION}"
    )


def test_target_tracking_makes_its_alarms_and_deregistering_removes_everything(
    scaling: Any, cloudwatch: Any
) -> None:
    resource = variant()
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
    scaling: Any,
) -> None:
    resource = variant()
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


def test_answers_page_and_carry_no_nulls(scaling: Any) -> None:
    bodies: list[tuple[str, str]] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies.append((http_response.headers.get("Content-Type", ""), http_response.text))

    scaling.meta.events.register("after-call.application-autoscaling.*", keep)
    for _ in range(3):
        register(scaling, variant(), MinCapacity=1, MaxCapacity=2)
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
    activities = scaling.describe_scaling_activities(ServiceNamespace="sagemaker")
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
