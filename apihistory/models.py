"""CloudTrail's SageMaker management events, kept beyond CloudTrail's 90 days.

One row per event (keyed by CloudTrail's eventID, so re-reading an overlap window or
importing the same trail file twice stores nothing twice). The columns pages filter on
are copied out of the record at ingest; the record itself is kept whole for the detail
view.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from core.redaction import redact


class IdentityType(models.TextChoices):
    IAM_USER = "IAMUser"
    ASSUMED_ROLE = "AssumedRole"
    ROOT = "Root"
    FEDERATED_USER = "FederatedUser"
    AWS_SERVICE = "AWSService"
    AWS_ACCOUNT = "AWSAccount"
    IDENTITY_CENTER_USER = "IdentityCenterUser"
    UNKNOWN = "Unknown"


class TrailEvent(models.Model):
    """One CloudTrail management event of a SageMaker API call."""

    event_id = models.CharField(max_length=64, unique=True)
    target = models.CharField(max_length=32, help_text="OPSPORTAL_TARGETS name")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    event_time = models.DateTimeField()
    event_source = models.CharField(max_length=64)
    event_name = models.CharField(max_length=128)
    read_only = models.BooleanField()
    identity_type = models.CharField(max_length=32, choices=IdentityType.choices)
    principal_arn = models.CharField(max_length=512, blank=True)
    principal_name = models.CharField(
        max_length=256,
        blank=True,
        help_text="IAM user name, role name (for an assumed role), 'root' or the service.",
    )
    session_name = models.CharField(max_length=128, blank=True)
    access_key_id = models.CharField(max_length=128, blank=True)
    source_ip = models.CharField(max_length=128, blank=True)
    user_agent = models.TextField(blank=True)
    endpoint_name = models.CharField(max_length=63, blank=True)
    endpoint_config_name = models.CharField(max_length=63, blank=True)
    resource_name = models.CharField(
        max_length=256,
        blank=True,
        help_text="Another resource the call names (model, job, schedule), if any.",
    )
    error_code = models.CharField(max_length=128, blank=True)
    error_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    record = models.JSONField(help_text="The CloudTrail record as AWS delivered it.")
    search_text = models.TextField(
        help_text="Lower-cased words of the record the free-text search matches."
    )
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-event_time", "-id"]
        indexes = [
            models.Index(fields=["-event_time", "-id"], name="trail_time"),
            models.Index(fields=["endpoint_name", "-event_time", "-id"], name="trail_endpoint"),
            models.Index(
                fields=["endpoint_config_name", "-event_time", "-id"], name="trail_config"
            ),
            models.Index(fields=["principal_name", "-event_time", "-id"], name="trail_principal"),
            models.Index(
                fields=["principal_arn", "-event_time", "-id"], name="trail_principal_arn"
            ),
            models.Index(fields=["event_name", "-event_time", "-id"], name="trail_event_name"),
            models.Index(fields=["source_ip", "-event_time", "-id"], name="trail_source_ip"),
            models.Index(fields=["request_id"], name="trail_request_id"),
            models.Index(
                fields=["-event_time", "-id"],
                condition=~models.Q(error_code=""),
                name="trail_errors",
            ),
            models.Index(
                fields=["-event_time", "-id"],
                condition=models.Q(read_only=False),
                name="trail_writes",
            ),
        ]

    def __str__(self) -> str:
        who = self.principal_name or "?"
        return f"{self.event_name} by {who} at {self.event_time:%Y-%m-%d %H:%M:%S}"

    @property
    def failed(self) -> bool:
        return bool(self.error_code)

    @property
    def shown_record(self) -> dict[str, Any]:
        """The record as pages show it: values under secret-looking names redacted."""
        shown: dict[str, Any] = redact(self.record or {})
        return shown

    @property
    def request_parameters(self) -> dict[str, Any]:
        """The call's requestParameters as pages show them (redacted), {} when there are none."""
        params = self.shown_record.get("requestParameters")
        return params if isinstance(params, dict) else {}


class IngestCursor(models.Model):
    """Where ingestion of one account-region stands.

    `newest_event_time` is the newest eventTime stored; the next run reads from it minus
    the overlap window, because CloudTrail delivers events minutes after they happen.
    A run that ran out of time after reading the newest part of its window leaves the older,
    unread part as the backlog (`backlog_start` to `backlog_end`), read by the next runs.
    Whether ingestion works is recorded with every other sync, in core's SyncStatus.
    """

    target = models.CharField(max_length=32)
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    newest_event_time = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    events_stored = models.BigIntegerField(default=0)
    backlog_start = models.DateTimeField(null=True, blank=True)
    backlog_end = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "region"], name="trail_cursor_unique_per_region"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.region}"
