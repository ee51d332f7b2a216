"""Traffic-shift writes: propose, approve, reject, cancel, apply, poll, emergency, expire.

Every function locks the proposal row (`select_for_update`) before looking at its state,
changes it only along `models.TRANSITIONS`, writes one audit entry per transition, and
enqueues follow-up tasks with `transaction.on_commit`, so a task never runs against a state
that was rolled back.

Why the apply cannot happen twice: under the row lock it checks the proposal is `approved`
with no `update_sent_at`, sets that marker and moves to `applying`, and commits; only then
is UpdateEndpointWeightsAndCapacities sent. A second approval, a redelivered task or the
sweeper finds `applying` (or the marker) and does nothing. A crash between the commit and
the call leaves `applying` with no update: the poll sees the old weights and records
`failed`, never a second update.

Refused attempts (self-approval, a second approval by the same person, a role too low)
are audited with outcome "denied" in a transaction that commits before PermissionDenied is
raised, so the record survives the refusal.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit_record
from core.aws import sagemaker as aws_sagemaker
from core.aws import traffic as aws_traffic
from core.aws.errors import (
    AccessDenied,
    AwsError,
    Conflict,
    NotFound,
    QuotaExceeded,
    ValidationFailed,
)
from core.aws.types import EndpointDescription
from core.roles import Role, has_role, role_of
from core.targets import target_by_name
from endpoints.models import Endpoint, EndpointStatus
from shifts import selectors
from shifts.models import (
    OPEN_STATES,
    TERMINAL_STATES,
    ShiftApproval,
    ShiftEvent,
    ShiftKind,
    ShiftProposal,
    ShiftState,
    can_transition,
)
from shifts.weights import same_weights, validate_weights

logger = logging.getLogger(__name__)

# AWS answers that prove the update was refused (nothing changed); any other error leaves
# the outcome unknown and the poll settles it by reading the endpoint.
REFUSED = (ValidationFailed, NotFound, AccessDenied, QuotaExceeded, Conflict)
# InService with weights that are neither the old nor the new ones, this many polls in a
# row after the update: the update did not take (or someone overrode it).
SETTLE_POLLS = 3
# Who is told about what (notifications.py turns the event into recipients and text).
NOTIFY_ON = {
    ShiftState.APPROVED: "approved",
    ShiftState.REJECTED: "rejected",
    ShiftState.APPLIED: "applied",
    ShiftState.FAILED: "failed",
    ShiftState.SUPERSEDED: "superseded",
    ShiftState.EXPIRED: "expired",
}


class ShiftConflict(Exception):
    """The proposal's state does not allow the action (approving an applied shift, ...)."""


# --- helpers --------------------------------------------------------------------------


def can_emergency(user: Any) -> bool:
    """Admins always; Operators and Approvers when OPSPORTAL_OPERATOR_EMERGENCY is on."""
    role = role_of(user)
    if role >= Role.ADMIN:
        return True
    return bool(settings.OPSPORTAL_OPERATOR_EMERGENCY) and role >= Role.OPERATOR


# Eager mode (CELERY_TASK_ALWAYS_EAGER) ignores countdown: a poll chain would recurse with no
# pause until the deadline. Past this many nested hops the chain is left to the resume
# sweeper instead, which re-enqueues it after OPSPORTAL_SHIFT_STUCK_SECONDS.
MAX_EAGER_HOPS = 10
_eager = threading.local()


