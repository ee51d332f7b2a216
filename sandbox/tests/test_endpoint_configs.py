"""CreateEndpointConfig refuses what AWS refuses, and DescribeEndpointConfig keeps what was
given. botocore checks a weight's minimum itself, so the refusal of a negative weight is
shown with a client that sends what it is given, as other SDKs and raw callers do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.seed import EXECUTION_ROLE_ARN
from sandbox.server import SandboxServer
from sandbox.testing import unique
from tests.world import LIFECYCLE_REGION, upload_tumor_model

AwsFactory = Callable[..., Any]


def _unvalidated(url: str) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name=LIFECYCLE_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            parameter_validation=False, retries={"mode": "standard", "total_max_attempts": 1}
        ),
    )


def _variant(name: str, model: str, weight: float) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "InitialVariantWeight": weight,
    }


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, LIFECYCLE_REGION)


def _configs(aws: AwsFactory) -> set[str]:
    listed = aws("sagemaker", LIFECYCLE_REGION).list_endpoint_configs(MaxResults=100)
    return {c["EndpointConfigName"] for c in listed["EndpointConfigs"]}


def test_negative_variant_weight_is_refused(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    name = unique("negative-weight")
    with pytest.raises(ClientError) as raised:
        _unvalidated(running_sandbox.url).create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[_variant("A", model, 1.0), _variant("B", model, -0.5)],
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        "1 validation error detected: Value '-0.5' at "
        "'productionVariants.2.member.initialVariantWeight' failed to satisfy constraint: "
        "Member must have value greater than or equal to 0"
    )
    assert name not in _configs(aws)


def test_two_variants_with_one_name_are_refused(aws: AwsFactory, model: str) -> None:
    name = unique("duplicate-variant")
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", LIFECYCLE_REGION).create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[_variant("A", model, 1.0), _variant("A", model, 2.0)],
        )
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "'A'" in error["Message"] and "unique" in error["Message"]
    assert name not in _configs(aws)


def test_zero_weight_and_distinct_names_are_accepted(aws: AwsFactory, model: str) -> None:
    name = unique("zero-weight")
    sagemaker = aws("sagemaker", LIFECYCLE_REGION)
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[_variant("A", model, 1.0), _variant("B", model, 0.0)],
    )
    described = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert [v["InitialVariantWeight"] for v in described["ProductionVariants"]] == [1.0, 0.0]


def test_description_keeps_role_isolation_and_vpc_and_omits_absent_capture(
    aws: AwsFactory, model: str
) -> None:
    name = unique("kept-fields")
    sagemaker = aws("sagemaker", LIFECYCLE_REGION)
    vpc = {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]}
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[_variant("A", model, 1.0)],
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        EnableNetworkIsolation=True,
        VpcConfig=vpc,
    )
    described = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert described["ExecutionRoleArn"] == EXECUTION_ROLE_ARN
    assert described["EnableNetworkIsolation"] is True
    assert described["VpcConfig"] == vpc
    assert "DataCaptureConfig" not in described


def test_describing_a_missing_config_names_it(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", LIFECYCLE_REGION).describe_endpoint_config(EndpointConfigName="nope")
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        'Could not find endpoint configuration "arn:aws:sagemaker:us-west-2:123456789012:'
        'endpoint-config/nope".'
    )


def test_describing_a_missing_model_names_it(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", LIFECYCLE_REGION).describe_model(ModelName="nope")
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"] == (
        'Could not find model "arn:aws:sagemaker:us-west-2:123456789012:model/nope".'
    )
