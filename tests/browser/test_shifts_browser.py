"""Two people, two browsers: an Operator proposes a traffic shift, an Approver approves it,
and the Operator's page turns to `applied` once the sandbox endpoint has the new weights."""

from __future__ import annotations

import pytest

from tests.aws_actor import create_endpoint
from tests.shifts.helpers import adopt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def second_page(browser):
    """Another person's browser: its own context, so its own cookies and session."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    errors: list[str] = []
    opened = context.new_page()
    opened.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield opened
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _log_in(page, live_server, user_factory, username: str, role: str) -> None:
    user_factory(username, role)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"pw-{username}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_operator_proposes_approver_approves_operator_sees_applied(
    login,
    second_page,
    live_server,
    user_factory,
    sandbox,
    held_tasks,
):
    endpoint = adopt(create_endpoint(sandbox.url, weights=(1.0, 1.0)))
    operator = login("Operator")
    operator.goto(f"{live_server.url}/endpoints/{endpoint.pk}/")
    operator.click("nav.tabs >> text=Traffic")
    operator.click("[data-testid=propose-link]")
    operator.fill("input[name=share_0]", "25")
    operator.fill("input[name=share_1]", "75")
    # The preview follows the typing (htmx), before anything is saved.
    operator.wait_for_function(
        "() => document.querySelector('#shift-preview').innerText.includes('75.00 %')"
    )
    operator.fill("textarea[name=reason]", "v1 is the new model")
    operator.click("[data-testid=submit-shift]")
    operator.wait_for_url("**/shifts/*/")
    assert operator.locator("[data-testid=shift-state]").inner_text() == "pending"
    assert operator.locator("[data-testid=approve]").count() == 0  # never your own
    shift_url = operator.url

    approver = second_page
    _log_in(approver, live_server, user_factory, "browser-approver", "Approver")
    approver.click("nav >> text=Change requests")
    approver.click(f"[data-testid=pending-table] >> text={endpoint.name}")
    approver.click(f"[data-testid=pending-table] a[href='{shift_url[len(live_server.url) :]}']")
    approver.fill("#approve-comment", "looks right")
    approver.click("[data-testid=approve]")
    approver.wait_for_url(shift_url)

    held_tasks.run()  # the poll the worker would run after its countdown
    # The Operator's open page updates itself (htmx polls the state while it is open).
    operator.wait_for_function(
        "() => document.querySelector('[data-testid=shift-state]').innerText === 'applied'"
    )
    operator.reload()
    assert operator.locator("[data-testid=aws-request-id]").inner_text() != "–"
    timeline = operator.locator("[data-testid=timeline]").inner_text()
    assert "browser-approver" in timeline and "looks right" in timeline
    after = operator.locator("[data-testid=after-share]").all_inner_texts()
    assert after == ["25.00 %", "75.00 %"]
