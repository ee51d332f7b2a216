"""Target tracking scales SageMaker variants in the running sandbox, as on AWS: its alarms
drive UpdateEndpointWeightsAndCapacities within the target's bounds, cooldowns and
suspensions, and every change is a scaling activity. How load is made quick to see:
tests/scaling_world.py."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.server import SandboxServer
from sandbox.testing import allow_endpoint_instances, aws_client, control
from tests.scaling_world import (
    DIMENSION,
    REGION,
    activities,
    alarm_named,
    endpoint_on_instances,
    eventually,
    instance_counts,
    invoke,
    load_history,
    register,
    resource_of,
    settled_activities,
    this_minute,
    track,
)
from tests.world import upload_tumor_model

# Long enough for the loop (every second) to have acted several times if it were going to.
QUIET_SECONDS = 3.0


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.fixture
def scaling(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "application-autoscaling", REGION)


@pytest.fixture
def sagemaker(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "sagemaker", REGION)


@pytest.fixture
def cloudwatch(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "cloudwatch", REGION)


def scaling_calls(server: SandboxServer, endpoint: str) -> list[dict[str, Any]]:
    """The CloudTrail records of UpdateEndpointWeightsAndCapacities calls on an endpoint,
    newest first, as LookupEvents returns them (the session's sandbox has no delivery lag)."""
    trail = aws_client(server.url, "cloudtrail", REGION)
    events = trail.lookup_events(
        LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "UpdateEndpointWeightsAndCapacities"}
        ]
    )["Events"]
    return [
        {**json.loads(event["CloudTrailEvent"]), "Username": event["Username"]}
        for event in events
        if any(r["ResourceName"] == endpoint for r in event["Resources"])
    ]


def busy_minutes(server: SandboxServer, endpoint: str, invocations: int) -> None:
    """Load of ``invocations`` a minute on one instance: sent now, and written for the two
    minutes before (AlarmHigh wants three), then the alarms are evaluated."""
    minute = this_minute()
    invoke(server.url, endpoint, invocations)
    load_history(server, endpoint, per_instance=invocations, minutes=(minute - 120, minute - 60))
    control(server.url, "evaluate-alarms")


def alarm_again(server: SandboxServer, cloudwatch: Any, alarm: str) -> None:
    """Make an alarm in ALARM go into ALARM anew, which invokes its policy at once (it would
    otherwise do so a minute later): set it OK, then let its data put it back."""
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="again")
    control(server.url, "evaluate-alarms")


def quiet_quarter_hour(server: SandboxServer, endpoint: str, per_instance: float) -> None:
    """A light load for the last 15 minutes and this one (AlarmLow wants fifteen), then the
    alarms are evaluated."""
    minute = this_minute(seconds_needed=0)
    load_history(
        server,
        endpoint,
        per_instance=per_instance,
        minutes=range(minute - 15 * 60, minute + 60, 60),
    )
    control(server.url, "evaluate-alarms")


def test_load_scales_the_variant_out_within_its_max_capacity(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any
) -> None:
    endpoint = endpoint_on_instances(running_sandbox.url, model)
    resource = resource_of(endpoint)
    register(scaling, resource, MinCapacity=1, MaxCapacity=3)
    high = alarm_named(track(scaling, resource, target=5.0), "AlarmHigh")

    busy_minutes(running_sandbox, endpoint, 30)  # 6 instances' worth; 3 at most

    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 3, 3))
    (activity,) = settled_activities(scaling, resource, 1)
    assert activity["ServiceNamespace"] == "sagemaker"
    assert activity["ScalableDimension"] == DIMENSION
    assert activity["Description"] == "Setting desired instance count to 3."
    assert activity["Cause"] == f"monitor alarm {high} in state ALARM triggered policy invocations"
    assert activity["StatusCode"] == "Successful"
    assert activity["StatusMessage"] == (
        "Successfully set desired instance count to 3. Change successfully fulfilled by sagemaker."
    )
    assert activity["StartTime"] <= activity["EndTime"]
    assert len(activity["ActivityId"]) == 36


