"""Each change type end to end against the sandbox: proposed by an Operator, approved by
an Approver, applied once, and verified by reading AWS back; bound to the state it was
proposed against (superseded, with no AWS call, when that state moved); refused when its
checks or the two-person rule say no."""

from __future__ import annotations

import uuid

import pytest

from core.aws import clients
from core.errors import Invalid, Refused
from shifts import services
from shifts.models import ChangeType, ShiftProposal, ShiftState
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import autoscaling, console, refreshed, reload, settle

pytestmark = pytest.mark.django_db

DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def calls(service: str, operation: str) -> int:
    return clients.call_counts()[(service, operation)]


def propose_and_approve(live, people, run_commits, change, spec) -> ShiftProposal:
    proposal = services.change_propose(
        endpoint_id=live.pk, actor=people.operator, change=change, spec=spec, reason="on call"
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    return proposal


def variants(url: str, name: str) -> dict[str, dict]:
    described = console(url).describe_endpoint(EndpointName=name)
    return {v["VariantName"]: v for v in described["ProductionVariants"]}


# --- capacity ---------------------------------------------------------------------------


def test_capacity_change_is_applied_once_and_verified(
    live, people, aws_sandbox, held_tasks, run_commits
):
    before = calls("sagemaker", "UpdateEndpointWeightsAndCapacities")
    proposal = propose_and_approve(
        live, people, run_commits, ChangeType.CAPACITY, {"capacity": {"v0": {"instances": 2}}}
    )
    assert proposal.before_state["capacity"]["v0"]["instances"] == 1
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED, done.error
    assert calls("sagemaker", "UpdateEndpointWeightsAndCapacities") == before + 1
    after = variants(aws_sandbox.url, live.name)
    assert {n: v["CurrentInstanceCount"] for n, v in after.items()} == {"v0": 2, "v1": 1}
    # Traffic is left where it was.
    assert {n: v["CurrentWeight"] for n, v in after.items()} == {"v0": 1.0, "v1": 1.0}
    assert done.observed_state == {"capacity": {"v0": {"instances": 2}, "v1": {"instances": 1}}}
    assert [e.to_state for e in done.events.all()] == ["pending", "approved", "applying", "applied"]


def test_capacity_change_cannot_be_approved_by_its_proposer(live, people):
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.admin,
        change=ChangeType.CAPACITY,
        spec={"capacity": {"v1": {"instances": 3}}},
        reason="more room",
    )
    with pytest.raises(Refused, match="cannot approve your own"):
        services.shift_approve(proposal_id=proposal.pk, actor=people.admin)
    assert reload(proposal).state == ShiftState.PENDING


def test_capacity_moved_by_someone_else_supersedes_without_an_update(
    live, people, aws_sandbox, held_tasks, run_commits
):
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.CAPACITY,
        spec={"capacity": {"v0": {"instances": 2}}},
        reason="x",
    )
    # Auto scaling (or a colleague) resizes v1 before the approval; the inventory lags.
    console(aws_sandbox.url).update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 2}
        ],
    )
    before = calls("sagemaker", "UpdateEndpointWeightsAndCapacities")
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    done = reload(proposal)
    assert done.state == ShiftState.SUPERSEDED
    assert calls("sagemaker", "UpdateEndpointWeightsAndCapacities") == before
    assert "capacity or weights in AWS changed" in done.events.last().comment


def test_capacity_beyond_the_endpoint_usage_quota_is_refused_in_aws_words(live, people):
    with pytest.raises(Invalid) as refused:
        services.change_propose(
            endpoint_id=live.pk,
            actor=people.operator,
            change=ChangeType.CAPACITY,
            spec={"capacity": {"v0": {"instances": 1000}}},
            reason="x",
        )
    message = refused.value.message
    assert "ResourceLimitExceeded" in message
    assert "'ml.m5.large for endpoint usage' is 1000 Instances" in message
    assert "request delta of 999 Instances" in message
    assert not ShiftProposal.objects.filter(endpoint=live).exists()