def _enqueue(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Send a task once the current transaction commits.

    A broker outage is logged, not raised: the change is committed and the beat sweeper
    re-enqueues proposals that make no progress. In eager mode (tests) the task runs here,
    and its errors must surface.
    """

    def send() -> None:
        from shifts import tasks

        task = getattr(tasks, task_name)
        eager = bool(current_app.conf.task_always_eager)
        depth = getattr(_eager, "depth", 0)
        if eager and countdown and depth >= MAX_EAGER_HOPS:
            logger.warning(
                "eager mode cannot wait %s s for %s%r; left to the sweeper",
                countdown,
                task_name,
                args,
            )
            return
        _eager.depth = depth + 1
        try:
            task.apply_async(args=list(args), countdown=countdown)
        except Exception as exc:  # kombu raises several types for a broker that is down
            if eager:
                raise
            logger.warning("could not queue %s%r: %s", task_name, args, exc)
        finally:
            _eager.depth = depth

    transaction.on_commit(send)


def _refresh_inventory(endpoint_id: int) -> None:
    """After a shift lands, re-read the endpoint so pages (and the next proposal's
    baseline) show the new weights without waiting for the scheduled sync."""

    def send() -> None:
        from endpoints import tasks as endpoint_tasks

        try:
            endpoint_tasks.endpoint_refresh.delay(endpoint_id)
        except Exception as exc:
            if current_app.conf.task_always_eager:
                raise
            logger.warning("could not queue refresh of endpoint %s: %s", endpoint_id, exc)

    transaction.on_commit(send)


def _locked(proposal_id: int) -> ShiftProposal:
    proposal = ShiftProposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise ShiftProposal.DoesNotExist(f"No shift proposal #{proposal_id}.")
    return proposal


def _audit(
    *,
    proposal: ShiftProposal,
    actor: Any,
    action: str,
    source: str,
    destination: str,
    comment: str = "",
    outcome: str = "ok",
    error: str = "",
    request: HttpRequest | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    after: dict[str, Any] = {
        "proposal": proposal.pk,
        "kind": proposal.kind,
        "state": destination,
        "weights": proposal.desired_weights,
        "reason": proposal.reason,
    }
    if comment:
        after["comment"] = comment
    if proposal.aws_request_id:
        after["aws_request_id"] = proposal.aws_request_id
    after.update(extra or {})
    audit_record(
        actor=actor,
        action=f"shift.{action}",
        target=proposal.endpoint.arn,
        before={"state": source, "weights": proposal.before_weights},
        after=after,
        outcome=outcome,
        error=error,
        request=request,
    )


def _event(
    *, proposal: ShiftProposal, actor: Any, action: str, source: str, now: datetime, comment: str
) -> None:
    ShiftEvent.objects.create(
        proposal=proposal,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        username=actor.get_username() if actor is not None else "system",
        action=action,
        from_state=source,
        to_state=proposal.state,
        comment=comment,
    )


def _transition(
    *,
    proposal: ShiftProposal,
    to: str,
    actor: Any,
    action: str,
    now: datetime,
    comment: str = "",
    error: str = "",
    request: HttpRequest | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Move the (locked) proposal along the state machine: save, timeline, audit, notify."""
    source = proposal.state
    if not can_transition(source, to):
        raise ShiftConflict(f"Shift #{proposal.pk} is {source}; it cannot become {to}.")
    proposal.state = to
    proposal.updated_at = now
    if to in TERMINAL_STATES:
        proposal.finished_at = now
    if error:
        proposal.error = error
    proposal.save()
    _event(
        proposal=proposal,
        actor=actor,
        action=action,
        source=source,
        now=now,
        comment=comment or error,
    )
    _audit(
        proposal=proposal,
        actor=actor,
        action=action,
        source=source,
        destination=to,
        comment=comment,
        outcome="failed" if to == ShiftState.FAILED else "ok",
        error=error,
        request=request,
        extra=extra,
    )
    if to in NOTIFY_ON:
        _enqueue("shift_notify", proposal.pk, NOTIFY_ON[to])


def _deny(
    *,
    proposal: ShiftProposal,
    actor: Any,
    action: str,
    why: str,
    request: HttpRequest | None,
) -> PermissionDenied:
    """Audit a refused attempt; the caller raises the returned exception after commit."""
    _audit(
        proposal=proposal,
        actor=actor,
        action=action,
        source=proposal.state,
        destination=proposal.state,
        outcome="denied",
        error=why,
        request=request,
    )
    return PermissionDenied(why)


def _deny_without_proposal(
    *, actor: Any, action: str, endpoint: Endpoint, why: str, request: HttpRequest | None
) -> PermissionDenied:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=f"shift.{action}",
            target=endpoint.arn,
            outcome="denied",
            error=why,
            request=request,
        )
    return PermissionDenied(why)


def _required_text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{what} is required.")
    return text


# --- propose, edit ----------------------------------------------------------------------


def _open_on(endpoint: Endpoint) -> list[ShiftProposal]:
    return list(
        ShiftProposal.objects.select_for_update().filter(endpoint=endpoint, state__in=OPEN_STATES)
    )


