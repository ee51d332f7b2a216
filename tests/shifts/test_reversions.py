"""An applied change undone outside the portal is detected: pages stop claiming the
applied state and name who undid it and when, from CloudTrail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apihistory.models import IngestCursor
from apihistory.services import trail_ingest
from core.targets import target_by_name
from endpoints.services import endpoint_refresh
from shifts import services
from shifts.models import ShiftProposal, ShiftState
from shifts.reversions import latest_reversion
from tests.apihistory import cloudtrail_settings
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import console, settle
from tests.shifts.test_trail_link import as_portal_role  # noqa: F401

pytestmark = pytest.mark.django_db


def _ingest(region: str, url: str, settings) -> None:
    target = target_by_name("sandbox")
    IngestCursor.objects.create(
        target=target.name,
        account_id=target.account_id,
        region=region,
        newest_event_time=timezone.now() - timedelta(seconds=30),
    )
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 120
    settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = 50
    with cloudtrail_settings(url, lookup_rate=50, lag_seconds=0):
        assert trail_ingest(target=target, region=region).ok


def test_emergency_shift_restored_by_someone_else_reads_reverted_by_them(
    as_portal_role,  # noqa: F811
    live,
    people,
    aws_sandbox,
    held_tasks,
    run_commits,
    settings,
    role_client,
):
    emergency = run_commits(
        lambda: services.shift_emergency(
            endpoint_id=live.pk,
            actor=people.admin,
            desired={"v0": 100, "v1": 0},
            reason="v1 returns 500s",
        )
    )
    assert settle(held_tasks, emergency).state == ShiftState.APPLIED
    assert latest_reversion(endpoint_id=live.pk) is None  # it holds

    # A CI role's pipeline puts the old weights back.
    console(aws_sandbox.url).update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    wait_for_status(console(aws_sandbox.url), live.name, "InService")
    endpoint_refresh(endpoint_id=live.pk)
    before_trail = latest_reversion(endpoint_id=live.pk)
    assert before_trail is not None and before_trail.reverted
    assert before_trail.principal == "" and before_trail.at is None  # not in CloudTrail yet

    _ingest(live.region, aws_sandbox.url, settings)
    reversion = latest_reversion(endpoint_id=live.pk)
    assert reversion is not None and reversion.reverted
    assert reversion.proposal.pk == emergency.pk
    assert reversion.principal and reversion.principal != "OpsPortal"
    assert reversion.principal == "sandbox-tester"  # the colleague's identity
    sent = reversion.proposal.update_sent_at
    assert reversion.at is not None and sent - timedelta(seconds=1) <= reversion.at

    # Every tab of the endpoint says so in the emergency's banner.
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[live.pk]))
    banner = page.content.decode().split('data-testid="emergency-banner"', 1)[1]
    banner = banner.split("</div>", 1)[0]
    assert (
        f"Traffic shift #{emergency.pk} was reverted outside the portal by sandbox-tester at "
        in banner
    )


def test_a_later_change_request_is_not_a_reversion(
    live,
    people,
    aws_sandbox,
    held_tasks,
    run_commits,
):
    first = services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 75, "v1": 25}, reason="a"
    )
    run_commits(lambda: services.shift_approve(proposal_id=first.pk, actor=people.approver))
    assert settle(held_tasks, first).state == ShiftState.APPLIED
    second = services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 50, "v1": 50}, reason="b"
    )
    run_commits(lambda: services.shift_approve(proposal_id=second.pk, actor=people.approver))
    assert settle(held_tasks, second).state == ShiftState.APPLIED
    assert latest_reversion(endpoint_id=live.pk) is None


def test_a_change_undone_outside_the_portal_is_bannered_until_a_day_has_passed(
    live,
    people,
    aws_sandbox,
    held_tasks,
    run_commits,
    role_client,  # noqa: F811
):
    proposal = services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 75, "v1": 25}, reason="a"
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
    console(aws_sandbox.url).update_endpoint_weights_and_capacities(
        EndpointName=live.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 3.0, "DesiredInstanceCount": 1},
        ],
    )
    wait_for_status(console(aws_sandbox.url), live.name, "InService")
    endpoint_refresh(endpoint_id=live.pk)
    viewer = role_client("Viewer")
    page = viewer.get(reverse("endpoints:detail", args=[live.pk])).content.decode()
    banner = page.split('data-testid="reversion-banner"', 1)[1].split("</div>", 1)[0]
    assert f"Traffic shift #{proposal.pk} was changed outside the portal" in banner
    assert "who did it shows once CloudTrail delivers the call" in banner

    detail = viewer.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert "was changed outside the portal" in detail.split('data-testid="reversion-banner"')[1]

    ShiftProposal.objects.filter(pk=proposal.pk).update(
        finished_at=timezone.now() - timedelta(hours=25)
    )
    page = viewer.get(reverse("endpoints:detail", args=[live.pk])).content.decode()
    assert 'data-testid="reversion-banner"' not in page
