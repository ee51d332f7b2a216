"""The optional Model Monitor gate of a staged shift: a plan that opts in is rolled back when
a Model Monitor run finished since the step went live reports constraint violations, with
the schedule, the run's time and the features in its words; runs from before the step, and
plans that did not opt in, are not judged on them. No AWS call: the runs are the ones the
monitoring sync stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import MonitoringExecution, MonitoringSchedule
from shifts.models import PlanStatus, ShiftEvent, ShiftProposal
from shifts.monitor_gate import MonitorRun, model_monitor_gate
from tests.shifts.helpers import update_calls
from tests.shifts.plan_helpers import (
    GOOD_PLAN,
    SimClock,
    go_live,
    propose_and_approve,
    run_of,
    tick,
    traffic,
)
from tests.shifts.test_plan_views import FORM

pytestmark = pytest.mark.django_db

WATCHED = {**GOOD_PLAN, "gates": {"min_invocations": 50, "model_monitor": True}}


def monitor_run(endpoint, at: datetime, features: list[str]) -> MonitoringExecution:
    """A finished run of the endpoint's data-quality schedule, as the monitoring sync stores
    it, with one violation per feature (none: a clean run)."""
    schedule, _ = MonitoringSchedule.objects.get_or_create(
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=f"{endpoint.name}-data-quality",
        defaults={
            "target": "sandbox",
            "endpoint_name": endpoint.name,
            "status": "Scheduled",
            "synced_at": timezone.now(),
        },
    )
    execution = MonitoringExecution.objects.create(
        schedule=schedule,
        scheduled_time=at,
        status="CompletedWithViolations" if features else "Completed",
        violation_count=len(features),
        report_read_at=timezone.now(),
    )
    for feature in features:
        execution.violations.create(feature_name=feature, check_type="baseline_drift_check")
    return execution


def test_a_violation_since_the_step_went_live_rolls_the_plan_back(
    plan_endpoint, people, aws_sandbox
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock, WATCHED)
    calls = update_calls()
    # Found before the plan: the data it judged was captured before the step.
    monitor_run(plan_endpoint, clock.at - timedelta(minutes=10), ["age"])
    go_live(url, proposal, clock)
    monitor_run(plan_endpoint, clock.at + timedelta(seconds=20), [])
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=1000)  # v1 serves well
    # Nothing new yet: the gate passes with what it saw, and the plan bakes on.
    assert tick(proposal, clock).startswith("baking")
    gate = next(g for g in run_of(proposal).last_verdict["gates"] if g["gate"] == "model_monitor")
    assert gate["verdict"] == "pass" and gate["value"] == "no violations in 1 run"

    found = monitor_run(plan_endpoint, clock.at, ["income", "postcode"])
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=1000)
    assert tick(proposal, clock) == "rolling back: gate"
    decision = ShiftEvent.objects.get(proposal=proposal, action="plan.rollback")
    failed = [g for g in decision.detail["verdict"]["gates"] if g["verdict"] == "fail"]
    assert [g["gate"] for g in failed] == ["model_monitor"]
    at = found.scheduled_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    words = f"{plan_endpoint.name}-data-quality at {at}: 2 violations (income, postcode)"
    assert failed[0]["value"] == words
    assert "judges the endpoint, not the candidate alone" in failed[0]["reason"]
    assert words in decision.comment and "Model Monitor violations" in decision.comment
    assert "age" not in decision.comment
    assert tick(proposal, clock) == "rolled back"
    assert run_of(proposal).status == PlanStatus.ROLLED_BACK
    assert update_calls() == calls + 2


def test_without_the_opt_in_violations_do_not_gate_the_plan(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    monitor_run(plan_endpoint, clock.at + timedelta(seconds=20), ["income"])
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=3000)
    assert tick(proposal, clock) == "passed step 1"
    gates = {g["gate"] for g in run_of(proposal).last_verdict["gates"]}
    assert "model_monitor" not in gates


def test_the_gate_names_each_violating_run_and_passes_when_none_finished():
    at = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    features = tuple(f"f{n}" for n in range(7))
    runs = [
        MonitorRun("dq", at, "Completed", 0, ()),
        MonitorRun("dq", at + timedelta(hours=1), "CompletedWithViolations", 7, features),
        MonitorRun("bias", at, "CompletedWithViolations", None, ()),
    ]
    failed = model_monitor_gate(runs=runs)
    assert failed.verdict == "fail"
    assert failed.value == (
        "dq at 2026-12-04 11:00 UTC: 7 violations (f0, f1, f2, f3, f4 and 2 more); "
        "bias at 2026-12-04 10:00 UTC: violations (report not read yet)"
    )
    quiet = model_monitor_gate(runs=[])
    assert quiet.verdict == "pass" and quiet.value == "no run finished since the step went live"


def test_the_form_opts_in_and_the_plan_says_it_judges_the_endpoint(client, people, endpoint):
    client.force_login(people.operator)
    form = client.get(reverse("shifts:plan_propose", args=[endpoint.pk])).content.decode()
    assert 'name="model_monitor"' in form and "not the candidate alone" in form
    response = client.post(
        reverse("shifts:plan_propose", args=[endpoint.pk]), FORM | {"model_monitor": "on"}
    )
    assert response.status_code == 302
    proposal = ShiftProposal.objects.get(endpoint=endpoint)
    assert proposal.spec["gates"]["model_monitor"] is True
    detail = client.get(response["Location"]).content.decode()
    assert "no new Model Monitor violations on the endpoint" in detail
    proposal.delete()
    client.post(reverse("shifts:plan_propose", args=[endpoint.pk]), FORM)
    assert ShiftProposal.objects.get(endpoint=endpoint).spec["gates"]["model_monitor"] is False
