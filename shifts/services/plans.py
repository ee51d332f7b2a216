"""Proposing a staged shift and saving plan templates.

A plan is proposed like any change request (Operator, a reason, one open request per
endpoint) and approved once, bound to the weights seen now. Its spec is checked in full
here, against the endpoint as it is: so the Approvers approve exactly what will run.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record, enforce
from core.errors import Invalid
from endpoints.selectors import endpoint_arn, endpoint_detail
from shifts import policy, selectors
from shifts.models import ChangeType, PlanTemplate, ShiftProposal
from shifts.plan_spec import PlanSpec, plan_from
from shifts.plan_steps import step_weights
from shifts.services.proposals import Draft, Drafter, open_proposal

if TYPE_CHECKING:
    from endpoints.models import Endpoint


def _plan_draft(spec: dict[str, Any]) -> Drafter:
    def draft(endpoint: Endpoint) -> Draft:
        plan = plan_from(spec)
        live = selectors.live_weights(endpoint=endpoint)
        if plan.candidate not in live or plan.baseline not in live:
            raise Invalid(
                f"Choose the candidate and the baseline among the endpoint's production "
                f"variants: {', '.join(live) or 'it has none'}."
            )
        known = set(selectors.gate_alarm_names(endpoint=endpoint))
        alarms = plan.alarms if plan.alarms is not None else tuple(sorted(known))
        unknown = [name for name in alarms if name not in known]
        if unknown:
            raise Invalid(f"No alarm on this endpoint is called {', '.join(unknown)}.")
        checked = PlanSpec(**{**plan.__dict__, "alarms": alarms})
        target = step_weights(
            live=live,
            candidate=plan.candidate,
            baseline=plan.baseline,
            candidate_percent=plan.steps[-1].candidate_percent,
        )
        return Draft(before=live, desired=target, change=ChangeType.PLAN, spec=checked.to_json())

    return draft


def plan_propose(
    *,
    endpoint_id: int,
    actor: Any,
    spec: dict[str, Any],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Record a staged shift against the endpoint's live weights and tell the Approvers.
    Invalid (nothing saved) names what is wrong with the plan."""
    return open_proposal(
        endpoint_id=endpoint_id,
        actor=actor,
        reason=reason,
        draft=_plan_draft(spec),
        audit_action="plan.propose",
        request=request,
        now=now,
    )


def plan_template_save(
    *,
    actor: Any,
    name: str,
    spec: dict[str, Any],
    endpoint_id: int | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanTemplate:
    """Save (or replace, by name) a template: its steps, gates and on-failure, without the
    variants or alarms, which belong to each proposal. For one endpoint, or all when
    `endpoint_id` is None."""
    now = now or timezone.now()
    endpoint = endpoint_detail(pk=endpoint_id) if endpoint_id is not None else None
    if endpoint_id is not None and endpoint is None:
        raise Invalid("That endpoint is not in the inventory.")
    target = endpoint_arn(pk=endpoint_id) if endpoint_id is not None else "plan-templates"
    enforce(
        policy.refusal_for("plan_template", actor),
        actor=actor,
        action="plan.template",
        target=target,
        request=request,
    )
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise Invalid("A template needs a name of 1 to 80 characters.")
    checked = plan_from({**spec, "candidate": "candidate", "baseline": "baseline"}).to_json()
    stored = {k: v for k, v in checked.items() if k not in ("candidate", "baseline", "alarms")}
    stored["template"] = name
    try:
        with transaction.atomic():
            template, created = PlanTemplate.objects.update_or_create(
                name=name,
                endpoint=endpoint,
                defaults={"spec": stored, "updated_at": now},
                create_defaults={
                    "spec": stored,
                    "created_by": actor,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            audit_record(
                actor=actor,
                action="plan.template.save",
                target=target,
                before={},
                after={"template": name, "created": created, "spec": stored},
                request=request,
            )
    except IntegrityError:
        raise Invalid(f"A template called {name!r} was saved at the same moment.") from None
    return template
