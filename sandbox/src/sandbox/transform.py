"""CreateTransformJob, DescribeTransformJob, ListTransformJobs and StopTransformJob.

moto accepts any model name, completes a job the instant it is created, writes nothing to S3
and has no StopTransformJob. These handlers validate a request the way SageMaker does
(names, S3 URIs, payload limits, filters, the model's existence, the account's instance
quota) and hand the job to ``sandbox.transform_jobs``, which really runs it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from dataprocessing.jsonpath import JsonPathError, parse
from sandbox import moto_bridge
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.aws_protocol import validation_error as invalid
from sandbox.inference_io import media_type
from sandbox.listing import TimeBounds, enum_error, paginate, parse_list_query
from sandbox.quotas import (
    QuotaStore,
    quota_message,
    transform_instance_types,
    transform_quota,
)
from sandbox.sagemaker_api import partition
from sandbox.transform_io import TransformSettings, family
from sandbox.transform_jobs import (
    DuplicateJob,
    QuotaExceeded,
    S3Location,
    TransformJob,
    TransformStatus,
    TransformStore,
)

Handler = Callable[[AwsRequest], WsgiResponse | None]

_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_S3_URI_PATTERN = "^(https|s3)://([^/]+)/?(.*)$"
_S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?$")
_STATUSES = tuple(status.value for status in TransformStatus)
MAX_PAYLOAD_MB = 100
MAX_ENVIRONMENT = 16


def _member(path: str) -> str:
    """``TransformInput.ContentType`` -> ``transformInput.contentType``, as AWS names members."""
    return ".".join(part[0].lower() + part[1:] for part in path.split("."))


def _required(params: Mapping[str, Any], name: str, path: str | None = None) -> Any:
    value = params.get(name)
    if value is None or value == "":
        raise invalid(
            f"1 validation error detected: Value null at '{_member(path or name)}' failed to "
            "satisfy constraint: Member must not be null"
        )
    return value


def _enum(
    params: Mapping[str, Any], name: str, path: str, allowed: tuple[str, ...], default: str
) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise enum_error(value, _member(path), allowed)
    return str(value)


def _integer(
    params: Mapping[str, Any], name: str, path: str, low: int, high: int | None
) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"Value '{value}' at '{_member(path)}' must be an integer.")
    if value < low:
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{_member(path)}' failed to "
            f"satisfy constraint: Member must have value greater than or equal to {low}"
        )
    if high is not None and value > high:
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{_member(path)}' failed to "
            f"satisfy constraint: Member must have value less than or equal to {high}"
        )
    return value


def parse_s3_uri(uri: Any, path: str) -> S3Location:
    """An ``s3://bucket[/prefix]`` URI, or the ValidationException AWS answers."""
    text = str(uri)
    match = _S3_URI.match(text)
    if match is None:
        if re.match(_S3_URI_PATTERN, text) and text.startswith("https://"):
            raise invalid(f"The sandbox reads S3 through s3:// URIs; got '{text}' at '{path}'.")
        raise invalid(
            f"1 validation error detected: Value '{text}' at '{_member(path)}' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {_S3_URI_PATTERN}"
        )
    return S3Location(bucket=match.group(1), prefix=match.group(2) or "")


def _filter(params: Mapping[str, Any], name: str) -> str:
    expression = params.get(name, "$")
    try:
        parse(expression)
    except JsonPathError as error:
        raise invalid(f"Invalid {name} in DataProcessing: {error}") from None
    return str(expression)


def render_job(job: TransformJob) -> dict[str, Any]:
    """DescribeTransformJob's answer."""
    described: dict[str, Any] = {
        "TransformJobName": job.name,
        "TransformJobArn": job.arn,
        "TransformJobStatus": job.status.value,
        "ModelName": job.model_name,
        **job.parameters,
        "CreationTime": job.creation_time,
    }
    if job.failure_reason:
        described["FailureReason"] = job.failure_reason
    if job.start_time is not None:
        described["TransformStartTime"] = job.start_time
    if job.end_time is not None:
        described["TransformEndTime"] = job.end_time
    return described


def _arn(account_id: str, region: str, resource: str, name: str) -> str:
    return f"arn:{partition(region)}:sagemaker:{region}:{account_id}:{resource}/{name}"


