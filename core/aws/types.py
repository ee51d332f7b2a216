"""Dataclasses the gateway returns. Nothing outside `core.aws` sees a raw response.

`raw` fields keep the response as JSON-safe data (datetimes as ISO strings) for the
"raw JSON" panels; code reads the typed fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EndpointStatus(StrEnum):
    """DescribeEndpoint's EndpointStatus values (AWS_FACTS.md)."""

    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"


# Statuses in which an endpoint is changing; staying in one too long needs attention.
TRANSITIONAL_STATUSES = (
    EndpointStatus.CREATING,
    EndpointStatus.UPDATING,
    EndpointStatus.SYSTEM_UPDATING,
    EndpointStatus.ROLLING_BACK,
    EndpointStatus.DELETING,
)
# Statuses in which an endpoint cannot serve and a person must act.
BAD_STATUSES = (
    EndpointStatus.FAILED,
    EndpointStatus.UPDATE_ROLLBACK_FAILED,
    EndpointStatus.OUT_OF_SERVICE,
)


@dataclass(frozen=True)
class ModelContainer:
    """A model's (primary) container as DescribeModel has it: a ``MultiModel`` mode means
    ModelDataUrl is an S3 prefix and each request names its model (TargetModel)."""

    image: str
    mode: str
    model_data_url: str

    @property
    def is_multi_model(self) -> bool:
        return self.mode == "MultiModel"


@dataclass(frozen=True)
class InferenceComponent:
    """One inference component of an endpoint: a model placed as copies on its instances,
    each copy taking ``cpu_cores`` and ``memory_mb`` (DescribeInferenceComponent)."""

    name: str
    arn: str
    endpoint_name: str
    variant_name: str
    status: str
    model_name: str
    current_copies: int
    desired_copies: int
    cpu_cores: float | None
    accelerators: int | None
    memory_mb: int | None
    failure_reason: str
    creation_time: datetime
    last_modified_time: datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class InferenceComponentSummary:
    """One row of ListInferenceComponents: enough to tell that a component changed."""

    name: str
    endpoint_name: str
    status: str
    last_modified_time: datetime


@dataclass(frozen=True)
class EndpointSummary:
    """One row of ListEndpoints."""

    name: str
    arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime


@dataclass(frozen=True)
class VariantStatusEntry:
    """One VariantStatus item: Creating, Updating, Deleting, ActivatingTraffic, Baking."""

    status: str
    message: str
    start_time: datetime | None


@dataclass(frozen=True)
class ServerlessConfig:
    memory_size_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class VariantState:
    """A production (or shadow) variant as DescribeEndpoint reports it."""

    name: str
    is_shadow: bool
    current_weight: float | None
    desired_weight: float | None
    current_instance_count: int | None
    desired_instance_count: int | None
    images: tuple[str, ...]
    statuses: tuple[VariantStatusEntry, ...]
    current_serverless: ServerlessConfig | None
    desired_serverless: ServerlessConfig | None


@dataclass(frozen=True)
class DataCapture:
    enabled: bool
    status: str
    sampling_percentage: int | None
    destination_s3_uri: str


@dataclass(frozen=True)
class EndpointDescription:
    """DescribeEndpoint, typed."""

    name: str
    arn: str
    status: str
    failure_reason: str
    config_name: str
    creation_time: datetime
    last_modified_time: datetime
    variants: tuple[VariantState, ...]
    data_capture: DataCapture | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class VariantConfig:
    """A variant as the endpoint config declares it (model, instance type, initial weight)."""

    name: str
    is_shadow: bool
    model_name: str
    instance_type: str
    initial_instance_count: int | None
    initial_weight: float
    serverless: ServerlessConfig | None


@dataclass(frozen=True)
class EndpointConfigDescription:
    """DescribeEndpointConfig, typed."""

    name: str
    arn: str
    creation_time: datetime
    variants: tuple[VariantConfig, ...]
    kms_key_id: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ScalingPolicy:
    name: str
    policy_type: str
    metric: str
    target_value: float | None
    scale_in_cooldown: int | None
    scale_out_cooldown: int | None
    disable_scale_in: bool = False
    alarms: tuple[str, ...] = ()
    customized_metric: dict[str, Any] | None = None


@dataclass(frozen=True)
class VariantScaling:
    """Application Auto Scaling target and policies of one variant."""

    variant_name: str
    min_capacity: int
    max_capacity: int
    policies: tuple[ScalingPolicy, ...]
    # DynamicScalingInSuspended / DynamicScalingOutSuspended / ScheduledScalingSuspended.
    suspended: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComponentScaling:
    """Application Auto Scaling target and policies of one inference component's copy count
    (ResourceId inference-component/<name>)."""

    component_name: str
    min_capacity: int
    max_capacity: int
    policies: tuple[ScalingPolicy, ...]
    suspended: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScalingActivity:
    """One DescribeScalingActivities item: a scale out or in, or an attempt that failed."""

    activity_id: str
    variant_name: str
    description: str
    cause: str
    status: str  # Pending | InProgress | Successful | Overridden | Unfulfilled | Failed
    status_message: str
    start_time: datetime
    end_time: datetime | None


