"""Applying approved shifts against the sandbox: the update is sent once, verified by
re-reading the endpoint, and refused when the world moved under the proposal."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from endpoints.models import Variant
from endpoints.services import endpoint_refresh
from shifts import services, tasks
from shifts.models import ShiftState
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import console, reload, settle, update_calls

pytestmark = pytest.mark.django_db


def _variants(url: str, name: str) -> dict[str, dict]:
    described = console(url).describe_endpoint(EndpointName=name)
    return {v["VariantName"]: v for v in described["ProductionVariants"]}


def _propose_and_approve(live, people, run_commits, desired=None):
    proposal = services.shift_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        desired=desired or {"v0": 75, "v1": 25},
        reason="v1 is the canary",
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    return proposal


def test_broker_down_at_approval_answers_at_once_and_the_shift_applies_once_it_is_back(
    live, people, aws_sandbox, held_tasks, client, broker_down, django_capture_on_commit_callbacks
):
    proposal = services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 75, "v1": 25}, reason="canary"
    )
    client.force_login(people.approver)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("shifts:approve", args=[proposal.pk]))
    assert time.monotonic() - started < 2
    assert response.status_code == 302
    assert reload(proposal).state == ShiftState.APPROVED  # kept, though nothing was queued

    from opsportal.celery import app

    app.conf.update(task_always_eager=True)  # the broker is back
    later = timezone.now() + timedelta(seconds=django_settings.OPSPORTAL_SHIFT_STUCK_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.shift_resume_stuck(now=later) == 1
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
    applied = _variants(aws_sandbox.url, live.name)
    assert {n: v["CurrentWeight"] for n, v in applied.items()} == {"v0": 75.0, "v1": 25.0}


def test_approved_shift_is_applied_once_and_verified(
    live, people, aws_sandbox, held_tasks, run_commits
):
    calls = update_calls()
    proposal = _propose_and_approve(live, people, run_commits)
    sent = reload(proposal)
    assert sent.state == ShiftState.APPLYING and sent.aws_request_id
    # Until the poll runs, AWS shows the request as desired and the old weights as current.
    during = _variants(aws_sandbox.url, live.name)
    assert (during["v0"]["DesiredWeight"], during["v0"]["CurrentWeight"]) == (75.0, 1.0)
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED
    assert update_calls() == calls + 1
    after = _variants(aws_sandbox.url, live.name)
    assert {n: v["CurrentWeight"] for n, v in after.items()} == {"v0": 75.0, "v1": 25.0}
    assert {n: v["CurrentInstanceCount"] for n, v in after.items()} == {"v0": 1, "v1": 1}
    assert done.observed_weights == {"v0": 75.0, "v1": 25.0}
    # The inventory was refreshed, so pages and the next proposal start from the new split.
    assert Variant.objects.get(endpoint=live, name="v0").current_weight == 75.0
    # The proposer hears about the approval and the outcome.
    heard = [m.subject.rsplit(": ", 1)[1] for m in mail.outbox if m.to == ["operator@example.com"]]
    assert heard == ["approved", "applied"]
    applied = AuditEntry.objects.get(action="shift.applied")
    assert applied.actor_id is None and applied.after["aws_request_id"] == done.aws_request_id
    assert applied.before["weights"] == {"v0": 1.0, "v1": 1.0}
    assert [e.to_state for e in done.events.all()] == [
        "pending",
        "approved",
        "applying",
        "applied",
    ]


def test_weights_changed_behind_the_portal_supersede_without_an_update(
    live, people, aws_sandbox, held_tasks, run_commits
):
    proposal = services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 90, "v1": 10}, reason="x"
    )
    # A colleague changes the weights in the AWS console; the inventory has not synced yet.
    sm = console(aws_sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 3.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    wait_for_status(sm, live.name, "InService")
    calls = update_calls()
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    result = reload(proposal)
    assert result.state == ShiftState.SUPERSEDED
    assert update_calls() == calls  # no UpdateEndpointWeightsAndCapacities from the portal
    assert {n: v["CurrentWeight"] for n, v in _variants(aws_sandbox.url, live.name).items()} == {
        "v0": 3.0,
        "v1": 1.0,
    }
    entry = AuditEntry.objects.get(action="shift.supersede")
    assert entry.after["live_weights"] == {"v0": 3.0, "v1": 1.0}


def test_synced_change_supersedes_at_approval_time(live, people, aws_sandbox, run_commits):
    proposal = services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 90, "v1": 10}, reason="x"
    )
    sm = console(aws_sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 2.0, "DesiredInstanceCount": 1},
        ],
    )
    wait_for_status(sm, live.name, "InService")
    endpoint_refresh(endpoint_id=live.pk)  # the inventory sync saw the change
    calls = update_calls()
    result = run_commits(
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    )
    assert result.state == ShiftState.SUPERSEDED
    assert not result.approvals.exists()  # the approval was never recorded
    assert update_calls() == calls


def test_apply_task_delivered_twice_sends_one_update(
    live, people, run_commits, held_tasks, monkeypatch
):
    monkeypatch.setattr(tasks.shift_apply, "apply_async", lambda **kwargs: None)
    proposal = _propose_and_approve(live, people, run_commits)
    assert reload(proposal).state == ShiftState.APPROVED
    calls = update_calls()
    first = run_commits(lambda: tasks.shift_apply.apply(args=[proposal.pk]).get())
    second = run_commits(lambda: tasks.shift_apply.apply(args=[proposal.pk]).get())
    assert first.startswith("sent") and second == "nothing to do: applying"
    # And the beat sweeper re-enqueueing it later changes nothing either.
    assert services.shift_apply(proposal_id=proposal.pk).startswith("nothing to do")
    assert update_calls() == calls + 1
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED


def test_waits_for_in_service_then_applies(live, people, aws_sandbox, held_tasks, run_commits):
    # Autoscaling is resizing v1: Updating, weights untouched.
    sm = console(aws_sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 2},
        ],
    )
    proposal = _propose_and_approve(live, people, run_commits)
    waiting = reload(proposal)
    assert waiting.state == ShiftState.APPROVED and waiting.update_sent_at is None
    assert len(held_tasks) == 1  # a retry with countdown, not a sleeping worker
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED
    # The count autoscaling chose is sent back unchanged with the new weights.
    assert _variants(aws_sandbox.url, live.name)["v1"]["CurrentInstanceCount"] == 2


def test_not_in_service_until_the_deadline_fails(live, people, aws_sandbox, run_commits, settings):
    settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS = 0
    console(aws_sandbox.url).update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 2},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    calls = update_calls()
    proposal = _propose_and_approve(live, people, run_commits)
    failed = reload(proposal)
    assert failed.state == ShiftState.FAILED
    assert "Updating, not InService" in failed.error
    assert update_calls() == calls
    assert AuditEntry.objects.get(action="shift.apply", outcome="failed").error == failed.error


def test_deleted_endpoint_fails_with_the_aws_error(live, people, aws_sandbox, run_commits):
    console(aws_sandbox.url).delete_endpoint(EndpointName=live.name)
    proposal = _propose_and_approve(live, people, run_commits)
    failed = reload(proposal)
    assert failed.state == ShiftState.FAILED
    assert "no longer exists" in failed.error and "Could not find endpoint" in failed.error


def test_approvals_too_old_when_the_apply_finally_runs_expire(
    live, people, run_commits, monkeypatch, clock
):
    monkeypatch.setattr(tasks.shift_apply, "apply_async", lambda **kwargs: None)  # broker down
    proposal = _propose_and_approve(live, people, run_commits)
    clock.advance(hours=django_settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS, seconds=1)
    calls = update_calls()
    assert services.shift_apply(proposal_id=proposal.pk) == "expired"
    assert reload(proposal).state == ShiftState.EXPIRED
    assert update_calls() == calls
