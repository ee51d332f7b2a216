"""Reads for staged shifts: which plans the runner ticks, whether an endpoint is in an
incident, the templates a propose form offers, and a plan's page."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q

from monitoring.selectors import endpoint_alarms
from shifts.models import (
    ACTIVE_PLAN_STATUSES,
    ChangeType,
    PauseCause,
    PlanRun,
    PlanStatus,
    PlanTemplate,
    ShiftProposal,
    ShiftState,
)
from shifts.registry import open_incident_words

if TYPE_CHECKING:
    from collections.abc import Iterable

    from endpoints.models import Endpoint


def plans_to_tick() -> list[int]:
    """Approved plans not started yet and runs that are moving (paused ones wait for a
    person)."""
    approved = ShiftProposal.objects.filter(change=ChangeType.PLAN, state=ShiftState.APPROVED)
    running = PlanRun.objects.filter(
        status__in=ACTIVE_PLAN_STATUSES, proposal__state__in=[ShiftState.APPLYING]
    )
    ids = set(approved.values_list("pk", flat=True))
    ids.update(running.values_list("proposal_id", flat=True))
    return sorted(ids)


def plan_incident(*, endpoint: Endpoint, gated: Iterable[str]) -> str:
    """The endpoint's open incident in words ("Latency-High in ALARM"), or "" when there is
    none: an alarm on it in ALARM that is not one of the plan's own gates (those roll the
    plan back or pause it through the gate instead), or an incident record a registered
    check reports (triage's, kept open until a person resolves it, even after its alarm
    cleared). Auto scaling's alarms are not incidents: they go into ALARM whenever it
    scales."""
    skip = set(gated)
    firing = [
        alarm.name
        for alarm in endpoint_alarms(endpoint=endpoint)
        if alarm.state == "ALARM" and not alarm.drives_auto_scaling and alarm.name not in skip
    ]
    words = [f"{', '.join(firing)} in ALARM"] if firing else []
    words.extend(open_incident_words(endpoint_id=endpoint.pk))
    return "; ".join(words)


def gate_alarm_names(*, endpoint: Endpoint) -> list[str]:
    """The alarms a plan gates on by default: every alarm on the endpoint but auto
    scaling's own."""
    return [a.name for a in endpoint_alarms(endpoint=endpoint) if not a.drives_auto_scaling]


def plan_templates(*, endpoint: Endpoint) -> list[PlanTemplate]:
    """The endpoint's own templates, then the global ones."""
    templates = PlanTemplate.objects.filter(Q(endpoint=endpoint) | Q(endpoint__isnull=True))
    return sorted(templates, key=lambda t: (t.endpoint_id is None, t.name.lower()))


def plan_template(*, endpoint: Endpoint, template_id: int) -> PlanTemplate | None:
    return (
        PlanTemplate.objects.filter(pk=template_id)
        .filter(Q(endpoint=endpoint) | Q(endpoint__isnull=True))
        .first()
    )


# Pauses that need a person because something looked wrong (not a person's own pause, a
# manual step or an incident that is on the board already).
TROUBLED_PAUSES = (
    PauseCause.GATE,
    PauseCause.TRAFFIC,
    PauseCause.MOVED,
    PauseCause.NOT_TAKEN,
    PauseCause.ENDPOINT,
)


def plans_for_board(*, since: datetime) -> list[PlanRun]:
    """Plans an on-call engineer should see: rolled back since `since`, or paused because a
    gate failed, traffic was too thin, weights moved or a step did not take (one query)."""
    return list(
        PlanRun.objects.filter(
            Q(status=PlanStatus.ROLLED_BACK, finished_at__gte=since)
            | Q(status=PlanStatus.PAUSED, pause_cause__in=TROUBLED_PAUSES)
        ).select_related("proposal", "proposal__endpoint")
    )


def plan_run(*, proposal: ShiftProposal) -> PlanRun | None:
    return PlanRun.objects.filter(proposal=proposal).first()
