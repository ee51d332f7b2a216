"""Model version deploys in the browser against the sandbox's guardrails: an Operator
proposes a canary of a new version with its 5XX alarm as the rollback alarm, an Approver
approves, and the change's page follows the deployment live. A broken version's canary
trips the alarm and the page says it was rolled back, with the endpoint on its old config;
a good version's deploy ends InService on the new config. And the bad-deploy drill undone
from the incident board: the likely cause is the deploy the endpoint still runs, so the
board offers the rollback to the config before it, which an Admin applies at once."""

from __future__ import annotations

import pytest

from core.targets import target_by_name
from endpoints.services import endpoint_refresh
from monitoring.services import alarm_sync
from sandbox.testing import aws_client, put_endpoint_alarms
from tests.aws_actor import wait_for_status
from tests.browser.test_incident_browser import REGION, drill_endpoint, stage_bad_deploy  # noqa: F401
from tests.shifts.helpers import console
from tests.shifts.test_deployments import cloudwatch, drive, model_version
from tests.support.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _propose_canary(operator, live_server, endpoint, model: str, alarm: str) -> str:
    operator.goto(f"{live_server.url}/shifts/endpoint/{endpoint.pk}/changes/")
    operator.click("[data-testid=change-deploy]")
    operator.select_option("select[name=variant]", "v0")
    operator.fill("input[name=model]", model)
    operator.select_option("select[name=strategy]", "CANARY")
    operator.fill("input[name=size_value]", "50")
    operator.fill("input[name=wait_seconds]", "5")
    # The endpoint's health alarm is ticked as the rollback alarm by default.
    assert operator.locator(f"input[name=rollback_alarms][value='{alarm}']").is_checked()
    operator.fill("textarea[name=reason]", "model v2 from the weekly retrain")
    operator.click("[data-testid=submit-change]")
    operator.wait_for_url("**/shifts/*/")
    assert operator.locator("[data-testid=shift-state]").inner_text() == "pending"
    return operator.url


def _approve(approver, live_server, user_factory, change_url: str) -> None:
    log_in(approver, live_server, user_factory, "browser-approver", "Approver")
    approver.goto(change_url)
    approver.click("[data-testid=approve]")
    approver.wait_for_url(change_url)


def _alarmed_endpoint(live, url: str) -> str:
    rate_alarm, _latency = put_endpoint_alarms(cloudwatch(url), live.name, "v0")
    alarm_sync(target=target_by_name("sandbox"), region=live.region)
    return rate_alarm


def test_broken_canary_is_rolled_back_and_the_page_says_so(
    login,
    second_page,
    live_server,
    user_factory,
    live,
    aws_sandbox,
    held_tasks,
):
    url = aws_sandbox.url
    old_config = console(url).describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    alarm = _alarmed_endpoint(live, url)
    broken = model_version(url, live.name, failing=True)
    operator = login("Operator")
    change_url = _propose_canary(operator, live_server, live, broken, alarm)
    _approve(second_page, live_server, user_factory, change_url)

    # The page follows the deployment while it runs: the new config is being deployed.
    panel = second_page.locator("[data-testid=deployment-panel]")
    second_page.wait_for_function(
        "() => document.querySelector('[data-testid=deployment-panel]').innerText"
        ".includes('Updating')"
    )
    assert f"{live.name}-cr" in panel.inner_text()

    seen = drive(url, live.name, until={"InService"})
    assert "RollingBack" in seen
    held_tasks.run()
    second_page.reload()
    assert second_page.locator("[data-testid=shift-state]").inner_text() == "failed"
    outcome = second_page.locator("[data-testid=deployment-outcome]").inner_text()
    assert f"Rolled back to {old_config}" in outcome
    assert f"alarm(s) {alarm} went into ALARM state" in outcome
    assert console(url).describe_endpoint(EndpointName=live.name)["EndpointConfigName"] == (
        old_config
    )
    second_page.goto(f"{live_server.url}/shifts/endpoint/{live.pk}/changes/")
    current = second_page.locator(f"[data-testid=configs] tr[data-config='{old_config}']")
    assert "running now" in current.inner_text()


def test_good_version_deploy_completes_on_the_new_config(
    login,
    second_page,
    live_server,
    user_factory,
    live,
    aws_sandbox,
    held_tasks,
):
    url = aws_sandbox.url
    alarm = _alarmed_endpoint(live, url)
    good = model_version(url, live.name, failing=False)
    operator = login("Operator")
    change_url = _propose_canary(operator, live_server, live, good, alarm)
    _approve(second_page, live_server, user_factory, change_url)
    seen = drive(url, live.name, until={"InService"})
    assert "RollingBack" not in seen
    held_tasks.run()
    operator.goto(change_url)
    assert operator.locator("[data-testid=shift-state]").inner_text() == "applied"
    new_config = console(url).describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    outcome = operator.locator("[data-testid=deployment-outcome]").inner_text()
    assert f"InService on {new_config}" in outcome
    assert new_config.endswith(f"-cr{change_url.rstrip('/').rsplit('/', 1)[1]}")


def test_bad_deploy_rolled_back_from_the_incident_board(
    login,
    live_server,
    sandbox,
    drill_endpoint,  # noqa: F811
    held_tasks,
    settings,
):
    # The config the endpoint ran, healthy, before the CI deployer's bad deploy.
    healthy_config = console(sandbox.url, REGION).describe_endpoint(EndpointName=drill_endpoint)[
        "EndpointConfigName"
    ]
    endpoint, _drill = stage_bad_deploy(sandbox.url, drill_endpoint, settings)

    admin = login("Admin")
    admin.click("nav >> text=Incidents")
    card = admin.locator(f"[data-testid=incident][data-endpoint='{drill_endpoint}']")
    assert healthy_config in card.locator("[data-testid=rollback-suggestion]").inner_text()
    card.locator("[data-testid=emergency-rollback]").click()
    assert admin.locator("select[name=config_name]").input_value() == healthy_config
    # The 5XX alarm is firing: ticked, it would roll the rollback back at its first bake.
    firing = admin.locator(f"input[name=rollback_alarms][value='{drill_endpoint}-5xx-rate']")
    assert not firing.is_checked()
    admin.fill("textarea[name=reason]", "v0 fails half its requests since the CI deploy")
    admin.click("[data-testid=submit-change]")
    admin.wait_for_url("**/shifts/*/")

    sm = aws_client(sandbox.url, "sagemaker", REGION)
    wait_for_status(sm, drill_endpoint, "InService", timeout=60)
    held_tasks.run()
    admin.reload()
    assert admin.locator("[data-testid=shift-state]").inner_text() == "applied"
    assert (
        f"InService on {healthy_config}"
        in admin.locator("[data-testid=deployment-outcome]").inner_text()
    )
    assert sm.describe_endpoint(EndpointName=drill_endpoint)["EndpointConfigName"] == (
        healthy_config
    )
    # The board no longer offers a rollback: the endpoint runs the config from before.
    endpoint_refresh(endpoint_id=endpoint.pk)
    admin.click("nav >> text=Incidents")
    card = admin.locator(f"[data-testid=incident][data-endpoint='{drill_endpoint}']")
    if card.count():
        assert card.locator("[data-testid=rollback-suggestion]").count() == 0
