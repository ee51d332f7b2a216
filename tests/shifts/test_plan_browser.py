"""A staged shift in a real headless Chromium: an Operator proposes it from a saved
template, an Approver approves it, both watch the plan page move through its steps without
reloading, and the Operator aborts it, which rolls the endpoint back. The form and the plan
page fit a phone's 390 px.

The plan runs on a frozen clock set half an hour back, moved by hand, and the sandbox
replays each minute's traffic into it (tests/shifts/plan_helpers.py): the bakes and gates
are real, the wait is not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from sandbox.testing import replay_traffic
from shifts import services
from shifts.models import PlanStatus, ShiftProposal
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import console
from tests.shifts.plan_helpers import candidate_only_at_baseline, run_of
from tests.support.browser import assert_no_sideways_scroll, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _text(page, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").inner_text()


def test_a_plan_from_a_template_is_approved_advances_and_is_aborted(
    login,  # noqa: F811
    second_page,
    phone_page,
    live_server,
    user_factory,
    live,
    aws_sandbox,
    clock,
    held_tasks,
):
    clock.advance(minutes=-30)
    clock.now = clock.now.replace(second=0, microsecond=0)
    url = aws_sandbox.url
    endpoint = candidate_only_at_baseline(url, live)
    author = user_factory("template-author", "Operator")
    services.plan_template_save(
        actor=author,
        name="Quick canary",
        spec={
            "steps": [
                {"candidate_percent": 10, "bake_seconds": 180},
                {"candidate_percent": 50, "bake_seconds": 180},
                {"candidate_percent": 100, "bake_seconds": 0},
            ],
            "gates": {"min_invocations": 50},
        },
    )

    operator = login("Operator")
    operator.goto(f"{live_server.url}/shifts/endpoint/{endpoint.pk}/changes/")
    operator.click("[data-testid=change-plan]")
    operator.select_option("#template-pick", label="Quick canary (every endpoint)")
    operator.click("[data-testid=use-template]")
    assert operator.input_value("input[name=shares]") == "10, 50, 100"
    assert operator.input_value("input[name=bake_minutes]") == "3"
    operator.fill("textarea[name=reason]", "v1 won the offline evaluation")
    operator.click("[data-testid=propose-plan]")
    operator.wait_for_url("**/shifts/*/")
    assert "Staged shift v1 10 % → 50 % → 100 % against v0" in _text(operator, "plan-summary")
    plan_url = operator.url
    proposal = ShiftProposal.objects.get(endpoint=endpoint)

    approver = second_page
    log_in(approver, live_server, user_factory, "plan-approver", "Approver")
    approver.goto(plan_url)
    approver.fill("#approve-comment", "gates look right")
    approver.click("[data-testid=approve]")  # the plan starts at once: step 1 is sent
    approver.wait_for_url(plan_url)

    wait_for_status(console(url), endpoint.name, "InService")
    assert services.plan_tick(proposal_id=proposal.pk).startswith("live")
    # The Operator's page follows by itself (htmx), no reload.
    operator.wait_for_function(
        "() => document.querySelector('[data-testid=plan-step]')?.innerText === 'Step 1 of 3'"
    )
    for _ in range(3):
        replay_traffic(url, endpoint=endpoint.name, requests=3000, at=clock.now.timestamp() + 1)
        clock.advance(minutes=1)
    # The step passes its gates and the next one is sent (its task runs as a worker's would).
    assert services.plan_tick(proposal_id=proposal.pk) == "passed step 1"
    wait_for_status(console(url), endpoint.name, "InService")
    assert services.plan_tick(proposal_id=proposal.pk).startswith("live")
    operator.wait_for_function(
        "() => document.querySelector('[data-testid=plan-step]')?.innerText === 'Step 2 of 3'"
    )
    gates = _text(operator, "plan-gates")
    assert "error_rate" in gates and "pass" in gates
    assert "passed" in _text(operator, "plan-log")

    operator.fill("#abort-reason", "pager: checkout latency")
    operator.click("[data-testid=plan-abort]")
    operator.wait_for_url(plan_url)
    assert run_of(proposal).status == PlanStatus.ROLLED_BACK
    assert _text(operator, "plan-status") == "Rolled back"
    assert "Aborted by browser-operator: pager: checkout latency" in _text(operator, "plan-outcome")
    wait_for_status(console(url), endpoint.name, "InService")
    weights = {
        v["VariantName"]: v["CurrentWeight"]
        for v in console(url).describe_endpoint(EndpointName=endpoint.name)["ProductionVariants"]
    }
    assert weights == {"v0": 1.0, "v1": 0.0}
    assert operator.locator("[data-testid=plan-controls]").count() == 0
    # The chart loads by itself after the page (htmx), keeping the rollback line.
    expect(operator.locator("[data-testid=plan-chart]")).to_have_count(1)

    phone = phone_page
    log_in(phone, live_server, user_factory, "plan-phone", "Admin")
    for path in (f"/shifts/endpoint/{endpoint.pk}/plan", plan_url[len(live_server.url) :]):
        phone.goto(f"{live_server.url}{path}")
        assert_no_sideways_scroll(phone)
