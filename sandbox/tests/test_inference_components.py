"""Inference components: CRUD, list filters and paging, invoke routing and per-component
metrics, all through plain boto3 as a user of SageMaker would."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed import EXECUTION_ROLE_ARN
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, unique, wait_for_status
from tests.world import runtime_client, upload_tumor_model

REGION = "eu-north-1"
ROW = rows_to_csv(holdout_rows("tumor")[:1])
# Four ml.m5.large instances: 8 cores between them.
INSTANCES = 4


def _sagemaker(url: str) -> Any:
    return aws_client(url, "sagemaker", REGION)


@pytest.fixture
def host(running_sandbox: SandboxServer) -> str:
    """An InService endpoint of its own for each test, whose variant has instances and no
    model."""
    sagemaker = _sagemaker(running_sandbox.url)
    name = unique("ic-host")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": INSTANCES,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(running_sandbox.url, REGION, name, "InService")
    return name


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


def _create(url: str, endpoint: str, model: str, *, copies: int = 1, cores: float = 1.0) -> str:
    name = unique("ic")
    _sagemaker(url).create_inference_component(
        InferenceComponentName=name,
        EndpointName=endpoint,
        VariantName="AllTraffic",
        Specification={
            "ModelName": model,
            "ComputeResourceRequirements": {
                "NumberOfCpuCoresRequired": cores,
                "MinMemoryRequiredInMb": 1024,
            },
        },
        RuntimeConfig={"CopyCount": copies},
    )
    return name


def _settled(url: str, name: str, timeout: float = 15.0) -> dict[str, Any]:
    sagemaker = _sagemaker(url)
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = sagemaker.describe_inference_component(
            InferenceComponentName=name
        )
        if described["InferenceComponentStatus"] not in ("Creating", "Updating"):
            return described
        assert time.monotonic() < deadline, described
        time.sleep(0.05)


def test_a_component_comes_into_service_with_its_copies(
    running_sandbox: SandboxServer, host: str, model: str, slow_creation: float
) -> None:
    """The host is InService before ``slow_creation`` holds new things in Creating."""
    url = running_sandbox.url
    name = _create(url, host, model, copies=2)
    first = _sagemaker(url).describe_inference_component(InferenceComponentName=name)
    assert first["InferenceComponentStatus"] == "Creating"
    described = _settled(url, name)
    assert described["InferenceComponentStatus"] == "InService"
    assert described["RuntimeConfig"] == {"DesiredCopyCount": 2, "CurrentCopyCount": 2}
    assert described["EndpointName"] == host
    assert described["VariantName"] == "AllTraffic"
    assert described["Specification"]["ModelName"] == model
    assert described["InferenceComponentArn"].endswith(f":inference-component/{name}")


def test_copies_that_do_not_fit_stay_unplaced(
    running_sandbox: SandboxServer, host: str, model: str
) -> None:
    url = running_sandbox.url
    # 3 cores a copy on 8 cores, 2 of them taken by another component: 2 copies fit.
    _settled(url, _create(url, host, model, copies=2, cores=1.0))
    name = _create(url, host, model, copies=5, cores=3.0)
    described = _settled(url, name)
    assert described["InferenceComponentStatus"] == "InService"
    assert described["RuntimeConfig"] == {"DesiredCopyCount": 5, "CurrentCopyCount": 2}


def test_a_component_too_big_for_the_instances_fails(
    running_sandbox: SandboxServer, host: str, model: str
) -> None:
    name = _create(running_sandbox.url, host, model, copies=1, cores=64.0)
    described = _settled(running_sandbox.url, name)
    assert described["InferenceComponentStatus"] == "Failed"
    assert "compute resources" in described["FailureReason"]


def test_update_runtime_config_changes_the_copy_count(
    running_sandbox: SandboxServer, host: str, model: str
) -> None:
    url = running_sandbox.url
    name = _create(url, host, model, copies=1, cores=0.5)
    _settled(url, name)
    _sagemaker(url).update_inference_component_runtime_config(
        InferenceComponentName=name, DesiredRuntimeConfig={"CopyCount": 2}
    )
    described = _settled(url, name)
    assert described["RuntimeConfig"]["DesiredCopyCount"] == 2
    assert described["RuntimeConfig"]["CurrentCopyCount"] == 2


def test_list_filters_and_pages(running_sandbox: SandboxServer, host: str, model: str) -> None:
    url = running_sandbox.url
    sagemaker = _sagemaker(url)
    made = {_create(url, host, model, copies=1, cores=0.25) for _ in range(3)}
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = sagemaker.list_inference_components(
            EndpointNameEquals=host, MaxResults=2, SortBy="Name", SortOrder="Ascending", **token
        )
        seen += [c["InferenceComponentName"] for c in page["InferenceComponents"]]
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert made <= set(seen)
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))
    nobody = sagemaker.list_inference_components(EndpointNameEquals="no-such-endpoint")
    assert nobody["InferenceComponents"] == []
    one = sorted(made)[0]
    named = sagemaker.list_inference_components(NameContains=one)
    assert [c["InferenceComponentName"] for c in named["InferenceComponents"]] == [one]
    with pytest.raises(ClientError) as refused:
        sagemaker.list_inference_components(StatusEquals="Sleeping")
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_invoke_routes_to_the_named_component_and_counts_it(
    running_sandbox: SandboxServer, host: str, model: str
) -> None:
    url = running_sandbox.url
    name = _create(url, host, model, copies=1, cores=0.5)
    _settled(url, name)
    runtime = runtime_client(url, REGION)
    for _ in range(3):
        answer = runtime.invoke_endpoint(
            EndpointName=host, InferenceComponentName=name, ContentType="text/csv", Body=ROW
        )
        assert answer["Body"].read().strip()
    control(url, "flush-metrics")
    stats = aws_client(url, "cloudwatch", REGION).get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="Invocations",
        Dimensions=[{"Name": "InferenceComponentName", "Value": name}],
        StartTime=time.time() - 600,
        EndTime=time.time() + 60,
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(point["Sum"] for point in stats["Datapoints"]) == 3


def test_invoke_without_a_component_name_is_refused(
    running_sandbox: SandboxServer, host: str
) -> None:
    runtime = runtime_client(running_sandbox.url, REGION)
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(EndpointName=host, ContentType="text/csv", Body=ROW)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "Inference Component Name header is required" in error["Message"]


def test_delete_forgets_the_component(
    running_sandbox: SandboxServer, host: str, model: str
) -> None:
    url = running_sandbox.url
    sagemaker = _sagemaker(url)
    name = _create(url, host, model, copies=1, cores=0.25)
    sagemaker.delete_inference_component(InferenceComponentName=name)
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_inference_component(InferenceComponentName=name)
    assert "Could not find inference component" in missing.value.response["Error"]["Message"]


def test_cloudtrail_records_the_component_writes(
    running_sandbox: SandboxServer, host: str, model: str
) -> None:
    url = running_sandbox.url
    name = _create(url, host, model, copies=1, cores=0.25)
    _sagemaker(url).delete_inference_component(InferenceComponentName=name)
    trail = aws_client(url, "cloudtrail", REGION)
    deadline = time.monotonic() + 15
    while True:
        events = trail.lookup_events(
            LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}]
        )["Events"]
        names = {event["EventName"] for event in events}
        if {"CreateInferenceComponent", "DeleteInferenceComponent"} <= names:
            break
        assert time.monotonic() < deadline, names
        time.sleep(0.2)
