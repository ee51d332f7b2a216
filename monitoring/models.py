"""Monitoring: CloudWatch alarms as last synced, per account and region.

Metric data is not stored: it is fetched per panel with one GetMetricData call and
cached (monitoring/metrics.py).
"""

from __future__ import annotations

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


class AlarmSyncStatus(models.Model):
    """The alarm sync's health per target and region, shown beside the alarm panel."""

    target = models.CharField(max_length=32)
    region = models.CharField(max_length=32)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "region"], name="alarmsync_unique")
        ]

    def __str__(self) -> str:
        return f"alarms {self.target}/{self.region}"
