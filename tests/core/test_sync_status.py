"""One table of sync health for every kind of AWS data, and the one banner that reads it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.aws.errors import Throttled, Unavailable
from core.models import SyncKind, SyncStatus
from core.sync_status import sync_failed, sync_outages, sync_statuses, sync_succeeded
from core.targets import Target

pytestmark = pytest.mark.django_db

SANDBOX = Target(name="sandbox", account_id="123456789012", regions=("us-east-1", "eu-west-1"))


def test_a_run_of_failures_keeps_its_first_time_and_a_success_clears_it():
    first = timezone.now() - timedelta(minutes=10)
    sync_failed(
        kind=SyncKind.ALARMS,
        target=SANDBOX,
        region="us-east-1",
        error=Unavailable("Could not connect", code="EndpointConnectionError"),
        at=first,
    )
    sync_failed(
        kind=SyncKind.ALARMS,
        target=SANDBOX,
        region="us-east-1",
        error=Throttled("Rate exceeded", code="Throttling"),
    )
    status = SyncStatus.objects.get(kind="alarms", target="sandbox", region="us-east-1")
    assert status.failing_since == first
    assert status.last_error_kind == "Throttled" and "Rate exceeded" in status.last_error
    assert not status.unreachable

    sync_succeeded(kind=SyncKind.ALARMS, target=SANDBOX, region="us-east-1", detail={"alarms": 4})
    status.refresh_from_db()
    assert status.failing_since is None and status.last_error == ""
    assert status.last_success_at is not None and status.detail == {"alarms": 4}


def test_every_configured_region_is_listed_even_before_its_first_sync():
    sync_succeeded(kind=SyncKind.INVENTORY, target=SANDBOX, region="eu-west-1")
    statuses = sync_statuses(kind=SyncKind.INVENTORY)
    assert [(s.region, s.last_success_at is not None) for s in statuses] == [
        ("us-east-1", False),
        ("eu-west-1", True),
    ]


def test_the_banner_reads_every_kind_of_sync_and_only_configured_regions(role_client, client):
    sync_failed(
        kind=SyncKind.CLOUDTRAIL,
        target=SANDBOX,
        region="eu-west-1",
        error=Unavailable("Could not connect to the endpoint URL", code="EndpointConnectionError"),
    )
    sync_failed(
        kind=SyncKind.MODEL_MONITOR,
        target=SANDBOX,
        region="us-east-1",
        error=Throttled("Rate exceeded", code="ThrottlingException"),
    )
    gone = Target(name="sandbox", account_id="123456789012", regions=("ap-south-1",))
    sync_failed(kind=SyncKind.ALARMS, target=gone, region="ap-south-1", error=Unavailable("x"))

    assert [(s.kind, s.region) for s in sync_outages()] == [
        ("cloudtrail", "eu-west-1"),
        ("model_monitor", "us-east-1"),
    ]
    page = role_client("Viewer").get(reverse("endpoints:list")).content.decode()
    assert "AWS unreachable since" in page and "CloudTrail history, sandbox / eu-west-1" in page
    assert "AWS sync failing since" in page and "Model Monitor, sandbox / us-east-1" in page
    assert "Rate exceeded" in page and "ap-south-1" not in page
    # Signed out, nothing about the accounts behind the portal is shown.
    client.logout()
    assert "AWS unreachable" not in client.get(reverse("login")).content.decode()