def test_a_scale_out_is_recorded_in_cloudtrail_as_the_service_linked_role(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any
) -> None:
    endpoint = endpoint_on_instances(running_sandbox.url, model)
    resource = resource_of(endpoint)
    register(scaling, resource, MinCapacity=1, MaxCapacity=2)
    track(scaling, resource, target=5.0)

    busy_minutes(running_sandbox, endpoint, 20)

    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 2, 2))
    (record,) = scaling_calls(running_sandbox, endpoint)
    role = "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"].endswith(f":assumed-role/{role}/AutoScaling")
    assert identity["invokedBy"] == "autoscaling.amazonaws.com"
    assert identity["sessionContext"]["sessionIssuer"]["arn"].endswith(
        f":role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/{role}"
    )
    assert record["Username"] == "AutoScaling"
    assert record["sourceIPAddress"] == record["userAgent"] == "autoscaling.amazonaws.com"
    assert record["requestParameters"] == {
        "endpointName": endpoint,
        "desiredWeightsAndCapacities": [{"variantName": "AllTraffic", "desiredInstanceCount": 2}],
    }
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert record["responseElements"] == {"endpointArn": described["EndpointArn"]}
    assert "errorCode" not in record


def test_light_load_scales_in_once_per_cooldown_down_to_min_capacity(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any, cloudwatch: Any
) -> None:
    endpoint = endpoint_on_instances(running_sandbox.url, model, instances=3)
    resource = resource_of(endpoint)
    register(scaling, resource, MinCapacity=1, MaxCapacity=3)
    low = alarm_named(track(scaling, resource, target=5.0, ScaleInCooldown=4), "AlarmLow")

    # 2 a minute per instance: 3 instances -> ceil(3 x 2 / 5) = 2, then 2 -> 1.
    quiet_quarter_hour(running_sandbox, endpoint, per_instance=2.0)
    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 2, 2))
    (first,) = settled_activities(scaling, resource, 1)
    assert first["Description"] == "Setting desired instance count to 2."
    assert first["Cause"] == f"monitor alarm {low} in state ALARM triggered policy invocations"

    # The alarm invokes the policy again (as it would a minute later): the cooldown holds.
    alarm_again(running_sandbox, cloudwatch, low)
    time.sleep(1.5)
    assert len(activities(scaling, resource)) == 1

    cooled = first["StartTime"] + timedelta(seconds=4)
    time.sleep(max(0.0, (cooled - datetime.now(UTC)).total_seconds()))
    alarm_again(running_sandbox, cloudwatch, low)
    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 1, 1))
    latest, _ = settled_activities(scaling, resource, 2)
    assert latest["Description"] == "Setting desired instance count to 1."
    assert latest["StatusCode"] == "Successful"
    assert (latest["StartTime"] - first["StartTime"]).total_seconds() >= 4.0

    alarm_again(running_sandbox, cloudwatch, low)
    time.sleep(1.5)  # still in ALARM, but the variant is at its minimum
    assert len(activities(scaling, resource)) == 2


def test_disable_scale_in_keeps_the_instances_through_light_load(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any
) -> None:
    endpoint = endpoint_on_instances(running_sandbox.url, model, instances=3)
    resource = resource_of(endpoint)
    register(scaling, resource, MinCapacity=1, MaxCapacity=3)
    low = alarm_named(
        track(scaling, resource, target=5.0, ScaleInCooldown=0, DisableScaleIn=True), "AlarmLow"
    )

    quiet_quarter_hour(running_sandbox, endpoint, per_instance=2.0)
    cloudwatch = aws_client(running_sandbox.url, "cloudwatch", REGION)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[low])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"

    time.sleep(QUIET_SECONDS)
    assert activities(scaling, resource) == []
    assert instance_counts(sagemaker, endpoint) == ("InService", 3, 3)


def test_suspended_scale_out_waits_until_resumed(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any, cloudwatch: Any
) -> None:
    endpoint = endpoint_on_instances(running_sandbox.url, model)
    resource = resource_of(endpoint)
    register(
        scaling,
        resource,
        MinCapacity=1,
        MaxCapacity=2,
        SuspendedState={"DynamicScalingOutSuspended": True},
    )
    high = alarm_named(track(scaling, resource, target=5.0), "AlarmHigh")

    busy_minutes(running_sandbox, endpoint, 20)
    time.sleep(QUIET_SECONDS)
    assert activities(scaling, resource) == []
    assert instance_counts(sagemaker, endpoint) == ("InService", 1, 1)

    register(scaling, resource, SuspendedState={"DynamicScalingOutSuspended": False})
    alarm_again(running_sandbox, cloudwatch, high)  # its next invocation, without the minute
    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 2, 2))