def build_transform_job(
    params: Mapping[str, Any], account_id: str, region: str, now: float
) -> TransformJob:
    """Validate CreateTransformJob parameters into a job that has not started."""
    name = str(_required(params, "TransformJobName"))
    if not _NAME_PATTERN.match(name):
        raise invalid(
            f"1 validation error detected: Value '{name}' at 'transformJobName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        )
    model_name = str(_required(params, "ModelName"))
    max_concurrent = _integer(params, "MaxConcurrentTransforms", "MaxConcurrentTransforms", 0, None)
    max_payload = _integer(params, "MaxPayloadInMB", "MaxPayloadInMB", 0, MAX_PAYLOAD_MB)
    payload = 6 if max_payload is None else max_payload
    if max_concurrent and max_concurrent * payload > MAX_PAYLOAD_MB:
        raise invalid(
            f"MaxConcurrentTransforms ({max_concurrent}) multiplied by MaxPayloadInMB "
            f"({payload}) must not exceed {MAX_PAYLOAD_MB} MB."
        )
    batch_strategy = _enum(
        params, "BatchStrategy", "BatchStrategy", ("MultiRecord", "SingleRecord"), "MultiRecord"
    )
    environment = params.get("Environment") or {}
    if not isinstance(environment, dict) or len(environment) > MAX_ENVIRONMENT:
        raise invalid(f"Environment may hold at most {MAX_ENVIRONMENT} variables.")

    transform_input = _required(params, "TransformInput")
    source_spec = _required(
        _required(transform_input, "DataSource", "TransformInput.DataSource"),
        "S3DataSource",
        "TransformInput.DataSource.S3DataSource",
    )
    data_type = _enum(
        source_spec,
        "S3DataType",
        "TransformInput.DataSource.S3DataSource.S3DataType",
        ("ManifestFile", "S3Prefix", "AugmentedManifestFile"),
        "S3Prefix",
    )
    if data_type != "S3Prefix":
        raise invalid(f"The sandbox reads S3DataType S3Prefix only, not {data_type}.")
    source_uri = str(
        _required(source_spec, "S3Uri", "TransformInput.DataSource.S3DataSource.S3Uri")
    )
    source = parse_s3_uri(source_uri, "TransformInput.DataSource.S3DataSource.S3Uri")
    compression = _enum(
        transform_input,
        "CompressionType",
        "TransformInput.CompressionType",
        ("None", "Gzip"),
        "None",
    )
    split_type = _enum(
        transform_input,
        "SplitType",
        "TransformInput.SplitType",
        ("None", "Line", "RecordIO", "TFRecord"),
        "None",
    )
    if split_type not in ("None", "Line"):
        raise invalid(f"The sandbox splits input by Line or not at all, not by {split_type}.")

    transform_output = _required(params, "TransformOutput")
    destination = parse_s3_uri(
        _required(transform_output, "S3OutputPath", "TransformOutput.S3OutputPath"),
        "TransformOutput.S3OutputPath",
    )
    assemble_with = _enum(
        transform_output,
        "AssembleWith",
        "TransformOutput.AssembleWith",
        ("None", "Line"),
        "None",
    )

    resources = _required(params, "TransformResources")
    instance_type = str(_required(resources, "InstanceType", "TransformResources.InstanceType"))
    allowed_types = transform_instance_types()
    if instance_type not in allowed_types:
        raise enum_error(instance_type, "transformResources.instanceType", allowed_types)
    instance_count = _integer(
        resources, "InstanceCount", "TransformResources.InstanceCount", 1, None
    )
    if instance_count is None:
        _required(resources, "InstanceCount", "TransformResources.InstanceCount")
    assert instance_count is not None

    processing = params.get("DataProcessing") or {}
    input_filter = _filter(processing, "InputFilter")
    output_filter = _filter(processing, "OutputFilter")
    join_source = _enum(
        processing, "JoinSource", "DataProcessing.JoinSource", ("Input", "None"), "None"
    )
    content_type = transform_input.get("ContentType")
    accept = transform_output.get("Accept")
    settings = TransformSettings(
        content_type=content_type,
        split_type=split_type,
        compression=compression,
        batch_strategy=batch_strategy,
        max_payload_mb=payload,
        accept=accept,
        assemble_with=assemble_with,
        input_filter=parse(input_filter),
        output_filter=parse(output_filter),
        join_input=join_source == "Input",
    )
    if settings.join_input and family(media_type(content_type)) != family(settings.output_media):
        raise invalid(
            "JoinSource Input needs the output (Accept) in the same format as the input "
            "(ContentType): CSV with CSV, JSON with JSON."
        )

    if moto_bridge.model_description(account_id, region, model_name) is None:
        raise invalid(f'Could not find model "{_arn(account_id, region, "model", model_name)}".')

    parameters: dict[str, Any] = {
        "MaxPayloadInMB": payload,
        "BatchStrategy": batch_strategy,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": source_uri}},
            "CompressionType": compression,
            "SplitType": split_type,
            **({"ContentType": content_type} if content_type else {}),
        },
        "TransformOutput": {
            "S3OutputPath": str(transform_output["S3OutputPath"]),
            "AssembleWith": assemble_with,
            **({"Accept": accept} if accept else {}),
            **(
                {"KmsKeyId": transform_output["KmsKeyId"]}
                if transform_output.get("KmsKeyId")
                else {}
            ),
        },
        "TransformResources": dict(resources),
        "DataProcessing": {
            "InputFilter": input_filter,
            "OutputFilter": output_filter,
            "JoinSource": join_source,
        },
    }
    if max_concurrent is not None:
        parameters["MaxConcurrentTransforms"] = max_concurrent
    if environment:
        parameters["Environment"] = dict(environment)
    if params.get("ModelClientConfig"):
        parameters["ModelClientConfig"] = dict(params["ModelClientConfig"])
    return TransformJob(
        account_id=account_id,
        region=region,
        name=name,
        arn=_arn(account_id, region, "transform-job", name.lower()),
        model_name=model_name,
        parameters=parameters,
        settings=settings,
        source=source,
        destination=destination,
        instance_type=instance_type,
        instance_count=instance_count,
        creation_time=now,
        last_modified_time=now,
    )


