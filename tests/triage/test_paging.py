"""Paging on-call: an incident opening, being acknowledged and resolved reaches email, the
Slack-compatible webhook and PagerDuty's Events API v2 (trigger, acknowledge, resolve under
one dedup key); an incident nobody takes is paged once; a dead channel changes nothing.
The navigation shows open incidents to everyone and pending approvals to Approvers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Alarm
from tests.shifts.helpers import make_endpoint
from tests.support.receiver import Webhook
from tests.support.world import shift
from triage.incidents import incident_move, incidents_sync
from triage.models import Incident
from triage.paging import dedup_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def receivers(settings) -> Iterator[tuple[Webhook, Webhook]]:
    slack, pagerduty = Webhook(), Webhook()
    settings.OPSPORTAL_WEBHOOK_URL = slack.url
    settings.OPSPORTAL_PAGERDUTY_URL = pagerduty.url
    settings.OPSPORTAL_PAGERDUTY_ROUTING_KEY = "R0UT1NGKEY"
    settings.OPSPORTAL_ONCALL_EMAILS = ("oncall@example.com",)
    yield slack, pagerduty
    slack.close()
    pagerduty.close()


def _alarm(endpoint, *, minutes_ago: float) -> Alarm:
    return Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name="checkout-5xx-rate",
        state="ALARM",
        reason="Threshold Crossed",
        endpoint_name=endpoint.name,
        state_updated_at=timezone.now() - timedelta(minutes=minutes_ago),
        synced_at=timezone.now(),
    )


def test_an_incident_is_paged_through_its_life(
    receivers, user_factory, django_capture_on_commit_callbacks
):
    slack, pagerduty = receivers
    _alarm(make_endpoint("checkout"), minutes_ago=2)
    with django_capture_on_commit_callbacks(execute=True):
        incidents_sync()
    incident = Incident.objects.get()
    operator = user_factory("oncall", "Operator")
    with django_capture_on_commit_callbacks(execute=True):
        incident_move(incident_id=incident.pk, actor=operator, to="acknowledged")
    with django_capture_on_commit_callbacks(execute=True):
        incident_move(incident_id=incident.pk, actor=operator, to="resolved", note="rolled back")

    events = [doc["body"] for doc in pagerduty.received]
    assert [e["event_action"] for e in events] == ["trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in events} == {dedup_key(incident)}
    assert all(e["routing_key"] == "R0UT1NGKEY" for e in events)
    trigger = events[0]["payload"]
    assert trigger["component"] == "checkout" and trigger["severity"] == "critical"
    assert "checkout-5xx-rate in ALARM" in trigger["custom_details"]["first_signal"]
    texts = [doc["body"]["text"] for doc in slack.received]
    assert len(texts) == 3 and "opened" in texts[0] and "resolved" in texts[2]
    assert "oncall: rolled back" in texts[2]
    assert [m.to for m in mail.outbox] == [["oncall@example.com"]] * 3


def test_an_incident_nobody_takes_is_paged_once(
    receivers, settings, django_capture_on_commit_callbacks
):
    _slack, pagerduty = receivers
    settings.OPSPORTAL_PAGE_UNOWNED_MINUTES = 15
    _alarm(make_endpoint("checkout"), minutes_ago=20)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            incidents_sync()
    actions = [doc["body"]["event_action"] for doc in pagerduty.received]
    assert actions == ["trigger", "trigger"]  # opened, then unowned: once
    incident = Incident.objects.get()
    assert incident.paged_unowned_at is not None
    assert "paged" in [e.action for e in incident.events.all()]


def test_a_dead_pager_changes_nothing(settings, user_factory, django_capture_on_commit_callbacks):
    settings.OPSPORTAL_PAGERDUTY_ROUTING_KEY = "R0UT1NGKEY"
    settings.OPSPORTAL_PAGERDUTY_URL = "http://127.0.0.1:9/v2/enqueue"
    settings.OPSPORTAL_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    _alarm(make_endpoint("checkout"), minutes_ago=2)
    with django_capture_on_commit_callbacks(execute=True):
        report = incidents_sync()
    assert report.opened == 1 and Incident.objects.get().state == "open"


def test_the_navigation_counts_open_incidents_and_pending_approvals(role_client, user_factory):
    endpoint = make_endpoint("checkout")
    _alarm(endpoint, minutes_ago=2)
    incidents_sync()
    shift(endpoint, user_factory("proposer", "Operator"))
    viewer = role_client("Viewer")
    page = viewer.get(reverse("overview")).content.decode()
    # The page loads its badges by itself (and refreshes them), paying none of their queries.
    assert reverse("nav_badge", args=["incidents"]) in page
    assert reverse("nav_badge", args=["approvals"]) not in page
    badge = viewer.get(reverse("nav_badge", args=["incidents"])).content.decode()
    assert 'data-testid="incident-badge" title="1 unresolved incident">1<' in badge
    assert 'hx-trigger="every 30s"' in badge
    hidden = viewer.get(reverse("nav_badge", args=["approvals"])).content.decode()
    assert "approval-badge" not in hidden
    approver = role_client("Approver")
    assert (
        reverse("nav_badge", args=["approvals"])
        in approver.get(reverse("overview")).content.decode()
    )
    badge = approver.get(reverse("nav_badge", args=["approvals"])).content.decode()
    assert 'data-testid="approval-badge" title="1 waiting for approval">1<' in badge
    assert viewer.get(reverse("nav_badge", args=["nonsense"])).status_code == 404
