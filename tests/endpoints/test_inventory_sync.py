"""Inventory sync against the sandbox over HTTP: first sync, steady state, changes,
deletions and an unreachable region."""

from __future__ import annotations

import math

import boto3
import pytest
from botocore.config import Config
from django.conf import settings

from audit.models import AuditEntry
from core.aws import clients
from core.models import SyncStatus
from endpoints.models import Endpoint
from endpoints.selectors import variant_shares
from endpoints.services import inventory_sync, inventory_sync_configured
from tests.aws_actor import create_endpoint, sagemaker, wait_for_status

pytestmark = pytest.mark.django_db

TARGET = settings.OPSPORTAL_TARGETS[0]


def _list_endpoint_calls() -> int:
    return clients.call_counts()[("sagemaker", "ListEndpoints")]


def _non_list_calls() -> dict[tuple[str, str], int]:
    return {k: v for k, v in clients.call_counts().items() if k[1] != "ListEndpoints" and v}


def test_first_sync_stores_every_demo_endpoint_with_variants(sandbox):
    reports = inventory_sync_configured()

    assert all(r.ok for r in reports), [r.error for r in reports]
    tumor = Endpoint.objects.get(region="us-east-1", name="tumor-classifier")
    shares = {
        vs.variant.name: round(vs.share, 1) for vs in variant_shares(list(tumor.variants.all()))
    }
    assert shares == {"A": 80.0, "B": 20.0}
    assert tumor.data_capture["enabled"] is True
    assert {v.instance_type for v in tumor.variants.all()} == {"ml.m5.large"}
    assert tumor.autoscaling and tumor.autoscaling[0]["variant"] == "A"

    iris = Endpoint.objects.get(name="iris-classifier")
    assert iris.region == "eu-west-1"
    assert [v.name for v in iris.variants.all()] == ["AllTraffic"]

    serverless = Endpoint.objects.get(name="churn-serverless")
    assert serverless.variants.get().serverless["memory_size_mb"] == 2048

    fraud = Endpoint.objects.get(name="fraud-detection")
    assert sorted(v.instance_type for v in fraud.variants.all()) == ["ml.c5.xlarge", "ml.m5.xlarge"]

    failed = Endpoint.objects.get(name="sentiment-legacy")
    assert failed.status == "Failed"
    assert "Failed to download model data" in failed.failure_reason

    state = SyncStatus.objects.get(kind="inventory", target=TARGET.name, region="us-east-1")
    assert state.last_success_at is not None and state.failing_since is None


def test_steady_state_sync_makes_only_list_calls(sandbox):
    inventory_sync(target=TARGET, region="us-east-1")
    # Endpoints created by earlier tests may still be settling: sync until quiet.
    for _ in range(20):
        report = inventory_sync(target=TARGET, region="us-east-1")
        if report.described == 0 and not report.updated:
            break
    clients.reset_call_counts()

    report = inventory_sync(target=TARGET, region="us-east-1")

    assert report.ok and report.described == 0
    assert _list_endpoint_calls() == math.ceil(report.listed / 100)
    made = _non_list_calls()
    # The region hosts inference components (the demo's shared-scoring): one
    # ListInferenceComponents tells whether any changed while their endpoint did not.
    assert made.pop(("sagemaker", "ListInferenceComponents"), 0) == 1
    assert made == {}


def test_changed_endpoint_is_the_only_one_described(sandbox):
    name = create_endpoint(sandbox.url, weights=(1.0, 1.0))
    inventory_sync(target=TARGET, region="us-east-1")
    sm = sagemaker(sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 3.0, "DesiredInstanceCount": 1},
            {"VariantName": "v1", "DesiredWeight": 1.0, "DesiredInstanceCount": 1},
        ],
    )
    wait_for_status(sm, name, "InService")
    clients.reset_call_counts()

    report = inventory_sync(target=TARGET, region="us-east-1")

    assert report.updated == [name]
    assert clients.call_counts()[("sagemaker", "DescribeEndpoint")] == 1
    endpoint = Endpoint.objects.get(name=name)
    shares = {vs.variant.name: vs.share for vs in variant_shares(list(endpoint.variants.all()))}
    assert shares == {"v0": 75.0, "v1": 25.0}
    syncs = AuditEntry.objects.filter(action="inventory.sync")
    assert any((entry.after or {}).get("updated") == [name] for entry in syncs)


