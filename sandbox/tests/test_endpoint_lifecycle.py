"""Endpoints go through Creating as on AWS, and fail the way AWS fails them."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer
from sandbox.testing import create_endpoint, unique, wait_for_status
from tests.world import LIFECYCLE_REGION, create_model, upload_tumor_model, variants_by_name

AwsFactory = Callable[..., Any]
REGION = LIFECYCLE_REGION


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.mark.usefixtures("slow_creation")
def test_new_endpoint_is_creating_then_in_service_with_a_later_modified_time(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    name = create_endpoint(running_sandbox.url, REGION, model, weights=(3.0, 1.0), counts=(2, 1))
    creating = sagemaker.describe_endpoint(EndpointName=name)
    assert creating["EndpointStatus"] == "Creating"
    assert creating["LastModifiedTime"] == creating["CreationTime"]
    first = variants_by_name(creating)["v0"]
    assert (first["DesiredWeight"], first["DesiredInstanceCount"]) == (3.0, 2)
    assert "CurrentWeight" not in first and "CurrentInstanceCount" not in first
    assert [s["Status"] for s in first["VariantStatus"]] == ["Creating"]

    live = wait_for_status(running_sandbox.url, REGION, name, "InService")
    assert live["LastModifiedTime"] > creating["LastModifiedTime"]
    first = variants_by_name(live)["v0"]
    assert (first["CurrentWeight"], first["CurrentInstanceCount"]) == (3.0, 2)
    assert "VariantStatus" not in first


@pytest.mark.usefixtures("slow_creation")
def test_list_and_describe_agree_on_status_and_modified_time(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    name = create_endpoint(running_sandbox.url, REGION, model)
    creating = sagemaker.list_endpoints(NameContains=name, StatusEquals="Creating")["Endpoints"]
    assert [e["EndpointName"] for e in creating] == [name]

    described = wait_for_status(running_sandbox.url, REGION, name, "InService")
    (listed,) = sagemaker.list_endpoints(NameContains=name)["Endpoints"]
    assert listed["EndpointStatus"] == "InService"
    assert listed["LastModifiedTime"] == described["LastModifiedTime"]
    changed = sagemaker.list_endpoints(
        NameContains=name, LastModifiedTimeAfter=described["CreationTime"]
    )["Endpoints"]
    assert [e["EndpointName"] for e in changed] == [name]


@pytest.mark.usefixtures("slow_creation")
def test_missing_model_data_fails_the_endpoint_with_aws_reason(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    url = f"s3://sagemaker-{REGION}-123456789012/models/nowhere/model.tar.gz"
    broken = create_model(running_sandbox.url, REGION, unique("nodata"), url)
    name = create_endpoint(running_sandbox.url, REGION, broken)
    assert aws("sagemaker", REGION).describe_endpoint(EndpointName=name)["EndpointStatus"] == (
        "Creating"
    )
    failed = wait_for_status(running_sandbox.url, REGION, name, "Failed")
    assert failed["FailureReason"].startswith(
        f'Failed to download model data for container "container_1" from URL: "{url}".'
    )


def test_artifact_that_is_not_a_sandbox_model_fails_the_health_check(
    running_sandbox: SandboxServer,
) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        payload = b"not a model"
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    foreign = upload_tumor_model(running_sandbox.url, REGION, artifact=raw.getvalue())
    name = create_endpoint(running_sandbox.url, REGION, foreign)
    failed = wait_for_status(running_sandbox.url, REGION, name, "Failed")
    assert "did not pass the ping health check" in failed["FailureReason"]


def test_unknown_endpoint_is_a_validation_error_naming_its_arn(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", REGION).describe_endpoint(EndpointName="no-such-endpoint")
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        f'Could not find endpoint "arn:aws:sagemaker:{REGION}:123456789012:endpoint/'
        'no-such-endpoint".'
    )


def test_endpoint_names_are_unique_per_region(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    name = create_endpoint(running_sandbox.url, REGION, model)
    config = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
    with pytest.raises(ClientError) as raised:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=config)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "already existing endpoint" in raised.value.response["Error"]["Message"]


def test_endpoint_with_unknown_config_is_refused(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", REGION).create_endpoint(EndpointName="orphan", EndpointConfigName="nope")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "Could not find endpoint configuration" in raised.value.response["Error"]["Message"]


def test_deleted_endpoint_disappears_from_list_and_describe(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    name = create_endpoint(running_sandbox.url, REGION, model)
    sagemaker.delete_endpoint(EndpointName=name)
    assert sagemaker.list_endpoints(NameContains=name)["Endpoints"] == []
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint(EndpointName=name)
    with pytest.raises(ClientError) as raised:
        sagemaker.delete_endpoint(EndpointName=name)
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_creating_a_model_twice_is_refused_unlike_moto(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    original = sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"]
    with pytest.raises(ClientError) as raised:
        create_model(running_sandbox.url, REGION, model, "s3://elsewhere/model.tar.gz")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"] == (
        original
    )