class TransformApi:
    """The transform-job operations, owned by the sandbox instead of moto."""

    def __init__(self, store: TransformStore, quotas: QuotaStore) -> None:
        self.store = store
        self.quotas = quotas

    def operations(self) -> dict[str, Handler]:
        return {
            "CreateTransformJob": self.create_transform_job,
            "DescribeTransformJob": self.describe_transform_job,
            "ListTransformJobs": self.list_transform_jobs,
            "StopTransformJob": self.stop_transform_job,
        }

    def create_transform_job(self, request: AwsRequest) -> WsgiResponse:
        job = build_transform_job(
            request.json_body(), request.account_id, request.region, self.store.clock()
        )
        definition = transform_quota(job.instance_type)
        limit = (
            self.quotas.value(job.account_id, job.region, definition)
            if definition is not None
            else None
        )
        try:
            self.store.admit(job, limit)
        except DuplicateJob:
            raise AwsError(
                "ResourceInUse",
                "Job name must be unique within an AWS account and region, and a job with this "
                f"name already exists ({job.arn})",
            ) from None
        except QuotaExceeded as exceeded:
            assert definition is not None and limit is not None
            raise AwsError(
                "ResourceLimitExceeded",
                quota_message(definition.name, limit, exceeded.in_use, job.instance_count),
            ) from None
        self.store.start(job)
        return json_response(request, {"TransformJobArn": job.arn})

    def describe_transform_job(self, request: AwsRequest) -> WsgiResponse:
        job = self._job(request)
        return json_response(request, render_job(job))

    def stop_transform_job(self, request: AwsRequest) -> WsgiResponse:
        job = self._job(request)
        if not self.store.stop(job):
            raise invalid(
                f"The transform job {job.name} has status {job.status.value} and cannot be stopped."
            )
        return json_response(request, {})

    def _job(self, request: AwsRequest) -> TransformJob:
        name = str(_required(request.json_body(), "TransformJobName"))
        job = self.store.get(request.account_id, request.region, name)
        if job is None:
            raise AwsError("ResourceNotFound", f"Could not find requested job with name {name}")
        return job

    def list_transform_jobs(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        query = parse_list_query(params, sort_fields=("Name", "CreationTime", "Status"))
        status_equals = params.get("StatusEquals")
        if status_equals is not None and status_equals not in _STATUSES:
            raise enum_error(status_equals, "statusEquals", _STATUSES)
        bounds = TimeBounds.parse(params)
        jobs = [
            job
            for job in self.store.jobs(request.account_id, request.region)
            if (query.name_contains is None or query.name_contains in job.name)
            and (status_equals is None or job.status.value == status_equals)
            and bounds.admit(created=job.creation_time, modified=job.last_modified_time)
        ]
        sort_values: dict[str, Callable[[TransformJob], str | float]] = {
            "Name": lambda job: job.name,
            "CreationTime": lambda job: job.creation_time,
            "Status": lambda job: job.status.value,
        }
        page = paginate(jobs, query, sort_value=sort_values[query.sort_by], name=lambda j: j.name)
        summaries = []
        for job in page.items:
            summary: dict[str, Any] = {
                "TransformJobName": job.name,
                "TransformJobArn": job.arn,
                "CreationTime": job.creation_time,
                "LastModifiedTime": job.last_modified_time,
                "TransformJobStatus": job.status.value,
            }
            if job.end_time is not None:
                summary["TransformEndTime"] = job.end_time
            if job.failure_reason:
                summary["FailureReason"] = job.failure_reason
            summaries.append(summary)
        result: dict[str, Any] = {"TransformJobSummaries": summaries}
        if page.next_token:
            result["NextToken"] = page.next_token
        return json_response(request, result)