def test_capacity_that_changes_nothing_or_is_not_a_count_is_refused(live, people):
    for spec, words in [
        ({"capacity": {"v0": {"instances": 1}}}, "Nothing would change"),
        ({"capacity": {"v0": {"instances": "two"}}}, "whole number"),
        ({"capacity": {"v0": {"instances": 0}}}, "from 1 to 1000"),
        ({"capacity": {"nope": {"instances": 2}}}, "Unknown variant"),
    ]:
        with pytest.raises(Invalid, match=words):
            services.change_propose(
                endpoint_id=live.pk,
                actor=people.operator,
                change=ChangeType.CAPACITY,
                spec=spec,
                reason="x",
            )


# --- auto scaling -----------------------------------------------------------------------


def test_auto_scaling_target_policy_and_suspension_each_applied_and_verified(
    live, people, aws_sandbox, held_tasks, run_commits
):
    aas = autoscaling(aws_sandbox.url)
    resource = f"endpoint/{live.name}/variant/v0"
    registered = calls("application-autoscaling", "RegisterScalableTarget")

    target = propose_and_approve(
        live,
        people,
        run_commits,
        ChangeType.AUTOSCALING,
        {"variant": "v0", "action": "target", "min_capacity": 1, "max_capacity": 3},
    )
    assert settle(held_tasks, target).state == ShiftState.APPLIED
    assert calls("application-autoscaling", "RegisterScalableTarget") == registered + 1
    (found,) = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])[
        "ScalableTargets"
    ]
    assert (found["MinCapacity"], found["MaxCapacity"]) == (1, 3)

    live = refreshed(live)
    policy = propose_and_approve(
        live,
        people,
        run_commits,
        ChangeType.AUTOSCALING,
        {
            "variant": "v0",
            "action": "policy",
            "policy": {
                "name": "invocations",
                "target_value": 70,
                "scale_in_cooldown": 300,
                "scale_out_cooldown": 60,
                "disable_scale_in": False,
            },
        },
    )
    assert settle(held_tasks, policy).state == ShiftState.APPLIED
    (made,) = aas.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)[
        "ScalingPolicies"
    ]
    tracking = made["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 70.0 and tracking["ScaleOutCooldown"] == 60
    assert len(made["Alarms"]) == 2  # AlarmHigh and AlarmLow

    live = refreshed(live)
    suspend = propose_and_approve(
        live, people, run_commits, ChangeType.AUTOSCALING, {"variant": "v0", "action": "suspend"}
    )
    assert settle(held_tasks, suspend).state == ShiftState.APPLIED
    (found,) = aas.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])[
        "ScalableTargets"
    ]
    assert found["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": True,
        "ScheduledScalingSuspended": True,
    }
    assert (found["MinCapacity"], found["MaxCapacity"]) == (1, 3)  # bounds kept


def test_auto_scaling_changed_behind_the_portal_supersedes_without_a_call(
    live, people, aws_sandbox, held_tasks, run_commits
):
    aas = autoscaling(aws_sandbox.url)
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.AUTOSCALING,
        spec={"variant": "v1", "action": "target", "min_capacity": 1, "max_capacity": 4},
        reason="x",
    )
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{live.name}/variant/v1",
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=2,
    )
    registered = calls("application-autoscaling", "RegisterScalableTarget")
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    done = reload(proposal)
    assert done.state == ShiftState.SUPERSEDED
    assert calls("application-autoscaling", "RegisterScalableTarget") == registered
    assert done.events.last().comment.startswith("The auto scaling settings in AWS changed")


def test_auto_scaling_policy_before_a_target_is_refused(live, people):
    with pytest.raises(Invalid, match="no scalable target; set its minimum and maximum first"):
        services.change_propose(
            endpoint_id=live.pk,
            actor=people.operator,
            change=ChangeType.AUTOSCALING,
            spec={"variant": "v0", "action": "suspend"},
            reason="x",
        )


