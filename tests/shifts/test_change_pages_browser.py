"""Two people, two browsers, a real headless Chromium: an Operator proposes a capacity
change from the endpoint's Change requests tab (the preview follows the typing), an
Approver approves it, and the Operator's page turns to `applied` once the sandbox endpoint
runs the new count. The same pages at a phone's 390 px never scroll sideways. The auto
scaling form swaps its fields for the chosen action in place."""

from __future__ import annotations

import pytest

from shifts.models import ShiftProposal
from tests.shifts.helpers import autoscaling, refreshed
from tests.shifts.test_change_views import DIMENSION
from tests.support.browser import assert_no_sideways_scroll, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_proposes_capacity_approver_approves_operator_sees_it_applied(
    login,  # noqa: F811
    second_page,
    phone_page,
    live_server,
    user_factory,
    live,
    held_tasks,
):
    operator = login("Operator")
    operator.goto(f"{live_server.url}/endpoints/{live.pk}/")
    operator.click("nav.tabs >> text=Change requests")
    assert "ml.m5.large × 1" in operator.locator("[data-variant=v0]").inner_text()
    operator.click("[data-testid=change-capacity]")
    operator.fill("input[name=instances_0]", "2")
    operator.locator("input[name=instances_0]").dispatch_event("change")
    # The preview runs the change's checks as the form changes (htmx), before anything is saved.
    operator.wait_for_function(
        "() => document.querySelector('#change-preview').innerText"
        ".includes('Capacity: v0 1 instance → 2 instances')"
    )
    operator.fill("textarea[name=reason]", "Black Friday traffic")
    operator.click("[data-testid=submit-change]")
    operator.wait_for_url("**/shifts/*/")
    assert operator.locator("[data-testid=shift-state]").inner_text() == "pending"
    assert operator.locator("[data-testid=approve]").count() == 0  # never your own
    assert (
        "Capacity: v0 1 instance → 2 instances"
        in operator.locator("[data-testid=change-summary]").inner_text()
    )
    change_url = operator.url

    approver = second_page
    log_in(approver, live_server, user_factory, "browser-approver", "Approver")
    approver.click("nav >> text=Change requests")
    pending = approver.locator("[data-testid=pending-table]").inner_text()
    assert "Capacity: v0 1 instance → 2 instances" in pending
    approver.click(f"[data-testid=pending-table] a[href='{change_url[len(live_server.url) :]}']")
    approver.fill("#approve-comment", "room for the peak")
    approver.click("[data-testid=approve]")
    approver.wait_for_url(change_url)

    held_tasks.run()  # the polls the worker would run after their countdowns
    # The Operator's open page updates itself (htmx polls the state while it is open).
    operator.wait_for_function(
        "() => document.querySelector('[data-testid=shift-state]').innerText === 'applied'"
    )
    operator.reload()
    row = operator.locator("[data-testid=capacity-change] [data-variant=v0]").inner_text()
    assert "2 instances" in row.split("\t")[-1]  # what the poll saw after the update
    timeline = operator.locator("[data-testid=timeline]").inner_text()
    assert "browser-approver" in timeline and "room for the peak" in timeline

    # At a phone's width, the tab, the forms and the change's page never scroll sideways.
    phone = phone_page
    log_in(phone, live_server, user_factory, "browser-phone", "Admin")
    for path in (
        f"/shifts/endpoint/{live.pk}/changes/",
        f"/shifts/endpoint/{live.pk}/changes/capacity",
        f"/shifts/endpoint/{live.pk}/changes/autoscaling",
        f"/shifts/endpoint/{live.pk}/changes/deploy",
        f"/shifts/endpoint/{live.pk}/changes/rollback/emergency",
        change_url[len(live_server.url) :],
        "/shifts/",
    ):
        phone.goto(f"{live_server.url}{path}")
        assert_no_sideways_scroll(phone)


def test_auto_scaling_action_shows_its_own_fields_and_is_proposed(
    login,  # noqa: F811
    live_server,
    live,
    aws_sandbox,
):
    resource = f"endpoint/{live.name}/variant/v0"
    aas = autoscaling(aws_sandbox.url)
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=3,
    )
    live = refreshed(live)
    operator = login("Operator")
    operator.goto(f"{live_server.url}/shifts/endpoint/{live.pk}/changes/autoscaling")
    assert operator.locator("input[name=min_capacity]").count() == 1
    # Choosing the action swaps the form's fields in place (htmx; no inline script).
    operator.select_option("select[name=operation]", "suspend")
    operator.wait_for_selector("text=Nothing to fill in: the action is the change.")
    assert operator.locator("input[name=min_capacity]").count() == 0
    assert "operation=suspend" in operator.url
    operator.fill("textarea[name=reason]", "v0 flaps during the incident")
    operator.click("[data-testid=submit-change]")
    operator.wait_for_url("**/shifts/*/")
    summary = operator.locator("[data-testid=change-summary]").inner_text()
    assert summary == "Auto scaling v0: suspend scaling in and out"
    assert ShiftProposal.objects.get(endpoint=live).spec["action"] == "suspend"
