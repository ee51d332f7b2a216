"""SageMaker control-plane calls the portal makes, returning typed dataclasses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.aws.clients import client
from core.aws.convert import json_safe
from core.aws.errors import translated
from core.aws.types import (
    DataCapture,
    EndpointConfigDescription,
    EndpointDescription,
    EndpointSummary,
    InferenceComponent,
    InferenceComponentSummary,
    ModelContainer,
    ServerlessConfig,
    VariantConfig,
    VariantState,
    VariantStatusEntry,
)
from core.targets import Target

LIST_PAGE_SIZE = 100  # ListEndpoints' maximum: fewest calls per sync.


def _sm(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="sagemaker")


def list_endpoints(*, target: Target, region: str) -> Iterator[EndpointSummary]:
    """Every endpoint of the region, 100 per ListEndpoints call."""
    paginator = _sm(target, region).get_paginator("list_endpoints")
    with translated("ListEndpoints"):
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            for item in page.get("Endpoints", []):
                yield EndpointSummary(
                    name=item["EndpointName"],
                    arn=item["EndpointArn"],
                    status=item["EndpointStatus"],
                    creation_time=item["CreationTime"],
                    last_modified_time=item["LastModifiedTime"],
                )


def list_inference_components(
    *, target: Target, region: str, endpoint_name: str
) -> tuple[InferenceComponent, ...]:
    """The endpoint's inference components, each described: the list alone names neither
    the model nor the copies the endpoint page shows."""
    sm = _sm(target, region)
    names: list[str] = []
    with translated("ListInferenceComponents"):
        paginator = sm.get_paginator("list_inference_components")
        for page in paginator.paginate(
            EndpointNameEquals=endpoint_name, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        ):
            names += [item["InferenceComponentName"] for item in page["InferenceComponents"]]
    return tuple(
        describe_inference_component(target=target, region=region, name=name)
        for name in sorted(names)
    )


def inference_component_summaries(
    *, target: Target, region: str
) -> tuple[InferenceComponentSummary, ...]:
    """Every inference component of a region, from ListInferenceComponents alone (one call
    per 100): what the inventory sync compares to learn which endpoints' components changed
    without describing any."""
    found: list[InferenceComponentSummary] = []
    with translated("ListInferenceComponents"):
        paginator = _sm(target, region).get_paginator("list_inference_components")
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            found += [
                InferenceComponentSummary(
                    name=item["InferenceComponentName"],
                    endpoint_name=item["EndpointName"],
                    status=item["InferenceComponentStatus"],
                    last_modified_time=item["LastModifiedTime"],
                )
                for item in page["InferenceComponents"]
            ]
    return tuple(found)


def describe_inference_component(*, target: Target, region: str, name: str) -> InferenceComponent:
    with translated("DescribeInferenceComponent"):
        data = _sm(target, region).describe_inference_component(InferenceComponentName=name)
    specification = data.get("Specification") or {}
    compute = specification.get("ComputeResourceRequirements") or {}
    runtime = data.get("RuntimeConfig") or {}
    cores = compute.get("NumberOfCpuCoresRequired")
    accelerators = compute.get("NumberOfAcceleratorDevicesRequired")
    memory = compute.get("MinMemoryRequiredInMb")
    return InferenceComponent(
        name=data["InferenceComponentName"],
        arn=data["InferenceComponentArn"],
        endpoint_name=data["EndpointName"],
        variant_name=data.get("VariantName", ""),
        status=data["InferenceComponentStatus"],
        model_name=specification.get("ModelName", ""),
        current_copies=int(runtime.get("CurrentCopyCount") or 0),
        desired_copies=int(runtime.get("DesiredCopyCount") or 0),
        cpu_cores=float(cores) if cores is not None else None,
        accelerators=int(accelerators) if accelerators is not None else None,
        memory_mb=int(memory) if memory is not None else None,
        failure_reason=data.get("FailureReason", ""),
        creation_time=data["CreationTime"],
        last_modified_time=data["LastModifiedTime"],
        raw=json_safe(data),
    )


def _serverless(data: dict[str, Any] | None) -> ServerlessConfig | None:
    if not data:
        return None
    return ServerlessConfig(
        memory_size_mb=int(data.get("MemorySizeInMB", 0)),
        max_concurrency=int(data.get("MaxConcurrency", 0)),
        provisioned_concurrency=data.get("ProvisionedConcurrency"),
    )


def _variant_state(item: dict[str, Any], *, is_shadow: bool) -> VariantState:
    return VariantState(
        name=item["VariantName"],
        is_shadow=is_shadow,
        current_weight=item.get("CurrentWeight"),
        desired_weight=item.get("DesiredWeight"),
        current_instance_count=item.get("CurrentInstanceCount"),
        desired_instance_count=item.get("DesiredInstanceCount"),
        images=tuple(
            img.get("ResolvedImage") or img.get("SpecifiedImage", "")
            for img in item.get("DeployedImages", [])
        ),
        statuses=tuple(
            VariantStatusEntry(
                status=s.get("Status", ""),
                message=s.get("StatusMessage", ""),
                start_time=s.get("StartTime"),
            )
            for s in item.get("VariantStatus", [])
        ),
        current_serverless=_serverless(item.get("CurrentServerlessConfig")),
        desired_serverless=_serverless(item.get("DesiredServerlessConfig")),
    )


def describe_endpoint(*, target: Target, region: str, name: str) -> EndpointDescription:
    with translated("DescribeEndpoint"):
        data = _sm(target, region).describe_endpoint(EndpointName=name)
    capture = data.get("DataCaptureConfig")
    return EndpointDescription(
        name=data["EndpointName"],
        arn=data["EndpointArn"],
        status=data["EndpointStatus"],
        failure_reason=data.get("FailureReason", ""),
        config_name=data.get("EndpointConfigName", ""),
        creation_time=data["CreationTime"],
        last_modified_time=data["LastModifiedTime"],
        variants=tuple(
            [_variant_state(v, is_shadow=False) for v in data.get("ProductionVariants", [])]
            + [_variant_state(v, is_shadow=True) for v in data.get("ShadowProductionVariants", [])]
        ),
        data_capture=DataCapture(
            enabled=bool(capture.get("EnableCapture")),
            status=capture.get("CaptureStatus", ""),
            sampling_percentage=capture.get("CurrentSamplingPercentage"),
            destination_s3_uri=capture.get("DestinationS3Uri", ""),
        )
        if capture
        else None,
        raw=json_safe(data),
    )


def _variant_config(item: dict[str, Any], *, is_shadow: bool) -> VariantConfig:
    return VariantConfig(
        name=item["VariantName"],
        is_shadow=is_shadow,
        model_name=item.get("ModelName", ""),
        instance_type=item.get("InstanceType", ""),
        initial_instance_count=item.get("InitialInstanceCount"),
        initial_weight=float(item.get("InitialVariantWeight", 1.0)),
        serverless=_serverless(item.get("ServerlessConfig")),
    )


def describe_endpoint_config(
    *, target: Target, region: str, name: str
) -> EndpointConfigDescription:
    with translated("DescribeEndpointConfig"):
        data = _sm(target, region).describe_endpoint_config(EndpointConfigName=name)
    return EndpointConfigDescription(
        name=data["EndpointConfigName"],
        arn=data["EndpointConfigArn"],
        creation_time=data["CreationTime"],
        variants=tuple(
            [_variant_config(v, is_shadow=False) for v in data.get("ProductionVariants", [])]
            + [_variant_config(v, is_shadow=True) for v in data.get("ShadowProductionVariants", [])]
        ),
        kms_key_id=data.get("KmsKeyId", ""),
        raw=json_safe(data),
    )


def model_packages(*, target: Target, region: str, name: str) -> tuple[str, ...]:
    """The model package ARNs a model's containers run (empty for a plain image and
    artifact); NotFound when there is no such model. A Marketplace package's ARN is in the
    `aws-marketplace` account."""
    with translated("DescribeModel"):
        data = _sm(target, region).describe_model(ModelName=name)
    containers = [data.get("PrimaryContainer") or {}] + list(data.get("Containers") or [])
    return tuple(str(c["ModelPackageName"]) for c in containers if c.get("ModelPackageName"))


def describe_model_image(*, target: Target, region: str, name: str) -> str:
    """The container image of a model (primary container, or the first of several)."""
    with translated("DescribeModel"):
        data = _sm(target, region).describe_model(ModelName=name)
    container = data.get("PrimaryContainer") or (data.get("Containers") or [{}])[0]
    return str(container.get("Image", ""))


def describe_model_container(*, target: Target, region: str, name: str) -> ModelContainer:
    """A model's primary container (or the first of an inference pipeline's): its image,
    its Mode (SingleModel unless MultiModel) and its ModelDataUrl."""
    with translated("DescribeModel"):
        data = _sm(target, region).describe_model(ModelName=name)
    container = data.get("PrimaryContainer") or (data.get("Containers") or [{}])[0]
    return ModelContainer(
        image=str(container.get("Image", "")),
        mode=str(container.get("Mode") or "SingleModel"),
        model_data_url=str(container.get("ModelDataUrl", "")),
    )


def list_tags(*, target: Target, region: str, arn: str) -> dict[str, str]:
    """A resource's tags (ListTags, 100 a page) as key → value."""
    tags: dict[str, str] = {}
    token: str | None = None
    while True:
        params: dict[str, Any] = {"ResourceArn": arn, "MaxResults": 100}
        if token:
            params["NextToken"] = token
        with translated("ListTags"):
            data = _sm(target, region).list_tags(**params)
        for tag in data.get("Tags", []):
            tags[str(tag.get("Key", ""))] = str(tag.get("Value", ""))
        token = data.get("NextToken")
        if not token:
            return tags