def _create(
    *,
    endpoint: Endpoint,
    actor: Any,
    kind: str,
    state: str,
    before: dict[str, float],
    desired: dict[str, float],
    reason: str,
    now: datetime,
    action: str,
    request: HttpRequest | None,
    replaces: ShiftProposal | None = None,
) -> ShiftProposal:
    """Open a proposal and record its first step (timeline row and audit entry)."""
    proposal = ShiftProposal(
        endpoint=endpoint,
        kind=kind,
        state=state,
        proposer=actor,
        reason=reason,
        before_weights=before,
        desired_weights=desired,
        created_at=now,
        expires_at=now + selectors.approval_ttl(),
        updated_at=now,
        approved_at=now if state == ShiftState.APPROVED else None,
        replaces=replaces,
    )
    try:
        with transaction.atomic():
            proposal.save(force_insert=True)
    except IntegrityError:
        # Two proposals for one endpoint at the same instant: the partial unique
        # constraint lets one through.
        raise ValidationError(
            "Another shift was opened for this endpoint at the same moment; reload the page."
        ) from None
    _event(
        proposal=proposal,
        actor=actor,
        action=action,
        source="",
        now=now,
        comment=f"Edited version of #{replaces.pk}." if replaces else "",
    )
    _audit(
        proposal=proposal,
        actor=actor,
        action=action,
        source="",
        destination=state,
        request=request,
        extra={"replaces": replaces.pk} if replaces else None,
    )
    return proposal


def _check_proposable(endpoint: Endpoint, *, replacing: ShiftProposal | None = None) -> None:
    if endpoint.deleted_at is not None:
        raise ValidationError("The endpoint no longer exists.")
    if endpoint.status != EndpointStatus.IN_SERVICE:
        raise ValidationError(
            f"The endpoint is {endpoint.status}; a shift can be proposed only while it is "
            "InService."
        )
    others = [p for p in _open_on(endpoint) if replacing is None or p.pk != replacing.pk]
    if others:
        raise ValidationError(
            f"Shift #{others[0].pk} is already {others[0].state} for this endpoint; "
            "it must finish (or be cancelled) before another is proposed."
        )