def test_new_bounds_move_the_desired_count_within_them_at_once(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any
) -> None:
    endpoint = endpoint_on_instances(running_sandbox.url, model)
    resource = resource_of(endpoint)
    register(scaling, resource, MinCapacity=1, MaxCapacity=3)
    time.sleep(1.5)  # within bounds: nothing to do
    assert activities(scaling, resource) == []

    register(scaling, resource, MinCapacity=2)
    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 2, 2))
    (raised,) = settled_activities(scaling, resource, 1)
    assert (raised["Description"], raised["Cause"], raised["StatusCode"]) == (
        "Setting desired instance count to 2.",
        "minimum capacity was set to 2",
        "Successful",
    )

    register(scaling, resource, MinCapacity=1, MaxCapacity=1)
    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 1, 1))
    lowered, _ = settled_activities(scaling, resource, 2)
    assert (lowered["Description"], lowered["Cause"]) == (
        "Setting desired instance count to 1.",
        "maximum capacity was set to 1",
    )

    bodies: list[str] = []
    scaling.meta.events.register(
        "after-call.application-autoscaling.DescribeScalingActivities",
        lambda http_response, **_: bodies.append(http_response.text),
    )
    page = scaling.describe_scaling_activities(
        ServiceNamespace="sagemaker", ResourceId=resource, MaxResults=1
    )
    assert page["ScalingActivities"] == [lowered]
    rest = scaling.describe_scaling_activities(
        ServiceNamespace="sagemaker", ResourceId=resource, MaxResults=1, NextToken=page["NextToken"]
    )
    assert rest["ScalingActivities"] == [raised] and "NextToken" not in rest
    assert len(bodies) == 2 and not any("null" in body for body in bodies)


def test_a_scale_out_over_the_instance_quota_is_a_failed_activity(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any
) -> None:
    allow_endpoint_instances(running_sandbox.url, "ml.c5.large", 2, region=REGION)
    endpoint = endpoint_on_instances(running_sandbox.url, model, instance_type="ml.c5.large")
    resource = resource_of(endpoint)
    register(scaling, resource, MinCapacity=1, MaxCapacity=4)
    track(scaling, resource, target=5.0)

    busy_minutes(running_sandbox, endpoint, 40)

    (failed,) = settled_activities(scaling, resource, 1)
    assert failed["Description"] == "Setting desired instance count to 4."
    assert failed["StatusCode"] == "Failed"
    assert failed["StatusMessage"].startswith(
        "Failed to set desired instance count to 4. Reason: The account-level service limit "
        "'ml.c5.large for endpoint usage' is 2 Instances, with current utilization of 1 "
        "Instances and a request delta of 3 Instances. Please use AWS Service Quotas to request "
        "an increase for this quota. (Service: AmazonSageMaker; Status Code: 400; Error Code: "
        "ResourceLimitExceeded; Request ID: "
    )
    assert failed["EndTime"] >= failed["StartTime"]
    (refused,) = scaling_calls(running_sandbox, endpoint)
    assert refused["errorCode"] == "ResourceLimitExceeded"
    assert refused["errorMessage"].startswith("The account-level service limit 'ml.c5.large")
    assert refused["requestID"] in failed["StatusMessage"]
    assert refused["responseElements"] is None
    time.sleep(QUIET_SECONDS)  # AWS tries again when the alarm next fires, a minute later
    assert len(activities(scaling, resource)) == 1
    assert instance_counts(sagemaker, endpoint) == ("InService", 1, 1)


def test_the_classic_notebook_stress_test_ends_with_two_instances(
    running_sandbox: SandboxServer, model: str, scaling: Any, sagemaker: Any
) -> None:
    """AWS's sample notebook: 1 to 2 instances, 5 invocations per instance as the target,
    then a stress test of invoke_endpoint calls. Its stress test runs for minutes; here this
    minute's calls are real and the two before are written as the same load."""
    endpoint = endpoint_on_instances(running_sandbox.url, model)
    resource_id = resource_of(endpoint)
    scaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=2,
    )
    scaling.put_scaling_policy(
        PolicyName="Invocations-ScalingPolicy",
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 5.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )

    busy_minutes(running_sandbox, endpoint, 100)

    assert eventually(lambda: instance_counts(sagemaker, endpoint) == ("InService", 2, 2))
    (activity,) = settled_activities(scaling, resource_id, 1)
    assert activity["Cause"].endswith("in state ALARM triggered policy Invocations-ScalingPolicy")
    assert activity["StatusCode"] == "Successful"
