"""Concurrency for every change type, with real commits: two approvals landing at once and
an apply task delivered twice at once still make exactly one AWS write (as for traffic
shifts in test_race.py)."""

from __future__ import annotations

import uuid

import pytest

from core.aws import clients
from core.errors import Conflict
from shifts import services, tasks
from shifts.models import ChangeType, ShiftApproval, ShiftState
from tests.shifts.helpers import console, reload, settle
from tests.shifts.test_race import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def _deploy_spec(url: str, endpoint_name: str) -> dict:
    sm = console(url)
    config = sm.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"
    ]
    described = sm.describe_model(ModelName=model)
    new = f"race-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=new,
        PrimaryContainer=described["PrimaryContainer"],
        ExecutionRoleArn=described["ExecutionRoleArn"],
    )
    return {"variant": "v1", "model": new}


CASES = {
    ChangeType.CAPACITY: (
        lambda url, name: {"capacity": {"v1": {"instances": 2}}},
        ("sagemaker", "UpdateEndpointWeightsAndCapacities"),
    ),
    ChangeType.AUTOSCALING: (
        lambda url, name: {
            "variant": "v0",
            "action": "target",
            "min_capacity": 1,
            "max_capacity": 2,
        },
        ("application-autoscaling", "RegisterScalableTarget"),
    ),
    ChangeType.DEPLOY: (_deploy_spec, ("sagemaker", "UpdateEndpoint")),
}


@pytest.mark.parametrize("change", list(CASES))
def test_two_approvals_at_once_make_one_write(change, live, people, aws_sandbox, held_tasks):
    make_spec, call = CASES[change]
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=change,
        spec=make_spec(aws_sandbox.url, live.name),
        reason="race",
    )
    before = clients.call_counts()[call]
    results = at_once(
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver),
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver2),
    )
    assert len([r for r in results if isinstance(r, Conflict)]) == 1, results
    assert ShiftApproval.objects.filter(proposal=proposal).count() == 1
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
    assert clients.call_counts()[call] == before + 1


@pytest.mark.parametrize("change", list(CASES))
def test_apply_task_delivered_twice_at_once_makes_one_write(
    change, live, people, aws_sandbox, held_tasks, monkeypatch
):
    make_spec, call = CASES[change]
    monkeypatch.setattr(tasks.shift_apply, "apply_async", lambda **kwargs: None)
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=change,
        spec=make_spec(aws_sandbox.url, live.name),
        reason="race",
    )
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    assert reload(proposal).state == ShiftState.APPROVED
    before = clients.call_counts()[call]
    results = at_once(
        lambda: tasks.shift_apply.apply(args=[proposal.pk], throw=True).get(),
        lambda: tasks.shift_apply.apply(args=[proposal.pk], throw=True).get(),
    )
    assert sorted(r.split(":")[0] for r in results) == ["nothing to do", "sent"], results
    assert clients.call_counts()[call] == before + 1
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
