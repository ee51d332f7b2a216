"""The gateway reads an endpoint's inference components: model, copies and compute per copy,
as the endpoint page will show them."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from core.aws import clients
from core.aws import sagemaker as aws_sagemaker
from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed import EXECUTION_ROLE_ARN
from sandbox.testing import aws_client, unique, wait_for_status

# A region the demo world leaves empty, so no synced endpoint count changes.
REGION = "eu-north-1"


def _copied_demo_model(url: str) -> str:
    """A model in REGION serving the demo tumor classifier's artifact."""
    demo = aws_client(url, "sagemaker", "us-east-1")
    config = demo.describe_endpoint(EndpointName="tumor-classifier")["EndpointConfigName"]
    variants = demo.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    source = variants[0]["ModelName"]
    described = demo.describe_model(ModelName=source)
    name = unique("ic-model")
    aws_client(url, "sagemaker", REGION).create_model(
        ModelName=name,
        PrimaryContainer=described["PrimaryContainer"],
        ExecutionRoleArn=described["ExecutionRoleArn"],
    )
    return name


def _component_endpoint(url: str) -> tuple[str, str, str]:
    """An endpoint with one component of two copies; returns endpoint, component, model."""
    sagemaker = aws_client(url, "sagemaker", REGION)
    endpoint = unique("ic-host")
    sagemaker.create_endpoint_config(
        EndpointConfigName=endpoint,
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 2}
        ],
    )
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    wait_for_status(url, REGION, endpoint, "InService")
    model = _copied_demo_model(url)
    component = unique("ic")
    sagemaker.create_inference_component(
        InferenceComponentName=component,
        EndpointName=endpoint,
        VariantName="AllTraffic",
        Specification={
            "ModelName": model,
            "ComputeResourceRequirements": {
                "NumberOfCpuCoresRequired": 1,
                "MinMemoryRequiredInMb": 2048,
            },
        },
        RuntimeConfig={"CopyCount": 2},
    )
    deadline = time.monotonic() + 15
    while (
        sagemaker.describe_inference_component(InferenceComponentName=component)[
            "InferenceComponentStatus"
        ]
        == "Creating"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return endpoint, component, model


def test_the_gateway_lists_an_endpoints_components(sandbox) -> None:
    endpoint, component, model = _component_endpoint(sandbox.url)
    (found,) = aws_sagemaker.list_inference_components(
        target=target_by_name("sandbox"), region=REGION, endpoint_name=endpoint
    )
    assert found.name == component
    assert found.model_name == model
    assert found.status == "InService"
    assert (found.current_copies, found.desired_copies) == (2, 2)
    assert (found.cpu_cores, found.memory_mb) == (1.0, 2048)
    assert found.variant_name == "AllTraffic"


def test_an_endpoint_without_components_lists_none(sandbox) -> None:
    assert (
        aws_sagemaker.list_inference_components(
            target=target_by_name("sandbox"), region="us-east-1", endpoint_name="tumor-classifier"
        )
        == ()
    )


def test_sync_stores_the_components_and_the_page_shows_them(sandbox, role_client) -> None:
    endpoint, component, model = _component_endpoint(sandbox.url)
    report = inventory_sync(target=target_by_name("sandbox"), region=REGION)
    assert report.ok, report.error
    stored = Endpoint.objects.get(region=REGION, name=endpoint)
    (row,) = stored.inference_components
    assert (row["name"], row["model"], row["current_copies"]) == (component, model, 2)
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[stored.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Inference components" in html
    assert f'data-component="{component}"' in html
    assert "2 / 2" in html
    assert "1 CPU core, 2048 MB memory" in html


def test_the_next_sync_sees_components_change_while_the_endpoint_does_not(sandbox) -> None:
    endpoint, component, _model = _component_endpoint(sandbox.url)
    target = target_by_name("sandbox")
    assert inventory_sync(target=target, region=REGION).ok
    sagemaker = aws_client(sandbox.url, "sagemaker", REGION)
    before = sagemaker.describe_endpoint(EndpointName=endpoint)["LastModifiedTime"]
    sagemaker.update_inference_component(
        InferenceComponentName=component, RuntimeConfig={"CopyCount": 1}
    )
    wait_until = time.monotonic() + 15
    while (
        sagemaker.describe_inference_component(InferenceComponentName=component)["RuntimeConfig"][
            "CurrentCopyCount"
        ]
        != 1
    ):
        assert time.monotonic() < wait_until
        time.sleep(0.05)
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["LastModifiedTime"] == before
    report = inventory_sync(target=target, region=REGION)
    assert report.ok, report.error
    assert endpoint in report.updated
    (row,) = Endpoint.objects.get(region=REGION, name=endpoint).inference_components
    assert (row["current_copies"], row["desired_copies"]) == (1, 1)
    # Nothing changed since: one ListInferenceComponents for the region, nothing described.
    calls = clients.call_counts()
    assert inventory_sync(target=target, region=REGION).updated == []
    made = clients.call_counts() - calls
    assert made[("sagemaker", "ListInferenceComponents")] == 1
    assert made[("sagemaker", "DescribeInferenceComponent")] == 0
    assert made[("sagemaker", "DescribeEndpoint")] == 0


def test_a_model_endpoint_stores_no_components(sandbox) -> None:
    report = inventory_sync(target=target_by_name("sandbox"), region="us-east-1")
    assert report.ok, report.error
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    assert tumor.inference_components == []


def test_test_invoke_sends_the_chosen_component(sandbox, role_client) -> None:
    endpoint, component, _model = _component_endpoint(sandbox.url)
    assert inventory_sync(target=target_by_name("sandbox"), region=REGION).ok
    stored = Endpoint.objects.get(region=REGION, name=endpoint)
    client = role_client("Operator")
    url = reverse("endpoints:invoke", args=[stored.pk])
    form = client.get(url).content.decode()
    assert f'<option value="{component}"' in form
    row = rows_to_csv(holdout_rows("tumor")[:1])
    answer = client.post(
        url,
        {"content_type": "text/csv", "payload": row, "inference_component": component},
    )
    assert answer.status_code == 200
    assert answer.context["result"].ok, answer.context["result"].error
    refused = client.post(url, {"content_type": "text/csv", "payload": row})
    assert refused.status_code == 400


pytestmark = pytest.mark.django_db
