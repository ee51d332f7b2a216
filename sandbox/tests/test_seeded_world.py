"""The demo world a user sees right after ``python -m sandbox serve --seed demo``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.server import SandboxServer
from sandbox.testing import wait_for_status
from tests.world import variants_by_name

AwsFactory = Callable[..., Any]


@pytest.fixture(scope="module")
def settled(running_sandbox: SandboxServer) -> SandboxServer:
    """Wait until the seeded endpoints have left Creating."""
    for region, name, status in (
        ("us-east-1", "fraud-detection", "InService"),
        ("us-east-1", "tumor-classifier", "InService"),
        ("us-east-1", "churn-serverless", "InService"),
        ("us-east-1", "claims-scoring-async", "InService"),
        ("us-east-1", "shared-scoring", "InService"),
        ("eu-west-1", "iris-classifier", "InService"),
        ("eu-west-1", "sentiment-legacy", "Failed"),
    ):
        wait_for_status(running_sandbox.url, region, name, status)
    return running_sandbox


def test_each_region_lists_its_own_endpoints(settled: SandboxServer, aws: AwsFactory) -> None:
    def names(region: str) -> set[str]:
        listed = aws("sagemaker", region).list_endpoints(MaxResults=100)["Endpoints"]
        return {e["EndpointName"] for e in listed}

    assert {
        "fraud-detection",
        "tumor-classifier",
        "churn-serverless",
        "claims-scoring-async",
        "shared-scoring",
    } <= names("us-east-1")
    assert {"iris-classifier", "sentiment-legacy"} <= names("eu-west-1")
    assert "iris-classifier" not in names("us-east-1")


def test_fraud_detection_splits_evenly_over_two_instance_types(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    sagemaker = aws("sagemaker")
    described = sagemaker.describe_endpoint(EndpointName="fraud-detection")
    variants = variants_by_name(described)
    assert set(variants) == {"xgb-m5", "xgb-c5"}
    assert [variants[n]["CurrentWeight"] for n in ("xgb-m5", "xgb-c5")] == [1.0, 1.0]
    assert [variants[n]["CurrentInstanceCount"] for n in ("xgb-m5", "xgb-c5")] == [2, 2]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    types = {v["VariantName"]: v["InstanceType"] for v in config["ProductionVariants"]}
    assert types == {"xgb-m5": "ml.m5.xlarge", "xgb-c5": "ml.c5.xlarge"}


def test_tumor_classifier_is_an_80_20_test_with_data_capture(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    described = aws("sagemaker").describe_endpoint(EndpointName="tumor-classifier")
    variants = variants_by_name(described)
    assert (variants["A"]["CurrentWeight"], variants["B"]["CurrentWeight"]) == (80.0, 20.0)
    assert (variants["A"]["CurrentInstanceCount"], variants["B"]["CurrentInstanceCount"]) == (2, 1)
    image = variants["A"]["DeployedImages"][0]
    assert image["SpecifiedImage"].endswith(
        ".dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )
    assert "@sha256:" in image["ResolvedImage"]
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": "s3://sagemaker-us-east-1-123456789012/datacapture/",
    }


def test_tumor_variant_a_autoscales_on_invocations_per_instance(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    autoscaling = aws("application-autoscaling")
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=["endpoint/tumor-classifier/variant/A"]
    )["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(2, 4)]
    policies = autoscaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId="endpoint/tumor-classifier/variant/A"
    )["ScalingPolicies"]
    assert len(policies) == 1
    tracking = policies[0]["TargetTrackingScalingPolicyConfiguration"]
    assert policies[0]["PolicyType"] == "TargetTrackingScaling"
    predefined = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert predefined == "SageMakerVariantInvocationsPerInstance"


def test_shared_scoring_hosts_two_inference_components(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    sagemaker = aws("sagemaker")
    described = sagemaker.describe_endpoint(EndpointName="shared-scoring")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert "ModelName" not in variant
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.xlarge", 2)
    assert config["ExecutionRoleArn"].endswith(":role/SageMakerExecutionRole")
    needs = {}
    for name in ("fraud-scorer", "churn-scorer"):
        component = sagemaker.describe_inference_component(InferenceComponentName=name)
        assert component["EndpointName"] == "shared-scoring"
        assert component["InferenceComponentStatus"] in ("Creating", "InService")
        needs[name] = (
            component["Specification"]["ModelName"],
            component["Specification"]["ComputeResourceRequirements"],
        )
    assert needs == {
        "fraud-scorer": (
            "fraud-model-v1",
            {"NumberOfCpuCoresRequired": 1.0, "MinMemoryRequiredInMb": 2048},
        ),
        "churn-scorer": (
            "churn-model",
            {"NumberOfCpuCoresRequired": 1.0, "MinMemoryRequiredInMb": 1024},
        ),
    }
    (policy,) = aws("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId="inference-component/fraud-scorer"
    )["ScalingPolicies"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    predefined = tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
    assert predefined == "SageMakerInferenceComponentInvocationsPerCopy"


def test_serverless_endpoint_reports_memory_and_concurrency_not_instances(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    described = aws("sagemaker").describe_endpoint(EndpointName="churn-serverless")
    (variant,) = described["ProductionVariants"]
    expected = {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    assert variant["CurrentServerlessConfig"] == expected
    assert variant["DesiredServerlessConfig"] == expected
    assert "CurrentInstanceCount" not in variant
    assert "DesiredInstanceCount" not in variant


def test_claims_scoring_is_asynchronous_with_a_day_of_backlog_history(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    described = aws("sagemaker").describe_endpoint(EndpointName="claims-scoring-async")
    bucket = "s3://sagemaker-us-east-1-123456789012"
    assert described["AsyncInferenceConfig"] == {
        "OutputConfig": {
            "S3OutputPath": f"{bucket}/async-output/",
            "S3FailurePath": f"{bucket}/async-failures/",
        },
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 2},
    }
    now = datetime.now(UTC)
    backlog = aws("cloudwatch").get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="ApproximateBacklogSize",
        Dimensions=[{"Name": "EndpointName", "Value": "claims-scoring-async"}],
        StartTime=now - timedelta(hours=24),
        EndTime=now,
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    # The nightly batch queued hundreds of claims at once; they drained within hours.
    assert len(backlog) >= 23
    assert max(point["Maximum"] for point in backlog) >= 500
    latest = max(backlog, key=lambda point: point["Timestamp"])
    assert latest["Maximum"] < 10


def test_iris_classifier_runs_on_one_small_instance_in_ireland(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    sagemaker = aws("sagemaker", "eu-west-1")
    described = sagemaker.describe_endpoint(EndpointName="iris-classifier")
    assert described["EndpointArn"].startswith("arn:aws:sagemaker:eu-west-1:123456789012:")
    config = sagemaker.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert (variant["VariantName"], variant["InstanceType"]) == ("AllTraffic", "ml.t2.medium")
    assert variant["InitialInstanceCount"] == 1


def test_legacy_endpoint_failed_because_its_model_data_is_missing(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    described = aws("sagemaker", "eu-west-1").describe_endpoint(EndpointName="sentiment-legacy")
    assert described["EndpointStatus"] == "Failed"
    assert described["FailureReason"] == (
        'Failed to download model data for container "container_1" from URL: '
        '"s3://sagemaker-eu-west-1-123456789012/models/sentiment-legacy-model/model.tar.gz". '
        "Please ensure that there is an object located at the URL and that the role passed "
        "to CreateModel has permissions to download the object."
    )
    assert described["LastModifiedTime"] > described["CreationTime"]


def test_models_point_at_artifacts_in_the_regional_sagemaker_bucket(
    settled: SandboxServer, aws: AwsFactory
) -> None:
    sagemaker = aws("sagemaker")
    model = sagemaker.describe_model(ModelName="tumor-model-v1")
    assert model["ExecutionRoleArn"] == "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
    url = model["PrimaryContainer"]["ModelDataUrl"]
    assert url == "s3://sagemaker-us-east-1-123456789012/models/tumor-model-v1/model.tar.gz"
    bucket, key = url.removeprefix("s3://").split("/", 1)
    head = aws("s3").head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] > 0
