"""Endpoints on current instance types, and SageMaker's per-type endpoint-usage quotas:
CreateEndpoint, UpdateEndpoint and UpdateEndpointWeightsAndCapacities are refused with
ResourceLimitExceeded, in AWS's words, when they would need more instances than allowed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer
from sandbox.testing import allow_endpoint_instances, aws_client, unique, wait_for_status
from tests.world import upload_tumor_model

REGION = "eu-west-3"
NEW_TYPES = ("ml.g5.xlarge", "ml.inf2.xlarge", "ml.c7i.large", "ml.p4d.24xlarge")


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.fixture
def sagemaker(running_sandbox: SandboxServer) -> Any:
    return aws_client(running_sandbox.url, "sagemaker", REGION)


def config(sagemaker: Any, model: str, instance_type: str, count: int) -> str:
    name = unique("quota-cfg")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": model,
                "InstanceType": instance_type,
                "InitialInstanceCount": count,
            }
        ],
    )
    return name


def serving(url: str, sagemaker: Any, model: str, instance_type: str, count: int) -> str:
    """An InService endpoint of `count` instances, in a region allowing three of the type."""
    allow_endpoint_instances(url, instance_type, 3, region=REGION)
    name = unique("quota")
    sagemaker.create_endpoint(
        EndpointName=name, EndpointConfigName=config(sagemaker, model, instance_type, count)
    )
    wait_for_status(url, REGION, name, "InService")
    return name


def refusal(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_configs_on_current_instance_types_are_accepted_and_unknown_types_refused(
    sagemaker: Any, model: str
) -> None:
    for instance_type in NEW_TYPES:
        name = config(sagemaker, model, instance_type, 1)
        described = sagemaker.describe_endpoint_config(EndpointConfigName=name)
        assert described["ProductionVariants"][0]["InstanceType"] == instance_type

    with pytest.raises(ClientError) as raised:
        config(sagemaker, model, "ml.m5.enormous", 1)
    code, message = refusal(raised)
    assert code == "ValidationException" and "'ml.m5.enormous'" in message


def test_a_first_gpu_endpoint_is_refused_until_its_quota_is_raised(
    running_sandbox: SandboxServer, sagemaker: Any, model: str
) -> None:
    name = unique("gpu")
    gpu_config = config(sagemaker, model, "ml.g5.xlarge", 1)
    with pytest.raises(ClientError) as raised:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=gpu_config)
    assert refusal(raised) == (
        "ResourceLimitExceeded",
        "The account-level service limit 'ml.g5.xlarge for endpoint usage' is 0 Instances, "
        "with current utilization of 0 Instances and a request delta of 1 Instances. Please "
        "use AWS Service Quotas to request an increase for this quota.",
    )
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint(EndpointName=name)  # nothing was created

    allow_endpoint_instances(running_sandbox.url, "ml.g5.xlarge", 1, region=REGION)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=gpu_config)
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "Creating"


def test_capacity_beyond_the_quota_is_refused_and_changes_nothing(
    running_sandbox: SandboxServer, sagemaker: Any, model: str
) -> None:
    url = running_sandbox.url
    name = serving(url, sagemaker, model, "ml.c5.large", 2)

    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=name,
            DesiredWeightsAndCapacities=[{"VariantName": "main", "DesiredInstanceCount": 4}],
        )
    code, message = refusal(raised)
    assert code == "ResourceLimitExceeded"
    assert "'ml.c5.large for endpoint usage' is 3 Instances" in message
    assert "current utilization of 2 Instances and a request delta of 2 Instances" in message
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "InService"
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 2

    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "main", "DesiredInstanceCount": 3}],
    )
    described = wait_for_status(url, REGION, name, "InService")
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 3


def test_a_blue_green_update_needs_room_for_both_fleets(
    running_sandbox: SandboxServer, sagemaker: Any, model: str
) -> None:
    url = running_sandbox.url
    name = serving(url, sagemaker, model, "ml.m6i.large", 2)

    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint(
            EndpointName=name, EndpointConfigName=config(sagemaker, model, "ml.m6i.large", 2)
        )
    code, message = refusal(raised)
    assert code == "ResourceLimitExceeded"
    assert "current utilization of 2 Instances and a request delta of 2 Instances" in message
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"

    smaller = config(sagemaker, model, "ml.m6i.large", 1)
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=smaller)
    described = wait_for_status(url, REGION, name, "InService")
    assert described["EndpointConfigName"] == smaller
    # The old fleet is gone: its instances are free again.
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "main", "DesiredInstanceCount": 3}],
    )
