"""Inference components as AWS measures and scales them: InvocationsPerCopy, the per-minute
utilization in /aws/sagemaker/InferenceComponents, and Application Auto Scaling of the copy
count (sagemaker:inference-component:DesiredCopyCount) driven by its target-tracking alarms.
How load is made quick to see: tests/scaling_world.py."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.component_metrics import COMPONENT_NAMESPACE, ComponentMetrics, ServingComponent
from sandbox.metric_store import MINUTE, MetricDatum, MetricStore, SeriesKey
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed import EXECUTION_ROLE_ARN
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, unique, wait_for_status
from sandbox.traffic import TrafficGenerator
from tests.scaling_world import alarm_named, eventually, settled_activities, this_minute
from tests.world import runtime_client, upload_tumor_model

REGION = "eu-north-1"
ROW = rows_to_csv(holdout_rows("tumor")[:1])
DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.fixture
def sagemaker(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "sagemaker", REGION)


@pytest.fixture
def scaling(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "application-autoscaling", REGION)


@pytest.fixture
def component(running_sandbox: SandboxServer, sagemaker: Any, model: str) -> str:
    """An InService component with one copy (1 core) on 4 ml.m5.large instances (8 cores)."""
    host = unique("ic-scaled")
    sagemaker.create_endpoint_config(
        EndpointConfigName=host,
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 4}
        ],
    )
    sagemaker.create_endpoint(EndpointName=host, EndpointConfigName=host)
    wait_for_status(running_sandbox.url, REGION, host, "InService")
    name = unique("ic")
    sagemaker.create_inference_component(
        InferenceComponentName=name,
        EndpointName=host,
        VariantName="AllTraffic",
        Specification={
            "ModelName": model,
            "ComputeResourceRequirements": {
                "NumberOfCpuCoresRequired": 1.0,
                "MinMemoryRequiredInMb": 1024,
            },
        },
        RuntimeConfig={"CopyCount": 1},
    )
    eventually(lambda: copies(sagemaker, name) == ("InService", 1, 1))
    return name


def copies(sagemaker: Any, name: str) -> tuple[str, int, int]:
    described = sagemaker.describe_inference_component(InferenceComponentName=name)
    runtime = described["RuntimeConfig"]
    return (
        described["InferenceComponentStatus"],
        runtime["CurrentCopyCount"],
        runtime["DesiredCopyCount"],
    )


def invoke(url: str, name: str, count: int) -> None:
    runtime = runtime_client(url, REGION)
    host = aws_client(url, "sagemaker", REGION).describe_inference_component(
        InferenceComponentName=name
    )["EndpointName"]

    def call(_: int) -> None:
        runtime.invoke_endpoint(
            EndpointName=host, InferenceComponentName=name, ContentType="text/csv", Body=ROW
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(call, range(count)))


def register(scaling: Any, name: str, **values: Any) -> dict[str, Any]:
    answer: dict[str, Any] = scaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"inference-component/{name}",
        ScalableDimension=DIMENSION,
        **values,
    )
    return answer


def track(scaling: Any, name: str, target: float = 5.0) -> dict[str, Any]:
    answer: dict[str, Any] = scaling.put_scaling_policy(
        PolicyName="per-copy",
        ServiceNamespace="sagemaker",
        ResourceId=f"inference-component/{name}",
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"
            },
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 300,
        },
    )
    return answer


def per_copy_sums(url: str, name: str) -> float:
    stats = aws_client(url, "cloudwatch", REGION).get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="InvocationsPerCopy",
        Dimensions=[{"Name": "InferenceComponentName", "Value": name}],
        StartTime=time.time() - 600,
        EndTime=time.time() + 60,
        Period=60,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in stats["Datapoints"]))


def test_invocations_per_copy_sums_to_invocations_over_copies(
    running_sandbox: SandboxServer, sagemaker: Any, component: str
) -> None:
    sagemaker.update_inference_component_runtime_config(
        InferenceComponentName=component, DesiredRuntimeConfig={"CopyCount": 2}
    )
    eventually(lambda: copies(sagemaker, component) == ("InService", 2, 2))
    this_minute()
    invoke(running_sandbox.url, component, 6)
    control(running_sandbox.url, "flush-metrics")
    assert per_copy_sums(running_sandbox.url, component) == pytest.approx(3.0)


def _utilization(store: MetricStore, name: str, metric: str) -> list[float]:
    key = SeriesKey(
        ACCOUNT, REGION, COMPONENT_NAMESPACE, metric, (("InferenceComponentName", name),)
    )
    found = store.aggregate(key, 0, time.time() * 2, MINUTE)
    return [value for p in found if (value := p.bucket.statistic("Average")) is not None]


def test_utilization_is_published_every_minute_idle_or_busy() -> None:
    """Each completed minute, once, for every InService component; a busy minute's CPU is
    its model seconds over the cores its copies reserve."""
    now = [1_000_000 * MINUTE + 5.0]
    store = MetricStore()
    serving = [ServingComponent(ACCOUNT, REGION, "scorer", copies=2, cores=1.0)]
    metrics = ComponentMetrics(store, lambda: serving, clock=lambda: now[0])
    assert metrics.flush() == 0  # first seen: starts with the next completed minute
    for _ in range(60):  # 60 requests of 0.5 s: 30 of the 120 core-seconds two copies hold
        metrics.record(ACCOUNT, REGION, "scorer", 0.5)
    now[0] += MINUTE
    assert metrics.flush() == 1
    assert metrics.flush() == 0  # the same minute is not published twice
    now[0] += 2 * MINUTE  # two idle minutes
    assert metrics.flush() == 2
    cpu = _utilization(store, "scorer", "CPUUtilizationNormalized")
    memory = _utilization(store, "scorer", "MemoryUtilizationNormalized")
    assert len(cpu) == len(memory) == 3
    busy, *idle = cpu
    assert 25.0 < busy < 30.0
    assert all(0.0 < value < 3.0 for value in idle)
    assert memory[0] > memory[1]
    assert all(0.0 < value <= 100.0 for value in memory)


def test_the_copy_count_target_and_its_policy_alarms(
    running_sandbox: SandboxServer, scaling: Any, component: str
) -> None:
    register(scaling, component, MinCapacity=0, MaxCapacity=3)
    put = track(scaling, component, target=5.0)
    resource = f"inference-component/{component}"
    (target,) = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        DIMENSION,
        0,
        3,
    )
    variants_only = scaling.describe_scalable_targets(
        ServiceNamespace="sagemaker",
        ResourceIds=[resource],
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
    )["ScalableTargets"]
    assert variants_only == []
    (policy,) = scaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=resource
    )["ScalingPolicies"]
    assert policy["ScalableDimension"] == DIMENSION
    assert len(policy["Alarms"]) == 2
    high = alarm_named(put, "AlarmHigh")
    cloudwatch = aws_client(running_sandbox.url, "cloudwatch", REGION)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[high])["MetricAlarms"]
    assert alarm["Namespace"] == "AWS/SageMaker"
    assert alarm["MetricName"] == "InvocationsPerCopy"
    assert alarm["Statistic"] == "Sum"
    assert alarm["Dimensions"] == [{"Name": "InferenceComponentName", "Value": component}]
    assert alarm["Threshold"] == 5.0


def test_load_scales_the_copies_out_within_max_capacity(
    running_sandbox: SandboxServer, sagemaker: Any, scaling: Any, component: str
) -> None:
    register(scaling, component, MinCapacity=1, MaxCapacity=3)
    high = alarm_named(track(scaling, component, target=5.0), "AlarmHigh")
    minute = this_minute()
    invoke(running_sandbox.url, component, 30)  # 30 a copy: 6 copies' worth, 3 at most
    dimensions = (("InferenceComponentName", component),)
    for past in (minute - 2 * MINUTE, minute - MINUTE):
        datum = MetricDatum("InvocationsPerCopy", dimensions, [30.0])
        running_sandbox.state.metrics.put_batch(ACCOUNT, REGION, "AWS/SageMaker", past, [datum])
    control(running_sandbox.url, "evaluate-alarms")

    assert eventually(lambda: copies(sagemaker, component) == ("InService", 3, 3))
    resource = f"inference-component/{component}"
    (activity,) = settled_activities(scaling, resource, 1)
    assert activity["ScalableDimension"] == DIMENSION
    assert activity["Description"] == "Setting desired copy count to 3."
    assert activity["Cause"] == f"monitor alarm {high} in state ALARM triggered policy per-copy"
    assert activity["StatusCode"] == "Successful"
    trail = aws_client(running_sandbox.url, "cloudtrail", REGION)
    events = trail.lookup_events(
        LookupAttributes=[
            {"AttributeKey": "ResourceName", "AttributeValue": component},
        ]
    )["Events"]
    calls = [
        json.loads(e["CloudTrailEvent"])
        for e in events
        if e["EventName"] == "UpdateInferenceComponentRuntimeConfig"
    ]
    (call,) = calls
    assert call["userIdentity"]["invokedBy"] == "autoscaling.amazonaws.com"
    assert call["requestParameters"]["desiredRuntimeConfig"] == {"copyCount": 3}


def test_new_bounds_bring_the_copies_within_them(
    sagemaker: Any, scaling: Any, component: str
) -> None:
    register(scaling, component, MinCapacity=2, MaxCapacity=4)
    assert eventually(lambda: copies(sagemaker, component) == ("InService", 2, 2))


def test_refusals(scaling: Any, component: str) -> None:
    with pytest.raises(ClientError) as unknown:
        register(scaling, "no-such-component", MinCapacity=1, MaxCapacity=2)
    assert unknown.value.response["Error"]["Code"] == "ValidationException"
    assert "does not exist" in unknown.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as wrong_dimension:
        scaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=f"inference-component/{component}",
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert wrong_dimension.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as variant_resource:
        scaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId="endpoint/some-endpoint/variant/AllTraffic",
            ScalableDimension=DIMENSION,
            MinCapacity=1,
            MaxCapacity=2,
        )
    assert variant_resource.value.response["Error"]["Code"] == "ValidationException"
    register(scaling, component, MinCapacity=1, MaxCapacity=2)
    with pytest.raises(ClientError) as wrong_metric:
        scaling.put_scaling_policy(
            PolicyName="per-instance",
            ServiceNamespace="sagemaker",
            ResourceId=f"inference-component/{component}",
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": 5.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
            },
        )
    assert wrong_metric.value.response["Error"]["Code"] == "ValidationException"


def test_the_demo_shares_one_endpoint_between_two_components(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    wait_for_status(url, "us-east-1", "shared-scoring", "InService")
    sagemaker = aws_client(url, "sagemaker", "us-east-1")
    listed = sagemaker.list_inference_components(EndpointNameEquals="shared-scoring")
    assert {c["InferenceComponentName"] for c in listed["InferenceComponents"]} == {
        "fraud-scorer",
        "churn-scorer",
    }
    for name, model in (("fraud-scorer", "fraud-model-v1"), ("churn-scorer", "churn-model")):

        def in_service(name: str = name) -> dict[str, Any] | None:
            found: dict[str, Any] = sagemaker.describe_inference_component(
                InferenceComponentName=name
            )
            return found if found["InferenceComponentStatus"] == "InService" else None

        described = eventually(in_service)
        assert described["Specification"]["ModelName"] == model
        assert described["RuntimeConfig"]["CurrentCopyCount"] >= 1
    answer = runtime_client(url, "us-east-1").invoke_endpoint(
        EndpointName="shared-scoring",
        InferenceComponentName="churn-scorer",
        ContentType="text/csv",
        Body=rows_to_csv(holdout_rows("churn")[:1]),
    )
    assert answer["Body"].read().strip()
    history = aws_client(url, "cloudwatch", "us-east-1").get_metric_statistics(
        Namespace=COMPONENT_NAMESPACE,
        MetricName="CPUUtilizationNormalized",
        Dimensions=[{"Name": "InferenceComponentName", "Value": "fraud-scorer"}],
        StartTime=time.time() - 86400,
        EndTime=time.time(),
        Period=3600,
        Statistics=["Average"],
    )["Datapoints"]
    assert len(history) >= 23  # a day of minutes, idle or busy
    assert all(0.0 < point["Average"] < 100.0 for point in history)
    (target,) = aws_client(url, "application-autoscaling", "us-east-1").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["inference-component/fraud-scorer"]
    )["ScalableTargets"]
    assert (target["ScalableDimension"], target["MinCapacity"], target["MaxCapacity"]) == (
        DIMENSION,
        1,
        4,
    )


def test_the_traffic_generator_sends_each_component_its_share(
    running_sandbox: SandboxServer, component: str
) -> None:
    generator = TrafficGenerator(
        running_sandbox.url,
        running_sandbox.state.endpoints,
        running_sandbox.state.faults,
        rate=20.0,
        regions=frozenset({REGION}),
        components=running_sandbox.state.components,
    )
    generator.start()
    time.sleep(1.0)
    generator.stop()
    assert generator.stats.sent >= 3
    control(running_sandbox.url, "flush-metrics")
    stats = aws_client(running_sandbox.url, "cloudwatch", REGION).get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[{"Name": "InferenceComponentName", "Value": component}],
        StartTime=time.time() - 600,
        EndTime=time.time() + 60,
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(point["Sum"] for point in stats["Datapoints"]) >= 1
