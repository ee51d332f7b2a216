"""Who owns an endpoint's incident right now, and what they said when they took it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IncidentOwnership(models.Model):
    """An on-call engineer's claim on an endpoint's incident, visible to everyone.

    Taking ownership while someone else holds it hands over (the previous claim is
    released); releasing keeps the row, so the board and the summary can say who handled it.
    """

    endpoint = models.ForeignKey(
        "endpoints.Endpoint", on_delete=models.PROTECT, related_name="ownerships"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    note = models.TextField()
    taken_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"],
                condition=models.Q(released_at__isnull=True),
                name="one_open_ownership_per_endpoint",
            )
        ]
        indexes = [models.Index(fields=["endpoint", "-taken_at"], name="ownership_endpoint_idx")]

    def __str__(self) -> str:
        return f"{self.endpoint} owned by {self.owner}"


class IncidentState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"


# What may follow what. Mitigated can go back to open when the symptoms return.
INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentState.OPEN: frozenset(
        {IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED, IncidentState.RESOLVED}
    ),
    IncidentState.ACKNOWLEDGED: frozenset({IncidentState.MITIGATED, IncidentState.RESOLVED}),
    IncidentState.MITIGATED: frozenset({IncidentState.OPEN, IncidentState.RESOLVED}),
    IncidentState.RESOLVED: frozenset(),
}
UNRESOLVED = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED)


class Incident(models.Model):
    """One incident of one endpoint, from its first symptom to a person's "resolved".

    Opened by the sync (`triage/incidents.py`) when the board first shows the endpoint, and
    kept: when the alarm clears after a mitigation the incident stays, with its cause, until
    someone resolves it, and afterwards in the history. Its likely cause is fixed when
    first found; it changes only with a note saying why.
    """

    endpoint = models.ForeignKey(
        "endpoints.Endpoint", on_delete=models.PROTECT, related_name="incidents"
    )
    state = models.CharField(
        max_length=12, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    opened_at = models.DateTimeField(help_text="The first symptom.")
    first_signal = models.TextField()
    signals = models.JSONField(
        default=list, help_text="Every signal seen: kind, text, since, last seen."
    )
    last_signal_at = models.DateTimeField()
    signals_cleared_at = models.DateTimeField(null=True, blank=True)
    cause_text = models.TextField(blank=True)
    cause_event = models.ForeignKey(
        "apihistory.TrailEvent", on_delete=models.SET_NULL, null=True, blank=True
    )
    cause_parts = models.JSONField(
        default=dict, blank=True, help_text="What the change was, minutes before, the signal."
    )
    cause_found_at = models.DateTimeField(null=True, blank=True)
    cause_note = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    paged_unowned_at = models.DateTimeField(
        null=True, blank=True, help_text="When on-call was paged that nobody had taken it."
    )
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint"],
                condition=~models.Q(state="resolved"),
                name="one_unresolved_incident_per_endpoint",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in IncidentState]),
                name="incident_state_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "-opened_at"], name="incident_state_idx")]

    def __str__(self) -> str:
        return f"incident #{self.pk} on {self.endpoint} ({self.state})"

    @property
    def is_resolved(self) -> bool:
        return self.state == IncidentState.RESOLVED


class IncidentEvent(models.Model):
    """The incident's history: opened, cause found, each state change with who and why,
    symptoms cleared or back."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    username = models.CharField(max_length=150, help_text="'portal' for the sync.")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"incident #{self.incident_id} {self.action}"
