"""The one table core owns: how each background sync of AWS data is doing, per kind and
target-region. Every app records its syncs here, so one banner can say which AWS data is
stale, wherever it is read."""

from __future__ import annotations

from django.db import models


class SyncKind(models.TextChoices):
    """The AWS data the portal mirrors into its database by beat tasks."""

    INVENTORY = "inventory", "Inventory"
    ALARMS = "alarms", "CloudWatch alarms"
    MODEL_MONITOR = "model_monitor", "Model Monitor"
    CLOUDTRAIL = "cloudtrail", "CloudTrail history"
    TRANSFORMS = "transforms", "Batch transform jobs"


class SyncStatus(models.Model):
    """The latest outcome of one kind of sync in one target-region.

    `failing_since` is the first failure of the current run of failures (None while the
    sync works); pages keep showing the last synced data, marked stale since then.
    """

    kind = models.CharField(max_length=16, choices=SyncKind.choices)
    target = models.CharField(max_length=32, help_text="OPSPORTAL_TARGETS name")
    region = models.CharField(max_length=32)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error_kind = models.CharField(
        max_length=32, blank=True, help_text="AwsError class name, e.g. Unavailable, Throttled."
    )
    last_error = models.TextField(blank=True)
    detail = models.JSONField(
        default=dict, blank=True, help_text="What the last good run saw, e.g. counts."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target", "region"], name="syncstatus_unique_per_region"
            )
        ]
        indexes = [
            models.Index(
                fields=["failing_since"],
                name="syncstatus_failing_idx",
                condition=models.Q(failing_since__isnull=False),
            )
        ]
        ordering = ["kind", "target", "region"]

    def __str__(self) -> str:
        return f"{self.kind} {self.target}/{self.region}"

    @property
    def unreachable(self) -> bool:
        """Failing because AWS could not be reached (versus refused or throttled)."""
        return self.failing_since is not None and self.last_error_kind == "Unavailable"

    @property
    def kind_label(self) -> str:
        return SyncKind(self.kind).label if self.kind in SyncKind.values else self.kind


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the beat's heartbeat task.

    Written by a task, not by the worker process itself: a worker whose process is alive
    but whose pool runs nothing (the failure that matters) stops writing it too, and so
    does a stopped beat or a broker that delivers nothing. One row per worker host.
    """

    hostname = models.CharField(max_length=255, unique=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
