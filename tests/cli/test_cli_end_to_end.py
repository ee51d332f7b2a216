"""The `opsportal` command as a CI job runs it: a real subprocess proposes a traffic shift
through the live portal's API and waits; an Approver decides through the API with a token
of their own; the command's exit status says how it ended, and the sandbox endpoint's
weights say whether that is true."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command

from endpoints.models import Endpoint
from shifts.models import ShiftProposal, ShiftState
from tests.shifts.conftest import aws_sandbox, people  # noqa: F401 - fixtures used below
from tests.shifts.helpers import EndpointPool, adopt, console
from tests.support.queue import HeldTasks

pytestmark = pytest.mark.django_db(transaction=True)

OPSPORTAL = Path(sys.executable).parent / "opsportal"
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def two_endpoints(sandbox_server) -> EndpointPool:
    return EndpointPool(sandbox_server.url, batch=2)


@pytest.fixture
def live_endpoint(aws_sandbox, two_endpoints: EndpointPool) -> Endpoint:  # noqa: F811
    """A fresh sandbox endpoint (v0 and v1 at weight 1/1) in the inventory."""
    return adopt(two_endpoints.take())


def api_token(username: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", username, stdout=out)
    return out.getvalue().strip().splitlines()[-1].strip()


def operator_env(live_server, username: str) -> dict[str, str]:
    return {**os.environ, "OPSPORTAL_URL": live_server.url, "OPSPORTAL_TOKEN": api_token(username)}


def shares_on_aws(url: str, name: str) -> dict[str, float]:
    variants = console(url).describe_endpoint(EndpointName=name)["ProductionVariants"]
    total = sum(v["CurrentWeight"] for v in variants)
    return {v["VariantName"]: round(100 * v["CurrentWeight"] / total, 3) for v in variants}


@pytest.fixture
def propose_and_wait(live_server, live_endpoint, people) -> Iterator[subprocess.Popen[str]]:  # noqa: F811
    """`opsportal shift propose … --wait` running as the Operator, as a CI step would."""
    env = operator_env(live_server, people.operator.username)
    command = subprocess.Popen(
        [
            str(OPSPORTAL),
            "shift",
            "propose",
            live_endpoint.name,
            "--weights",
            "v0=80,v1=20",
            "--reason",
            "v0 wins the A/B test",
            "--wait",
            "--interval",
            "0.2",
            "--timeout",
            str(WAIT_SECONDS),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield command
    if command.poll() is None:
        command.kill()
        command.communicate()


def proposal_of(command: subprocess.Popen[str], endpoint: Endpoint) -> ShiftProposal:
    """The change request the command proposed, once it exists."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (proposal := ShiftProposal.objects.filter(endpoint=endpoint).first()):
        if command.poll() is not None:
            out, err = command.communicate()
            raise AssertionError(f"opsportal ended with {command.returncode}: {err}{out}")
        assert time.monotonic() < deadline, "the command proposed nothing"
        time.sleep(0.1)
    return proposal


def decide(live_server, approver_token: str, proposal: ShiftProposal, verb: str) -> None:
    response = httpx.post(
        f"{live_server.url}/api/v1/shifts/{proposal.pk}/{verb}",
        json={"comment": "CI gate test"},
        headers={"Authorization": f"Bearer {approver_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == proposal.pk


def finish(command: subprocess.Popen[str], held_tasks: HeldTasks) -> tuple[int, str, str]:
    """Run the polls a worker would run after their countdowns while the command waits,
    until the command ends."""
    deadline = time.monotonic() + WAIT_SECONDS
    while command.poll() is None:
        assert time.monotonic() < deadline, "opsportal --wait did not end"
        if len(held_tasks):
            held_tasks.run_next(wait=0.2)
        else:
            time.sleep(0.1)
    out, err = command.communicate()
    return command.returncode, out, err


def test_waits_for_the_approval_and_exits_0_once_the_weights_are_live(
    live_server,
    live_endpoint,
    people,  # noqa: F811
    aws_sandbox,  # noqa: F811
    held_tasks,
    propose_and_wait,
):
    proposal = proposal_of(propose_and_wait, live_endpoint)
    assert proposal.state == ShiftState.PENDING and proposal.proposer == people.operator
    assert propose_and_wait.poll() is None, "it waits for the approval"
    assert shares_on_aws(aws_sandbox.url, live_endpoint.name) == {"v0": 50.0, "v1": 50.0}

    decide(live_server, api_token(people.approver.username), proposal, "approve")
    code, out, err = finish(propose_and_wait, held_tasks)

    assert code == 0, err
    assert ShiftProposal.objects.get(pk=proposal.pk).state == ShiftState.APPLIED
    assert shares_on_aws(aws_sandbox.url, live_endpoint.name) == {"v0": 80.0, "v1": 20.0}
    said = f"opsportal: shift {proposal.pk} on {live_endpoint.name}"
    progress = err.splitlines()
    assert progress[1].startswith(f"{said}: pending")
    assert progress[-1].startswith(f"{said}: applied")
    assert "traceback" not in err.lower()
    assert "State:       applied" in out

    # The inventory the portal shows (and the CLI reads) has the new split too.
    shown = subprocess.run(
        [str(OPSPORTAL), "endpoints", "show", live_endpoint.name],
        env=operator_env(live_server, people.operator.username),
        capture_output=True,
        text=True,
        timeout=WAIT_SECONDS,
    )
    assert shown.returncode == 0, shown.stderr
    assert "Traffic:  v0 80%, v1 20%" in shown.stdout


def test_a_rejection_exits_3_and_changes_nothing(
    live_server,
    live_endpoint,
    people,  # noqa: F811
    aws_sandbox,  # noqa: F811
    held_tasks,
    propose_and_wait,
):
    proposal = proposal_of(propose_and_wait, live_endpoint)
    decide(live_server, api_token(people.approver.username), proposal, "reject")
    code, out, err = finish(propose_and_wait, held_tasks)

    assert code == 3, err
    assert ShiftProposal.objects.get(pk=proposal.pk).state == ShiftState.REJECTED
    assert shares_on_aws(aws_sandbox.url, live_endpoint.name) == {"v0": 50.0, "v1": 50.0}
    said = f"opsportal: shift {proposal.pk} on {live_endpoint.name}"
    assert err.splitlines()[-1].startswith(f"{said}: rejected")
