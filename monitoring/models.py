"""Monitoring: CloudWatch alarms and Model Monitor results as last synced, per account and
region, and the data-quality checks run from the portal.

Metric data is not stored: it is fetched per panel with one GetMetricData call and
cached (monitoring/metrics.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Alarm(models.Model):
    """A CloudWatch metric alarm; `endpoint_name` is its EndpointName dimension, if any."""

    target = models.CharField(max_length=32)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    arn = models.CharField(max_length=512, blank=True)
    state = models.CharField(max_length=32)
    reason = models.TextField(blank=True)
    state_updated_at = models.DateTimeField(null=True, blank=True)
    namespace = models.CharField(max_length=255, blank=True)
    metric = models.CharField(max_length=255, blank=True)
    dimensions = models.JSONField(default=dict)
    endpoint_name = models.CharField(max_length=63, blank=True)
    variant_name = models.CharField(max_length=63, blank=True)
    statistic = models.CharField(max_length=32, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    comparison = models.CharField(max_length=64, blank=True)
    period = models.PositiveIntegerField(null=True, blank=True)
    evaluation_periods = models.PositiveIntegerField(null=True, blank=True)
    history = models.JSONField(default=list, help_text="Recent state changes, newest first.")
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "region", "name"], name="alarm_unique_per_region"
            )
        ]
        indexes = [
            models.Index(
                fields=["account_id", "region", "endpoint_name"], name="alarm_endpoint_idx"
            ),
            models.Index(fields=["state"], name="alarm_state_idx"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def drives_auto_scaling(self) -> bool:
        """One of the alarms Application Auto Scaling makes for a target-tracking policy.

        Its ALARM state means "scale out" (AlarmHigh) or "scale in" (AlarmLow, in ALARM
        whenever traffic is light), not that anything is wrong.
        """
        return self.name.startswith(TARGET_TRACKING_PREFIX)


# AWS names a target-tracking policy's alarms TargetTracking-<resource>-AlarmHigh|Low-<id>.
TARGET_TRACKING_PREFIX = "TargetTracking-"


class MonitoringSchedule(models.Model):
    """A SageMaker Model Monitor schedule as last synced; kept (with `deleted_at`) after it
    disappears from AWS so its executions' history stays readable."""

    target = models.CharField(max_length=32)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    endpoint_name = models.CharField(max_length=63)
    name = models.CharField(max_length=63)
    arn = models.CharField(max_length=256, blank=True)
    monitoring_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16)
    schedule_expression = models.CharField(max_length=256, blank=True)
    failure_reason = models.TextField(blank=True)
    statistics_uri = models.CharField(max_length=1024, blank=True)
    constraints_uri = models.CharField(max_length=1024, blank=True)
    output_uri = models.CharField(max_length=1024, blank=True)
    job_definition_name = models.CharField(max_length=63, blank=True)
    last_modified_time = models.DateTimeField(null=True, blank=True)
    last_execution_status = models.CharField(max_length=32, blank=True)
    last_execution_at = models.DateTimeField(null=True, blank=True)
    last_execution_failure = models.TextField(blank=True)
    synced_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "region", "name"], name="monitorschedule_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["account_id", "region", "endpoint_name"], name="monitorschedule_ep_idx"
            ),
            models.Index(fields=["status"], name="monitorschedule_status_idx"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def has_baseline(self) -> bool:
        return bool(self.statistics_uri and self.constraints_uri)

    @property
    def is_failing(self) -> bool:
        return self.status == "Failed" or self.last_execution_status == "Failed"


class MonitoringExecution(models.Model):
    """One run of a schedule. `report_read_at` is set once its outcome is stored (violations
    read from S3, or a failure reason); until then the sync retries the report."""

    FINISHED_OK = ("Completed", "CompletedWithViolations")
    TERMINAL = ("Completed", "CompletedWithViolations", "Failed", "Stopped")

    schedule = models.ForeignKey(
        MonitoringSchedule, on_delete=models.CASCADE, related_name="executions"
    )
    scheduled_time = models.DateTimeField()
    creation_time = models.DateTimeField(null=True, blank=True)
    last_modified_time = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=32)
    processing_job_arn = models.CharField(max_length=256, blank=True)
    report_uri = models.CharField(max_length=1024, blank=True)
    failure_reason = models.TextField(blank=True)
    violation_count = models.PositiveIntegerField(null=True, blank=True)
    report_read_at = models.DateTimeField(null=True, blank=True)
    report_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "scheduled_time"], name="monitorexecution_unique"
            )
        ]
        indexes = [
            models.Index(fields=["schedule", "-scheduled_time"], name="monitorexec_timeline_idx"),
            models.Index(
                fields=["scheduled_time"],
                name="monitorexec_violating_idx",
                condition=models.Q(violation_count__gt=0),
            ),
            models.Index(
                fields=["status"],
                name="monitorexec_unread_idx",
                condition=models.Q(report_read_at__isnull=True),
            ),
        ]
        ordering = ["-scheduled_time"]

    def __str__(self) -> str:
        return f"{self.schedule.name} @ {self.scheduled_time:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def processing_job_name(self) -> str:
        return self.processing_job_arn.rsplit("/", 1)[-1] if self.processing_job_arn else ""


class MonitoringViolation(models.Model):
    """One line of an execution's constraint_violations.json."""

    execution = models.ForeignKey(
        MonitoringExecution, on_delete=models.CASCADE, related_name="violations"
    )
    feature_name = models.CharField(max_length=255)
    check_type = models.CharField(max_length=64)
    description = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["feature_name"], name="monitorviolation_feature_idx")]
        ordering = ["feature_name", "check_type"]

    def __str__(self) -> str:
        return f"{self.feature_name}: {self.check_type}"


class CheckRunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class CheckRun(models.Model):
    """A data-quality check an operator ran over an endpoint's captured data (Check now),
    with what it found; the violations have constraint_violations.json's shape."""

    endpoint = models.ForeignKey(
        "endpoints.Endpoint", on_delete=models.CASCADE, related_name="check_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    capture_uri = models.CharField(max_length=1024)
    statistics_uri = models.CharField(max_length=1024)
    constraints_uri = models.CharField(max_length=1024)
    baseline_source = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=16, choices=CheckRunStatus.choices, default=CheckRunStatus.PENDING
    )
    error = models.TextField(blank=True)
    objects_read = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    malformed = models.PositiveIntegerField(default=0)
    violation_count = models.PositiveIntegerField(null=True, blank=True)
    violations = models.JSONField(default=list)
    drift = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="checkrun_endpoint_idx"),
            models.Index(fields=["status", "created_at"], name="checkrun_status_idx"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"check {self.pk} of {self.endpoint_id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in (CheckRunStatus.COMPLETED, CheckRunStatus.FAILED)

    @property
    def violation_rows(self) -> list[dict[str, str]]:
        """The violations in the shape the violation table shows (as for an execution)."""
        return [
            {
                "feature_name": str(v.get("feature_name", "")),
                "check_type": str(v.get("constraint_check_type", "")),
                "description": str(v.get("description", "")),
            }
            for v in self.violations
        ]
