"""UpdateEndpointWeightsAndCapacities with AWS's semantics rather than moto's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer
from sandbox.testing import create_endpoint, wait_for_status
from tests.world import LIFECYCLE_REGION, upload_tumor_model, variants_by_name

AwsFactory = Callable[..., Any]
REGION = LIFECYCLE_REGION


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.fixture
def live_endpoint(running_sandbox: SandboxServer, model: str) -> str:
    """A fresh InService endpoint: v0 weight 80 ×2 instances, v1 weight 20 ×1."""
    name = create_endpoint(running_sandbox.url, REGION, model, weights=(80.0, 20.0), counts=(2, 1))
    wait_for_status(running_sandbox.url, REGION, name, "InService")
    return name


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_update_passes_through_updating_with_desired_ahead_of_current(
    running_sandbox: SandboxServer, aws: AwsFactory, live_endpoint: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    before = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=live_endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 50.0, "DesiredInstanceCount": 2},
            {"VariantName": "v1", "DesiredWeight": 50.0, "DesiredInstanceCount": 3},
        ],
    )
    updating = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert updating["EndpointStatus"] == "Updating"
    assert updating["LastModifiedTime"] > before["LastModifiedTime"]
    variants = variants_by_name(updating)
    assert (variants["v1"]["DesiredWeight"], variants["v1"]["CurrentWeight"]) == (50.0, 20.0)
    assert (variants["v1"]["DesiredInstanceCount"], variants["v1"]["CurrentInstanceCount"]) == (
        3,
        1,
    )
    assert variants["v1"]["VariantStatus"][0]["Status"] == "Updating"

    done = wait_for_status(running_sandbox.url, REGION, live_endpoint, "InService")
    assert done["LastModifiedTime"] > updating["LastModifiedTime"]
    variants = variants_by_name(done)
    assert [variants[n]["CurrentWeight"] for n in ("v0", "v1")] == [50.0, 50.0]
    assert variants["v1"]["CurrentInstanceCount"] == 3


def test_omitted_weight_or_count_keeps_the_current_value(
    running_sandbox: SandboxServer, aws: AwsFactory, live_endpoint: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=live_endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredInstanceCount": 4},
            {"VariantName": "v1", "DesiredWeight": 60.0},
        ],
    )
    variants = variants_by_name(
        wait_for_status(running_sandbox.url, REGION, live_endpoint, "InService")
    )
    assert (variants["v0"]["CurrentWeight"], variants["v0"]["CurrentInstanceCount"]) == (80.0, 4)
    assert (variants["v1"]["CurrentWeight"], variants["v1"]["CurrentInstanceCount"]) == (60.0, 1)


def test_unknown_variant_is_refused_and_changes_nothing(
    aws: AwsFactory, live_endpoint: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=live_endpoint,
            DesiredWeightsAndCapacities=[
                {"VariantName": "v0", "DesiredWeight": 1.0},
                {"VariantName": "v9", "DesiredWeight": 1.0},
            ],
        )
    code, message = _error(raised)
    assert code == "ValidationException"
    assert 'The variant name(s) "v9" is/are not present' in message
    after = sagemaker.describe_endpoint(EndpointName=live_endpoint)
    assert after["EndpointStatus"] == "InService"
    assert variants_by_name(after)["v0"]["DesiredWeight"] == 80.0


def test_unknown_endpoint_is_refused(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker", REGION).update_endpoint_weights_and_capacities(
            EndpointName="no-such-endpoint",
            DesiredWeightsAndCapacities=[{"VariantName": "v0", "DesiredWeight": 1.0}],
        )
    code, message = _error(raised)
    assert code == "ValidationException"
    assert message.startswith('Could not find endpoint "arn:aws:sagemaker:')


@pytest.mark.usefixtures("slow_creation")
def test_endpoint_that_is_not_in_service_is_refused(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    creating = create_endpoint(running_sandbox.url, REGION, model)
    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=creating,
            DesiredWeightsAndCapacities=[{"VariantName": "v0", "DesiredWeight": 5.0}],
        )
    code, message = _error(raised)
    assert code == "ValidationException"
    assert "in-progress endpoint" in message


def test_second_update_while_updating_is_refused(aws: AwsFactory, live_endpoint: str) -> None:
    sagemaker = aws("sagemaker", REGION)
    change = [{"VariantName": "v0", "DesiredWeight": 10.0}]
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=live_endpoint, DesiredWeightsAndCapacities=change
    )
    with pytest.raises(ClientError) as raised:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=live_endpoint, DesiredWeightsAndCapacities=change
        )
    assert _error(raised)[0] == "ValidationException"


def test_serverless_concurrency_can_be_updated(
    running_sandbox: SandboxServer, aws: AwsFactory, model: str
) -> None:
    sagemaker = aws("sagemaker", REGION)
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{model}-serverless",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 2},
            }
        ],
    )
    name = f"{model}-serverless"
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(running_sandbox.url, REGION, name, "InService")
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "AllTraffic", "ServerlessUpdateConfig": {"MaxConcurrency": 8}}
        ],
    )
    (variant,) = wait_for_status(running_sandbox.url, REGION, name, "InService")[
        "ProductionVariants"
    ]
    assert variant["CurrentServerlessConfig"] == {"MemorySizeInMB": 1024, "MaxConcurrency": 8}
    assert variant["CurrentWeight"] == 1.0
