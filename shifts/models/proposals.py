"""Change requests (historically "traffic shifts"), their approvals and their timeline.

A proposal is one change to one endpoint — traffic weights, capacity, auto scaling, a model
version deploy or a rollback to an earlier config — bound to the live state it was made
against (the weights for a traffic shift, `before_state` for the other changes). The
state machine (TRANSITIONS) is the single source of truth for what may follow what;
services change `state` only through it.

    pending ──► approved ──► applying ──► applied
       │           │             └──────► failed
       │           ├──► superseded / expired / failed
       └──► rejected / cancelled / expired / superseded

An emergency shift starts at `approved` (its author's say-so is the approval) and is
acknowledged by an Approver after the fact.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ShiftState(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"
    APPLYING = "applying"
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    FAILED = "failed"


class ShiftKind(models.TextChoices):
    NORMAL = "normal"
    EMERGENCY = "emergency"


class ChangeType(models.TextChoices):
    """What a change request changes; `shifts/changes/` holds one module per type."""

    TRAFFIC = "traffic", "Traffic weights"
    CAPACITY = "capacity", "Capacity"
    AUTOSCALING = "autoscaling", "Auto scaling"
    DEPLOY = "deploy", "Model version deploy"
    ROLLBACK = "rollback", "Roll back to a previous config"
    PLAN = "plan", "Staged traffic shift"


TRANSITIONS: dict[str, frozenset[str]] = {
    ShiftState.PENDING: frozenset(
        {
            ShiftState.APPROVED,
            ShiftState.REJECTED,
            ShiftState.CANCELLED,
            ShiftState.EXPIRED,
            ShiftState.SUPERSEDED,
        }
    ),
    # From approved: the apply sends the update (applying), or refuses because the live
    # weights moved (superseded), the approvals outlived their validity (expired), or the
    # endpoint never became InService before the deadline (failed).
    ShiftState.APPROVED: frozenset(
        {ShiftState.APPLYING, ShiftState.SUPERSEDED, ShiftState.EXPIRED, ShiftState.FAILED}
    ),
    ShiftState.APPLYING: frozenset({ShiftState.APPLIED, ShiftState.FAILED}),
    ShiftState.APPLIED: frozenset(),
    ShiftState.REJECTED: frozenset(),
    ShiftState.CANCELLED: frozenset(),
    ShiftState.EXPIRED: frozenset(),
    ShiftState.SUPERSEDED: frozenset(),
    ShiftState.FAILED: frozenset(),
}
# At most one of these per endpoint (a partial unique constraint enforces it).
OPEN_STATES = (ShiftState.PENDING, ShiftState.APPROVED, ShiftState.APPLYING)
TERMINAL_STATES = tuple(s for s, following in TRANSITIONS.items() if not following)


def can_transition(source: str, destination: str) -> bool:
    return destination in TRANSITIONS.get(source, frozenset())


class ShiftProposal(models.Model):
    """A desired traffic split for one endpoint, from proposal to outcome."""

    endpoint = models.ForeignKey(
        "endpoints.Endpoint", on_delete=models.PROTECT, related_name="shifts"
    )
    kind = models.CharField(max_length=10, choices=ShiftKind.choices, default=ShiftKind.NORMAL)
    change = models.CharField(max_length=16, choices=ChangeType.choices, default=ChangeType.TRAFFIC)
    state = models.CharField(max_length=12, choices=ShiftState.choices, default=ShiftState.PENDING)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shift_proposals"
    )
    reason = models.TextField()
    before_weights = models.JSONField(
        help_text="Live weight per production variant when proposed; the approval binds to it."
    )
    desired_weights = models.JSONField(help_text="Desired weight per production variant.")
    before_state = models.JSONField(
        default=dict,
        blank=True,
        help_text="What else the approval binds to (counts, scaling, config), per change type.",
    )
    spec = models.JSONField(
        default=dict, blank=True, help_text="The change itself, for types other than traffic."
    )
    observed_state = models.JSONField(
        null=True, blank=True, help_text="What the poll read when it settled the outcome."
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="Pending past this without quorum: expired.")
    updated_at = models.DateTimeField(help_text="Last transition (the sweeper's clock).")
    approved_at = models.DateTimeField(null=True, blank=True)
    update_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set under the row lock before UpdateEndpointWeightsAndCapacities is sent: "
        "the marker that makes the apply happen at most once.",
    )
    aws_request_id = models.CharField(max_length=64, blank=True)
    apply_attempts = models.PositiveIntegerField(default=0)
    poll_attempts = models.PositiveIntegerField(default=0)
    observed_weights = models.JSONField(
        null=True, blank=True, help_text="CurrentWeight per variant when the outcome was read."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text="The proposal this one edits (which became superseded).",
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledged_shifts",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"],
                condition=Q(state__in=["pending", "approved", "applying"]),
                name="shift_one_open_per_endpoint",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in ShiftState]), name="shift_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "updated_at"], name="shift_state_updated_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="shift_endpoint_created_idx"),
        ]

    def __str__(self) -> str:
        return f"shift #{self.pk} on {self.endpoint.name} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_emergency(self) -> bool:
        return self.kind == ShiftKind.EMERGENCY

    @property
    def is_traffic(self) -> bool:
        return self.change == ChangeType.TRAFFIC

    @property
    def is_plan(self) -> bool:
        return self.change == ChangeType.PLAN

    @property
    def needs_acknowledgement(self) -> bool:
        return self.is_emergency and self.acknowledged_at is None


class ShiftApproval(models.Model):
    """One Approver's yes to one proposal. It counts for OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS;
    the unique constraint makes a second approval by the same person impossible."""

    proposal = models.ForeignKey(ShiftProposal, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shift_approvals"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "approver"], name="shift_approval_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"approval of #{self.proposal_id} by {self.approver_id}"


class ShiftEvent(models.Model):
    """The proposal's timeline: each transition (and each approval) with who and when.
    The audit log holds the same facts hash-chained; this table is what pages read."""

    proposal = models.ForeignKey(ShiftProposal, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    username = models.CharField(max_length=150, help_text="'system' for tasks.")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    comment = models.TextField(blank=True)
    detail = models.JSONField(
        default=dict,
        blank=True,
        help_text="A staged shift's step, verdict and gate values at this decision.",
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.proposal_id} {self.action} {self.from_state}→{self.to_state}"
