"""People on a running staged shift: pause and abort by any Operator, resume and promote by
an Approver other than the proposer, every refusal and every action audited; an open
incident holds a plan back; a broker outage at a step boundary only delays it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from core.errors import Conflict, Invalid, Refused
from monitoring.models import Alarm
from shifts import selectors, services
from shifts.models import PauseCause, PlanStatus, ShiftEvent, ShiftState
from shifts.selectors import plan_view
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
from triage.incidents import incident_move, incidents_sync
from triage.models import Incident

pytestmark = pytest.mark.django_db


def test_an_operator_aborts_a_running_plan_and_it_rolls_back_in_one_call(
    plan_endpoint, people, aws_sandbox
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    calls = update_calls()
    services.plan_abort(
        proposal_id=proposal.pk, actor=people.operator, reason="pager fired", now=clock.at
    )
    assert run_of(proposal).status == PlanStatus.ROLLING_BACK
    assert tick(proposal, clock) == "rolled back"
    assert update_calls() == calls + 1
    wait_for_status(console(url), plan_endpoint.name, "InService")
    assert weights_in_aws(url, plan_endpoint.name) == {"v0": 1.0, "v1": 0.0}
    proposal.refresh_from_db()
    assert proposal.state == ShiftState.FAILED
    assert "Aborted by operator: pager fired" in run_of(proposal).outcome
    assert AuditEntry.objects.filter(action="shift.plan.rollback", username="operator")


def test_resume_and_promote_need_an_approver_other_than_the_proposer(
    plan_endpoint, people, aws_sandbox
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    services.plan_pause(proposal_id=proposal.pk, actor=people.operator, reason="look first")
    for who in (people.operator, people.viewer):
        with pytest.raises(Refused):
            services.plan_resume(proposal_id=proposal.pk, actor=who)
        with pytest.raises(Refused):
            services.plan_promote(proposal_id=proposal.pk, actor=who)
    assert AuditEntry.objects.filter(action="shift.plan_resume", outcome="denied").count() == 2
    with pytest.raises(Refused):
        services.plan_pause(proposal_id=proposal.pk, actor=people.viewer, reason="no")
    services.plan_resume(proposal_id=proposal.pk, actor=people.approver, now=clock.at)
    run = run_of(proposal)
    assert run.status == PlanStatus.RUNNING and run.bake_until > clock.at


def test_promote_skips_to_the_targetweights_in_aws(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    calls = update_calls()
    services.plan_promote(proposal_id=proposal.pk, actor=people.approver2, now=clock.at)
    go_live(url, proposal, clock)
    assert tick(proposal, clock) == "promoted"
    assert update_calls() == calls + 1
    assert weights_in_aws(url, plan_endpoint.name) == {"v0": 0.0, "v1": 1.0}
    promote = ShiftEvent.objects.get(proposal=proposal, action="plan.promote")
    assert promote.username == "approver2" and "skipping to the last step" in promote.comment


def test_pause_needs_a_reason_and_a_finished_plan_takes_no_action(
    plan_endpoint, people, aws_sandbox
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    with pytest.raises(Invalid):
        services.plan_pause(proposal_id=proposal.pk, actor=people.operator, reason="  ")
    services.plan_pause(proposal_id=proposal.pk, actor=people.operator, reason="look")
    services.plan_abort(proposal_id=proposal.pk, actor=people.operator, reason="stop")
    tick(proposal, clock)
    # The finished plan says how it ended, not why it was paused before.
    view = plan_view(proposal=proposal, user=people.viewer)
    assert view.run.pause_reason == "" and view.status_label == "Rolled back"
    assert [s.state for s in view.steps] == ["rolled back", "not run", "not run"]
    with pytest.raises(Conflict, match="finished"):
        services.plan_resume(proposal_id=proposal.pk, actor=people.approver)


def test_a_manual_step_waits_for_an_approver(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    spec = {
        **GOOD_PLAN,
        "steps": [
            {"candidate_percent": 10, "bake_seconds": 180, "manual": True},
            {"candidate_percent": 100, "bake_seconds": 0},
        ],
    }
    proposal = propose_and_approve(people, plan_endpoint, clock, spec)
    go_live(url, proposal, clock)
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=3000)
    assert tick(proposal, clock) == "paused: manual step"
    assert run_of(proposal).pause_cause == PauseCause.MANUAL_STEP
    services.plan_resume(proposal_id=proposal.pk, actor=people.approver, now=clock.at)
    go_live(url, proposal, clock)
    assert tick(proposal, clock) == "promoted"


def _alarm(endpoint, name: str, state: str) -> Alarm:
    return Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=name,
        arn=f"arn:aws:cloudwatch:{endpoint.region}:{endpoint.account_id}:alarm:{name}",
        endpoint_name=endpoint.name,
        state=state,
        metric="Invocation5XXErrors",
        namespace="AWS/SageMaker",
        synced_at=timezone.now(),
    )


def test_a_plan_waits_to_start_while_the_endpoint_has_an_open_incident(
    plan_endpoint, people, aws_sandbox
):
    clock = SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock, {**GOOD_PLAN, "alarms": []})
    alarm = _alarm(plan_endpoint, "checkout-latency-high", "ALARM")
    calls = update_calls()
    assert tick(proposal, clock).startswith("waiting: The endpoint has an open incident")
    assert update_calls() == calls
    run = run_of(proposal)
    assert run.status == PlanStatus.WAITING and "checkout-latency-high" in run.pause_reason
    alarm.state = "OK"
    alarm.save()
    assert tick(proposal, clock).startswith("sent step 1")


def test_a_plan_waits_while_an_incident_stays_open_after_its_alarm_cleared(
    plan_endpoint, people, aws_sandbox
):
    clock = SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock, {**GOOD_PLAN, "alarms": []})
    alarm = _alarm(plan_endpoint, "checkout-latency-high", "ALARM")
    incidents_sync()
    incident = Incident.objects.get(endpoint=plan_endpoint)
    alarm.state = "OK"
    alarm.save()
    incidents_sync()
    incident.refresh_from_db()
    assert incident.state == "open" and incident.signals_cleared_at is not None
    calls = update_calls()
    outcome = tick(proposal, clock)
    held = f"waiting: The endpoint has an open incident (incident #{incident.pk}, open"
    assert outcome.startswith(held)
    assert "symptoms cleared: checkout-latency-high in ALARM" in outcome
    assert update_calls() == calls
    run = run_of(proposal)
    assert run.status == PlanStatus.WAITING and run.pause_cause == PauseCause.INCIDENT
    # Mitigated is not over either; resolved is.
    incident_move(incident_id=incident.pk, actor=people.operator, to="mitigated", note="v0 only")
    assert tick(proposal, clock).startswith("waiting: The endpoint has an open incident")
    incident_move(incident_id=incident.pk, actor=people.operator, to="resolved", note="fixed")
    assert tick(proposal, clock).startswith("sent step 1")
    assert update_calls() == calls + 1


def test_an_incident_raised_only_by_a_plan_itself_does_not_hold_the_next_move(people, endpoint):
    now = timezone.now()
    incident = Incident.objects.create(
        endpoint=endpoint,
        opened_at=now,
        first_signal="Staged shift #7 paused: v1 5XX 12 % vs v0 0 %",
        signals=[{"kind": "plan", "text": "Staged shift #7 paused", "since": now.isoformat()}],
        last_signal_at=now,
        updated_at=now,
    )
    assert selectors.plan_incident(endpoint=endpoint, gated=()) == ""
    incident.signals = [*incident.signals, {"kind": "stuck", "text": "Updating for 2 h"}]
    incident.save()
    assert f"incident #{incident.pk}, open" in selectors.plan_incident(endpoint=endpoint, gated=())


def test_a_running_plan_pauses_when_an_incident_opens(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock, {**GOOD_PLAN, "alarms": []})
    go_live(url, proposal, clock)
    _alarm(plan_endpoint, "disk-full", "ALARM")
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=3000)
    assert tick(proposal, clock) == "paused: incident"
    run = run_of(proposal)
    assert run.pause_cause == PauseCause.INCIDENT and "disk-full in ALARM" in run.pause_reason


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_at_a_step_boundary_only_delays_the_plan(
    plan_endpoint, people, aws_sandbox, broker_down, django_capture_on_commit_callbacks
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=3000)
    with django_capture_on_commit_callbacks(execute=True):
        # The step passes; the task for the next one cannot be queued.
        assert tick(proposal, clock) == "passed step 1"
    run = run_of(proposal)
    assert run.step == 1 and run.step_sent_at is None
    # The broker is back (tasks run as a worker would take them): beat's tick finds the
    # plan where it stopped and the next step goes out, once.
    from opsportal.celery import app

    app.conf.update(task_always_eager=True)
    calls = update_calls()
    assert services.plan_tick_all() == 1
    run = run_of(proposal)
    assert run.step == 1 and run.step_sent_at is not None and update_calls() == calls + 1
    wait_for_status(console(url), plan_endpoint.name, "InService")
    assert weights_in_aws(url, plan_endpoint.name)["v1"] == pytest.approx(0.5)


def test_an_emergency_shift_stops_a_running_plan_and_takes_over(plan_endpoint, people, aws_sandbox):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    go_live(url, proposal, clock)
    emergency = services.shift_emergency(
        endpoint_id=plan_endpoint.pk,
        actor=people.admin,
        desired={"v0": 50, "v1": 50},
        reason="split evenly while we look",
    )
    proposal.refresh_from_db()
    run = run_of(proposal)
    assert proposal.state == ShiftState.FAILED and run.status == PlanStatus.STOPPED
    assert "Stopped by an emergency shift by admin" in run.outcome
    assert emergency.state in (ShiftState.APPROVED, ShiftState.APPLYING, ShiftState.APPLIED)
    assert tick(proposal, clock) == "nothing to do: failed"
