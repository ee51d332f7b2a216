"""Applying an approved proposal and verifying it took: one UpdateEndpointWeightsAndCapacities
at most, sent after the marker is committed, then polls (with a countdown, never sleeping)
until the endpoint is InService with the new weights, or the deadline passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

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
from core.aws.types import EndpointDescription, EndpointStatus
from core.queue import enqueue_on_commit
from core.targets import target_by_name
from endpoints.services import endpoint_refresh_later
from shifts import selectors, tasks
from shifts.models import ShiftProposal, ShiftState
from shifts.services.decisions import weights_moved
from shifts.services.transitions import locked, transition
from shifts.weights import same_weights

# AWS answers that prove the update was refused (nothing changed); any other error leaves
# the outcome unknown and the poll settles it by reading the endpoint.
REFUSED = (ValidationFailed, NotFound, AccessDenied, QuotaExceeded, Conflict)
# InService with weights that are neither the old nor the new ones, this many polls in a
# row after the update: the update did not take (or someone overrode it).
SETTLE_POLLS = 3


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
    error: AwsError,
    now: datetime,
    deadline: datetime,
    task: str,
    gone: str,
) -> str:
    """The outcome when DescribeEndpoint did not answer with the endpoint: gone fails the
    shift, any other AWS error is retried until the deadline."""
    described = error
    if isinstance(described, NotFound):
        transition(
            proposal=proposal,
            to=ShiftState.FAILED,
            actor=None,
            action=task,
            now=now,
            error=f"{gone}: {described}",
        )
        return "failed: gone"
    return _retry_or_fail(
        proposal=proposal,
        now=now,
        deadline=deadline,
        task=task,
        why=f"Could not read the endpoint: {described}",
    )


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
        transition(
            proposal=proposal, to=ShiftState.FAILED, actor=None, action=task, now=now, error=why
        )
        return f"failed: {why}"
    proposal.updated_at = now
    proposal.save()
    again = tasks.shift_apply if task == "apply" else tasks.shift_poll
    enqueue_on_commit(again, proposal.pk, countdown=interval)
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
        proposal = locked(proposal_id)
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
                transition(
                    proposal=proposal,
                    to=ShiftState.EXPIRED,
                    actor=None,
                    action="expire",
                    now=now,
                    comment=f"The approvals were older than {hours} h when the apply ran; "
                    "nothing was applied.",
                )
                return "expired"
            if (moved := weights_moved(proposal)) is not None:
                transition(
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
        if isinstance(described, AwsError):
            return _unreadable(
                proposal=proposal,
                error=described,
                now=now,
                deadline=deadline,
                task="apply",
                gone="The endpoint no longer exists",
            )
        current, pending = _live(described)
        if normal and not (
            same_weights(current, proposal.before_weights)
            and same_weights(pending, proposal.before_weights)
        ):
            transition(
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
            transition(
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
        transition(
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
            proposal = locked(proposal_id)
            if proposal.state == ShiftState.APPLYING:
                transition(
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
            proposal = locked(proposal_id)
            proposal.error = f"The update call ended with {exc}; checking whether it took."
            proposal.save(update_fields=["error"])
            enqueue_on_commit(
                tasks.shift_poll, proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS
            )
        return f"unknown: {exc}"
    with transaction.atomic():
        proposal = locked(proposal_id)
        proposal.aws_request_id = request_id[:64]
        proposal.save(update_fields=["aws_request_id"])
        enqueue_on_commit(
            tasks.shift_poll, proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS
        )
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
        proposal = locked(proposal_id)
        if proposal.state != ShiftState.APPLYING:
            return f"nothing to do: {proposal.state}"
        proposal.poll_attempts += 1
        sent = proposal.update_sent_at or now
        deadline = sent + timedelta(seconds=settings.OPSPORTAL_SHIFT_VERIFY_DEADLINE_SECONDS)
        if isinstance(described, AwsError):
            return _unreadable(
                proposal=proposal,
                error=described,
                now=now,
                deadline=deadline,
                task="poll",
                gone="The endpoint disappeared",
            )
        current, _ = _live(described)
        proposal.observed_weights = current
        status = described.status
        if status == EndpointStatus.IN_SERVICE and same_weights(current, proposal.desired_weights):
            proposal.error = ""
            transition(
                proposal=proposal,
                to=ShiftState.APPLIED,
                actor=None,
                action="applied",
                now=now,
                comment=f"InService with the new weights (request {proposal.aws_request_id}).",
            )
            endpoint_refresh_later(endpoint_id=proposal.endpoint_id)
            return "applied"
        if status in (EndpointStatus.FAILED, EndpointStatus.UPDATE_ROLLBACK_FAILED):
            transition(
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
            transition(
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
