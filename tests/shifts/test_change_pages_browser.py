"""Two people, two browsers, a real headless Chromium: an Operator proposes a capacity
change from the endpoint's Change requests tab (the preview follows the typing), an
Approver approves it, and the Operator's page turns to `applied` once the sandbox endpoint
runs the new count. The same pages at a phone's 390 px never scroll sideways. The auto
scaling form swaps its fields for the chosen action in place."""

from __future__ import annotations

import pytest

from shifts.models import ShiftProposal
from tests.browser.conftest import browser, login, page  # noqa: F401
from tests.shifts.test_change_views import DIMENSION, autoscaling, refreshed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _context_page(browser, viewport):  # noqa: F811
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, opened, errors


@pytest.fixture
def second_page(browser):  # noqa: F811
    """Another person's browser: its own context, so its own cookies and session."""
    context, opened, errors = _context_page(browser, {"width": 1400, "height": 900})
    yield opened
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


@pytest.fixture
def phone_page(browser):  # noqa: F811
    context, opened, errors = _context_page(browser, PHONE)
    yield opened
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _log_in(page, live_server, user_factory, username: str, role: str) -> None:  # noqa: F811
    user_factory(username, role)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _no_sideways_scroll(page) -> None:  # noqa: F811
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], f"{page.url} scrolls sideways: {widths}"


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
    _log_in(approver, live_server, user_factory, "browser-approver", "Approver")
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
    _log_in(phone, live_server, user_factory, "browser-phone", "Admin")
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
        _no_sideways_scroll(phone)


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
