"""Model Monitor: schedules, their executions and the processing jobs behind them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from core.aws.clients import client
from core.aws.convert import json_safe
from core.aws.errors import translated
from core.aws.types import (
    MonitoringExecutionSummary,
    MonitoringScheduleDescription,
    MonitoringScheduleSummary,
    ProcessingJobDescription,
)
from core.targets import Target

PAGE_SIZE = 100  # the List operations' maximum: fewest calls per sync


def _sm(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="sagemaker")


def list_monitoring_schedules(
    *, target: Target, region: str
) -> Iterator[MonitoringScheduleSummary]:
    """Every monitoring schedule of the region, 100 per call."""
    paginator = _sm(target, region).get_paginator("list_monitoring_schedules")
    with translated("ListMonitoringSchedules"):
        for page in paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}):
            for item in page.get("MonitoringScheduleSummaries", []):
                yield MonitoringScheduleSummary(
                    name=item["MonitoringScheduleName"],
                    arn=item.get("MonitoringScheduleArn", ""),
                    endpoint_name=item.get("EndpointName", ""),
                    status=item.get("MonitoringScheduleStatus", ""),
                    monitoring_type=item.get("MonitoringType", ""),
                    creation_time=item.get("CreationTime"),
                    last_modified_time=item.get("LastModifiedTime"),
                )


def _execution(item: dict[str, Any]) -> MonitoringExecutionSummary:
    return MonitoringExecutionSummary(
        schedule_name=item.get("MonitoringScheduleName", ""),
        scheduled_time=item["ScheduledTime"],
        creation_time=item.get("CreationTime"),
        last_modified_time=item.get("LastModifiedTime"),
        status=item.get("MonitoringExecutionStatus", ""),
        processing_job_arn=item.get("ProcessingJobArn", ""),
        endpoint_name=item.get("EndpointName", ""),
        failure_reason=item.get("FailureReason", ""),
    )


def describe_monitoring_schedule(
    *, target: Target, region: str, name: str
) -> MonitoringScheduleDescription:
    with translated("DescribeMonitoringSchedule"):
        data = _sm(target, region).describe_monitoring_schedule(MonitoringScheduleName=name)
    config = data.get("MonitoringScheduleConfig") or {}
    definition = config.get("MonitoringJobDefinition") or {}
    baseline = definition.get("BaselineConfig") or {}
    outputs = (definition.get("MonitoringOutputConfig") or {}).get("MonitoringOutputs") or []
    last = data.get("LastMonitoringExecutionSummary")
    return MonitoringScheduleDescription(
        name=data["MonitoringScheduleName"],
        arn=data.get("MonitoringScheduleArn", ""),
        endpoint_name=data.get("EndpointName", ""),
        status=data.get("MonitoringScheduleStatus", ""),
        monitoring_type=data.get("MonitoringType") or config.get("MonitoringType", ""),
        failure_reason=data.get("FailureReason", ""),
        schedule_expression=(config.get("ScheduleConfig") or {}).get("ScheduleExpression", ""),
        creation_time=data.get("CreationTime"),
        last_modified_time=data.get("LastModifiedTime"),
        statistics_uri=(baseline.get("StatisticsResource") or {}).get("S3Uri", ""),
        constraints_uri=(baseline.get("ConstraintsResource") or {}).get("S3Uri", ""),
        output_uri=((outputs[0] if outputs else {}).get("S3Output") or {}).get("S3Uri", ""),
        job_definition_name=config.get("MonitoringJobDefinitionName", ""),
        last_execution=_execution(last) if last and last.get("ScheduledTime") else None,
        raw=json_safe(data),
    )


def list_monitoring_executions(
    *, target: Target, region: str, schedule_name: str, scheduled_after: datetime | None = None
) -> Iterator[MonitoringExecutionSummary]:
    """A schedule's executions scheduled after `scheduled_after` (all when None), newest
    first, 100 per call."""
    kwargs: dict[str, Any] = {
        "MonitoringScheduleName": schedule_name,
        "SortBy": "ScheduledTime",
        "SortOrder": "Descending",
        "PaginationConfig": {"PageSize": PAGE_SIZE},
    }
    if scheduled_after is not None:
        kwargs["ScheduledTimeAfter"] = scheduled_after
    paginator = _sm(target, region).get_paginator("list_monitoring_executions")
    with translated("ListMonitoringExecutions"):
        for page in paginator.paginate(**kwargs):
            for item in page.get("MonitoringExecutionSummaries", []):
                yield _execution(item)


def describe_processing_job(*, target: Target, region: str, name: str) -> ProcessingJobDescription:
    with translated("DescribeProcessingJob"):
        data = _sm(target, region).describe_processing_job(ProcessingJobName=name)
    outputs = (data.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    return ProcessingJobDescription(
        name=data.get("ProcessingJobName", name),
        arn=data.get("ProcessingJobArn", ""),
        status=data.get("ProcessingJobStatus", ""),
        failure_reason=data.get("FailureReason", ""),
        exit_message=data.get("ExitMessage", ""),
        output_uris=tuple(
            str(o["S3Output"]["S3Uri"]) for o in outputs if (o.get("S3Output") or {}).get("S3Uri")
        ),
    )
