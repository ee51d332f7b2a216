"""Model Monitor writes: sync schedules, executions and their violations into the database.

Per target-region: one ListMonitoringSchedules pass (100 a call); DescribeMonitoringSchedule
only for schedules that are new or whose LastModifiedTime or status changed; per schedule one
ListMonitoringExecutions pass from just before the newest stored execution (or the oldest one
still running). A finished execution's report is read once: DescribeProcessingJob gives the
report folder, and only CompletedWithViolations executions need constraint_violations.json
(Completed means none). An execution whose report could not be read stays unread and is
retried on the next run, so a throttled or unreachable AWS costs freshness, never data.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import dataquality as quality
from audit.services import audit_record
from core.aws import monitor as aws_monitor
from core.aws import s3 as aws_s3
from core.aws.errors import AwsError, NotFound, Throttled, Unavailable
from core.aws.types import MonitoringExecutionSummary, MonitoringScheduleSummary
from core.models import SyncKind
from core.sync_status import sync_failed, sync_succeeded
from core.targets import Target, target_regions
from monitoring.models import (
    MonitoringExecution,
    MonitoringSchedule,
    MonitoringViolation,
)

logger = logging.getLogger(__name__)

REPORT_MAX_BYTES = 5 * 1024 * 1024
# AWS's file name, and the spelling some documentation pages use.
VIOLATION_FILES = ("constraint_violations.json", "constraints_violations.json")
STATISTICS_FILE = "statistics.json"


@dataclass
class MonitorSyncReport:
    target: str
    region: str
    schedules: int = 0
    described: int = 0
    new_executions: int = 0
    reports_read: int = 0
    reports_left: int = 0
    violations: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    error: str = ""

    def summary(self) -> str:
        if self.error:
            return f"model monitor {self.target}/{self.region}: FAILED {self.error}"
        return (
            f"model monitor {self.target}/{self.region}: {self.schedules} schedules, "
            f"{self.new_executions} new executions, {self.reports_read} reports read, "
            f"{self.reports_left} left"
        )


def monitor_sync(*, target: Target, region: str) -> MonitorSyncReport:
    """Bring one target-region's schedules, executions and violations in line with AWS.

    Failures are recorded (the Monitoring tab shows them), not raised: pages keep the last
    synced data. Each schedule and each report is stored in its own transaction, so work done
    before a failure is kept and the next run carries on from there.
    """
    report = MonitorSyncReport(target=target.name, region=region)
    now = timezone.now()
    try:
        summaries = list(aws_monitor.list_monitoring_schedules(target=target, region=region))
        known = {
            s.name: s
            for s in MonitoringSchedule.objects.filter(account_id=target.account_id, region=region)
        }
        for summary in summaries:
            schedule = _schedule_store(
                target=target,
                region=region,
                summary=summary,
                known=known.pop(summary.name, None),
                now=now,
                report=report,
            )
            report.schedules += 1
            report.new_executions += _executions_sync(
                target=target, region=region, schedule=schedule, now=now
            )
        for gone in known.values():
            if gone.deleted_at is None:
                gone.deleted_at = now
                gone.save(update_fields=["deleted_at"])
                report.removed.append(gone.name)
        _reports_read(target=target, region=region, report=report)
    except AwsError as exc:
        report.error = str(exc)
        sync_failed(kind=SyncKind.MODEL_MONITOR, target=target, region=region, error=exc, at=now)
        logger.warning("model monitor sync %s/%s failed: %s", target.name, region, exc)
        _audit(target=target, region=region, report=report)
        return report
    sync_succeeded(
        kind=SyncKind.MODEL_MONITOR,
        target=target,
        region=region,
        at=now,
        detail={"schedules": report.schedules, "reports_left": report.reports_left},
    )
    _audit(target=target, region=region, report=report)
    return report


def monitor_sync_configured() -> list[MonitorSyncReport]:
    return [monitor_sync(target=target, region=region) for target, region in target_regions()]


def _audit(*, target: Target, region: str, report: MonitorSyncReport) -> None:
    """One entry per run that changed something an operator acts on."""
    if not (report.new_executions or report.violations or report.removed):
        return
    audit_record(
        actor=None,
        action="monitoring.monitor_sync",
        target=f"{target.name}/{target.account_id}/{region}",
        after={
            "new_executions": report.new_executions,
            "violations": report.violations,
            "removed_schedules": report.removed,
        },
    )


def _schedule_store(
    *,
    target: Target,
    region: str,
    summary: MonitoringScheduleSummary,
    known: MonitoringSchedule | None,
    now: datetime,
    report: MonitorSyncReport,
) -> MonitoringSchedule:
    """Upsert one schedule; Describe only when the list shows it new or changed."""
    unchanged = (
        known is not None
        and known.deleted_at is None
        and known.last_modified_time == summary.last_modified_time
        and known.status == summary.status
    )
    if unchanged:
        assert known is not None
        if known.endpoint_name != summary.endpoint_name:
            known.endpoint_name = summary.endpoint_name
        known.synced_at = now
        known.save(update_fields=["endpoint_name", "synced_at"])
        return known
    described = aws_monitor.describe_monitoring_schedule(
        target=target, region=region, name=summary.name
    )
    report.described += 1
    schedule, _ = MonitoringSchedule.objects.update_or_create(
        account_id=target.account_id,
        region=region,
        name=summary.name,
        defaults={
            "target": target.name,
            "endpoint_name": described.endpoint_name or summary.endpoint_name,
            "arn": described.arn or summary.arn,
            "monitoring_type": described.monitoring_type or summary.monitoring_type,
            "status": described.status or summary.status,
            "schedule_expression": described.schedule_expression,
            "failure_reason": described.failure_reason,
            "statistics_uri": described.statistics_uri,
            "constraints_uri": described.constraints_uri,
            "output_uri": described.output_uri,
            "job_definition_name": described.job_definition_name,
            "last_modified_time": summary.last_modified_time or described.last_modified_time,
            "synced_at": now,
            "deleted_at": None,
        },
    )
    return schedule


def _list_since(*, schedule: MonitoringSchedule, now: datetime) -> datetime:
    """Where ListMonitoringExecutions starts: before the newest stored execution, or the
    oldest one still running, whichever is earlier; never before the initial window."""
    floor = now - timedelta(days=settings.OPSPORTAL_MONITOR_INITIAL_DAYS)
    executions = schedule.executions.all()
    newest = executions.order_by("-scheduled_time").values_list("scheduled_time", flat=True)
    newest_time = newest.first()
    if newest_time is None:
        return floor
    open_time = (
        executions.exclude(status__in=MonitoringExecution.TERMINAL)
        .order_by("scheduled_time")
        .values_list("scheduled_time", flat=True)
        .first()
    )
    anchor = min(newest_time, open_time) if open_time else newest_time
    return max(floor, anchor - timedelta(seconds=settings.OPSPORTAL_MONITOR_OVERLAP_SECONDS))


def _executions_sync(
    *, target: Target, region: str, schedule: MonitoringSchedule, now: datetime
) -> int:
    """Upsert the schedule's recent executions; the number of new ones."""
    since = _list_since(schedule=schedule, now=now)
    listed = list(
        aws_monitor.list_monitoring_executions(
            target=target,
            region=region,
            schedule_name=schedule.name,
            # ScheduledTimeAfter is exclusive.
            scheduled_after=since - timedelta(seconds=1),
        )
    )
    stored = {
        e.scheduled_time: e
        for e in schedule.executions.filter(scheduled_time__gte=since - timedelta(seconds=1))
    }
    created = 0
    with transaction.atomic():
        for summary in listed:
            existing = stored.get(summary.scheduled_time)
            if existing is None:
                _execution_create(schedule=schedule, summary=summary, now=now)
                created += 1
            elif _changed(existing, summary):
                _execution_update(existing=existing, summary=summary, now=now)
        latest = schedule.executions.order_by("-scheduled_time").first()
        if latest is not None:
            schedule.last_execution_status = latest.status
            schedule.last_execution_at = latest.scheduled_time
            schedule.last_execution_failure = latest.failure_reason
            schedule.save(
                update_fields=[
                    "last_execution_status",
                    "last_execution_at",
                    "last_execution_failure",
                ]
            )
    return created


