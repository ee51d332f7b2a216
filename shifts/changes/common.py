"""Reads and verdict pieces several change types share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from core.aws import sagemaker as aws_sagemaker
from core.aws.types import EndpointDescription, EndpointStatus
from core.targets import Target, target_by_name
from shifts.changes.base import FAILED, LiveRead, Verdict

if TYPE_CHECKING:
    from shifts.models import ShiftProposal


def target_of(proposal: ShiftProposal) -> Target:
    return target_by_name(proposal.endpoint.target)


def describe(proposal: ShiftProposal) -> EndpointDescription:
    endpoint = proposal.endpoint
    return aws_sagemaker.describe_endpoint(
        target=target_of(proposal), region=endpoint.region, name=endpoint.name
    )


def read_endpoint(*, proposal: ShiftProposal) -> LiveRead:
    return LiveRead(described=describe(proposal))


def live_weights(described: EndpointDescription) -> tuple[dict[str, float], dict[str, float]]:
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


def broken(described: EndpointDescription) -> Verdict | None:
    """Failed when the endpoint itself ended in Failed or UpdateRollbackFailed."""
    status = described.status
    if status in (EndpointStatus.FAILED, EndpointStatus.UPDATE_ROLLBACK_FAILED):
        return Verdict(
            FAILED, f"The endpoint is {status}: {described.failure_reason or 'no reason'}"
        )
    return None


def default_verify_deadline() -> int:
    return int(settings.OPSPORTAL_SHIFT_VERIFY_DEADLINE_SECONDS)
