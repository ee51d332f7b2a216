"""Triage writes: taking and releasing an endpoint's incident. Each is audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record, enforce
from core.errors import Conflict, Invalid
from endpoints.selectors import endpoint_arn, endpoint_for_update
from triage import policy
from triage.models import IncidentOwnership

MAX_NOTE = 2000


def incident_take(
    *, endpoint_id: int, actor: Any, note: str, request: HttpRequest | None = None
) -> IncidentOwnership:
    """Claim the endpoint's incident with a note; hands over from a current owner."""
    enforce(
        policy.refusal_for("take", actor),
        actor=actor,
        action="incident.take",
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    note = note.strip()
    if not note:
        raise Invalid("Say in a few words what you are doing, e.g. 'shifting traffic off B'.")
    if len(note) > MAX_NOTE:
        raise Invalid(f"Keep the note under {MAX_NOTE} characters.")
    now = timezone.now()
    with transaction.atomic():
        endpoint = endpoint_for_update(pk=endpoint_id)
        previous = (
            IncidentOwnership.objects.select_for_update()
            .filter(endpoint=endpoint, released_at__isnull=True)
            .select_related("owner")
            .first()
        )
        if previous is not None:
            previous.released_at, previous.released_by = now, actor
            previous.save(update_fields=["released_at", "released_by"])
        ownership = IncidentOwnership.objects.create(
            endpoint=endpoint, owner=actor, note=note, taken_at=now
        )
        audit_record(
            actor=actor,
            action="incident.take",
            target=endpoint.arn,
            before={"owner": previous.owner.get_username()} if previous else None,
            after={"owner": actor.get_username(), "note": note},
            request=request,
        )
    return ownership


def incident_release(
    *, endpoint_id: int, actor: Any, request: HttpRequest | None = None
) -> IncidentOwnership:
    """Give the endpoint's incident up (resolved, or handed to nobody in particular)."""
    enforce(
        policy.refusal_for("release", actor),
        actor=actor,
        action="incident.release",
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    now = timezone.now()
    with transaction.atomic():
        ownership = (
            IncidentOwnership.objects.select_for_update()
            .filter(endpoint_id=endpoint_id, released_at__isnull=True)
            .select_related("owner", "endpoint")
            .first()
        )
        if ownership is None:
            raise Conflict("Nobody owns this endpoint's incident.")
        ownership.released_at, ownership.released_by = now, actor
        ownership.save(update_fields=["released_at", "released_by"])
        audit_record(
            actor=actor,
            action="incident.release",
            target=ownership.endpoint.arn,
            before={"owner": ownership.owner.get_username(), "note": ownership.note},
            request=request,
        )
    return ownership