def _changed(existing: MonitoringExecution, summary: MonitoringExecutionSummary) -> bool:
    return (
        existing.status != summary.status
        or existing.processing_job_arn != summary.processing_job_arn
        or existing.failure_reason != summary.failure_reason
    )


def _nothing_to_read(status: str) -> bool:
    """Failed and Stopped executions have an outcome but no report to read."""
    return status in MonitoringExecution.TERMINAL and status not in MonitoringExecution.FINISHED_OK


def _execution_create(
    *, schedule: MonitoringSchedule, summary: MonitoringExecutionSummary, now: datetime
) -> None:
    MonitoringExecution.objects.create(
        schedule=schedule,
        scheduled_time=summary.scheduled_time,
        creation_time=summary.creation_time,
        last_modified_time=summary.last_modified_time,
        status=summary.status,
        processing_job_arn=summary.processing_job_arn,
        failure_reason=summary.failure_reason,
        report_read_at=now if _nothing_to_read(summary.status) else None,
    )


def _execution_update(
    *, existing: MonitoringExecution, summary: MonitoringExecutionSummary, now: datetime
) -> None:
    existing.status = summary.status
    existing.processing_job_arn = summary.processing_job_arn
    existing.failure_reason = summary.failure_reason
    existing.last_modified_time = summary.last_modified_time
    if existing.report_read_at is None and _nothing_to_read(summary.status):
        existing.report_read_at = now
    existing.save()


