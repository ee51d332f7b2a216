"""The endpoint header keeps itself current (its status and times, polled), names its times
truly (the endpoint's last change and the inventory's last read are two things), and a page
offers no test invoke of an endpoint that serves nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import SyncStatus
from endpoints.models import Endpoint
from tests.shifts.helpers import make_endpoint

pytestmark = pytest.mark.django_db


def test_the_header_says_when_the_endpoint_changed_and_when_the_inventory_read_it(
    role_client,
):
    endpoint = make_endpoint("checkout")
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        last_modified_time=an_hour_ago, synced_at=an_hour_ago
    )
    SyncStatus.objects.create(
        kind="inventory", target="sandbox", region="us-east-1", last_success_at=timezone.now()
    )
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[endpoint.pk]))
    times = page.content.decode().split('data-testid="header-times"')[1].split("</span>")[0]
    assert "changed 1 h 0 min ago" in times and "inventory read 0 s ago" in times
    polled = role_client("Operator").get(reverse("endpoints:header_status", args=[endpoint.pk]))
    assert polled.status_code == 200 and "<html" not in polled.content.decode()
    assert 'hx-trigger="every 10s"' in polled.content.decode()


def test_a_failed_endpoint_offers_no_test_invoke(role_client):
    endpoint = make_endpoint("broken", status="Failed")
    page = role_client("Operator").get(reverse("endpoints:invoke", args=[endpoint.pk]))
    body = page.content.decode()
    assert 'data-testid="invoke-not-serving"' in body and 'data-testid="invoke-form"' not in body


def test_the_endpoint_list_refreshes_its_table_with_the_filters_it_shows(role_client):
    make_endpoint("checkout")
    client = role_client("Viewer")
    polled = client.get(
        reverse("endpoints:list") + "?status=InService",
        headers={"HX-Request": "true", "HX-Target": "endpoint-table"},
    )
    body = polled.content.decode()
    assert "<html" not in body and 'hx-trigger="every 15s"' in body
    assert 'hx-get="/endpoints/?status=InService"' in body and "checkout" in body


def test_the_config_creation_time_reads_like_every_other_date(role_client):
    endpoint = make_endpoint("checkout")
    Endpoint.objects.filter(pk=endpoint.pk).update(
        config_raw={"EndpointConfigName": "c1", "CreationTime": "2026-11-27T16:15:22.123+00:00"}
    )
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[endpoint.pk]))
    created = page.content.decode().split('data-testid="config-created">')[1].split("<")[0]
    assert created == "2026-11-27 16:15:22 UTC"
