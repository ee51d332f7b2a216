"""Endpoints, scalable targets, load and waits for the auto scaling tests.

Alarms look at whole minutes of real time: AlarmHigh at the last 3, AlarmLow at the last 15.
A test cannot wait that long, so it sends its load through InvokeEndpoint for the current
minute and writes the minutes before straight into the sandbox's metric store, as the demo
seed writes its day of history (``load_history``); ``/_sandbox/evaluate-alarms`` then
publishes the current minute and evaluates the alarms at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sandbox.endpoint_metrics import SAGEMAKER_NAMESPACE, variant_dimensions
from sandbox.metric_store import MINUTE, MetricDatum
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, unique, wait_for_status
from tests.world import runtime_client

REGION = "ap-south-1"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
VARIANT = "AllTraffic"
ROW = rows_to_csv(holdout_rows("tumor")[:1])


def resource_of(endpoint: str, variant: str = VARIANT) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def endpoint_on_instances(
    url: str,
    model: str,
    *,
    variants: tuple[str, ...] = (VARIANT,),
    instances: int = 1,
    instance_type: str = "ml.m5.large",
) -> str:
    """A new endpoint whose variants run ``instances`` each, waited for until InService."""
    sagemaker = aws_client(url, "sagemaker", REGION)
    name = unique("scaled")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": variant,
                "ModelName": model,
                "InstanceType": instance_type,
                "InitialInstanceCount": instances,
            }
            for variant in variants
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, REGION, name, "InService")
    return name


def register(scaling: Any, resource: str, **values: Any) -> None:
    scaling.register_scalable_target(
        ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=DIMENSION, **values
    )


def track(scaling: Any, resource: str, target: float = 5.0, **settings: Any) -> dict[str, Any]:
    """A target-tracking policy named "invocations" on InvocationsPerInstance; ``settings``
    change its cooldowns (60 s out, 300 s in unless given) or add DisableScaleIn."""
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
            **settings,
        },
    )


def alarm_named(put: dict[str, Any], side: str) -> str:
    """The name of a policy's AlarmHigh or AlarmLow, from PutScalingPolicy's answer."""
    return next(a["AlarmName"] for a in put["Alarms"] if f"-{side}-" in a["AlarmName"])


def this_minute(*, seconds_needed: float = 10.0) -> int:
    """The current minute's start, waiting for the next minute first if this one ends within
    ``seconds_needed`` (so a burst of load lands in one minute)."""
    left = MINUTE - time.time() % MINUTE
    if left < seconds_needed:
        time.sleep(left + 0.05)
    return int(time.time() // MINUTE) * MINUTE


def invoke(url: str, endpoint: str, count: int) -> None:
    """``count`` invocations of the endpoint, four at a time."""
    runtime = runtime_client(url, REGION)

    def call(_: int) -> None:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(call, range(count)))


def load_history(
    server: SandboxServer,
    endpoint: str,
    *,
    per_instance: float,
    minutes: Iterable[int],
    variant: str = VARIANT,
) -> None:
    """Past minutes of InvocationsPerInstance (one Sum per minute), as if load had run then."""
    account = aws_client(server.url, "sts", REGION).get_caller_identity()["Account"]
    for minute in minutes:
        datum = MetricDatum(
            "InvocationsPerInstance", variant_dimensions(endpoint, variant), [per_instance]
        )
        server.state.metrics.put_batch(account, REGION, SAGEMAKER_NAMESPACE, minute, [datum])


def eventually(check: Callable[[], Any], *, timeout: float = 10.0) -> Any:
    """``check()``'s first truthy answer, polled every 100 ms."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"Nothing came of {check.__name__} within {timeout:g} s.")
        time.sleep(0.1)


def instance_counts(sagemaker: Any, endpoint: str) -> tuple[str, int, int]:
    """The endpoint's status and its variant's current and desired instance counts."""
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    (variant,) = described["ProductionVariants"]
    return (
        described["EndpointStatus"],
        variant["CurrentInstanceCount"],
        variant["DesiredInstanceCount"],
    )


def activities(scaling: Any, resource: str) -> list[dict[str, Any]]:
    return scaling.describe_scaling_activities(ServiceNamespace="sagemaker", ResourceId=resource)[
        "ScalingActivities"
    ]


def settled_activities(scaling: Any, resource: str, count: int) -> list[dict[str, Any]]:
    """The resource's activities, once there are ``count`` and none is InProgress."""

    def settled() -> list[dict[str, Any]] | None:
        found = activities(scaling, resource)
        done = len(found) == count and all(a["StatusCode"] != "InProgress" for a in found)
        return found if done else None

    return eventually(settled)
