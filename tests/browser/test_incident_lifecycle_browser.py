"""An incident through its whole life in the browser: it opens at its endpoint's first
symptom and pages on-call; a person acknowledges it from the board, marks it mitigated and
resolves it with notes on its page; then finds it in the incident history with a filter and
opens its post-mortem, which names the likely cause and what was done. All the while a
local receiver, standing in for the team's webhook and for PagerDuty's Events API, takes
what the portal sends: a message per move, and trigger, acknowledge and resolve under one
dedup key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from core.aws.clients import forget_clients
from monitoring.models import Alarm
from tests.apihistory.test_pages import event
from tests.shifts.helpers import make_endpoint
from tests.support.receiver import Webhook
from tests.support.world import shift
from triage.incidents import incidents_sync
from triage.models import Incident
from triage.paging import dedup_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receivers(settings) -> Iterator[tuple[Webhook, Webhook]]:
    webhook, pagerduty = Webhook(), Webhook()
    settings.OPSPORTAL_WEBHOOK_URL = webhook.url
    settings.OPSPORTAL_PAGERDUTY_URL = pagerduty.url
    settings.OPSPORTAL_PAGERDUTY_ROUTING_KEY = "R0UT1NGKEY"
    yield webhook, pagerduty
    webhook.close()
    pagerduty.close()


def _wait_for(receiver: Webhook, count: int, page) -> None:
    """Paging runs after the change commits; give it the moment it takes."""
    for _ in range(50):
        if len(receiver.received) >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"expected {count} documents, got {receiver.received}")


def test_an_incident_from_its_first_symptom_to_its_post_mortem(
    login, live_server, receivers, user_factory, monkeypatch
):
    webhook, pagerduty = receivers
    # CloudWatch out of reach: the impact says it was not read, and nothing waits on it.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    forget_clients()
    endpoint = make_endpoint("tumor-classifier")
    event(
        "UpdateEndpoint",
        at=timezone.now() - timedelta(minutes=20),
        endpoint="tumor-classifier",
        config="tumor-config-v3",
        principal="ci-deployer",
        identity="AssumedRole",
        params={"endpointName": "tumor-classifier", "endpointConfigName": "tumor-config-v3"},
    )
    Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name="tumor-classifier-5xx-rate",
        state="ALARM",
        reason="Threshold Crossed: 3 datapoints were greater than the threshold (0.05).",
        endpoint_name=endpoint.name,
        state_updated_at=timezone.now() - timedelta(minutes=8),
        synced_at=timezone.now(),
    )
    incidents_sync()
    incident = Incident.objects.get()
    assert incident.cause_text  # the deploy 12 minutes before the alarm

    page = login("Operator")
    _wait_for(pagerduty, 1, page)

    # On the board: the card names the incident; acknowledge it there.
    page.goto(f"{live_server.url}/incidents/")
    card = page.locator("[data-testid=incident][data-endpoint=tumor-classifier]")
    assert f"Incident #{incident.pk}" in card.locator("[data-testid=incident-record]").inner_text()
    card.locator("[data-testid=acknowledge]").click()
    page.wait_for_url(f"{live_server.url}/incidents/")
    assert "acknowledged" in page.locator("[data-testid=incident-record]").inner_text()

    # Meanwhile someone proposes a change to the endpoint: an action taken during it.
    proposal_id = shift(endpoint, user_factory("alice", "Operator"))

    # On its page: mitigated, then resolved, each with what was done.
    page.get_by_role("link", name="Mitigated / resolve…").click()
    page.wait_for_url(f"{live_server.url}/incidents/{incident.pk}/")
    page.fill("input[aria-label='Note for mitigated']", "shifted traffic to B")
    page.click("[data-testid=move-mitigated]")
    page.wait_for_selector("[data-testid=incident-state]:has-text('mitigated')")
    page.fill("input[aria-label='Note for resolved']", "rolled back to tumor-config-v2")
    page.click("[data-testid=move-resolved]")
    page.wait_for_selector("[data-testid=incident-state]:has-text('resolved')")
    assert page.locator("[data-testid=incident-moves]").count() == 0  # nothing left to do
    history = page.locator("[data-testid=incident-history]").inner_text()
    assert "shifted traffic to B" in history and "rolled back to tumor-config-v2" in history
    link = page.locator("[data-testid=incident-actions] [data-testid=action-link]")
    assert link.get_attribute("href") == f"/shifts/{proposal_id}/"

    # Later, in the history: filtered to resolved incidents on this endpoint.
    page.goto(f"{live_server.url}/incidents/history/")
    page.select_option("select[name=state]", "resolved")
    page.fill("input[name=endpoint]", "tumor")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/incidents/history/?*state=resolved*")
    rows = page.locator("[data-testid=incident-table] tbody tr[data-incident]")
    assert rows.count() == 1
    rows.first.get_by_role("link", name=f"#{incident.pk}").click()
    page.wait_for_url(f"{live_server.url}/incidents/{incident.pk}/")

    # Its post-mortem, opened from the page's link: the browser shows the Markdown as text.
    with page.expect_response(f"**/incidents/{incident.pk}/postmortem.md") as opened:
        page.click("[data-testid=postmortem-link]")
    assert opened.value.ok
    assert opened.value.headers["content-type"].startswith("text/markdown")
    page.wait_for_url(f"**/incidents/{incident.pk}/postmortem.md")
    markdown = page.locator("body").inner_text()
    cause = markdown.split("## Likely cause", 1)[1].split("\n## ", 1)[0]
    assert "updated to config tumor-config-v3" in cause and "by role ci-deployer" in cause
    actions = markdown.split("## Actions taken", 1)[1].split("\n## ", 1)[0]
    assert "acknowledged" in actions
    assert "mitigated: shifted traffic to B" in actions
    assert "resolved: rolled back to tumor-config-v2" in actions
    assert f"change request #{proposal_id}" in actions and f"`/shifts/{proposal_id}/`" in actions
    assert "- **State:** Resolved" in markdown

    # What on-call was sent: PagerDuty followed the incident under one key ...
    _wait_for(pagerduty, 3, page)
    events = [doc["body"] for doc in pagerduty.received]
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {dedup_key(incident)}
    assert all(e["routing_key"] == "R0UT1NGKEY" for e in events)
    assert events[0]["payload"]["component"] == "tumor-classifier"
    assert all(doc["content_type"] == "application/json" for doc in pagerduty.received)
    # ... and the webhook got a message for every move, the notes with them.
    _wait_for(webhook, 4, page)
    texts = [doc["body"]["text"] for doc in webhook.received]
    assert len(texts) == 4
    for text, word in zip(texts, ("opened", "acknowledged", "mitigated", "resolved"), strict=True):
        assert f"Incident #{incident.pk}" in text and word in text
    assert "shifted traffic to B" in texts[2] and "rolled back to tumor-config-v2" in texts[3]