@dataclass(frozen=True)
class DesiredVariant:
    """One DesiredWeightsAndCapacities item. Serverless variants carry concurrency instead
    of an instance count; a None concurrency is left as it is."""

    name: str
    weight: float
    instance_count: int | None = None
    max_concurrency: int | None = None
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class MetricQuery:
    """One GetMetricData MetricStat query. `id` must start with a lowercase letter."""

    id: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    period: int
    label: str = ""


@dataclass(frozen=True)
class MetricSeries:
    """One query's answer, oldest point first."""

    id: str
    label: str
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]
    status: str  # Complete | PartialData | InternalError | Forbidden


@dataclass(frozen=True)
class AlarmState:
    """A CloudWatch metric alarm as DescribeAlarms reports it."""

    name: str
    arn: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    reason: str
    updated_at: datetime | None
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str
    threshold: float | None
    comparison: str
    period: int | None
    evaluation_periods: int | None
    actions_enabled: bool


@dataclass(frozen=True)
class AlarmHistoryItem:
    time: datetime
    item_type: str
    summary: str


@dataclass(frozen=True)
class InvocationResult:
    """InvokeEndpoint's answer, with the round trip the portal measured; a streamed answer
    (InvokeEndpointWithResponseStream) also keeps its parts and when the first arrived."""

    body: bytes
    content_type: str
    invoked_variant: str
    latency_ms: float
    parts: tuple[bytes, ...] = ()
    first_part_ms: float | None = None


@dataclass(frozen=True)
class TransformSpec:
    """What a batch transform job does: CreateTransformJob's parameters but its name. The
    portal's launch form, its job rows and DescribeTransformJob all speak this one shape."""

    model_name: str
    input_uri: str
    content_type: str
    output_path: str
    input_data_type: str = "S3Prefix"
    split_type: str = "Line"
    compression_type: str = "None"
    batch_strategy: str = "MultiRecord"
    max_payload_mb: int = 6
    max_concurrent_transforms: int = 1
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    accept: str = ""
    assemble_with: str = "Line"
    input_filter: str = ""
    output_filter: str = ""
    join_source: str = ""
    kms_key_id: str = ""
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TransformJobRequest:
    """CreateTransformJob's parameters, as the portal sends them."""

    name: str
    spec: TransformSpec


@dataclass(frozen=True)
class TransformJobSummary:
    """One row of ListTransformJobs."""

    name: str
    arn: str
    status: str
    creation_time: datetime
    end_time: datetime | None
    failure_reason: str


@dataclass(frozen=True)
class TransformJobDescription:
    """DescribeTransformJob, typed; `request` holds the parameters it was created with."""

    name: str
    arn: str
    status: str
    failure_reason: str
    creation_time: datetime | None
    start_time: datetime | None
    end_time: datetime | None
    request: TransformJobRequest
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ServiceQuota:
    """One applied Service Quotas value."""

    code: str
    name: str
    value: float


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int


@dataclass(frozen=True)
class S3Range:
    """The first bytes of an object: `truncated` when the object is longer than the read."""

    key: str
    body: bytes
    size: int
    truncated: bool


@dataclass(frozen=True)
class TrailPage:
    """One LookupEvents page: the CloudTrail records it held (each event's CloudTrailEvent
    JSON, parsed), newest first, and the token for the next page of the same query."""

    records: tuple[dict[str, Any], ...]
    next_token: str | None


@dataclass(frozen=True)
class TrailFile:
    """One CloudTrail log file read from S3: where it was and the records it held."""

    uri: str
    records: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class MonitoringScheduleSummary:
    """One row of ListMonitoringSchedules."""

    name: str
    arn: str
    endpoint_name: str
    status: str  # Pending | Failed | Scheduled | Stopped
    monitoring_type: str
    creation_time: datetime | None
    last_modified_time: datetime | None


@dataclass(frozen=True)
class MonitoringExecutionSummary:
    """One MonitoringExecutionSummary (ListMonitoringExecutions, or a schedule's last run)."""

    schedule_name: str
    scheduled_time: datetime
    creation_time: datetime | None
    last_modified_time: datetime | None
    status: str  # Pending | Completed | CompletedWithViolations | InProgress | Failed | ...
    processing_job_arn: str
    endpoint_name: str
    failure_reason: str


@dataclass(frozen=True)
class MonitoringScheduleDescription:
    """DescribeMonitoringSchedule, typed; the baseline and report locations come from the
    inline job definition (empty when the schedule names a separate job definition)."""

    name: str
    arn: str
    endpoint_name: str
    status: str
    monitoring_type: str
    failure_reason: str
    schedule_expression: str
    creation_time: datetime | None
    last_modified_time: datetime | None
    statistics_uri: str
    constraints_uri: str
    output_uri: str
    job_definition_name: str
    last_execution: MonitoringExecutionSummary | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ProcessingJobDescription:
    """DescribeProcessingJob: status and where the job wrote its output."""

    name: str
    arn: str
    status: str
    failure_reason: str
    exit_message: str
    output_uris: tuple[str, ...]


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch Logs event, as FilterLogEvents returns it."""

    time: datetime
    timestamp_ms: int
    stream: str
    message: str
    event_id: str


@dataclass(frozen=True)
class LogEventsPage:
    """One FilterLogEvents answer: its events oldest first, and the token for the rest
    (a page may be short, even empty, and still have more to come)."""

    events: tuple[LogEvent, ...]
    next_token: str | None
