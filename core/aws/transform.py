"""SageMaker batch transform and model calls, returning typed dataclasses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.aws.clients import client
from core.aws.convert import json_safe
from core.aws.errors import translated
from core.aws.types import (
    TransformJobDescription,
    TransformJobRequest,
    TransformJobSummary,
    TransformSpec,
)
from core.targets import Target

LIST_PAGE_SIZE = 100


def _sm(target: Target, region: str, read_timeout: int | None = None) -> Any:
    return client(target=target, region=region, service="sagemaker", read_timeout=read_timeout)


def _params(request: TransformJobRequest) -> dict[str, Any]:
    spec = request.spec
    transform_input: dict[str, Any] = {
        "DataSource": {
            "S3DataSource": {"S3DataType": spec.input_data_type, "S3Uri": spec.input_uri}
        },
        "ContentType": spec.content_type,
        "CompressionType": spec.compression_type,
        "SplitType": spec.split_type,
    }
    output: dict[str, Any] = {"S3OutputPath": spec.output_path}
    if spec.accept:
        output["Accept"] = spec.accept
    output["AssembleWith"] = spec.assemble_with
    if spec.kms_key_id:
        output["KmsKeyId"] = spec.kms_key_id
    params: dict[str, Any] = {
        "TransformJobName": request.name,
        "ModelName": spec.model_name,
        "MaxConcurrentTransforms": spec.max_concurrent_transforms,
        "MaxPayloadInMB": spec.max_payload_mb,
        "BatchStrategy": spec.batch_strategy,
        "TransformInput": transform_input,
        "TransformOutput": output,
        "TransformResources": {
            "InstanceType": spec.instance_type,
            "InstanceCount": spec.instance_count,
        },
    }
    processing = {
        key: value
        for key, value in (
            ("InputFilter", spec.input_filter),
            ("OutputFilter", spec.output_filter),
            ("JoinSource", spec.join_source),
        )
        if value
    }
    if processing:
        params["DataProcessing"] = processing
    if spec.environment:
        params["Environment"] = dict(spec.environment)
    return params


def create_transform_job(*, target: Target, region: str, request: TransformJobRequest) -> str:
    """Create the job; returns its ARN. ResourceInUse (the name exists) raises Conflict."""
    with translated("CreateTransformJob"):
        data = _sm(target, region).create_transform_job(**_params(request))
    return str(data["TransformJobArn"])


def _request_from(data: dict[str, Any]) -> TransformJobRequest:
    tin = data.get("TransformInput", {})
    source = tin.get("DataSource", {}).get("S3DataSource", {})
    out = data.get("TransformOutput", {})
    resources = data.get("TransformResources", {})
    processing = data.get("DataProcessing", {})
    spec = TransformSpec(
        model_name=data.get("ModelName", ""),
        input_uri=source.get("S3Uri", ""),
        input_data_type=source.get("S3DataType", "S3Prefix"),
        content_type=tin.get("ContentType", ""),
        split_type=tin.get("SplitType", "None"),
        compression_type=tin.get("CompressionType", "None"),
        batch_strategy=data.get("BatchStrategy", ""),
        max_payload_mb=int(data.get("MaxPayloadInMB", 6)),
        max_concurrent_transforms=int(data.get("MaxConcurrentTransforms", 1)),
        instance_type=resources.get("InstanceType", ""),
        instance_count=int(resources.get("InstanceCount", 1)),
        output_path=out.get("S3OutputPath", ""),
        accept=out.get("Accept", ""),
        assemble_with=out.get("AssembleWith", "None"),
        input_filter=processing.get("InputFilter", ""),
        output_filter=processing.get("OutputFilter", ""),
        join_source=processing.get("JoinSource", ""),
        kms_key_id=out.get("KmsKeyId", ""),
        environment=dict(data.get("Environment", {})),
    )
    return TransformJobRequest(name=data["TransformJobName"], spec=spec)


def describe_transform_job(*, target: Target, region: str, name: str) -> TransformJobDescription:
    with translated("DescribeTransformJob"):
        data = _sm(target, region).describe_transform_job(TransformJobName=name)
    return TransformJobDescription(
        name=data["TransformJobName"],
        arn=data["TransformJobArn"],
        status=data["TransformJobStatus"],
        failure_reason=data.get("FailureReason", ""),
        creation_time=data.get("CreationTime"),
        start_time=data.get("TransformStartTime"),
        end_time=data.get("TransformEndTime"),
        request=_request_from(data),
        raw=json_safe(data),
    )


def list_transform_jobs(
    *, target: Target, region: str, status: str | None = None
) -> Iterator[TransformJobSummary]:
    """Every transform job of the region (optionally of one status), 100 per call."""
    paginator = _sm(target, region).get_paginator("list_transform_jobs")
    extra = {"StatusEquals": status} if status else {}
    with translated("ListTransformJobs"):
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}, **extra):
            for item in page.get("TransformJobSummaries", []):
                yield TransformJobSummary(
                    name=item["TransformJobName"],
                    arn=item["TransformJobArn"],
                    status=item["TransformJobStatus"],
                    creation_time=item["CreationTime"],
                    end_time=item.get("TransformEndTime"),
                    failure_reason=item.get("FailureReason", ""),
                )


def stop_transform_job(*, target: Target, region: str, name: str) -> None:
    with translated("StopTransformJob"):
        _sm(target, region).stop_transform_job(TransformJobName=name)


def list_model_names(*, target: Target, region: str) -> list[str]:
    """Model names of the region, newest first (for the launch form's choice)."""
    names: list[str] = []
    paginator = _sm(target, region, read_timeout=5).get_paginator("list_models")
    with translated("ListModels"):
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_PAGE_SIZE}):
            names.extend(m["ModelName"] for m in page.get("Models", []))
    return names


def describe_model_name(*, target: Target, region: str, name: str) -> str:
    """The model's name as SageMaker knows it; NotFound when there is no such model."""
    with translated("DescribeModel"):
        data = _sm(target, region).describe_model(ModelName=name)
    return str(data["ModelName"])
