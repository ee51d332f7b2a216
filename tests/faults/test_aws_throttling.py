"""AWS throttling the portal (the sandbox's control-plane faults): pages keep the last good
data, say since when it is stale and why, and never fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.urls import reverse

from endpoints.models import Endpoint
from endpoints.services import inventory_sync_configured
from sandbox.testing import SandboxServer, api_fault, clear_api_faults

pytestmark = pytest.mark.django_db


@pytest.fixture
def throttling(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    cache.clear()
    yield sandbox
    clear_api_faults(sandbox.url)
    cache.clear()


def test_throttled_metrics_show_the_last_good_panel_marked_stale(throttling, role_client, settings):
    settings.OPSPORTAL_METRICS_CACHE_SECONDS = 0  # every refresh asks CloudWatch
    inventory_sync_configured()
    endpoint = Endpoint.objects.get(name="tumor-classifier", region="us-east-1")
    url = reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk])
    viewer = role_client("Viewer")
    good = viewer.get(url).content.decode()
    assert 'data-testid="metrics-stale"' not in good and "variant-comparison" in good

    api_fault(throttling.url, "monitoring:GetMetricData", throttle_rate=1.0)
    stale = viewer.get(url)
    body = stale.content.decode()
    assert stale.status_code == 200
    assert "Stale since" in body and "Throttling: Rate exceeded" in body
    assert "variant-comparison" in body  # the last good data, still shown


def test_throttled_inventory_sync_keeps_the_list_and_says_so_on_every_page(throttling, role_client):
    inventory_sync_configured()
    api_fault(throttling.url, "sagemaker:ListEndpoints", throttle_rate=1.0)
    reports = inventory_sync_configured()
    assert not any(report.ok for report in reports)

    viewer = role_client("Viewer")
    listing = viewer.get(reverse("endpoints:list")).content.decode()
    assert "tumor-classifier" in listing  # last synced data
    assert 'data-testid="aws-unreachable"' in listing and "AWS sync failing since" in listing
    assert "ThrottlingException" in listing
    overview = viewer.get(reverse("overview")).content.decode()
    assert "AWS sync failing since" in overview


def test_dropped_connections_show_the_last_good_panel_and_never_a_500(
    throttling, role_client, settings
):
    settings.OPSPORTAL_METRICS_CACHE_SECONDS = 0
    inventory_sync_configured()
    endpoint = Endpoint.objects.get(name="tumor-classifier", region="us-east-1")
    url = reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk])
    viewer = role_client("Viewer")
    assert "variant-comparison" in viewer.get(url).content.decode()

    api_fault(throttling.url, "monitoring:*", reset_rate=1.0)
    dropped = viewer.get(url)
    body = dropped.content.decode()
    assert dropped.status_code == 200
    assert "Stale since" in body and "variant-comparison" in body
