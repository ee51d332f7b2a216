"""The Model Monitor operations (JSON 1.1), which moto lacks entirely.

CreateMonitoringSchedule, DescribeMonitoringSchedule, ListMonitoringSchedules,
DeleteMonitoringSchedule, StopMonitoringSchedule, StartMonitoringSchedule,
ListMonitoringExecutions, and DescribeProcessingJob for the processing jobs the executions
ran (other processing jobs are moto's). Requests are validated the way SageMaker does: an
unknown endpoint, or one that does not capture its input, is a ValidationException, a taken
name is ResourceInUse, a missing schedule ResourceNotFound. A schedule's job is defined inline
(MonitoringJobDefinition) or by name (MonitoringJobDefinitionName, a data quality job
definition created through moto's CreateDataQualityJobDefinition). The sandbox runs
DataQuality monitoring only.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.aws_protocol import validation_error as invalid
from sandbox.capture import capture_modes
from sandbox.endpoints import EndpointStore
from sandbox.listing import (
    TimeBounds,
    enum_error,
    page_answer,
    paginate,
    parse_list_query,
    timestamp_param,
)
from sandbox.monitor import (
    MAX_WINDOW_SECONDS,
    CadenceError,
    DuplicateSchedule,
    Execution,
    ExecutionStatus,
    JobDefinition,
    MonitorStore,
    Schedule,
    ScheduleStatus,
    iso,
    parse_cadence,
    parse_offset,
)
from sandbox.sagemaker_api import sagemaker_arn

Handler = Callable[[AwsRequest], WsgiResponse | None]

_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_NAME_CONTAINS = re.compile(r"^[a-zA-Z0-9\-]+$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
MONITORING_TYPES = ("DataQuality", "ModelQuality", "ModelBias", "ModelExplainability")
_SCHEDULE_STATUSES = tuple(status.value for status in ScheduleStatus)
_EXECUTION_STATUSES = tuple(status.value for status in ExecutionStatus)
DEFAULT_MAX_RUNTIME = 3600
MAX_RUNTIME = 86400
# Where the analyzer container finds its baseline, as DescribeProcessingJob shows it.
_BASELINE_STATISTICS_PATH = "/opt/ml/processing/baseline/stats"
_BASELINE_CONSTRAINTS_PATH = "/opt/ml/processing/baseline/constraints"


def _member(path: str) -> str:
    """``ScheduleConfig.ScheduleExpression`` -> ``scheduleConfig.scheduleExpression``, as AWS."""
    return ".".join(part[0].lower() + part[1:] for part in path.split("."))


def _required(params: Mapping[str, Any], name: str, path: str | None = None) -> Any:
    value = params.get(name) if isinstance(params, Mapping) else None
    if value is None or value == "" or value == []:
        raise invalid(
            f"1 validation error detected: Value null at '{_member(path or name)}' failed to "
            "satisfy constraint: Member must not be null"
        )
    return value


def _name(params: Mapping[str, Any], name: str, path: str | None = None) -> str:
    value = str(_required(params, name, path))
    if not _NAME_PATTERN.match(value):
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{_member(path or name)}' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
        )
    return value


def _s3_uri(params: Mapping[str, Any], name: str, path: str) -> str:
    value = str(_required(params, name, path))
    if not _S3_URI.match(value):
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{_member(path)}' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "(https|s3)://([^/]+)/?(.*)"
        )
    return value


def _integer(params: Mapping[str, Any], name: str, path: str, low: int, high: int) -> int:
    value = _required(params, name, path)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(
            f"1 validation error detected: Value '{value}' at '{_member(path)}' failed to "
            f"satisfy constraint: Member must be an integer between {low} and {high}"
        )
    return value


def _single(params: Mapping[str, Any], name: str, path: str) -> dict[str, Any]:
    items = _required(params, name, path)
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
        raise invalid(
            f"1 validation error detected: Value at '{_member(path)}' failed to satisfy "
            "constraint: Member must have length less than or equal to 1 and greater than or "
            "equal to 1"
        )
    return dict(items[0])


def _publish_metrics(environment: Mapping[str, Any]) -> bool:
    value = str(environment.get("publish_cloudwatch_metrics", "Enabled"))
    if value.lower() not in ("enabled", "disabled"):
        raise invalid(
            f"Environment publish_cloudwatch_metrics must be Enabled or Disabled; got '{value}'."
        )
    return value.lower() == "enabled"


def _inline_definition(definition: Mapping[str, Any]) -> tuple[JobDefinition, dict[str, Any]]:
    """MonitoringJobDefinition -> what executions run, and the definition as Describe shows it."""
    root = "MonitoringScheduleConfig.MonitoringJobDefinition"
    monitoring_input = _single(definition, "MonitoringInputs", f"{root}.MonitoringInputs")
    if "EndpointInput" not in monitoring_input:
        raise invalid(
            "The sandbox monitors endpoints: MonitoringInputs must hold an EndpointInput "
            "(BatchTransformInput is not supported)."
        )
    endpoint_input = dict(monitoring_input["EndpointInput"])
    input_path = f"{root}.MonitoringInputs.1.member.EndpointInput"
    endpoint = _name(endpoint_input, "EndpointName", f"{input_path}.EndpointName")
    input_local = str(_required(endpoint_input, "LocalPath", f"{input_path}.LocalPath"))
    endpoint_input.setdefault("S3InputMode", "File")
    endpoint_input.setdefault("S3DataDistributionType", "FullyReplicated")

    output_config = _required(
        definition, "MonitoringOutputConfig", f"{root}.MonitoringOutputConfig"
    )
    output = _single(
        output_config, "MonitoringOutputs", f"{root}.MonitoringOutputConfig.MonitoringOutputs"
    )
    output_path = f"{root}.MonitoringOutputConfig.MonitoringOutputs.1.member.S3Output"
    s3_output = dict(_required(output, "S3Output", output_path))
    output_uri = _s3_uri(s3_output, "S3Uri", f"{output_path}.S3Uri")
    output_local = str(_required(s3_output, "LocalPath", f"{output_path}.LocalPath"))
    s3_output.setdefault("S3UploadMode", "Continuous")

    resources = _required(definition, "MonitoringResources", f"{root}.MonitoringResources")
    cluster_path = f"{root}.MonitoringResources.ClusterConfig"
    cluster = dict(_required(resources, "ClusterConfig", cluster_path))
    _integer(cluster, "InstanceCount", f"{cluster_path}.InstanceCount", 1, 100)
    _required(cluster, "InstanceType", f"{cluster_path}.InstanceType")
    _integer(cluster, "VolumeSizeInGB", f"{cluster_path}.VolumeSizeInGB", 1, 16384)

    app = _required(definition, "MonitoringAppSpecification", f"{root}.MonitoringAppSpecification")
    image = str(_required(app, "ImageUri", f"{root}.MonitoringAppSpecification.ImageUri"))
    role = str(_required(definition, "RoleArn", f"{root}.RoleArn"))
    if not _ROLE_ARN.match(role):
        raise invalid(
            f"1 validation error detected: Value '{role}' at '{_member(root)}.roleArn' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$"
        )
    stopping = dict(definition.get("StoppingCondition") or {})
    stopping.setdefault("MaxRuntimeInSeconds", DEFAULT_MAX_RUNTIME)
    max_runtime = _integer(
        stopping,
        "MaxRuntimeInSeconds",
        f"{root}.StoppingCondition.MaxRuntimeInSeconds",
        1,
        MAX_RUNTIME,
    )
    environment = definition.get("Environment") or {}
    if not isinstance(environment, dict):
        raise invalid("Environment must be a map of strings.")
    baseline = definition.get("BaselineConfig") or {}
    statistics = constraints = None
    if baseline.get("StatisticsResource"):
        statistics = _s3_uri(
            baseline["StatisticsResource"],
            "S3Uri",
            f"{root}.BaselineConfig.StatisticsResource.S3Uri",
        )
    if baseline.get("ConstraintsResource"):
        constraints = _s3_uri(
            baseline["ConstraintsResource"],
            "S3Uri",
            f"{root}.BaselineConfig.ConstraintsResource.S3Uri",
        )
    job = JobDefinition(
        endpoint_name=endpoint,
        input_local_path=input_local,
        output_uri=output_uri,
        output_local_path=output_local,
        statistics_uri=statistics,
        constraints_uri=constraints,
        publish_metrics=_publish_metrics(environment),
        role_arn=role,
        image_uri=image,
        cluster=cluster,
        environment={str(k): str(v) for k, v in environment.items()},
        max_runtime_seconds=max_runtime,
        kms_key_id=output_config.get("KmsKeyId"),
    )
    shown = {
        **{k: v for k, v in definition.items() if v is not None},
        "MonitoringInputs": [{"EndpointInput": endpoint_input}],
        "MonitoringOutputConfig": {
            **output_config,
            "MonitoringOutputs": [{**output, "S3Output": s3_output}],
        },
        "MonitoringResources": {"ClusterConfig": cluster},
        "StoppingCondition": stopping,
    }
    return job, shown


def _named_definition(account_id: str, region: str, name: str) -> JobDefinition:
    """A data quality job definition created through moto, as an execution runs it."""
    from moto.sagemaker.models import sagemaker_backends

    found = sagemaker_backends[account_id][region].data_quality_job_definitions.get(name)
    if found is None:
        arn = f"arn:aws:sagemaker:{region}:{account_id}:data-quality-job-definition/{name}"
        raise invalid(f"Could not find job definition {arn}.")
    described = found.response_object
    app = dict(described.get("DataQualityAppSpecification") or {})
    job_input = dict(described.get("DataQualityJobInput") or {})
    output_config = dict(described.get("DataQualityJobOutputConfig") or {})
    definition = {
        "BaselineConfig": described.get("DataQualityBaselineConfig") or None,
        "MonitoringInputs": [job_input],
        "MonitoringOutputConfig": output_config,
        "MonitoringResources": described.get("JobResources") or {},
        "MonitoringAppSpecification": {"ImageUri": app.get("ImageUri")},
        "StoppingCondition": described.get("StoppingCondition") or None,
        "Environment": {**(app.get("Environment") or {}), **(described.get("Environment") or {})},
        "RoleArn": described.get("RoleArn"),
    }
    job, _shown = _inline_definition(definition)
    return job


def _check_endpoint(endpoints: EndpointStore, request: AwsRequest, endpoint: str) -> None:
    """The endpoint must exist and capture its input: there is nothing to monitor otherwise."""
    record = endpoints.get(request.account_id, request.region, endpoint)
    if record is None:
        raise invalid(f'Could not find endpoint "{sagemaker_arn(request, "endpoint", endpoint)}".')
    capture = record.data_capture or {}
    if not capture.get("EnableCapture", False) or "INPUT" not in capture_modes(capture):
        raise invalid(
            f"Endpoint {endpoint} does not capture its input: enable DataCaptureConfig with "
            "EnableCapture and an Input or InputAndOutput CaptureMode in its endpoint config "
            "before creating a monitoring schedule."
        )


def _default_daily(name: str) -> str:
    """With no ScheduleConfig SageMaker runs daily at an hour it picks; pick one per name."""
    return f"cron(0 {zlib.crc32(name.encode()) % 24} ? * * *)"


def render_execution(execution: Execution) -> dict[str, Any]:
    """A MonitoringExecutionSummary, as ListMonitoringExecutions and Describe show it."""
    summary: dict[str, Any] = {
        "MonitoringScheduleName": execution.schedule_name,
        "ScheduledTime": execution.scheduled_time,
        "CreationTime": execution.creation_time,
        "LastModifiedTime": execution.last_modified_time,
        "MonitoringExecutionStatus": execution.status.value,
        "ProcessingJobArn": execution.processing_job_arn,
        "EndpointName": execution.endpoint_name,
        "MonitoringType": execution.monitoring_type,
    }
    if execution.failure_reason:
        summary["FailureReason"] = execution.failure_reason
    if execution.job_definition_name:
        summary["MonitoringJobDefinitionName"] = execution.job_definition_name
    return summary


def render_processing_job(execution: Execution) -> dict[str, Any]:
    """DescribeProcessingJob for the job behind an execution: inputs, report location, outcome."""
    definition = execution.definition
    start, end = execution.window
    inputs: list[dict[str, Any]] = [
        {
            "InputName": "input_1",
            "AppManaged": False,
            "S3Input": {
                "S3Uri": execution.input_uri,
                "LocalPath": definition.input_local_path,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }
    ]
    environment = {
        **definition.environment,
        "dataset_format": '{"sagemakerCaptureJson":{"captureIndexNames":["endpointInput"]}}',
        "dataset_source": definition.input_local_path,
        "start_time": iso(start),
        "end_time": iso(end),
        "metric_time": iso(start),
        "monitoring_input_type": "ENDPOINT_INPUT",
        "output_path": definition.output_local_path,
        "publish_cloudwatch_metrics": "Enabled" if definition.publish_metrics else "Disabled",
        "sagemaker_endpoint_name": definition.endpoint_name,
        "sagemaker_monitoring_schedule_name": execution.schedule_name,
    }
    for name, uri, path, file_name, key in (
        (
            "baseline",
            definition.statistics_uri,
            _BASELINE_STATISTICS_PATH,
            "statistics.json",
            "baseline_statistics",
        ),
        (
            "constraints",
            definition.constraints_uri,
            _BASELINE_CONSTRAINTS_PATH,
            "constraints.json",
            "baseline_constraints",
        ),
    ):
        if uri:
            inputs.append(
                {
                    "InputName": name,
                    "AppManaged": False,
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": path,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                        "S3CompressionType": "None",
                    },
                }
            )
            environment[key] = f"{path}/{file_name}"
    output_config: dict[str, Any] = {
        "Outputs": [
            {
                "OutputName": "result",
                "S3Output": {
                    "S3Uri": execution.report_uri,
                    "LocalPath": definition.output_local_path,
                    "S3UploadMode": "Continuous",
                },
                "AppManaged": False,
            }
        ]
    }
    if definition.kms_key_id:
        output_config["KmsKeyId"] = definition.kms_key_id
    processing_status = {
        ExecutionStatus.PENDING: "InProgress",
        ExecutionStatus.IN_PROGRESS: "InProgress",
        ExecutionStatus.COMPLETED: "Completed",
        ExecutionStatus.COMPLETED_WITH_VIOLATIONS: "Completed",
        ExecutionStatus.FAILED: "Failed",
        ExecutionStatus.STOPPING: "Stopping",
        ExecutionStatus.STOPPED: "Stopped",
    }[execution.status]
    described: dict[str, Any] = {
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": output_config,
        "ProcessingJobName": execution.processing_job_name,
        "ProcessingResources": {"ClusterConfig": dict(definition.cluster)},
        "StoppingCondition": {"MaxRuntimeInSeconds": definition.max_runtime_seconds},
        "AppSpecification": {"ImageUri": definition.image_uri},
        "Environment": environment,
        "RoleArn": definition.role_arn,
        "ProcessingJobArn": execution.processing_job_arn,
        "ProcessingJobStatus": processing_status,
        "LastModifiedTime": execution.last_modified_time,
        "CreationTime": execution.creation_time,
        "MonitoringScheduleArn": execution.schedule_arn,
    }
    if execution.exit_message:
        described["ExitMessage"] = execution.exit_message
    if execution.failure_reason:
        described["FailureReason"] = execution.failure_reason
    if execution.start_time is not None:
        described["ProcessingStartTime"] = execution.start_time
    if execution.end_time is not None:
        described["ProcessingEndTime"] = execution.end_time
    return described


class MonitorApi:
    """The monitoring-schedule operations, owned by the sandbox (moto has none)."""

    def __init__(self, store: MonitorStore, endpoints: EndpointStore) -> None:
        self.store = store
        self.endpoints = endpoints

    def operations(self) -> dict[str, Handler]:
        return {
            "CreateMonitoringSchedule": self.create_monitoring_schedule,
            "DescribeMonitoringSchedule": self.describe_monitoring_schedule,
            "ListMonitoringSchedules": self.list_monitoring_schedules,
            "DeleteMonitoringSchedule": self.delete_monitoring_schedule,
            "StopMonitoringSchedule": self.stop_monitoring_schedule,
            "StartMonitoringSchedule": self.start_monitoring_schedule,
            "ListMonitoringExecutions": self.list_monitoring_executions,
            "DescribeProcessingJob": self.describe_processing_job,
        }

    def create_monitoring_schedule(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        name = _name(params, "MonitoringScheduleName")
        config = dict(_required(params, "MonitoringScheduleConfig"))
        monitoring_type = config.get("MonitoringType") or "DataQuality"
        if monitoring_type not in MONITORING_TYPES:
            raise enum_error(
                monitoring_type, "monitoringScheduleConfig.monitoringType", MONITORING_TYPES
            )
        if monitoring_type != "DataQuality":
            raise invalid(f"The sandbox runs DataQuality monitoring only, not {monitoring_type}.")
        inline = config.get("MonitoringJobDefinition")
        definition_name = config.get("MonitoringJobDefinitionName")
        if (inline is None) == (definition_name is None):
            raise invalid(
                "MonitoringScheduleConfig must have exactly one of MonitoringJobDefinition and "
                "MonitoringJobDefinitionName."
            )
        if inline is not None:
            job, shown = _inline_definition(inline)
            config["MonitoringJobDefinition"] = shown
        else:
            definition_name = _name(
                config,
                "MonitoringJobDefinitionName",
                "MonitoringScheduleConfig.MonitoringJobDefinitionName",
            )
            job = _named_definition(request.account_id, request.region, definition_name)
        schedule_config = dict(config.get("ScheduleConfig") or {})
        expression = str(schedule_config.get("ScheduleExpression") or _default_daily(name))
        try:
            cadence = parse_cadence(expression)
            start_offset, end_offset = _offsets(schedule_config, cadence.once)
        except CadenceError as error:
            raise invalid(str(error)) from None
        if schedule_config:
            config["ScheduleConfig"] = schedule_config
        config["MonitoringType"] = monitoring_type
        _check_endpoint(self.endpoints, request, job.endpoint_name)
        arn = sagemaker_arn(request, "monitoring-schedule", name.lower())
        now = self.store.clock.real()
        schedule = Schedule(
            account_id=request.account_id,
            region=request.region,
            name=name,
            arn=arn,
            monitoring_type=monitoring_type,
            cadence=cadence,
            definition=job,
            config=config,
            creation_time=now,
            last_modified_time=now,
            start_offset=start_offset,
            end_offset=end_offset,
            job_definition_name=definition_name,
        )
        try:
            self.store.add(schedule)
        except DuplicateSchedule:
            raise AwsError("ResourceInUse", f"Monitoring schedule {arn} already exists.") from None
        return json_response(request, {"MonitoringScheduleArn": arn})

    def describe_monitoring_schedule(self, request: AwsRequest) -> WsgiResponse:
        schedule = self._schedule(request)
        described: dict[str, Any] = {
            "MonitoringScheduleArn": schedule.arn,
            "MonitoringScheduleName": schedule.name,
            "MonitoringScheduleStatus": schedule.status.value,
            "MonitoringType": schedule.monitoring_type,
            "CreationTime": schedule.creation_time,
            "LastModifiedTime": schedule.last_modified_time,
            "MonitoringScheduleConfig": schedule.config,
            "EndpointName": schedule.definition.endpoint_name,
        }
        if schedule.failure_reason:
            described["FailureReason"] = schedule.failure_reason
        last = self.store.last_execution(schedule)
        if last is not None:
            described["LastMonitoringExecutionSummary"] = render_execution(last)
        return json_response(request, described)

    def delete_monitoring_schedule(self, request: AwsRequest) -> WsgiResponse:
        schedule = self._schedule(request)
        self.store.remove(schedule.account_id, schedule.region, schedule.name)
        return json_response(request, {})

    def stop_monitoring_schedule(self, request: AwsRequest) -> WsgiResponse:
        self.store.set_running(self._schedule(request), False)
        return json_response(request, {})

    def start_monitoring_schedule(self, request: AwsRequest) -> WsgiResponse:
        self.store.set_running(self._schedule(request), True)
        return json_response(request, {})

    def _schedule(self, request: AwsRequest) -> Schedule:
        name = _name(request.json_body(), "MonitoringScheduleName")
        schedule = self.store.get(request.account_id, request.region, name)
        if schedule is None:
            arn = sagemaker_arn(request, "monitoring-schedule", name.lower())
            raise AwsError("ResourceNotFound", f"Monitoring schedule {arn} does not exist.")
        return schedule

    def list_monitoring_schedules(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        query = parse_list_query(params, sort_fields=("Name", "CreationTime", "Status"))
        if query.name_contains is not None and not _NAME_CONTAINS.match(query.name_contains):
            raise invalid(
                f"1 validation error detected: Value '{query.name_contains}' at 'nameContains' "
                "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                "[a-zA-Z0-9\\-]+"
            )
        status_equals = _enum_param(params, "StatusEquals", _SCHEDULE_STATUSES)
        type_equals = _enum_param(params, "MonitoringTypeEquals", MONITORING_TYPES)
        endpoint = params.get("EndpointName")
        definition_name = params.get("MonitoringJobDefinitionName")
        bounds = TimeBounds.parse(params)
        rows = [
            s
            for s in self.store.schedules(request.account_id, request.region)
            if (query.name_contains is None or query.name_contains in s.name)
            and (endpoint is None or s.definition.endpoint_name == endpoint)
            and (status_equals is None or s.status.value == status_equals)
            and (type_equals is None or s.monitoring_type == type_equals)
            and (definition_name is None or s.job_definition_name == definition_name)
            and bounds.admit(created=s.creation_time, modified=s.last_modified_time)
        ]
        sort_values: dict[str, Callable[[Schedule], str | float]] = {
            "Name": lambda s: s.name,
            "CreationTime": lambda s: s.creation_time,
            "Status": lambda s: s.status.value,
        }
        page = paginate(rows, query, sort_value=sort_values[query.sort_by], name=lambda s: s.name)
        summaries = []
        for schedule in page.items:
            summary: dict[str, Any] = {
                "MonitoringScheduleName": schedule.name,
                "MonitoringScheduleArn": schedule.arn,
                "CreationTime": schedule.creation_time,
                "LastModifiedTime": schedule.last_modified_time,
                "MonitoringScheduleStatus": schedule.status.value,
                "EndpointName": schedule.definition.endpoint_name,
                "MonitoringType": schedule.monitoring_type,
            }
            if schedule.job_definition_name:
                summary["MonitoringJobDefinitionName"] = schedule.job_definition_name
            summaries.append(summary)
        result: dict[str, Any] = {"MonitoringScheduleSummaries": summaries}
        if page.next_token:
            result["NextToken"] = page.next_token
        return json_response(request, result)

    def list_monitoring_executions(self, request: AwsRequest) -> WsgiResponse:
        params = request.json_body()
        query = parse_list_query(params, sort_fields=("CreationTime", "ScheduledTime", "Status"))
        status_equals = _enum_param(params, "StatusEquals", _EXECUTION_STATUSES)
        type_equals = _enum_param(params, "MonitoringTypeEquals", MONITORING_TYPES)
        schedule_name = params.get("MonitoringScheduleName")
        endpoint = params.get("EndpointName")
        definition_name = params.get("MonitoringJobDefinitionName")
        scheduled_before = timestamp_param(params, "ScheduledTimeBefore")
        scheduled_after = timestamp_param(params, "ScheduledTimeAfter")
        bounds = TimeBounds.parse(params)
        rows = [
            e
            for e in self.store.executions(request.account_id, request.region)
            if (schedule_name is None or e.schedule_name == schedule_name)
            and (endpoint is None or e.endpoint_name == endpoint)
            and (status_equals is None or e.status.value == status_equals)
            and (type_equals is None or e.monitoring_type == type_equals)
            and (definition_name is None or e.job_definition_name == definition_name)
            and (scheduled_before is None or e.scheduled_time < scheduled_before)
            and (scheduled_after is None or e.scheduled_time > scheduled_after)
            and bounds.admit(created=e.creation_time, modified=e.last_modified_time)
        ]
        sort_values: dict[str, Callable[[Execution], str | float]] = {
            "CreationTime": lambda e: e.creation_time,
            "ScheduledTime": lambda e: e.scheduled_time,
            "Status": lambda e: e.status.value,
        }
        page = paginate(
            rows,
            query,
            sort_value=sort_values[query.sort_by],
            name=lambda e: e.processing_job_name,
        )
        return json_response(
            request, page_answer("MonitoringExecutionSummaries", page, render_execution)
        )

    def describe_processing_job(self, request: AwsRequest) -> WsgiResponse | None:
        """The jobs behind monitoring executions; moto answers for every other job."""
        name = str(_required(request.json_body(), "ProcessingJobName"))
        execution = self.store.execution_for_job(request.account_id, request.region, name)
        if execution is None:
            return None
        return json_response(request, render_processing_job(execution))


def _offsets(schedule_config: Mapping[str, Any], once: bool) -> tuple[float | None, float | None]:
    """DataAnalysisStartTime/EndTime as seconds from the scheduled time (required for NOW)."""
    start_text = schedule_config.get("DataAnalysisStartTime")
    end_text = schedule_config.get("DataAnalysisEndTime")
    if once and (not start_text or not end_text):
        raise CadenceError(
            "A NOW schedule analyses a fixed window: set DataAnalysisStartTime and "
            "DataAnalysisEndTime (e.g. -PT1H and -PT0H)."
        )
    start = parse_offset(str(start_text), "DataAnalysisStartTime") if start_text else None
    end = parse_offset(str(end_text), "DataAnalysisEndTime") if end_text else None
    if start is not None and end is not None:
        if start >= end:
            raise CadenceError("DataAnalysisStartTime must come before DataAnalysisEndTime.")
        if end - start > MAX_WINDOW_SECONDS:
            raise CadenceError(
                "DataAnalysisStartTime must not precede DataAnalysisEndTime by more than 24 hours."
            )
    return start, end


def _enum_param(params: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = params.get(name)
    if value is not None and value not in allowed:
        raise enum_error(value, name[0].lower() + name[1:], allowed)
    return value
