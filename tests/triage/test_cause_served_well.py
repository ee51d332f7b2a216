"""A change the endpoint then served well after is not its likely cause: a fault injected 25
minutes after a healthy CreateEndpoint is not the CreateEndpoint's doing, and the card says
why instead of blaming it. A deploy is still blamed (its new fleet serves only at its end)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.models import Alarm
from sandbox.testing import replay_traffic
from tests.apihistory.test_pages import event
from tests.aws_actor import create_endpoint
from triage.board import incident_board

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def served_well(sandbox) -> Endpoint:
    """A sandbox endpoint that served 15 minutes without an error, up to 3 minutes ago,
    with its 5XX alarm in ALARM since a minute ago."""
    name = create_endpoint(sandbox.url)
    now = time.time()
    minute = now - now % 60
    for back in range(18, 3, -1):
        replay_traffic(sandbox.url, endpoint=name, requests=50, at=minute - 60 * back + 5)
    assert inventory_sync(target=TARGET, region="us-east-1").ok
    endpoint = Endpoint.objects.get(name=name)
    Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=f"{name}-5xx-rate",
        state="ALARM",
        reason="Threshold Crossed",
        endpoint_name=name,
        state_updated_at=timezone.now() - timedelta(minutes=1),
        synced_at=timezone.now(),
    )
    return endpoint


def _entry(endpoint: Endpoint):
    return next(e for e in incident_board() if e.endpoint.pk == endpoint.pk)


def test_a_change_followed_by_healthy_traffic_is_not_blamed(served_well, role_client):
    event("CreateEndpoint", at=timezone.now() - timedelta(minutes=25), endpoint=served_well.name)
    entry = _entry(served_well)
    assert entry.cause is None
    assert "min of traffic without a 5XX error" in entry.cleared_change
    page = role_client("Viewer").get(reverse("triage:board")).content.decode()
    assert "no change explains it: " in page


def test_without_enough_healthy_minutes_the_change_is_still_blamed(
    served_well, role_client, settings
):
    settings.OPSPORTAL_CAUSE_HEALTHY_MINUTES = 30  # more than the 15 it served
    event("CreateEndpoint", at=timezone.now() - timedelta(minutes=25), endpoint=served_well.name)
    entry = _entry(served_well)
    assert entry.cause is not None and entry.cause.event.event_name == "CreateEndpoint"
    assert entry.cleared_change == ""


def test_a_deploy_is_blamed_whatever_the_old_fleet_served_meanwhile(served_well):
    event("UpdateEndpoint", at=timezone.now() - timedelta(minutes=25), endpoint=served_well.name)
    entry = _entry(served_well)
    assert entry.cause is not None and entry.cause.event.event_name == "UpdateEndpoint"
