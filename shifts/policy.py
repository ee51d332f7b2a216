"""Who may do what to a traffic shift: the two-person rule and the roles.

Services ask before every step and audit a refusal; selectors ask to decide which buttons
a page shows; views never decide it themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from core.policy import role_refusal
from core.roles import Role, has_role


def _is_proposer(actor: Any, proposal: Any) -> bool:
    return proposal is not None and proposal.proposer_id == getattr(actor, "pk", None)


def emergency_refusal(actor: Any) -> str | None:
    """Admins may shift at once; Operators and Approvers too when
    OPSPORTAL_OPERATOR_EMERGENCY is on."""
    if has_role(actor, Role.ADMIN):
        return None
    if settings.OPSPORTAL_OPERATOR_EMERGENCY:
        if has_role(actor, Role.OPERATOR):
            return None
        return "Emergency shifts need the Admin role or Operator."
    return "Emergency shifts need the Admin role."


def refusal_for(action: str, actor: Any, proposal: Any = None) -> str | None:
    """Why `actor` may not `action` (propose, edit, cancel, approve, reject, acknowledge,
    emergency) the proposal, or None when they may. The proposal's state is the service's
    business (a Conflict), not the policy's."""
    if action == "propose":
        return role_refusal(actor, Role.OPERATOR, "Proposing a traffic shift")
    if action == "emergency":
        return emergency_refusal(actor)
    if action == "edit":
        if not _is_proposer(actor, proposal) or not has_role(actor, Role.OPERATOR):
            return "Only the proposer can edit a proposal."
        return None
    if action == "cancel":
        return None if _is_proposer(actor, proposal) else "Only the proposer can cancel a proposal."
    if action == "approve":
        if not has_role(actor, Role.APPROVER):
            return "Approving a traffic shift needs the Approver role."
        if _is_proposer(actor, proposal):
            return "You cannot approve your own proposal; another Approver must."
        if proposal is not None and any(
            a.approver_id == actor.pk for a in proposal.approvals.all()
        ):
            return "You have already approved this proposal; another Approver must."
        return None
    if action == "reject":
        if not has_role(actor, Role.APPROVER):
            return "Rejecting a traffic shift needs the Approver role."
        if _is_proposer(actor, proposal):
            return "You cannot decide on your own proposal; cancel it instead."
        return None
    if action == "acknowledge":
        if not has_role(actor, Role.APPROVER):
            return "Acknowledging an emergency shift needs the Approver role."
        if _is_proposer(actor, proposal):
            return "Someone other than its author must acknowledge an emergency shift."
        return None
    if action in ("plan_pause", "plan_abort"):
        # Safety actions: any Operator, no second person.
        return role_refusal(actor, Role.OPERATOR, "Pausing or aborting a staged shift")
    if action in ("plan_resume", "plan_promote"):
        if not has_role(actor, Role.APPROVER):
            return "Resuming or promoting a staged shift needs the Approver role."
        if _is_proposer(actor, proposal):
            return "Another Approver than the proposer must resume or promote the plan."
        return None
    if action == "plan_template":
        return role_refusal(actor, Role.OPERATOR, "Saving a plan template")
    raise ValueError(f"unknown shift action {action!r}")
