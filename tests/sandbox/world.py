"""Building and watching sandbox resources from tests, only through the AWS API."""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
from botocore.config import Config

from sandbox.models import artifact_bytes, train_tumor
from sandbox.seed import EXECUTION_ROLE_ARN, ensure_bucket, image_uri

# Regions the demo world leaves empty, so tests here never disturb what other tests read.
LIFECYCLE_REGION = "us-west-2"
PAGING_REGION = "ap-southeast-2"


def aws_client(url: str, service: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


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


def create_endpoint(
    url: str,
    region: str,
    model: str,
    *,
    weights: tuple[float, ...] = (1.0, 1.0),
    counts: tuple[int, ...] = (1, 1),
) -> str:
    """A two-variant endpoint (v0, v1) on the model; returns while it is still Creating."""
    sagemaker = aws_client(url, "sagemaker", region)
    name = unique("ep")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": f"v{i}",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": count,
                "InitialVariantWeight": weight,
            }
            for i, (weight, count) in enumerate(zip(weights, counts, strict=True))
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    return name


def wait_for_status(
    url: str, region: str, name: str, status: str, timeout: float = 15.0
) -> dict[str, Any]:
    """Poll DescribeEndpoint like the SDK's waiter, but every 50 ms."""
    sagemaker = aws_client(url, "sagemaker", region)
    deadline = time.monotonic() + timeout
    while True:
        described = sagemaker.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] == status:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} is {described['EndpointStatus']}, not {status}")
        time.sleep(0.05)


def variants_by_name(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["VariantName"]: v for v in described["ProductionVariants"]}
