"""Driving a staged shift against the sandbox on a simulated clock.

The plan's bakes last minutes and its gates read one-minute CloudWatch data, so these tests
do not wait on the wall clock: the plan runs "half an hour ago", its ticks are given that
time, and the sandbox replays each minute's traffic into that minute (routed by the
endpoint's live weights, through its faults). The AWS side is real: the weights the steps
send, the Updating window, GetMetricData over the bake window, DescribeAlarms.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from sandbox.testing import replay_traffic
from shifts import services
from shifts.models import PlanRun, ShiftProposal
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import console, refreshed

GOOD_PLAN: dict[str, Any] = {
    "candidate": "v1",
    "baseline": "v0",
    "steps": [
        {"candidate_percent": 10, "bake_seconds": 180},
        {"candidate_percent": 50, "bake_seconds": 180},
        {"candidate_percent": 100, "bake_seconds": 0},
    ],
    "gates": {"min_invocations": 50},
}


class SimClock:
    """Minutes in the past, aligned to CloudWatch's minute boundaries."""

    def __init__(self) -> None:
        start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=30)
        self.at = start

    def advance(self, *, minutes: float = 0, seconds: float = 0) -> datetime:
        self.at += timedelta(minutes=minutes, seconds=seconds)
        return self.at


def candidate_only_at_baseline(url: str, endpoint: Any) -> Any:
    """The endpoint with all traffic on v0 (the candidate v1 deployed but idle), as a plan
    starts: set through the console, then refreshed into the inventory."""
    sm = console(url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0},
            {"VariantName": "v1", "DesiredWeight": 0.0},
        ],
    )
    wait_for_status(sm, endpoint.name, "InService")
    return refreshed(endpoint)


def propose_and_approve(
    people: Any, endpoint: Any, clock: SimClock, spec: dict[str, Any] | None = None
) -> ShiftProposal:
    proposal = services.plan_propose(
        endpoint_id=endpoint.pk,
        actor=people.operator,
        spec=spec or GOOD_PLAN,
        reason="Roll v1 out",
        now=clock.at,
    )
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver, now=clock.at)
    return proposal


def tick(proposal: ShiftProposal, clock: SimClock) -> str:
    return services.plan_tick(proposal_id=proposal.pk, now=clock.at)


def run_of(proposal: ShiftProposal) -> PlanRun:
    return PlanRun.objects.get(proposal_id=proposal.pk)


def go_live(url: str, proposal: ShiftProposal, clock: SimClock) -> str:
    """Send the current step, wait (wall clock) for the sandbox's Updating window, and let
    the next tick see the step live."""
    sent = tick(proposal, clock)
    assert sent.startswith("sent step"), sent
    wait_for_status(console(url), proposal.endpoint.name, "InService")
    live = tick(proposal, clock)
    assert live.startswith("live"), live
    return live


def traffic(url: str, endpoint: Any, clock: SimClock, *, minutes: int, per_minute: int) -> None:
    """Replay `per_minute` requests into each of the next `minutes` minutes, then move the
    clock past them."""
    for _ in range(minutes):
        replay_traffic(
            url,
            endpoint=endpoint.name,
            requests=per_minute,
            at=clock.at.astimezone(UTC).timestamp() + 1,
        )
        clock.advance(minutes=1)


def weights_in_aws(url: str, name: str) -> dict[str, float]:
    """CurrentWeight per variant, as DescribeEndpoint answers now."""
    described = console(url).describe_endpoint(EndpointName=name)
    return {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}
