"""Reads for incident records: the history list with its filters, one incident with its
history, and the actions taken during it (its state changes, ownership and change
requests on its endpoint)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse

from shifts.changes import change_summary
from shifts.selectors import endpoint_history
from triage.models import UNRESOLVED, Incident, IncidentOwnership
from triage.postmortem import Action


def incident_history(
    *, state: str = "", endpoint: str = "", since: datetime | None = None
) -> QuerySet[Incident]:
    incidents = Incident.objects.select_related("endpoint").order_by("-opened_at", "-id")
    if state:
        incidents = incidents.filter(state=state)
    if endpoint:
        incidents = incidents.filter(endpoint__name__icontains=endpoint)
    if since is not None:
        incidents = incidents.filter(opened_at__gte=since)
    return incidents


def incident_detail(*, pk: int) -> Incident | None:
    return (
        Incident.objects.select_related("endpoint", "cause_event")
        .prefetch_related("events")
        .filter(pk=pk)
        .first()
    )


def incident_actions(*, incident: Incident, now: datetime) -> list[Action]:
    """What people did while it lasted: ownership, change requests on the endpoint, and
    the incident's own state changes, oldest first."""
    start, end = incident.opened_at, incident.resolved_at or now
    actions = [
        Action(e.at, e.username, f"{e.action}" + (f": {e.note}" if e.note else ""))
        for e in incident.events.all()
        if e.username != "portal"
    ]
    for claim in IncidentOwnership.objects.filter(
        endpoint=incident.endpoint, taken_at__gte=start, taken_at__lte=end
    ).select_related("owner"):
        actions.append(Action(claim.taken_at, claim.owner.get_username(), f"took it: {claim.note}"))
    for proposal in endpoint_history(endpoint_id=incident.endpoint_id, limit=100):
        if start <= proposal.created_at <= end:
            kind = "emergency change" if proposal.is_emergency else "change request"
            actions.append(
                Action(
                    proposal.created_at,
                    proposal.proposer.get_username(),
                    f"{kind} #{proposal.pk} ({proposal.state}): "
                    f"{change_summary(proposal=proposal)}",
                    reverse("shifts:detail", args=[proposal.pk]),
                )
            )
    return sorted(actions, key=lambda a: a.at)


def open_incident_count() -> int:
    """Unresolved incidents, for the navigation's badge (one query)."""
    return Incident.objects.filter(state__in=UNRESOLVED).count()


# Signals a staged shift raises about itself (its rollback, a troubled pause): the plan's
# own page and controls deal with those, and an incident made of them alone must not stop
# the resume an Approver chose after reading it.
PLAN_OWN_KINDS = frozenset({"plan"})


def open_incident_words(endpoint_id: int) -> str | None:
    """The endpoint's unresolved incident in a few words, for holding a staged shift back
    (registered with shifts.registry), or None: open, acknowledged or mitigated holds, even
    after its alarm has cleared, until a person resolves it."""
    incident = (
        Incident.objects.filter(endpoint_id=endpoint_id, state__in=UNRESOLVED)
        .order_by("-opened_at", "-id")
        .first()
    )
    if incident is None:
        return None
    kinds = {str(row.get("kind", "")) for row in incident.signals if isinstance(row, dict)}
    if kinds and kinds <= PLAN_OWN_KINDS:
        return None
    first = (
        incident.first_signal
        if len(incident.first_signal) <= 120
        else (f"{incident.first_signal[:119]}…")
    )
    cleared = ", symptoms cleared" if incident.signals_cleared_at is not None else ""
    return f"incident #{incident.pk}, {incident.state}{cleared}: {first}"