def _reports_read(*, target: Target, region: str, report: MonitorSyncReport) -> None:
    """Read the reports of finished executions not read yet, newest first, within budget.

    Throttling or an unreachable AWS stops the run (raised: the sync is marked failing); a
    problem with one report (missing file, malformed JSON) is noted on that execution and
    retried next run.
    """
    unread = MonitoringExecution.objects.filter(
        schedule__account_id=target.account_id,
        schedule__region=region,
        report_read_at__isnull=True,
        status__in=MonitoringExecution.FINISHED_OK,
    ).select_related("schedule")
    budget = settings.OPSPORTAL_MONITOR_REPORTS_PER_SYNC
    report.reports_left = max(0, unread.count() - budget)
    for execution in unread.order_by("-scheduled_time")[:budget]:
        try:
            count = _report_read(target=target, region=region, execution=execution)
        except (Throttled, Unavailable):
            report.reports_left += 1
            raise
        except (AwsError, ValueError) as exc:
            execution.report_error = str(exc)[:2000]
            execution.save(update_fields=["report_error"])
            report.reports_left += 1
            continue
        report.reports_read += 1
        if count:
            report.violations[
                f"{execution.schedule.name}@{execution.scheduled_time:%Y-%m-%dT%H:%M}"
            ] = count


def _report_read(*, target: Target, region: str, execution: MonitoringExecution) -> int:
    """Store one execution's outcome from its report; the number of violations."""
    if not execution.processing_job_arn:
        raise ValueError("The execution names no processing job, so its report cannot be found.")
    job = aws_monitor.describe_processing_job(
        target=target, region=region, name=execution.processing_job_name
    )
    if not job.output_uris:
        raise ValueError(f"Processing job {job.name} lists no output location.")
    report_uri = job.output_uris[0].rstrip("/")
    violations: list[quality.Violation] = []
    if execution.status == "CompletedWithViolations":
        violations = quality.parse_violations(
            _violations_document(target=target, region=region, report_uri=report_uri)
        )
    with transaction.atomic():
        execution.violations.all().delete()
        MonitoringViolation.objects.bulk_create(
            MonitoringViolation(
                execution=execution,
                feature_name=v.feature_name[:255],
                check_type=v.constraint_check_type[:64],
                description=v.description,
            )
            for v in violations
        )
        execution.report_uri = report_uri
        execution.violation_count = len(violations)
        execution.report_read_at = timezone.now()
        execution.report_error = ""
        execution.save()
    return len(violations)


def _violations_document(*, target: Target, region: str, report_uri: str) -> object:
    location = aws_s3.parse_s3_uri(report_uri)
    missing: NotFound | None = None
    for file_name in VIOLATION_FILES:
        key = f"{location.key}/{file_name}" if location.key else file_name
        try:
            body = aws_s3.read_object(
                target=target,
                region=region,
                bucket=location.bucket,
                key=key,
                max_bytes=REPORT_MAX_BYTES,
            )
        except NotFound as exc:
            missing = exc
            continue
        try:
            return json.loads(body)
        except ValueError:
            raise ValueError(f"s3://{location.bucket}/{key} is not JSON.") from None
    raise ValueError(
        f"No {' or '.join(VIOLATION_FILES)} under {report_uri}"
        + (f" ({missing})" if missing else "")
    )