def test_suspending_scaling_is_an_emergency_action_for_an_admin(
    live, people, aws_sandbox, held_tasks, run_commits
):
    aas = autoscaling(aws_sandbox.url)
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{live.name}/variant/v0",
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=2,
    )
    live = refreshed(live)
    with pytest.raises(Refused):
        services.change_emergency(
            endpoint_id=live.pk,
            actor=people.operator,
            change=ChangeType.AUTOSCALING,
            spec={"variant": "v0", "action": "suspend"},
            reason="flapping",
        )
    emergency = run_commits(
        lambda: services.change_emergency(
            endpoint_id=live.pk,
            actor=people.admin,
            change=ChangeType.AUTOSCALING,
            spec={"variant": "v0", "action": "suspend"},
            reason="variant v0 flaps between 1 and 2 during the incident",
        )
    )
    done = settle(held_tasks, emergency)
    assert done.state == ShiftState.APPLIED and done.needs_acknowledgement
    (found,) = aas.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[f"endpoint/{live.name}/variant/v0"]
    )["ScalableTargets"]
    assert found["SuspendedState"]["DynamicScalingOutSuspended"] is True


# --- deploy and rollback ----------------------------------------------------------------


def copy_of_model(url: str, name: str) -> str:
    """A second version of the endpoint's model (same artifacts under a new name)."""
    sm = console(url)
    described = sm.describe_model(ModelName=name)
    new = f"v2-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=new,
        PrimaryContainer=described["PrimaryContainer"],
        ExecutionRoleArn=described["ExecutionRoleArn"],
    )
    return new


def test_model_version_deploy_clones_the_config_and_rollback_returns_to_it(
    live, people, aws_sandbox, held_tasks, run_commits
):
    sm = console(aws_sandbox.url)
    old_config = sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    old = sm.describe_endpoint_config(EndpointConfigName=old_config)
    old_model = old["ProductionVariants"][0]["ModelName"]
    new_model = copy_of_model(aws_sandbox.url, old_model)
    updates = calls("sagemaker", "UpdateEndpoint")

    deploy = propose_and_approve(
        live,
        people,
        run_commits,
        ChangeType.DEPLOY,
        {"variant": "v0", "model": new_model, "deployment": {"strategy": "ALL_AT_ONCE"}},
    )
    assert deploy.before_state == {"config_name": old_config}
    done = settle(held_tasks, deploy)
    assert done.state == ShiftState.APPLIED, done.error
    assert calls("sagemaker", "UpdateEndpoint") == updates + 1
    described = sm.describe_endpoint(EndpointName=live.name)
    new_config = described["EndpointConfigName"]
    assert new_config == f"{live.name}-cr{deploy.pk}"
    cloned = sm.describe_endpoint_config(EndpointConfigName=new_config)
    by_name = {v["VariantName"]: v for v in cloned["ProductionVariants"]}
    assert by_name["v0"]["ModelName"] == new_model
    # Everything else is kept as it was.
    assert by_name["v1"] == {v["VariantName"]: v for v in old["ProductionVariants"]}["v1"]
    assert {k: v for k, v in by_name["v0"].items() if k != "ModelName"} == {
        k: v for k, v in old["ProductionVariants"][0].items() if k != "ModelName"
    }

    live = refreshed(live)
    rollback = propose_and_approve(
        live,
        people,
        run_commits,
        ChangeType.ROLLBACK,
        {"config_name": old_config, "deployment": {"strategy": "ALL_AT_ONCE"}},
    )
    assert settle(held_tasks, rollback).state == ShiftState.APPLIED
    assert sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"] == old_config


def test_deploy_of_a_missing_model_or_the_same_model_is_refused(live, people, aws_sandbox):
    sm = console(aws_sandbox.url)
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    )
    same = config["ProductionVariants"][0]["ModelName"]
    for model, words in [("no-such-model", "There is no model"), (same, "Nothing would change")]:
        with pytest.raises(Invalid, match=words):
            services.change_propose(
                endpoint_id=live.pk,
                actor=people.operator,
                change=ChangeType.DEPLOY,
                spec={"variant": "v0", "model": model},
                reason="x",
            )


