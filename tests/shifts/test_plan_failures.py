"""What a staged shift does when something goes wrong, against the sandbox: a chosen alarm
going into ALARM rolls it back in one call; a plan that says "pause" pauses instead and goes
on when an Approver resumes it; both are told by email and webhook; a plan whose weights
moved after its approval is superseded without a call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from django.core import mail
from django.utils import timezone

from monitoring.models import Alarm
from sandbox.testing import control
from shifts import services, tasks
from shifts.models import PauseCause, PlanStatus, ShiftEvent, ShiftState
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import console, reload, update_calls
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
from tests.support.receiver import Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings) -> Iterator[Webhook]:
    hook = Webhook()
    settings.OPSPORTAL_WEBHOOK_URL = hook.url
    yield hook
    hook.close()


@pytest.fixture
def told(django_capture_on_commit_callbacks, monkeypatch) -> Callable[[Callable[[], str]], str]:
    """Run one tick and then what it queued on commit, as a worker would: the notifications
    go out; the next tick it queues is dropped (the test ticks on its simulated clock)."""
    monkeypatch.setattr(tasks.plan_tick, "apply_async", lambda *args, **kwargs: None)

    def run(call: Callable[[], str]) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def cloudwatch(url: str) -> Any:
    return boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def orders_alarm(url: str, endpoint: Any) -> str:
    """A team's own alarm on the endpoint, in CloudWatch and as the alarm sync stored it (OK).
    Its metric gets no data here and missing data is ignored, so only SetAlarmState moves it."""
    name = f"{endpoint.name}-failed-orders"
    cloudwatch(url).put_metric_alarm(
        AlarmName=name,
        Namespace="Checkout",
        MetricName="FailedOrders",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint.name}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="ignore",
    )
    Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=name,
        arn=f"arn:aws:cloudwatch:{endpoint.region}:{endpoint.account_id}:alarm:{name}",
        endpoint_name=endpoint.name,
        state="OK",
        metric="FailedOrders",
        namespace="Checkout",
        synced_at=timezone.now(),
    )
    return name


def test_a_chosen_alarm_in_alarm_during_a_bake_rolls_the_plan_back_and_tells_the_proposer(
    plan_endpoint, people, aws_sandbox, told, webhook
):
    url, clock = aws_sandbox.url, SimClock()
    alarm = orders_alarm(url, plan_endpoint)
    proposal = propose_and_approve(people, plan_endpoint, clock, {**GOOD_PLAN, "alarms": [alarm]})
    calls = update_calls()
    go_live(url, proposal, clock)
    cloudwatch(url).set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="More than 10 failed orders a minute"
    )
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=1000)  # v1 itself looks fine

    assert tick(proposal, clock) == "rolling back: gate"
    decision = ShiftEvent.objects.get(proposal=proposal, action="plan.rollback")
    failed = [g for g in decision.detail["verdict"]["gates"] if g["verdict"] == "fail"]
    assert [g["gate"] for g in failed] == ["alarms"]
    assert f"in ALARM: {alarm}" in decision.comment and "rolling back to v0 100 %" in (
        decision.comment
    )
    assert told(lambda: tick(proposal, clock)) == "rolled back"
    assert update_calls() == calls + 2  # the step, then the rollback: one call
    wait_for_status(console(url), plan_endpoint.name, "InService")
    assert weights_in_aws(url, plan_endpoint.name) == {"v0": 1.0, "v1": 0.0}
    assert run_of(proposal).status == PlanStatus.ROLLED_BACK
    assert reload(proposal).state == ShiftState.FAILED
    # The proposer hears it, with the alarm that did it.
    [message] = mail.outbox
    assert message.to == ["operator@example.com"]
    assert message.subject.endswith(f"Staged shift #{proposal.pk} on {plan_endpoint.name}: failed")
    assert "Rolled back: " in message.body and alarm in message.body
    [hook] = webhook.received
    assert "Rolled back" in hook["body"]["text"] and alarm in hook["body"]["text"]


def test_a_plan_that_pauses_on_failure_sends_nothing_and_goes_on_when_resumed(
    plan_endpoint, people, aws_sandbox, told, webhook
):
    url, clock = aws_sandbox.url, SimClock()
    status, answer = control(
        url, "faults", "POST", {"endpoint": plan_endpoint.name, "variant": "v1", "error_rate": 0.5}
    )
    assert status == 200, answer
    proposal = propose_and_approve(
        people, plan_endpoint, clock, {**GOOD_PLAN, "on_failure": "pause"}
    )
    calls = update_calls()
    go_live(url, proposal, clock)
    traffic(url, plan_endpoint, clock, minutes=1, per_minute=1000)

    assert told(lambda: tick(proposal, clock)) == "paused: gate"
    run = run_of(proposal)
    assert run.status == PlanStatus.PAUSED and run.pause_cause == PauseCause.GATE
    assert "v1 5XX" in run.pause_reason and "pauses rather than rolls back" in run.pause_reason
    assert not ShiftEvent.objects.filter(proposal=proposal, action="plan.rollback").exists()
    assert update_calls() == calls + 1  # the step only: no rollback
    assert weights_in_aws(url, plan_endpoint.name)["v1"] == pytest.approx(0.1)
    assert tick(proposal, clock) == "nothing to do: paused"
    # Told: the proposer by email, the channel by webhook, with the gate's numbers.
    [message] = mail.outbox
    assert message.to == ["operator@example.com"] and message.subject.endswith(": paused")
    assert "PAUSED" in message.body and "v1 5XX" in message.body
    [hook] = webhook.received
    assert "paused" in hook["body"]["text"] and "v1 5XX" in hook["body"]["text"]

    # The fault is fixed; an Approver resumes: the step bakes again and the plan goes on.
    control(url, "faults", "DELETE")
    services.plan_resume(proposal_id=proposal.pk, actor=people.approver, now=clock.at)
    assert run_of(proposal).status == PlanStatus.RUNNING
    traffic(url, plan_endpoint, clock, minutes=3, per_minute=3000)
    assert tick(proposal, clock) == "passed step 1"
    go_live(url, proposal, clock)
    assert weights_in_aws(url, plan_endpoint.name)["v1"] == pytest.approx(0.5)
    assert update_calls() == calls + 2


def test_a_plan_whose_weights_moved_after_approval_is_superseded_without_a_call(
    plan_endpoint, people, aws_sandbox
):
    url, clock = aws_sandbox.url, SimClock()
    proposal = propose_and_approve(people, plan_endpoint, clock)
    sm = console(url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=plan_endpoint.name,
        DesiredWeightsAndCapacities=[{"VariantName": "v1", "DesiredWeight": 0.3}],
    )
    wait_for_status(sm, plan_endpoint.name, "InService")
    calls = update_calls()

    assert tick(proposal, clock) == ShiftState.SUPERSEDED
    assert update_calls() == calls
    assert reload(proposal).state == ShiftState.SUPERSEDED
    run = run_of(proposal)
    assert run.status == PlanStatus.STOPPED and run.step_sent_at is None
    assert "changed after this was proposed; nothing was applied" in run.outcome
    assert weights_in_aws(url, plan_endpoint.name) == {"v0": 1.0, "v1": 0.3}
    assert tick(proposal, clock) == "nothing to do: superseded"
