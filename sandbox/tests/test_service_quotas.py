"""Service Quotas for sagemaker, and CreateTransformJob refused over the instance quota."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.quotas import quota_code
from sandbox.seed import ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, unique
from tests.world import QUOTA_REGION, upload_tumor_model, wait_for_transform

AwsFactory = Callable[..., Any]
M5_LARGE = "ml.m5.large for transform job usage"
C5_XLARGE = "ml.c5.xlarge for transform job usage"


def job(model: str, bucket: str, instance_type: str, count: int) -> dict[str, Any]:
    name = unique("quota")
    return {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/quota-in/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": f"s3://{bucket}/quota-out/{name}"},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": count},
    }


@pytest.fixture(scope="module")
def quota_world(running_sandbox: SandboxServer) -> tuple[str, str]:
    s3 = aws_client(running_sandbox.url, "s3", QUOTA_REGION)
    bucket = ensure_bucket(s3, QUOTA_REGION)
    s3.put_object(Bucket=bucket, Key="quota-in/rows.csv", Body=b"1,2,3\n")
    return upload_tumor_model(running_sandbox.url, QUOTA_REGION), bucket


def test_get_service_quota_answers_the_transform_quota(aws: AwsFactory) -> None:
    quotas = aws("service-quotas", QUOTA_REGION)
    quota = quotas.get_service_quota(ServiceCode="sagemaker", QuotaCode=quota_code(M5_LARGE))[
        "Quota"
    ]
    assert quota["QuotaName"] == M5_LARGE
    assert quota["Value"] == 0.0
    assert quota["Unit"] == "None"
    assert quota["QuotaArn"] == (
        f"arn:aws:servicequotas:{QUOTA_REGION}:123456789012:sagemaker/{quota['QuotaCode']}"
    )
    assert quota["QuotaCode"].startswith("L-") and len(quota["QuotaCode"]) == 10
    with pytest.raises(ClientError) as raised:
        quotas.get_service_quota(ServiceCode="sagemaker", QuotaCode="L-00000000")
    assert raised.value.response["Error"]["Code"] == "NoSuchResourceException"


def test_list_service_quotas_pages_through_every_instance_type(aws: AwsFactory) -> None:
    paginator = aws("service-quotas", QUOTA_REGION).get_paginator("list_service_quotas")
    pages = list(paginator.paginate(ServiceCode="sagemaker", PaginationConfig={"PageSize": 100}))
    quotas = [q for page in pages for q in page["Quotas"]]
    by_name = {q["QuotaName"]: q for q in quotas}
    assert len(pages) > 1
    assert len(by_name) == len(quotas) == len({q["QuotaCode"] for q in quotas})
    assert by_name[M5_LARGE]["Value"] == 0.0
    for other in ("ml.m5.xlarge", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.m5.2xlarge"):
        assert by_name[f"{other} for transform job usage"]["Value"] == 4.0
    assert "ml.m5.large for endpoint usage" in by_name


def test_over_quota_is_resource_limit_exceeded_in_aws_words(
    running_sandbox: SandboxServer, quota_world: tuple[str, str]
) -> None:
    model, bucket = quota_world
    sagemaker = aws_client(running_sandbox.url, "sagemaker", QUOTA_REGION)
    with pytest.raises(ClientError) as raised:
        sagemaker.create_transform_job(**job(model, bucket, "ml.m5.large", 1))
    error = raised.value.response["Error"]
    assert error["Code"] == "ResourceLimitExceeded"
    assert error["Message"] == (
        "The account-level service limit 'ml.m5.large for transform job usage' is 0 Instances, "
        "with current utilization of 0 Instances and a request delta of 1 Instances. Please "
        "use AWS Service Quotas to request an increase for this quota."
    )


def test_running_jobs_count_against_the_quota_set_through_the_admin_route(
    running_sandbox: SandboxServer, aws: AwsFactory, quota_world: tuple[str, str]
) -> None:
    model, bucket = quota_world
    url = running_sandbox.url
    status, answer = control(
        url, "quotas", body={"quota": C5_XLARGE, "value": 2, "region": QUOTA_REGION}
    )
    assert status == 200 and answer["quota"]["code"] == quota_code(C5_XLARGE)
    quotas = aws("service-quotas", QUOTA_REGION)
    applied = quotas.get_service_quota(ServiceCode="sagemaker", QuotaCode=quota_code(C5_XLARGE))
    assert applied["Quota"]["Value"] == 2.0
    defaults = quotas.list_aws_default_service_quotas(ServiceCode="sagemaker", MaxResults=100)
    pages = [defaults]
    while "NextToken" in pages[-1]:
        pages.append(
            quotas.list_aws_default_service_quotas(
                ServiceCode="sagemaker", NextToken=pages[-1]["NextToken"]
            )
        )
    default = next(q for p in pages for q in p["Quotas"] if q["QuotaName"] == C5_XLARGE)
    assert default["Value"] == 4.0

    sagemaker = aws_client(url, "sagemaker", QUOTA_REGION)
    first = job(model, bucket, "ml.c5.xlarge", 1)
    sagemaker.create_transform_job(**first)
    try:
        with pytest.raises(ClientError) as raised:
            sagemaker.create_transform_job(**job(model, bucket, "ml.c5.xlarge", 2))
        assert raised.value.response["Error"]["Code"] == "ResourceLimitExceeded"
        assert (
            "current utilization of 1 Instances and a request delta of 2 Instances"
            in (raised.value.response["Error"]["Message"])
        )
    finally:
        sagemaker.stop_transform_job(TransformJobName=first["TransformJobName"])
    wait_for_transform(url, QUOTA_REGION, first["TransformJobName"])
    # Ended jobs free their instances.
    second = job(model, bucket, "ml.c5.xlarge", 2)
    sagemaker.create_transform_job(**second)
    sagemaker.stop_transform_job(TransformJobName=second["TransformJobName"])


def test_the_admin_route_lists_applied_values_and_refuses_unknown_quotas(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    control(url, "quotas", body={"quota": C5_XLARGE, "value": 3, "region": QUOTA_REGION})
    status, listed = control(url, "quotas", method="GET")
    assert status == 200
    assert {"region": QUOTA_REGION, "name": C5_XLARGE, "value": 3.0}.items() <= next(
        q for q in listed["quotas"] if q["region"] == QUOTA_REGION and q["name"] == C5_XLARGE
    ).items()
    status, answer = control(url, "quotas", body={"quota": "ml.m5.huge for fun", "value": 1})
    assert status == 400 and "No sagemaker quota" in answer["message"]
    status, answer = control(url, "quotas", body={"quota": C5_XLARGE, "value": -1})
    assert status == 400