def test_deploy_after_the_config_moved_is_superseded_without_any_call(
    live, people, aws_sandbox, held_tasks, run_commits
):
    sm = console(aws_sandbox.url)
    old_config = sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    old_model = sm.describe_endpoint_config(EndpointConfigName=old_config)["ProductionVariants"][0][
        "ModelName"
    ]
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.DEPLOY,
        spec={"variant": "v0", "model": copy_of_model(aws_sandbox.url, old_model)},
        reason="x",
    )
    # A CI pipeline deploys another config meanwhile.
    other = f"ci-{uuid.uuid4().hex[:8]}"
    described = sm.describe_endpoint_config(EndpointConfigName=old_config)
    sm.create_endpoint_config(
        EndpointConfigName=other, ProductionVariants=described["ProductionVariants"]
    )
    sm.update_endpoint(EndpointName=live.name, EndpointConfigName=other)
    wait_for_status(sm, live.name, "InService")
    creates = calls("sagemaker", "CreateEndpointConfig")
    updates = calls("sagemaker", "UpdateEndpoint")
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    done = reload(proposal)
    assert done.state == ShiftState.SUPERSEDED
    assert (calls("sagemaker", "CreateEndpointConfig"), calls("sagemaker", "UpdateEndpoint")) == (
        creates,
        updates,
    )
    assert other in done.events.last().comment


def test_approvers_are_told_what_a_change_does(live, people, mailoutbox, run_commits):
    run_commits(
        lambda: services.change_propose(
            endpoint_id=live.pk,
            actor=people.operator,
            change=ChangeType.CAPACITY,
            spec={"capacity": {"v0": {"instances": 3}}},
            reason="holiday traffic",
        )
    )
    (mail,) = [m for m in mailoutbox if m.to == ["approver@example.com"]]
    assert mail.subject.startswith("[Ops Portal] Change #")
    assert "Capacity: v0 1 instance → 3 instances" in mail.body
    assert "Reason: holiday traffic" in mail.body


def test_serverless_concurrency_change_is_applied_and_verified(
    aws_sandbox, people, held_tasks, run_commits
):
    from tests.shifts.helpers import adopt

    sm = console(aws_sandbox.url)
    model = sm.list_models(NameContains="tumor", MaxResults=100)["Models"][0]["ModelName"]
    name = f"sls-{uuid.uuid4().hex[:8]}"
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5},
            }
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(sm, name, "InService")
    endpoint = adopt(name)
    with pytest.raises(
        Invalid, match="provisioned concurrency must be a whole number from 1 to 10"
    ):
        services.change_propose(
            endpoint_id=endpoint.pk,
            actor=people.operator,
            change=ChangeType.CAPACITY,
            spec={
                "capacity": {"AllTraffic": {"max_concurrency": 10, "provisioned_concurrency": 11}}
            },
            reason="x",
        )
    proposal = propose_and_approve(
        endpoint,
        people,
        run_commits,
        ChangeType.CAPACITY,
        {"capacity": {"AllTraffic": {"max_concurrency": 10, "provisioned_concurrency": 2}}},
    )
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED, done.error
    (variant,) = sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    current = variant["CurrentServerlessConfig"]
    assert (current["MaxConcurrency"], current["ProvisionedConcurrency"]) == (10, 2)
    assert current["MemorySizeInMB"] == 2048


def test_a_deploy_costs_one_create_and_one_update_and_polls_read_only_the_endpoint(
    live, people, aws_sandbox, held_tasks, run_commits
):
    sm = console(aws_sandbox.url)
    config = sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"
    ]
    before = clients.call_counts().copy()
    proposal = propose_and_approve(
        live,
        people,
        run_commits,
        ChangeType.DEPLOY,
        {"variant": "v0", "model": copy_of_model(aws_sandbox.url, model)},
    )
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED and done.poll_attempts >= 2
    spent = {
        op: n - before[(svc, op)]
        for (svc, op), n in clients.call_counts().items()
        if svc == "sagemaker" and n != before[(svc, op)]
    }
    assert spent["CreateEndpointConfig"] == 1 and spent["UpdateEndpoint"] == 1
    # The proposal's check that the model exists, and the inventory refresh after the outcome
    # reading the new model's container once (is it multi-model?); never on a poll.
    assert spent["DescribeModel"] == 2
    # The config and its tags are read once to clone them (and once by the inventory
    # refresh after the outcome), not on every poll.
    assert spent["DescribeEndpointConfig"] == 2 and spent["ListTags"] == 2
    assert spent["DescribeEndpoint"] == 1 + done.poll_attempts + 1
