"""Someone else acting on the sandbox, as a colleague in the AWS console would.

Tests use it to change the world behind the portal's back; the portal itself only goes
through `core.aws`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import boto3
from botocore.config import Config

DEMO_MODEL = "tumor-classifier-a"


def sagemaker(url: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 2}),
    )


def wait_for_status(sm: Any, name: str, status: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] == status:
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still {described['EndpointStatus']}, wanted {status}")
        time.sleep(0.1)


def create_endpoint(
    url: str, *, region: str = "us-east-1", weights: tuple[float, ...] = (1.0, 1.0)
) -> str:
    """A fresh endpoint serving the demo tumor model on every variant (v0, v1, ...),
    InService when this returns."""
    sm = sagemaker(url, region)
    model = sm.list_models(NameContains="tumor", MaxResults=100)["Models"][0]["ModelName"]
    name = f"t-{uuid.uuid4().hex[:10]}"
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": f"v{i}",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": weight,
            }
            for i, weight in enumerate(weights)
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(sm, name, "InService")
    return name


def runtime(url: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def invoke(url: str, name: str, *, variant: str = "", region: str = "us-east-1") -> str:
    """One CSV invocation with a held-out row of the served model; the variant that
    answered."""
    from sandbox.testing import holdout_rows, rows_to_csv

    kwargs = {"TargetVariant": variant} if variant else {}
    response = runtime(url, region).invoke_endpoint(
        EndpointName=name,
        ContentType="text/csv",
        Body=rows_to_csv(holdout_rows("tumor")[:1]),
        **kwargs,
    )
    return response["InvokedProductionVariant"]


def flush_metrics(url: str) -> None:
    """Make the sandbox publish the current minute's metrics now."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/_sandbox/flush-metrics", method="POST"))
