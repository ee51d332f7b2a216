"""Staged traffic shifts: a plan's run (where it is, what it last saw) and saved templates.

The plan itself — steps, gates, what a failed gate does — is the proposal's `spec`
(`shifts/plan_spec.py`), approved once under the two-person rule and bound to the weights
seen at proposal like any traffic shift. The run is what the runner (`services/plan_runner.py`)
keeps between ticks; every decision it makes is a row of the proposal's timeline
(`ShiftEvent`, with the gate values in `detail`), which is the plan's report.

    waiting ──► running ◄──► paused
                   │            │
                   ├──► rolling_back ──► rolled_back
                   └──► promoted
    (waiting, running or paused) ──► stopped   (superseded, expired, failed)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class PlanStatus(models.TextChoices):
    WAITING = "waiting", "Waiting to start"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    ROLLING_BACK = "rolling_back", "Rolling back"
    PROMOTED = "promoted", "Promoted"
    ROLLED_BACK = "rolled_back", "Rolled back"
    STOPPED = "stopped", "Stopped"


# The runner's beat tick looks at these; the others are finished.
ACTIVE_PLAN_STATUSES = (PlanStatus.WAITING, PlanStatus.RUNNING, PlanStatus.ROLLING_BACK)
FINISHED_PLAN_STATUSES = (PlanStatus.PROMOTED, PlanStatus.ROLLED_BACK, PlanStatus.STOPPED)


class OnFailure(models.TextChoices):
    ROLLBACK = "rollback", "Roll back to the weights before the plan"
    PAUSE = "pause", "Pause for a person to decide"


class PauseCause(models.TextChoices):
    NONE = "", "—"
    PERSON = "person", "Paused by a person"
    MANUAL_STEP = "manual_step", "Waiting for a person to promote"
    GATE = "gate", "A gate failed"
    TRAFFIC = "traffic", "Too little traffic to judge"
    MOVED = "moved", "Weights moved outside the portal"
    INCIDENT = "incident", "The endpoint has an open incident"
    NOT_TAKEN = "not_taken", "A step's update did not take"
    ENDPOINT = "endpoint", "The endpoint cannot take the step"


class PlanRun(models.Model):
    """Where one approved plan is. Changed only under the proposal's row lock."""

    proposal = models.OneToOneField(
        "shifts.ShiftProposal", on_delete=models.CASCADE, related_name="plan_run"
    )
    status = models.CharField(max_length=12, choices=PlanStatus.choices)
    step = models.PositiveSmallIntegerField(default=0, help_text="Index of the current step.")
    step_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set under the row lock before the step's UpdateEndpointWeightsAndCapacities "
        "is sent: the marker that sends each step at most once.",
    )
    step_weights = models.JSONField(
        default=dict, blank=True, help_text="The weights the current step sent."
    )
    step_from_weights = models.JSONField(
        default=dict, blank=True, help_text="The live weights when the current step was sent."
    )
    step_resent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set under the row lock before the step is sent a second time, when the "
        "first call never reached AWS (a worker killed after the marker): a step is resent "
        "at most once, so a second loss pauses the plan.",
    )
    step_request_id = models.CharField(max_length=64, blank=True)
    bake_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the step's weights were seen live: its window."
    )
    bake_until = models.DateTimeField(null=True, blank=True)
    extensions = models.PositiveSmallIntegerField(default=0)
    pause_cause = models.CharField(
        max_length=12, choices=PauseCause.choices, default=PauseCause.NONE, blank=True
    )
    pause_reason = models.TextField(blank=True)
    rollback_reason = models.TextField(blank=True)
    rollback_sent_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_verdict = models.JSONField(
        default=dict, blank=True, help_text="The newest evaluation: verdict, gates, windows."
    )
    baseline_reference = models.JSONField(
        default=dict,
        blank=True,
        help_text="The baseline's window from the last step it served traffic in, for steps "
        "that leave it none.",
    )
    last_error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="Why it was promoted or rolled back.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PlanStatus]), name="plan_status_valid"
            )
        ]
        indexes = [models.Index(fields=["status"], name="plan_status_idx")]

    def __str__(self) -> str:
        return f"plan of #{self.proposal_id} ({self.status}, step {self.step + 1})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_PLAN_STATUSES


class PlanTemplate(models.Model):
    """A saved plan to choose on the propose form: for every endpoint, or for one."""

    name = models.CharField(max_length=80)
    endpoint = models.ForeignKey(
        "endpoints.Endpoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="plan_templates",
        help_text="Empty: offered for every endpoint.",
    )
    spec = models.JSONField(help_text="Steps, gates and on-failure, as a plan's spec holds them.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "name"], name="plan_template_name_per_endpoint"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(endpoint__isnull=True),
                name="plan_template_global_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name
