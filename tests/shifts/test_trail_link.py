"""A shift applied through the portal appears in API history as the portal's own call,
attributed to the portal's role, and the shift and its CloudTrail event link to each other."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apihistory.models import IngestCursor, TrailEvent
from apihistory.services import trail_ingest
from core.aws.clients import forget_clients
from core.targets import target_by_name
from shifts import services
from shifts.models import ShiftState
from tests.apihistory import cloudtrail_settings
from tests.shifts.helpers import settle

pytestmark = pytest.mark.django_db

PORTAL_KEY = "AKIAOPSPORTALDEMO000"  # the sandbox's access key for the portal's own role


@pytest.fixture
def as_portal_role(monkeypatch):
    """The portal calling AWS with its own role's credentials, as in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", PORTAL_KEY)
    forget_clients()
    yield
    monkeypatch.undo()
    forget_clients()


def test_applied_shift_is_found_in_api_history_as_the_portals_call(
    as_portal_role, live, people, aws_sandbox, held_tasks, run_commits, role_client, settings
):
    proposal = services.shift_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        desired={"v0": 90, "v1": 10},
        reason="v1 regressed on latency",
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    applied = settle(held_tasks, proposal)
    assert applied.state == ShiftState.APPLIED and applied.aws_request_id

    # Ingest just the last minutes of us-east-1, quickly: the sandbox and the portal's
    # limiter both allow more than AWS's 2 requests/s here, to keep the test short.
    target = target_by_name("sandbox")
    IngestCursor.objects.create(
        target=target.name,
        account_id=target.account_id,
        region=live.region,
        newest_event_time=timezone.now(),
    )
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 120
    settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = 50
    with cloudtrail_settings(aws_sandbox.url, lookup_rate=50, lag_seconds=0):
        result = trail_ingest(target=target, region=live.region)
    assert result.ok, result.summary()

    event = TrailEvent.objects.get(
        event_name="UpdateEndpointWeightsAndCapacities", endpoint_name=live.name
    )
    assert event.request_id == applied.aws_request_id
    assert event.identity_type == "AssumedRole" and event.principal_name == "OpsPortal"
    weights = {
        item["variantName"]: item["desiredWeight"]
        for item in event.record["requestParameters"]["desiredWeightsAndCapacities"]
    }
    assert weights == {"v0": 90.0, "v1": 10.0}

    viewer = role_client("Viewer")
    # API history links the event to its proposal, not "outside the portal".
    listing = viewer.get(reverse("apihistory:list"), {"endpoint": live.name}).content.decode()
    row = listing.split(f'data-event="{event.event_id}"', 1)[1].split("</tr>", 1)[0]
    assert reverse("shifts:detail", args=[proposal.pk]) in row
    assert 'data-testid="outside-portal"' not in row
    # The proposal links back to the event.
    detail = viewer.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert reverse("apihistory:detail", args=[event.pk]) in detail
    assert "by OpsPortal" in detail


def test_a_weight_change_made_outside_the_portal_is_marked_so(
    live, aws_sandbox, role_client, settings
):
    from tests.shifts.helpers import console

    console(aws_sandbox.url).update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 3.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    target = target_by_name("sandbox")
    IngestCursor.objects.create(
        target=target.name,
        account_id=target.account_id,
        region=live.region,
        newest_event_time=timezone.now() - timedelta(seconds=1),
    )
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 120
    settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = 50
    with cloudtrail_settings(aws_sandbox.url, lookup_rate=50, lag_seconds=0):
        assert trail_ingest(target=target, region=live.region).ok
    event = TrailEvent.objects.get(
        event_name="UpdateEndpointWeightsAndCapacities", endpoint_name=live.name
    )
    changes = role_client("Viewer").get(reverse("apihistory:endpoint_changes", args=[live.pk]))
    row = changes.content.decode().split(f'data-event="{event.event_id}"', 1)[1].split("</tr>")[0]
    assert 'data-testid="outside-portal"' in row
    assert "desired weights and capacities" in row


def test_a_deploys_config_and_update_are_found_as_the_change_requests_calls(
    as_portal_role, live, people, aws_sandbox, held_tasks, run_commits, role_client, settings
):
    from shifts.models import ChangeType
    from tests.shifts.helpers import console
    from tests.shifts.test_change_types import copy_of_model

    sm = console(aws_sandbox.url)
    config = sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"
    ]
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.DEPLOY,
        spec={"variant": "v1", "model": copy_of_model(aws_sandbox.url, model)},
        reason="model v2",
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED

    target = target_by_name("sandbox")
    IngestCursor.objects.create(
        target=target.name,
        account_id=target.account_id,
        region=live.region,
        newest_event_time=timezone.now(),
    )
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 120
    settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = 50
    with cloudtrail_settings(aws_sandbox.url, lookup_rate=50, lag_seconds=0):
        assert trail_ingest(target=target, region=live.region).ok
    listing = (
        role_client("Viewer")
        .get(reverse("apihistory:endpoint_changes", args=[live.pk]))
        .content.decode()
    )
    detail = reverse("shifts:detail", args=[proposal.pk])
    for name in ("CreateEndpointConfig", "UpdateEndpoint"):
        event = TrailEvent.objects.get(
            event_name=name, endpoint_config_name=f"{live.name}-cr{proposal.pk}"
        )
        row = listing.split(f'data-event="{event.event_id}"', 1)[1].split("</tr>", 1)[0]
        assert detail in row and f"change #{proposal.pk}" in row, name
        assert 'data-testid="outside-portal"' not in row
