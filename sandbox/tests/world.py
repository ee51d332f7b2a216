"""Building and watching sandbox resources from tests, only through the AWS API.

The helpers other projects use too (clients, controls, endpoints) are in ``sandbox.testing``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from sandbox.models import artifact_bytes, train_tumor
from sandbox.seed import EXECUTION_ROLE_ARN, ensure_bucket, image_uri
from sandbox.testing import TRAFFIC_REGION, aws_client, unique, wait_for_status

# Regions the demo world leaves empty, so tests here never disturb what other tests read.
LIFECYCLE_REGION = "us-west-2"
PAGING_REGION = "ap-southeast-2"


def upload_tumor_model(url: str, region: str, *, artifact: bytes | None = None) -> str:
    """Create a model whose artifact is in S3 (the trained tumor model unless given bytes)."""
    s3 = aws_client(url, "s3", region)
    bucket = ensure_bucket(s3, region)
    name = unique("model")
    key = f"models/{name}/model.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=artifact or artifact_bytes(train_tumor()))
    return create_model(url, region, name, f"s3://{bucket}/{key}")


def create_model(url: str, region: str, name: str, model_data_url: str) -> str:
    aws_client(url, "sagemaker", region).create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": image_uri("sagemaker-xgboost", "us-east-1"),
            "ModelDataUrl": model_data_url,
        },
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )
    return name


def variants_by_name(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["VariantName"]: v for v in described["ProductionVariants"]}


# Live traffic, metrics and alarms: tests invoke and watch endpoints of their own in
# TRAFFIC_REGION (``live_endpoint``'s default region).


def runtime_client(url: str, region: str = TRAFFIC_REGION) -> Any:
    """sagemaker-runtime without retries, so every error reaches the test as it happened."""
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 1}, max_pool_connections=8
        ),
    )


def variant_metric(
    url: str,
    endpoint: str,
    variant: str,
    metric: str,
    stat: str,
    *,
    namespace: str = "AWS/SageMaker",
    period: int = 7200,
    region: str = TRAFFIC_REGION,
) -> list[float]:
    """One statistic of a variant's metric since an hour ago (one value with the default period)."""
    now = datetime.now(UTC)
    answer = aws_client(url, "cloudwatch", region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": endpoint},
                            {"Name": "VariantName", "Value": variant},
                        ],
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
        ],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=2),
    )
    return list(answer["MetricDataResults"][0]["Values"])


def async_endpoint(
    url: str, *, region: str = TRAFFIC_REGION, failure_path: bool = True, per_instance: int = 2
) -> str:
    """An InService asynchronous endpoint on the tumor model, one ml.m5.large instance."""
    sagemaker = aws_client(url, "sagemaker", region)
    bucket = ensure_bucket(aws_client(url, "s3", region), region)
    model = upload_tumor_model(url, region)
    name = unique("async")
    output: dict[str, Any] = {"S3OutputPath": f"s3://{bucket}/{name}/out/"}
    if failure_path:
        output["S3FailurePath"] = f"s3://{bucket}/{name}/failed"
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        AsyncInferenceConfig={
            "OutputConfig": output,
            "ClientConfig": {"MaxConcurrentInvocationsPerInstance": per_instance},
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, region, name, "InService")
    return name


# Batch transform and Service Quotas: jobs and quota changes of these tests stay here.
TRANSFORM_REGION = "sa-east-1"
QUOTA_REGION = "ap-northeast-1"
TERMINAL_TRANSFORM_STATUSES = ("Completed", "Failed", "Stopped")


def wait_for_transform(url: str, region: str, name: str, timeout: float = 20.0) -> dict[str, Any]:
    """Poll DescribeTransformJob every 50 ms until the job has ended."""
    sagemaker = aws_client(url, "sagemaker", region)
    deadline = time.monotonic() + timeout
    while True:
        described = sagemaker.describe_transform_job(TransformJobName=name)
        if described["TransformJobStatus"] in TERMINAL_TRANSFORM_STATUSES:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} is still {described['TransformJobStatus']}")
        time.sleep(0.05)


# CloudTrail: calls and lookups of these tests stay here (LookupEvents budgets are regional).
CLOUDTRAIL_REGION = "eu-north-1"
