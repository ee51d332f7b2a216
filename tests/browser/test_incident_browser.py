"""The bad-deploy drill end to end, in the browser: the CI deployer breaks a variant, its
5XX alarm fires, the incident board names the deploy as the likely cause, the on-call Admin
takes ownership, shifts traffic away in an emergency, and the summary for the channel
tells the whole chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from apihistory.models import IngestCursor
from apihistory.services import trail_ingest
from core.targets import target_by_name
from endpoints.models import Endpoint
from endpoints.services import endpoint_refresh
from monitoring.services import alarm_sync
from sandbox.testing import aws_client, control, live_endpoint, put_endpoint_alarms
from tests.apihistory import cloudtrail_settings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A region of the portal's targets whose models no other test picks by name, so the
# failing model version the drill creates cannot end up behind another test's endpoint.
REGION = "eu-west-1"


@pytest.fixture
def drill_endpoint(sandbox) -> Iterator[str]:
    """An iris endpoint with v0 and v1 at 1/1, its 5XX alarm on v0; removed afterwards with
    the configs and the failing model the drill adds."""
    sm = aws_client(sandbox.url, "sagemaker", REGION)
    models_before = {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]}
    name = live_endpoint(sandbox.url, "iris-model", weights=(1.0, 1.0), region=REGION)
    put_endpoint_alarms(aws_client(sandbox.url, "cloudwatch", REGION), name, "v0")
    yield name
    sm.delete_endpoint(EndpointName=name)
    for config in sm.list_endpoint_configs(NameContains=name, MaxResults=100)["EndpointConfigs"]:
        sm.delete_endpoint_config(EndpointConfigName=config["EndpointConfigName"])
    for model in sm.list_models(MaxResults=100)["Models"]:
        if model["ModelName"] not in models_before:
            sm.delete_model(ModelName=model["ModelName"])
    aws_client(sandbox.url, "cloudwatch", REGION).delete_alarms(
        AlarmNames=[f"{name}-5xx-rate", f"{name}-model-latency-p99"]
    )


def _portal_syncs(endpoint: Endpoint, url: str, settings) -> None:
    """What the beat tasks would do within a minute: inventory, alarms, API history."""
    target = target_by_name("sandbox")
    endpoint_refresh(endpoint_id=endpoint.pk)
    alarm_sync(target=target, region=REGION)
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 600
    settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = 50
    with cloudtrail_settings(url, lookup_rate=50, lag_seconds=0):
        assert trail_ingest(target=target, region=REGION).ok


def stage_bad_deploy(url: str, name: str, settings) -> tuple[Endpoint, dict]:
    """The drill up to the board: the portal knew the endpoint healthy, then the CI
    deployer's bad deploy fires its 5XX alarm and the beat tasks sync what happened."""
    target = target_by_name("sandbox")
    IngestCursor.objects.create(
        target=target.name,
        account_id=target.account_id,
        region=REGION,
        newest_event_time=timezone.now(),
    )
    endpoint = Endpoint.objects.create(
        target="sandbox",
        account_id=target.account_id,
        region=REGION,
        name=name,
        arn="",
        status="Creating",
        status_changed_at=timezone.now(),
        creation_time=timezone.now(),
        last_modified_time=timezone.now(),
        synced_at=timezone.now(),
    )
    endpoint_refresh(endpoint_id=endpoint.pk)
    status, drill = control(
        url,
        "scenario/bad-deploy",
        body={"endpoint": name, "region": REGION, "error_rate": 0.5, "invocations": 200},
    )
    assert status == 200, drill
    control(url, "flush-metrics")
    control(url, "evaluate-alarms")
    _portal_syncs(endpoint, url, settings)
    return endpoint, drill


def _what_the_board_saw(endpoint: str, drill: dict) -> str:
    """The facts the likely cause is computed from, for a failure message."""
    from apihistory.models import TrailEvent
    from monitoring.models import Alarm

    alarms = [
        (a.name, a.state, a.state_updated_at, a.history)
        for a in Alarm.objects.filter(endpoint_name=endpoint)
    ]
    events = [
        (e.event_name, e.event_time, e.endpoint_config_name, e.error_code)
        for e in TrailEvent.objects.filter(region=REGION, read_only=False).order_by("event_time")
        if endpoint in (e.endpoint_name + e.endpoint_config_name)
    ]
    return f"drill {drill}\nalarms {alarms}\nevents {events}"


def test_bad_deploy_from_board_to_summary(
    login,
    live_server,
    sandbox,
    drill_endpoint,
    held_tasks,
    settings,
):
    endpoint, drill = stage_bad_deploy(sandbox.url, drill_endpoint, settings)
    assert drill["variant"] == "v0" and "warning" not in drill

    admin = login("Admin")
    admin.click("nav >> text=Incidents")
    card = admin.locator(f"[data-testid=incident][data-endpoint='{drill_endpoint}']")
    cause = card.locator("[data-testid=likely-cause]").inner_text()
    assert f"variant v0 model iris-model → {drill['model']}" in cause, _what_the_board_saw(
        drill_endpoint, drill
    )
    assert f"{drill_endpoint}-5xx-rate in ALARM" in cause and "by role ci-deployer" in cause

    card.locator("input[name=note]").fill("moving traffic off v0 after CI's deploy")
    card.locator("text=Take ownership").click()
    card = admin.locator(f"[data-testid=incident][data-endpoint='{drill_endpoint}']")
    assert "owned by browser-admin" in card.locator("[data-testid=owner]").inner_text()

    card.locator("text=Emergency shift…").click()
    admin.fill("input[name=share_0]", "0")
    admin.fill("input[name=share_1]", "100")
    admin.fill("textarea[name=reason]", "v0 fails half its requests since the CI deploy")
    admin.click("[data-testid=submit-shift]")
    admin.wait_for_url("**/shifts/*/")
    held_tasks.run()  # the poll the worker would run after its countdown
    admin.reload()
    assert admin.locator("[data-testid=shift-state]").inner_text() == "applied"

    # The timeline shows the whole chain: the deploy, the alarm, the shift.
    admin.goto(f"{live_server.url}/endpoints/{endpoint.pk}/timeline?range=1h")
    kinds = admin.locator("[data-testid=timeline-events] tr[data-kind]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-kind'))"
    )
    assert {"change", "alarm", "shift"} <= set(kinds)
    admin.wait_for_selector("#timeline-chart .main-svg")  # plotly drew it (CSP allowed it)

    admin.goto(f"{live_server.url}/incidents/endpoint/{endpoint.pk}/summary")
    summary = admin.locator("[data-testid=summary]").input_value()
    assert f"{drill_endpoint}-5xx-rate in ALARM" in summary
    assert f"variant v0 model iris-model → {drill['model']}" in summary
    assert "UpdateEndpoint by ci-deployer (AssumedRole)" in summary
    assert "browser-admin took ownership: moving traffic off v0" in summary
    assert "Emergency shift" in summary and "applied" in summary and "v0 0" in summary