def shift_propose(
    *,
    endpoint_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Record a proposal against the endpoint's live weights and tell the Approvers.

    Raises ValidationError (nothing saved) for an endpoint that is not InService, already
    has an open proposal, or weights `validate_weights` refuses.
    """
    now = now or timezone.now()
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    if not has_role(actor, Role.OPERATOR):
        raise _deny_without_proposal(
            actor=actor,
            action="propose",
            endpoint=endpoint,
            why="Proposing a traffic shift needs the Operator role.",
            request=request,
        )
    reason = _required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        _check_proposable(endpoint)
        live = selectors.live_weights(endpoint=endpoint)
        cleaned = validate_weights(variants=list(live), current=live, desired=desired)
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.NORMAL,
            state=ShiftState.PENDING,
            before=live,
            desired=cleaned,
            reason=reason,
            now=now,
            action="propose",
            request=request,
        )
        _enqueue("shift_notify", proposal.pk, "proposed")
    return proposal


def shift_revise(
    *,
    proposal_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Edit a pending proposal: the old one becomes `superseded` (its approvals die with it)
    and a new pending one, which needs fresh approvals, takes its place."""
    now = now or timezone.now()
    reason = _required_text(reason, "A reason")
    refusal: PermissionDenied | None = None
    with transaction.atomic():
        old = _locked(proposal_id)
        if old.proposer_id != getattr(actor, "pk", None) or not has_role(actor, Role.OPERATOR):
            refusal = _deny(
                proposal=old,
                actor=actor,
                action="edit",
                why="Only the proposer can edit a proposal.",
                request=request,
            )
        elif old.state != ShiftState.PENDING:
            raise ShiftConflict(f"Shift #{old.pk} is {old.state}; only pending ones can be edited.")
        else:
            endpoint = Endpoint.objects.select_for_update().get(pk=old.endpoint_id)
            _check_proposable(endpoint, replacing=old)
            live = selectors.live_weights(endpoint=endpoint)
            cleaned = validate_weights(variants=list(live), current=live, desired=desired)
            _transition(
                proposal=old,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="edit",
                now=now,
                comment="Edited by the proposer; the new version needs fresh approvals.",
                request=request,
            )
            proposal = _create(
                endpoint=endpoint,
                actor=actor,
                kind=ShiftKind.NORMAL,
                state=ShiftState.PENDING,
                before=live,
                desired=cleaned,
                reason=reason,
                now=now,
                action="propose",
                request=request,
                replaces=old,
            )
            _enqueue("shift_notify", proposal.pk, "proposed")
    if refusal is not None:
        raise refusal
    return proposal


# --- approve, reject, cancel, expire ------------------------------------------------------


def _expire_if_due(proposal: ShiftProposal, now: datetime) -> bool:
    if proposal.state == ShiftState.PENDING and proposal.expires_at <= now:
        hours = settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS
        _transition(
            proposal=proposal,
            to=ShiftState.EXPIRED,
            actor=None,
            action="expire",
            now=now,
            comment=f"No quorum within {hours} h of being proposed.",
        )
        return True
    return False


def _weights_moved(proposal: ShiftProposal) -> dict[str, float] | None:
    """The inventory's live weights if they differ from the proposal's baseline."""
    live = selectors.live_weights(endpoint=proposal.endpoint)
    return None if same_weights(live, proposal.before_weights) else live


def shift_approve(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """One Approver's yes. On quorum the proposal becomes `approved` and the apply task is
    enqueued (on commit). The proposer can never approve, nobody approves twice, and an
    approval is refused (the proposal superseded) when the live weights have moved."""
    now = now or timezone.now()
    refusal: PermissionDenied | None = None
    conflict = ""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if not has_role(actor, Role.APPROVER):
            why = "Approving a traffic shift needs the Approver role."
        elif proposal.proposer_id == actor.pk:
            why = "You cannot approve your own proposal; another Approver must."
        elif proposal.approvals.filter(approver_id=actor.pk).exists():
            why = "You have already approved this proposal; another Approver must."
        else:
            why = ""
        if why:
            refusal = _deny(
                proposal=proposal, actor=actor, action="approve", why=why, request=request
            )
        elif proposal.is_emergency or proposal.state != ShiftState.PENDING:
            conflict = f"Shift #{proposal.pk} is {proposal.state}; only pending ones are approved."
        elif _expire_if_due(proposal, now):
            conflict = f"Shift #{proposal.pk} expired before reaching its approvals."
        elif (moved := _weights_moved(proposal)) is not None:
            _transition(
                proposal=proposal,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="supersede",
                now=now,
                comment="The live weights changed after this was proposed; nothing was "
                "approved or applied. Propose again from the current weights.",
                request=request,
                extra={"live_weights": moved},
            )
        else:
            ShiftApproval.objects.create(
                proposal=proposal, approver=actor, comment=comment.strip(), created_at=now
            )
            count = len(selectors.valid_approvals(proposal=proposal, now=now))
            needed = selectors.approvals_required()
            if count >= needed:
                proposal.approved_at = now
                _transition(
                    proposal=proposal,
                    to=ShiftState.APPROVED,
                    actor=actor,
                    action="approve",
                    now=now,
                    comment=comment.strip(),
                    request=request,
                    extra={"approvals": count},
                )
                _enqueue("shift_apply", proposal.pk)
            else:
                proposal.updated_at = now
                proposal.save(update_fields=["updated_at"])
                _event(
                    proposal=proposal,
                    actor=actor,
                    action="approve",
                    source=proposal.state,
                    now=now,
                    comment=comment.strip() or f"{count} of {needed} approvals.",
                )
                _audit(
                    proposal=proposal,
                    actor=actor,
                    action="approve",
                    source=proposal.state,
                    destination=proposal.state,
                    comment=comment.strip(),
                    request=request,
                    extra={"approvals": count, "needed": needed},
                )
    if refusal is not None:
        raise refusal
    if conflict:
        raise ShiftConflict(conflict)
    return proposal


def shift_reject(
    *,
    proposal_id: int,
    actor: Any,
    comment: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """An Approver other than the proposer says no, with a comment the proposer will read."""
    now = now or timezone.now()
    comment = _required_text(comment, "A comment saying why")
    refusal: PermissionDenied | None = None
    conflict = ""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if not has_role(actor, Role.APPROVER):
            why = "Rejecting a traffic shift needs the Approver role."
        elif proposal.proposer_id == actor.pk:
            why = "You cannot decide on your own proposal; cancel it instead."
        else:
            why = ""
        if why:
            refusal = _deny(
                proposal=proposal, actor=actor, action="reject", why=why, request=request
            )
        elif proposal.state != ShiftState.PENDING:
            conflict = f"Shift #{proposal.pk} is {proposal.state}; only pending ones are rejected."
        elif _expire_if_due(proposal, now):
            conflict = f"Shift #{proposal.pk} had already expired."
        else:
            _transition(
                proposal=proposal,
                to=ShiftState.REJECTED,
                actor=actor,
                action="reject",
                now=now,
                comment=comment,
                request=request,
            )
    if refusal is not None:
        raise refusal
    if conflict:
        raise ShiftConflict(conflict)
    return proposal


def shift_cancel(
    *,
    proposal_id: int,
    actor: Any,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """The proposer withdraws a pending proposal."""
    now = now or timezone.now()
    refusal: PermissionDenied | None = None
    conflict = ""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.proposer_id != getattr(actor, "pk", None):
            refusal = _deny(
                proposal=proposal,
                actor=actor,
                action="cancel",
                why="Only the proposer can cancel a proposal.",
                request=request,
            )
        elif proposal.state != ShiftState.PENDING:
            conflict = f"Shift #{proposal.pk} is {proposal.state}; only pending ones are cancelled."
        else:
            _transition(
                proposal=proposal,
                to=ShiftState.CANCELLED,
                actor=actor,
                action="cancel",
                now=now,
                request=request,
            )
    if refusal is not None:
        raise refusal
    if conflict:
        raise ShiftConflict(conflict)
    return proposal


def shift_expire(*, proposal_id: int, now: datetime | None = None) -> bool:
    """Expire one pending proposal whose approval window has closed; False if it had not."""
    now = now or timezone.now()
    with transaction.atomic():
        return _expire_if_due(_locked(proposal_id), now)


def shift_expire_due(*, now: datetime | None = None) -> int:
    """The beat sweeper: expire every pending proposal past its window."""
    now = now or timezone.now()
    due = ShiftProposal.objects.filter(state=ShiftState.PENDING, expires_at__lte=now)
    return sum(shift_expire(proposal_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def shift_resume_stuck(*, now: datetime | None = None) -> int:
    """The beat sweeper: re-enqueue approved/applying proposals whose task chain was lost
    (broker down at enqueue time, worker killed). Apply and poll are idempotent, so a
    duplicate is harmless; each of their runs bumps `updated_at`, so a live chain is not
    duplicated."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.OPSPORTAL_SHIFT_STUCK_SECONDS)
    count = 0
    for pk, state in ShiftProposal.objects.filter(
        state__in=(ShiftState.APPROVED, ShiftState.APPLYING), updated_at__lt=stale
    ).values_list("pk", "state"):
        with transaction.atomic():
            _enqueue("shift_apply" if state == ShiftState.APPROVED else "shift_poll", pk)
        count += 1
    return count


# --- apply and verify ------------------------------------------------------------------


def _live(described: EndpointDescription) -> tuple[dict[str, float], dict[str, float]]:
    """Current and desired weight per production variant from DescribeEndpoint."""
    current: dict[str, float] = {}
    desired: dict[str, float] = {}
    for variant in described.variants:
        if variant.is_shadow:
            continue
        now_weight = variant.current_weight
        wanted = variant.desired_weight
        current[variant.name] = float(now_weight if now_weight is not None else wanted or 0.0)
        desired[variant.name] = float(wanted if wanted is not None else current[variant.name])
    return current, desired


def _instance_counts(described: EndpointDescription) -> dict[str, int | None]:
    """The count each variant runs now (None for serverless), sent unchanged with the
    weights: a weight shift must not resize the fleet."""
    counts: dict[str, int | None] = {}
    for variant in described.variants:
        if variant.is_shadow:
            continue
        if variant.current_serverless or variant.desired_serverless:
            counts[variant.name] = None
        elif variant.desired_instance_count is not None:
            counts[variant.name] = variant.desired_instance_count
        else:
            counts[variant.name] = variant.current_instance_count
    return counts


def _unreadable(
    *,
    proposal: ShiftProposal,
    described: Any,
    now: datetime,
    deadline: datetime,
    task: str,
    gone: str,
) -> str | None:
    """The outcome when DescribeEndpoint did not answer with the endpoint: gone fails the
    shift, any other AWS error is retried until the deadline; None when it was read."""
    if isinstance(described, NotFound):
        _transition(
            proposal=proposal,
            to=ShiftState.FAILED,
            actor=None,
            action=task,
            now=now,
            error=f"{gone}: {described}",
        )
        return "failed: gone"
    if isinstance(described, AwsError):
        return _retry_or_fail(
            proposal=proposal,
            now=now,
            deadline=deadline,
            task=task,
            why=f"Could not read the endpoint: {described}",
        )
    return None


def _retry_or_fail(
    *, proposal: ShiftProposal, now: datetime, deadline: datetime, task: str, why: str
) -> str:
    """Try again after the poll interval, or fail once the deadline has passed. The attempt
    cap (the deadline counted in poll intervals) ends the chain even if the clock does not
    move as expected (a stuck clock, or a chain run faster than its countdowns)."""
    interval = settings.OPSPORTAL_SHIFT_POLL_SECONDS
    if task == "apply":
        attempts = proposal.apply_attempts
        allowed = settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS // interval + 2
    else:
        attempts = proposal.poll_attempts
        allowed = settings.OPSPORTAL_SHIFT_VERIFY_DEADLINE_SECONDS // interval + 2
    if now >= deadline or attempts >= allowed:
        _transition(
            proposal=proposal, to=ShiftState.FAILED, actor=None, action=task, now=now, error=why
        )
        return f"failed: {why}"
    proposal.updated_at = now
    proposal.save()
    _enqueue(f"shift_{task}", proposal.pk, countdown=interval)
    return f"retry: {why}"


def _describe(proposal: ShiftProposal) -> EndpointDescription | AwsError:
    target = target_by_name(proposal.endpoint.target)
    try:
        return aws_sagemaker.describe_endpoint(
            target=target, region=proposal.endpoint.region, name=proposal.endpoint.name
        )
    except AwsError as exc:
        return exc


def shift_apply(*, proposal_id: int, now: datetime | None = None) -> str:
    """Re-read the endpoint and send the update once, or refuse: `superseded` when the
    live weights moved, `expired` when the approvals are too old, a retry (then `failed`)
    while the endpoint is not InService. Returns what happened, for logs and tests."""
    now = now or timezone.now()
    proposal = ShiftProposal.objects.select_related("endpoint").filter(pk=proposal_id).first()
    if proposal is None:
        return "gone"
    if proposal.state != ShiftState.APPROVED or proposal.update_sent_at is not None:
        return f"nothing to do: {proposal.state}"
    described = _describe(proposal)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.state != ShiftState.APPROVED or proposal.update_sent_at is not None:
            return f"nothing to do: {proposal.state}"
        proposal.apply_attempts += 1
        deadline = (proposal.approved_at or now) + timedelta(
            seconds=settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS
        )
        normal = not proposal.is_emergency
        if normal:
            count = len(selectors.valid_approvals(proposal=proposal, now=now))
            if count < selectors.approvals_required():
                hours = settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS
                _transition(
                    proposal=proposal,
                    to=ShiftState.EXPIRED,
                    actor=None,
                    action="expire",
                    now=now,
                    comment=f"The approvals were older than {hours} h when the apply ran; "
                    "nothing was applied.",
                )
                return "expired"
            if (moved := _weights_moved(proposal)) is not None:
                _transition(
                    proposal=proposal,
                    to=ShiftState.SUPERSEDED,
                    actor=None,
                    action="supersede",
                    now=now,
                    comment="The inventory shows other weights than the proposal was made "
                    "against; nothing was applied.",
                    extra={"live_weights": moved},
                )
                return "superseded"
        unreadable = _unreadable(
            proposal=proposal,
            described=described,
            now=now,
            deadline=deadline,
            task="apply",
            gone="The endpoint no longer exists",
        )
        if unreadable is not None:
            return unreadable
        current, pending = _live(described)
        if normal and not (
            same_weights(current, proposal.before_weights)
            and same_weights(pending, proposal.before_weights)
        ):
            _transition(
                proposal=proposal,
                to=ShiftState.SUPERSEDED,
                actor=None,
                action="supersede",
                now=now,
                comment="The live weights in AWS changed after this was proposed; nothing "
                "was applied.",
                extra={"live_weights": current, "desired_in_aws": pending},
            )
            return "superseded"
        if set(current) != set(proposal.desired_weights):
            _transition(
                proposal=proposal,
                to=ShiftState.FAILED,
                actor=None,
                action="apply",
                now=now,
                error=f"The endpoint's variants are now {', '.join(current)}.",
            )
            return "failed: variants changed"
        if described.status != EndpointStatus.IN_SERVICE:
            return _retry_or_fail(
                proposal=proposal,
                now=now,
                deadline=deadline,
                task="apply",
                why=f"The endpoint is {described.status}, not InService.",
            )
        if not normal:
            # An emergency binds to nothing: record what it really replaced.
            proposal.before_weights = current
        proposal.update_sent_at = now
        _transition(
            proposal=proposal,
            to=ShiftState.APPLYING,
            actor=None,
            action="apply",
            now=now,
            comment="Sending UpdateEndpointWeightsAndCapacities.",
        )
        counts = _instance_counts(described)
    # The marker is committed: from here on nothing sends a second update.
    try:
        request_id = aws_traffic.update_weights(
            target=target_by_name(proposal.endpoint.target),
            region=proposal.endpoint.region,
            endpoint_name=proposal.endpoint.name,
            weights={name: proposal.desired_weights[name] for name in current},
            instance_counts=counts,
        )
    except REFUSED as exc:
        with transaction.atomic():
            proposal = _locked(proposal_id)
            if proposal.state == ShiftState.APPLYING:
                _transition(
                    proposal=proposal,
                    to=ShiftState.FAILED,
                    actor=None,
                    action="apply",
                    now=timezone.now(),
                    error=f"AWS refused the update: {exc}",
                )
        return f"failed: {exc}"
    except AwsError as exc:
        # Sent or not? Only DescribeEndpoint can tell: the poll decides.
        with transaction.atomic():
            proposal = _locked(proposal_id)
            proposal.error = f"The update call ended with {exc}; checking whether it took."
            proposal.save(update_fields=["error"])
            _enqueue("shift_poll", proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS)
        return f"unknown: {exc}"
    with transaction.atomic():
        proposal = _locked(proposal_id)
        proposal.aws_request_id = request_id[:64]
        proposal.save(update_fields=["aws_request_id"])
        _enqueue("shift_poll", proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS)
    return f"sent: {request_id}"


def shift_poll(*, proposal_id: int, now: datetime | None = None) -> str:
    """Read the endpoint after the update: `applied` once InService with CurrentWeight equal
    to the desired weights; `failed` if it fails, settles on other weights, or the verify
    deadline passes; otherwise poll again later (countdown, never sleeping)."""
    now = now or timezone.now()
    proposal = ShiftProposal.objects.select_related("endpoint").filter(pk=proposal_id).first()
    if proposal is None or proposal.state != ShiftState.APPLYING:
        return f"nothing to do: {proposal.state if proposal else 'gone'}"
    described = _describe(proposal)
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if proposal.state != ShiftState.APPLYING:
            return f"nothing to do: {proposal.state}"
        proposal.poll_attempts += 1
        sent = proposal.update_sent_at or now
        deadline = sent + timedelta(seconds=settings.OPSPORTAL_SHIFT_VERIFY_DEADLINE_SECONDS)
        unreadable = _unreadable(
            proposal=proposal,
            described=described,
            now=now,
            deadline=deadline,
            task="poll",
            gone="The endpoint disappeared",
        )
        if unreadable is not None:
            return unreadable
        current, _ = _live(described)
        proposal.observed_weights = current
        status = described.status
        if status == EndpointStatus.IN_SERVICE and same_weights(current, proposal.desired_weights):
            proposal.error = ""
            _transition(
                proposal=proposal,
                to=ShiftState.APPLIED,
                actor=None,
                action="applied",
                now=now,
                comment=f"InService with the new weights (request {proposal.aws_request_id}).",
            )
            _refresh_inventory(proposal.endpoint_id)
            return "applied"
        if status in (EndpointStatus.FAILED, EndpointStatus.UPDATE_ROLLBACK_FAILED):
            _transition(
                proposal=proposal,
                to=ShiftState.FAILED,
                actor=None,
                action="poll",
                now=now,
                error=f"The endpoint is {status}: {described.failure_reason or 'no reason'}",
            )
            return "failed"
        if status == EndpointStatus.IN_SERVICE and proposal.poll_attempts >= SETTLE_POLLS:
            note = f" {proposal.error}" if proposal.error else ""
            _transition(
                proposal=proposal,
                to=ShiftState.FAILED,
                actor=None,
                action="poll",
                now=now,
                error=f"The endpoint is InService with weights {current}, not the desired "
                f"{proposal.desired_weights}: the update did not take effect.{note}",
            )
            return "failed: not applied"
        return _retry_or_fail(
            proposal=proposal,
            now=now,
            deadline=deadline,
            task="poll",
            why=f"The endpoint is still {status} with weights {current}.",
        )


# --- emergency ---------------------------------------------------------------------------


def shift_emergency(
    *,
    endpoint_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Apply a shift at once, without approval (moving traffic off a failing variant at
    3 a.m.). Open proposals on the endpoint become `superseded`; everyone is notified and
    the endpoint shows a banner until an Approver acknowledges it."""
    now = now or timezone.now()
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    if not can_emergency(actor):
        raise _deny_without_proposal(
            actor=actor,
            action="emergency",
            endpoint=endpoint,
            why="Emergency shifts need the Admin role"
            + ("." if not settings.OPSPORTAL_OPERATOR_EMERGENCY else " or Operator."),
            request=request,
        )
    reason = _required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        if endpoint.deleted_at is not None:
            raise ValidationError("The endpoint no longer exists.")
        open_ones = _open_on(endpoint)
        busy = [p for p in open_ones if p.state == ShiftState.APPLYING]
        if busy:
            raise ValidationError(
                f"Shift #{busy[0].pk} is being applied right now; wait until it finishes."
            )
        live = selectors.live_weights(endpoint=endpoint)
        cleaned = validate_weights(variants=list(live), current=live, desired=desired)
        for other in open_ones:
            _transition(
                proposal=other,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="supersede",
                now=now,
                comment=f"An emergency shift by {actor.get_username()} replaced it.",
                request=request,
            )
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.EMERGENCY,
            state=ShiftState.APPROVED,
            before=live,
            desired=cleaned,
            reason=reason,
            now=now,
            action="emergency",
            request=request,
        )
        _enqueue("shift_apply", proposal.pk)
        _enqueue("shift_notify", proposal.pk, "emergency")
    return proposal


def shift_acknowledge(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """An Approver other than its author reviews an emergency shift after the fact, which
    takes the red banner off the endpoint."""
    now = now or timezone.now()
    refusal: PermissionDenied | None = None
    conflict = ""
    with transaction.atomic():
        proposal = _locked(proposal_id)
        if not has_role(actor, Role.APPROVER):
            why = "Acknowledging an emergency shift needs the Approver role."
        elif proposal.proposer_id == actor.pk:
            why = "Someone other than its author must acknowledge an emergency shift."
        else:
            why = ""
        if why:
            refusal = _deny(
                proposal=proposal, actor=actor, action="acknowledge", why=why, request=request
            )
        elif not proposal.needs_acknowledgement:
            conflict = f"Shift #{proposal.pk} needs no acknowledgement."
        else:
            proposal.acknowledged_by = actor
            proposal.acknowledged_at = now
            proposal.save(update_fields=["acknowledged_by", "acknowledged_at"])
            _event(
                proposal=proposal,
                actor=actor,
                action="acknowledge",
                source=proposal.state,
                now=now,
                comment=comment.strip(),
            )
            _audit(
                proposal=proposal,
                actor=actor,
                action="acknowledge",
                source=proposal.state,
                destination=proposal.state,
                comment=comment.strip(),
                request=request,
            )
    if refusal is not None:
        raise refusal
    if conflict:
        raise ShiftConflict(conflict)
    return proposal
