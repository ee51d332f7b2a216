"""The staging account's CloudTrail, read through the staging target's role: the portal's
own calls there appear as the role it assumed, in staging's account."""

from __future__ import annotations

import pytest

from apihistory.models import TrailEvent
from apihistory.services import trail_ingest
from core.targets import parse_targets
from endpoints.services import inventory_sync

pytestmark = pytest.mark.django_db

STAGING = "210987654321"
ROLE = f"arn:aws:iam::{STAGING}:role/OpsPortalRead"


def test_staging_trail_shows_the_portals_calls_as_the_assumed_role(sandbox, settings):
    settings.OPSPORTAL_TARGETS = parse_targets(
        f"sandbox=123456789012:us-east-1,eu-west-1 staging={STAGING}:us-east-1:{ROLE}"
    )
    staging = settings.OPSPORTAL_TARGETS[1]
    assert inventory_sync(target=staging, region="us-east-1").ok

    result = trail_ingest(target=staging, region="us-east-1")

    assert result.ok, result.summary()
    portal = TrailEvent.objects.filter(target="staging", event_name="ListEndpoints").filter(
        principal_arn=f"arn:aws:sts::{STAGING}:assumed-role/OpsPortalRead/opsportal"
    )
    assert portal.exists()
    row = portal.first()
    assert row is not None
    assert (row.account_id, row.identity_type, row.session_name) == (
        STAGING,
        "AssumedRole",
        "opsportal",
    )
    assert row.record["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == ROLE
    assert row.record["recipientAccountId"] == STAGING
    # Staging's own week is there too, by staging's principals, and none of production's.
    assert TrailEvent.objects.filter(target="staging").exclude(account_id=STAGING).count() == 0
    assert not TrailEvent.objects.filter(target="staging", principal_arn__contains="123456789012")
