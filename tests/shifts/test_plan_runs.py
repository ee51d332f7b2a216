"""Staged shifts walked against the sandbox: promoted when the candidate is good, rolled back
at the first step when its errors or latency are worse, extended then paused when there is
too little traffic to judge, paused (without a call) when someone moves the weights."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from sandbox.testing import control
from shifts.models import PauseCause, PlanStatus, ShiftEvent, ShiftState
from shifts.services import plan_runner
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import console, update_calls
from tests.shifts.plan_helpers import (
    GOOD_PLAN,
    SimClock,
    go_live,
    propose_and_approve,
    run_of,
    tick,
    traffic,
    weights_in_aws,
)
from tests.shifts.test_race import at_once
from triage.board import board_entry
from triage.timeline import shift_markers

pytestmark = pytest.mark.django_db


def fault(url: str, body: dict) -> None:
    status, answer = control(url, "faults", "POST", body)
    assert status == 200, answer


def test_a_good_candidate_is_promoted_through_every_step(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    calls = update_calls()
    for step in (1, 2):
        go_live(url, proposal, clock)
        assert weights_in_aws(url, plan_endpoint.name)["v1"] == pytest.approx(
            {1: 0.1, 2: 0.5}[step]
        )
        traffic(url, plan_endpoint, clock, minutes=3, per_minute=3000)
        assert tick(proposal, clock) == f"passed step {step}"
    go_live(url, proposal, clock)
    assert tick(proposal, clock) == "promoted"

    run = run_of(proposal)
    proposal.refresh_from_db()
    assert run.status == PlanStatus.PROMOTED and proposal.state == ShiftState.APPLIED
    assert update_calls() == calls + 3  # one call per step, nothing else
    assert weights_in_aws(url, plan_endpoint.name) == {"v0": 0.0, "v1": 1.0}
    passed = ShiftEvent.objects.filter(proposal=proposal, action="plan.passed")
    assert [e.detail["verdict"]["outcome"] for e in passed] == ["pass", "pass"]
    gates = {g["gate"] for g in passed[0].detail["verdict"]["gates"]}
    assert {"traffic", "error_rate", "latency_p99"} <= gates


def test_a_candidate_failing_with_5xx_is_rolled_back_at_its_first_step(
    plan_endpoint, people, aws_sandbox, client
):
    url, clock = aws_sandbox.url, SimClock()
    fault(url, {"endpoint": plan_endpoint.name, "variant": "v1", "error_rate": 0.5})
    proposal = propose_and_approve(people, plan_endpoint, clock)
    calls = update_calls()
    go_live(url, proposal, clock)
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=1000)
    outcome = tick(proposal, clock)
    assert outcome == "rolling back: gate", run_of(proposal).last_verdict
    assert tick(proposal, clock) == "rolled back"

    run = run_of(proposal)
    proposal.refresh_from_db()
    assert run.status == PlanStatus.ROLLED_BACK and run.step == 0
    assert proposal.state == ShiftState.FAILED
    assert update_calls() == calls + 2  # the step, then the rollback
    wait_for_status(console(url), plan_endpoint.name, "InService")
    assert weights_in_aws(url, plan_endpoint.name) == {"v0": 1.0, "v1": 0.0}
    # The reason carries the gate's numbers: B's 5XX rate against A's, and the window.
    assert (
        "v1 5XX" in run.outcome
        and "v0 0" in run.outcome
        and "rolling back to v0 100 %" in (run.outcome)
    )
    decision = ShiftEvent.objects.get(proposal=proposal, action="plan.rollback")
    failed = [g for g in decision.detail["verdict"]["gates"] if g["verdict"] == "fail"]
    assert [g["gate"] for g in failed] == ["error_rate"]
    # On call sees it: on the incident board and on the endpoint's timeline, with the numbers.
    entry = board_entry(endpoint=plan_endpoint)
    assert entry is not None
    assert any(s.kind == "plan" and "v1 5XX" in s.text for s in entry.signals)
    markers = shift_markers(plan_endpoint, clock.at - timedelta(hours=1), timezone.now())
    titles = [m.title for m in markers]
    assert f"Staged shift #{proposal.pk}: step 1 live" in titles
    rolled = next(m for m in markers if m.title == f"Staged shift #{proposal.pk} rolled back")
    assert "v1 5XX" in rolled.detail and rolled.severity == "bad"
    # The plan's chart: v1's 5XX rate against v0's, with the step and the rollback marked.
    client.force_login(people.viewer)
    chart = client.get(reverse("shifts:plan_chart", args=[proposal.pk]))
    assert chart.status_code == 200
    html = chart.content.decode()
    series = json.loads(unescape(html.split('data-series="')[1].split('"')[0]))
    marks = json.loads(unescape(html.split('data-boundaries="')[1].split('"')[0]))
    errors = next(s for s in series if s["name"] == "v1 5XX")
    assert max(v for v in errors["y"] if v is not None) > 20  # percent
    assert [m["label"] for m in marks] == ["live 1", "rolled back"]


def test_a_slow_candidate_is_rolled_back_on_the_latency_gate(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    fault(url, {"endpoint": plan_endpoint.name, "variant": "v1", "latency_ms": 400})
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=1000)
    assert tick(proposal, clock) == "rolling back: gate"
    decision = ShiftEvent.objects.get(proposal=proposal, action="plan.rollback")
    failed = {g["gate"] for g in decision.detail["verdict"]["gates"] if g["verdict"] == "fail"}
    assert "latency_p99" in failed and "error_rate" not in failed
    assert "p99" in decision.comment


def test_too_little_traffic_extends_the_bake_then_pauses(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    spec = {**GOOD_PLAN, "gates": {"min_invocations": 200}, "max_extensions": 1}
    proposal = propose_and_approve(people, plan_endpoint, clock, spec)
    go_live(url, proposal, clock)
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=100)  # ~10 a minute on v1
    assert tick(proposal, clock) == "extended"
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=100)
    assert tick(proposal, clock) == "paused: traffic"
    run = run_of(proposal)
    assert run.status == PlanStatus.PAUSED and run.pause_cause == PauseCause.TRAFFIC
    assert "Too little traffic" in run.pause_reason and "200" in run.pause_reason
    # Traffic stays where the step put it: pausing moves nothing.
    assert weights_in_aws(url, plan_endpoint.name)["v1"] == pytest.approx(0.1)


def test_weights_moved_outside_the_portal_pause_the_plan_without_a_call(
    plan_endpoint, people, aws_sandbox
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    sm = console(url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=plan_endpoint.name,
        DesiredWeightsAndCapacities=[{"VariantName": "v1", "DesiredWeight": 0.6}],
    )
    calls = update_calls()
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=100)
    assert tick(proposal, clock) == "paused: moved"
    run = run_of(proposal)
    assert run.pause_cause == PauseCause.MOVED
    assert run.pause_reason.startswith("Weights moved outside the portal: plan paused")
    assert update_calls() == calls
    assert tick(proposal, clock) == "nothing to do: paused"


@pytest.mark.django_db(transaction=True)
def test_a_step_is_sent_once_when_its_task_is_delivered_four_times(
    plan_endpoint, people, aws_sandbox, broker_down
):
    """Real commits, one connection per thread; the broker is down, so nothing but these
    four deliveries runs the plan."""
    clock = SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    calls = update_calls()
    outcomes = at_once(*[lambda: tick(proposal, clock)] * 4)
    assert sum(str(o).startswith("sent step 1") for o in outcomes) == 1, outcomes
    assert update_calls() == calls + 1
    assert run_of(proposal).step_sent_at is not None


def kill_the_call(monkeypatch) -> None:
    """The worker dies where the step's call would go out: after its marker committed."""

    def killed(**_kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(plan_runner.aws_traffic, "update_weights", killed)


def test_a_worker_killed_after_marking_the_step_resumes_it_with_one_call(
    plan_endpoint, people, aws_sandbox, monkeypatch, settings
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    kill_the_call(monkeypatch)
    with pytest.raises(SystemExit):
        tick(proposal, clock)
    monkeypatch.undo()
    calls = update_calls()
    # Redelivered at once: the step is marked sent and may still be on its way.
    assert tick(proposal, clock) == "waiting: not applied yet"
    assert update_calls() == calls
    # Past the settle time the endpoint is InService with the weights from before the step:
    # nothing took, so the step goes out again, once, and the log says why.
    clock.advance(seconds=settings.OPSPORTAL_PLAN_SETTLE_SECONDS + 1)
    assert tick(proposal, clock).startswith("resent step 1")
    assert update_calls() == calls + 1
    resend = ShiftEvent.objects.get(proposal=proposal, action="plan.resend")
    assert "never took" in resend.comment and "v0 100 %" in resend.comment
    assert "Sending it once more" in resend.comment
    # Delivered again while the resent step is Updating: no third call.
    assert tick(proposal, clock).startswith("waiting")
    wait_for_status(console(url), plan_endpoint.name, "InService")
    assert tick(proposal, clock) == "live: step 1"
    assert update_calls() == calls + 1
    assert weights_in_aws(url, plan_endpoint.name)["v1"] == pytest.approx(0.1)
    # And the plan goes on from the step it was on.
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=3000)
    assert tick(proposal, clock) == "passed step 1"
    go_live(url, proposal, clock)
    assert update_calls() == calls + 2


def test_a_step_lost_twice_pauses_the_plan(
    plan_endpoint, people, aws_sandbox, monkeypatch, settings
):
    clock = SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    kill_the_call(monkeypatch)
    with pytest.raises(SystemExit):
        tick(proposal, clock)
    clock.advance(seconds=settings.OPSPORTAL_PLAN_SETTLE_SECONDS + 1)
    with pytest.raises(SystemExit):
        tick(proposal, clock)  # the resend, killed too
    monkeypatch.undo()
    calls = update_calls()
    assert tick(proposal, clock) == "waiting: not applied yet"
    clock.advance(seconds=settings.OPSPORTAL_PLAN_SETTLE_SECONDS + 1)
    assert tick(proposal, clock) == "paused: not taken"
    assert update_calls() == calls
    run = run_of(proposal)
    assert run.pause_cause == PauseCause.NOT_TAKEN
    assert "did not take (sent twice)" in run.pause_reason


def test_a_lost_step_is_not_resent_while_the_endpoint_shows_other_weights(
    plan_endpoint, people, aws_sandbox, monkeypatch, settings
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    kill_the_call(monkeypatch)
    with pytest.raises(SystemExit):
        tick(proposal, clock)
    monkeypatch.undo()
    sm = console(url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=plan_endpoint.name,
        DesiredWeightsAndCapacities=[{"VariantName": "v1", "DesiredWeight": 0.4}],
    )
    calls = update_calls()
    clock.advance(seconds=settings.OPSPORTAL_PLAN_SETTLE_SECONDS + 1)
    assert tick(proposal, clock) == "paused: moved"
    assert update_calls() == calls
    assert not ShiftEvent.objects.filter(proposal=proposal, action="plan.resend").exists()
