"""A second account: the staging target, reached through the role it names.

The sandbox's demo world has a staging account (210987654321) whose OpsPortalRead role
trusts production; with a staging target in OPSPORTAL_TARGETS the portal assumes that
role and its lists show both accounts' endpoints, same names included.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.targets import parse_targets
from endpoints.models import Endpoint
from endpoints.services import inventory_sync_configured

pytestmark = pytest.mark.django_db

STAGING = "210987654321"
TWO_ACCOUNTS = (
    "sandbox=123456789012:us-east-1,eu-west-1 "
    f"staging={STAGING}:us-east-1:arn:aws:iam::{STAGING}:role/OpsPortalRead"
)


@pytest.fixture
def two_accounts(settings):
    settings.OPSPORTAL_TARGETS = parse_targets(TWO_ACCOUNTS)
    return settings.OPSPORTAL_TARGETS


def test_sync_reads_the_staging_account_through_its_role(sandbox, two_accounts):
    reports = inventory_sync_configured()

    assert all(r.ok for r in reports), [r.error for r in reports]
    staged = Endpoint.objects.filter(target="staging")
    assert {e.name for e in staged} == {"fraud-detection", "tumor-classifier"}
    assert {e.account_id for e in staged} == {STAGING}
    assert all(e.arn.split(":")[4] == STAGING for e in staged)
    staging_fraud = staged.get(name="fraud-detection")
    production_fraud = Endpoint.objects.get(target="sandbox", name="fraud-detection")
    assert [v.name for v in staging_fraud.variants.all()] == ["xgb-c5", "xgb-c5-next"]
    assert "xgb-c5-next" not in [v.name for v in production_fraud.variants.all()]
    assert not Endpoint.objects.filter(target="staging", name="churn-serverless").exists()


def test_the_endpoint_list_shows_both_accounts(sandbox, two_accounts, role_client):
    inventory_sync_configured()
    viewer = role_client("Viewer")

    everything = viewer.get(reverse("endpoints:list"), {"name": "fraud-detection"})
    body = everything.content.decode()
    assert everything.status_code == 200
    assert STAGING in body and "123456789012" in body
    assert "staging/us-east-1" in body  # the sync line names the target
    assert f"staging ({STAGING})" in body  # the account filter offers it

    only_staging = viewer.get(reverse("endpoints:list"), {"account": STAGING}).content.decode()
    assert "tumor-classifier" in only_staging and "churn-serverless" not in only_staging

    staged = Endpoint.objects.get(target="staging", name="tumor-classifier")
    detail = viewer.get(reverse("endpoints:detail", args=[staged.pk])).content.decode()
    assert f"staging ({STAGING})" in detail
