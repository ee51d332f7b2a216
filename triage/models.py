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