def test_endpoint_deleted_in_aws_is_marked_deleted_not_dropped(sandbox):
    name = create_endpoint(sandbox.url)
    inventory_sync(target=TARGET, region="us-east-1")
    sagemaker(sandbox.url).delete_endpoint(EndpointName=name)

    report = inventory_sync(target=TARGET, region="us-east-1")

    assert name in report.deleted
    endpoint = Endpoint.objects.get(name=name)
    assert endpoint.deleted_at is not None
    assert endpoint.variants.count() == 2


def test_one_unreachable_region_does_not_stop_the_other(sandbox, monkeypatch):
    """eu-west-1's SageMaker refuses connections (a closed local port); us-east-1 syncs."""
    real_client = clients.client

    def client_with_dead_region(*, target, region, service, read_timeout=None):
        if region == "eu-west-1":
            return boto3.client(
                service,
                region_name=region,
                endpoint_url="http://127.0.0.1:9",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
            )
        return real_client(target=target, region=region, service=service)

    monkeypatch.setattr("core.aws.sagemaker.client", client_with_dead_region)

    reports = {r.region: r for r in inventory_sync_configured()}

    assert reports["us-east-1"].ok
    assert not reports["eu-west-1"].ok
    dead = SyncStatus.objects.get(kind="inventory", region="eu-west-1")
    assert dead.failing_since is not None and dead.last_error_kind == "Unavailable"
    assert SyncStatus.objects.get(kind="inventory", region="us-east-1").failing_since is None
    assert Endpoint.objects.filter(region="us-east-1", name="tumor-classifier").exists()


def test_region_recovers_after_outage(sandbox, monkeypatch):
    SyncStatus.objects.create(
        kind="inventory",
        target=TARGET.name,
        region="eu-west-1",
        failing_since="2026-01-01T00:00:00Z",
        last_error_kind="Unavailable",
        last_error="Could not connect",
    )

    report = inventory_sync(target=TARGET, region="eu-west-1")

    assert report.ok
    assert SyncStatus.objects.get(kind="inventory", region="eu-west-1").failing_since is None


def test_the_sync_keeps_each_endpoints_tags_for_its_runbook_link(sandbox, settings):
    from triage.board import runbook_url

    settings.OPSPORTAL_RUNBOOK_URLS = {}
    settings.OPSPORTAL_RUNBOOK_URL_TEMPLATE = ""
    name = create_endpoint(sandbox.url)
    arn = sagemaker(sandbox.url).describe_endpoint(EndpointName=name)["EndpointArn"]
    sagemaker(sandbox.url).add_tags(
        ResourceArn=arn,
        Tags=[
            {"Key": "runbook", "Value": "https://wiki.example.com/runbooks/checkout"},
            {"Key": "team", "Value": "payments"},
        ],
    )
    clients.reset_call_counts()
    inventory_sync(target=TARGET, region="us-east-1")
    endpoint = Endpoint.objects.get(name=name)
    assert endpoint.tags == {
        "runbook": "https://wiki.example.com/runbooks/checkout",
        "team": "payments",
    }
    assert runbook_url(endpoint) == "https://wiki.example.com/runbooks/checkout"
    # One ListTags per endpoint described, none for the ones that did not change.
    assert (
        clients.call_counts()[("sagemaker", "ListTags")]
        == clients.call_counts()[("sagemaker", "DescribeEndpoint")]
    )
