"""Model version deploys with SageMaker's deployment guardrails, end to end against the
sandbox: a canary of a broken model is rolled back by SageMaker when its 5XX alarm fires,
and the change request says so; a good version completes on the new config."""

from __future__ import annotations

import contextlib
import time
import uuid

import boto3
import pytest

from sandbox.testing import control, put_endpoint_alarms
from shifts import services
from shifts.models import ChangeType, ShiftState
from tests.aws_actor import runtime
from tests.shifts.helpers import console, reload, settle

pytestmark = pytest.mark.django_db

FAILURE_RATE_VARIABLE = "SANDBOX_FAILURE_RATE"


def cloudwatch(url: str):
    return boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def model_version(url: str, endpoint_name: str, *, failing: bool) -> str:
    """A new version of the endpoint's model: the same artifacts, optionally built to fail
    every request (the sandbox's broken build)."""
    sm = console(url)
    config = sm.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    current = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]
    described = sm.describe_model(ModelName=current["ModelName"])
    container = dict(described["PrimaryContainer"])
    if failing:
        container["Environment"] = {
            **container.get("Environment", {}),
            FAILURE_RATE_VARIABLE: "1",
        }
    name = f"{'broken' if failing else 'good'}-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=name, PrimaryContainer=container, ExecutionRoleArn=described["ExecutionRoleArn"]
    )
    return name


def drive(url: str, name: str, *, until: set[str], timeout: float = 60.0) -> list[str]:
    """Send traffic while the deployment runs, letting the sandbox evaluate its alarms, until
    the endpoint settles; the statuses seen on the way."""
    from sandbox.testing import holdout_rows, rows_to_csv

    client = runtime(url)
    body = rows_to_csv(holdout_rows("tumor")[:1])
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = console(url).describe_endpoint(EndpointName=name)["EndpointStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in until and len(seen) > 1:
            return seen
        for _ in range(20):
            with contextlib.suppress(client.exceptions.ClientError):
                client.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)
        control(url, "flush-metrics")
        control(url, "evaluate-alarms")
        time.sleep(0.2)
    raise AssertionError(f"{name} did not settle: {seen}")


def test_canary_of_a_broken_model_is_rolled_back_and_the_change_says_so(
    live,
    people,
    aws_sandbox,
    held_tasks,
    run_commits,
):
    url = aws_sandbox.url
    old_config = console(url).describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    rate_alarm, _latency = put_endpoint_alarms(cloudwatch(url), live.name, "v0")
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.DEPLOY,
        spec={
            "variant": "v0",
            "model": model_version(url, live.name, failing=True),
            "deployment": {
                "strategy": "CANARY",
                "size_type": "CAPACITY_PERCENT",
                "size_value": 50,
                "wait_seconds": 5,
                "rollback_alarms": [rate_alarm],
            },
        },
        reason="new model version",
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    assert reload(proposal).state == ShiftState.APPLYING
    sent = console(url).describe_endpoint(EndpointName=live.name)
    assert sent["PendingDeploymentSummary"]["EndpointConfigName"] == f"{live.name}-cr{proposal.pk}"

    seen = drive(url, live.name, until={"InService"})
    assert "RollingBack" in seen

    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.FAILED
    assert done.error.startswith(
        f"Rolled back: the endpoint is InService on its previous config {old_config}."
    )
    assert f"alarm(s) {rate_alarm} went into ALARM state" in done.error
    described = console(url).describe_endpoint(EndpointName=live.name)
    assert described["EndpointConfigName"] == old_config


def test_linear_deploy_of_a_good_version_completes_on_the_new_config(
    live,
    people,
    aws_sandbox,
    held_tasks,
    run_commits,
):
    url = aws_sandbox.url
    rate_alarm, _latency = put_endpoint_alarms(cloudwatch(url), live.name, "v0")
    good = model_version(url, live.name, failing=False)
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.DEPLOY,
        spec={
            "variant": "v0",
            "model": good,
            "deployment": {
                "strategy": "LINEAR",
                "size_type": "CAPACITY_PERCENT",
                "size_value": 50,
                "wait_seconds": 2,
                "rollback_alarms": [rate_alarm],
            },
        },
        reason="new model version",
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    seen = drive(url, live.name, until={"InService"})
    assert "RollingBack" not in seen
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED, done.error
    described = console(url).describe_endpoint(EndpointName=live.name)
    assert described["EndpointConfigName"] == f"{live.name}-cr{proposal.pk}"
    config = console(url).describe_endpoint_config(
        EndpointConfigName=described["EndpointConfigName"]
    )
    assert {v["VariantName"]: v["ModelName"] for v in config["ProductionVariants"]}["v0"] == good
