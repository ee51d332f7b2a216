"""Batch transform jobs: launched from the portal or synced from ListTransformJobs.

A portal job gets its row (PENDING) before AWS knows it, under the TransformJobName its
launcher chose (checked unused in AWS first) or one derived from the row's id, so a
redelivered create task asks for the same name and AWS's "already exists" answer proves
the job was created.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, fields
from typing import Any

from django.conf import settings
from django.db import models

from core.aws.types import TransformSpec


class TransformStatus(models.TextChoices):
    PENDING = "Pending"  # saved by the portal, not yet created in AWS
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


TERMINAL_STATUSES = (TransformStatus.COMPLETED, TransformStatus.FAILED, TransformStatus.STOPPED)


class TransformSource(models.TextChoices):
    PORTAL = "portal"
    SYNCED = "synced"


# SageMaker's TransformJobName: 1-63 letters, digits and hyphens, starting and ending with
# a letter or digit.
JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
JOB_NAME_RULE = "1 to 63 letters, digits and hyphens, beginning and ending with a letter or digit"


def job_name_for(job_id: uuid.UUID) -> str:
    """The generated TransformJobName of a portal job nobody named (≤63 characters)."""
    return f"opsportal-{job_id.hex[:20]}"


def job_name_problem(name: str) -> str | None:
    """What is wrong with a TransformJobName, or None when SageMaker accepts it."""
    if len(name) <= 63 and JOB_NAME.fullmatch(name):
        return None
    return f"{name[:70]!r} is not a TransformJobName: use {JOB_NAME_RULE}."


class TransformJob(models.Model):
    """One SageMaker batch transform job in one account and region."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    target = models.CharField(max_length=32, help_text="OPSPORTAL_TARGETS name")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    name = models.CharField(max_length=63)
    arn = models.CharField(max_length=256, blank=True)
    source = models.CharField(
        max_length=8, choices=TransformSource.choices, default=TransformSource.PORTAL
    )
    model_name = models.CharField(max_length=63)
    input_uri = models.CharField(max_length=1024)
    input_data_type = models.CharField(max_length=16, default="S3Prefix")
    content_type = models.CharField(max_length=64, blank=True)
    split_type = models.CharField(max_length=16, default="None")
    compression_type = models.CharField(max_length=8, default="None")
    batch_strategy = models.CharField(max_length=16, blank=True)
    max_payload_mb = models.PositiveIntegerField(default=6)
    max_concurrent_transforms = models.PositiveIntegerField(default=1)
    instance_type = models.CharField(max_length=32)
    instance_count = models.PositiveIntegerField(default=1)
    output_path = models.CharField(max_length=1024)
    accept = models.CharField(max_length=64, blank=True)
    assemble_with = models.CharField(max_length=8, default="None")
    input_filter = models.CharField(max_length=63, blank=True)
    output_filter = models.CharField(max_length=63, blank=True)
    join_source = models.CharField(max_length=8, blank=True)
    kms_key_id = models.CharField(max_length=2048, blank=True)
    environment = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=TransformStatus.choices)
    failure_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    launched_at = models.DateTimeField(null=True, blank=True, help_text="Saved by the portal.")
    creation_time = models.DateTimeField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    status_history = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "region", "name"], name="transform_job_unique_per_region"
            )
        ]
        indexes = [models.Index(fields=["status", "launched_at"])]
        ordering = ["-launched_at", "-creation_time"]

    def __str__(self) -> str:
        return f"{self.name} ({self.region})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def spec(self) -> TransformSpec:
        """The job's parameters in the shape the form and the gateway use."""
        values = {f.name: getattr(self, f.name) for f in fields(TransformSpec)}
        values["environment"] = dict(values["environment"] or {})
        return TransformSpec(**values)

    @staticmethod
    def spec_columns(spec: TransformSpec) -> dict[str, Any]:
        """A spec as this table's column values (the columns carry the same names)."""
        values = asdict(spec)
        values["environment"] = dict(spec.environment)
        return values

    @property
    def duration_seconds(self) -> float | None:
        if self.start_time and self.end_time:
            return (self.end_time - self.start_time).total_seconds()
        return None
