"""Inventory: SageMaker endpoints and their variants as last synced from AWS.

Rows are keyed by (account, region, name) as AWS keys them. An endpoint that vanishes
from AWS is marked deleted, not dropped, so its history and audit references survive.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.aws.types import EndpointStatus

# Labels as Django derives them from the names ("Out Of Service"), as the tables were made.
ENDPOINT_STATUS_CHOICES = [(s.value, s.name.replace("_", " ").title()) for s in EndpointStatus]


def effective_weight(current: float | None, desired: float | None, initial: float | None) -> float:
    """The weight traffic is routed by now: current, else desired, else the config's."""
    for value in (current, desired, initial):
        if value is not None:
            return float(value)
    return 0.0


def variant_state_label(statuses: list[dict[str, object]], endpoint_status: str) -> str:
    """A variant's state in one word: its newest VariantStatus; Ready when the endpoint is
    InService with nothing pending; otherwise a dash (the endpoint's status says why)."""
    if statuses:
        return str(statuses[-1].get("status", ""))
    return "Ready" if endpoint_status == EndpointStatus.IN_SERVICE else "–"


class Endpoint(models.Model):
    """A SageMaker real-time endpoint in one account and region."""

    target = models.CharField(max_length=32, help_text="OPSPORTAL_TARGETS name")
    account_id = models.CharField(max_length=12)
    region = models.CharField(max_length=32)
    name = models.CharField(max_length=63)
    arn = models.CharField(max_length=256)
    status = models.CharField(max_length=32, choices=ENDPOINT_STATUS_CHOICES)
    status_changed_at = models.DateTimeField(
        help_text="When the portal first saw the current status (for 'Updating too long')."
    )
    failure_reason = models.TextField(blank=True)
    config_name = models.CharField(max_length=63, blank=True)
    creation_time = models.DateTimeField()
    last_modified_time = models.DateTimeField()
    data_capture = models.JSONField(null=True, blank=True)
    describe_raw = models.JSONField(default=dict, help_text="Last DescribeEndpoint response.")
    config_raw = models.JSONField(default=dict, help_text="Last DescribeEndpointConfig response.")
    autoscaling = models.JSONField(default=list, help_text="Scalable targets and policies.")
    tags = models.JSONField(default=dict, blank=True, help_text="The endpoint's tags (ListTags).")
    inference_components = models.JSONField(
        default=list,
        blank=True,
        help_text="The inference components an endpoint without model variants hosts.",
    )
    synced_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "region", "name"], name="endpoint_unique_per_region"
            )
        ]
        indexes = [
            models.Index(fields=["status"], name="endpoint_status_idx"),
            models.Index(fields=["name"], name="endpoint_name_idx"),
            models.Index(fields=["target", "region"], name="endpoint_target_region_idx"),
            models.Index(
                fields=["name"], name="endpoint_live_name_idx", condition=Q(deleted_at__isnull=True)
            ),
        ]
        ordering = ["name", "region", "account_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_id}/{self.region})"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def has_traffic_to_shift(self) -> bool:
        """Two or more production variants: only then can weights move traffic (a shadow
        variant takes copies, never a share). Uses prefetched variants when there are."""
        return sum(1 for v in self.variants.all() if not v.is_shadow) >= 2


class Variant(models.Model):
    """A production (or shadow) variant, merged from DescribeEndpoint and its config."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=63)
    position = models.PositiveSmallIntegerField(default=0)
    is_shadow = models.BooleanField(default=False)
    model_name = models.CharField(max_length=63, blank=True)
    image = models.CharField(max_length=512, blank=True)
    instance_type = models.CharField(max_length=64, blank=True)
    initial_weight = models.FloatField(default=1.0, help_text="From the endpoint config.")
    current_weight = models.FloatField(null=True, blank=True)
    desired_weight = models.FloatField(null=True, blank=True)
    current_instance_count = models.PositiveIntegerField(null=True, blank=True)
    desired_instance_count = models.PositiveIntegerField(null=True, blank=True)
    serverless = models.JSONField(null=True, blank=True)
    statuses = models.JSONField(default=list, help_text="Current VariantStatus entries.")
    status_history = models.JSONField(
        default=list, help_text="VariantStatus changes the portal has seen, newest last."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "name"], name="variant_unique_per_endpoint")
        ]
        ordering = ["endpoint_id", "is_shadow", "position"]

    def __str__(self) -> str:
        return f"{self.endpoint.name}/{self.name}"

    @property
    def weight(self) -> float:
        return effective_weight(self.current_weight, self.desired_weight, self.initial_weight)

    @property
    def instance_count(self) -> int | None:
        if self.current_instance_count is not None:
            return self.current_instance_count
        return self.desired_instance_count

    @property
    def status_label(self) -> str:
        return variant_state_label(self.statuses, self.endpoint.status)


class EndpointSnapshot(models.Model):
    """An endpoint's state as the inventory sync saw it, written only when it differs from
    the previous snapshot, so "what changed before this started" has an answer after the
    live rows have moved on.

    `variants` maps each variant name to its weights, instance counts, instance type,
    model, image, serverless config and shadow flag; `fingerprint` is the SHA-256 of the
    canonical JSON of status, config name and variants, compared to skip unchanged states.
    """

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="snapshots")
    observed_at = models.DateTimeField(help_text="When the sync saw this state (UTC).")
    last_modified_time = models.DateTimeField(
        null=True, blank=True, help_text="The endpoint's LastModifiedTime in AWS at the time."
    )
    status = models.CharField(max_length=32, choices=ENDPOINT_STATUS_CHOICES)
    config_name = models.CharField(max_length=63, blank=True)
    variants = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "observed_at"], name="snapshot_endpoint_time_idx"),
        ]
        ordering = ["endpoint_id", "observed_at", "id"]
        get_latest_by = ["observed_at", "id"]

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.status} at {self.observed_at.isoformat()}"
