"""Endpoint pages as a user sees them: filters, sorting, pagination, detail, refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from core.models import SyncStatus
from endpoints.models import Endpoint, Variant

pytestmark = pytest.mark.django_db


def make_endpoint(
    name: str,
    *,
    region: str = "us-east-1",
    status: str = "InService",
    weights: tuple[float, ...] = (1.0,),
    **fields,
) -> Endpoint:
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        target="sandbox",
        account_id="123456789012",
        region=region,
        name=name,
        arn=f"arn:aws:sagemaker:{region}:123456789012:endpoint/{name}",
        status=status,
        status_changed_at=fields.pop("status_changed_at", now),
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
        config_name=f"{name}-config",
        **fields,
    )
    for i, weight in enumerate(weights):
        Variant.objects.create(
            endpoint=endpoint,
            name=f"variant-{i}",
            position=i,
            model_name=f"{name}-model",
            instance_type="ml.m5.large",
            current_weight=weight,
            desired_weight=weight,
            current_instance_count=1,
            desired_instance_count=1,
        )
    return endpoint


def test_list_shows_variants_with_traffic_share(role_client):
    make_endpoint("tumor", weights=(80, 20))
    response = role_client("Viewer").get(reverse("endpoints:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "tumor" in body and "80.0%" in body and "20.0%" in body
    assert "ml.m5.large × 1" in body
    assert "s ago" in body  # exact freshness, to the second


def test_variants_of_a_failed_endpoint_are_not_shown_ready(role_client):
    endpoint = make_endpoint("broken", status="Failed")
    Variant.objects.filter(endpoint=endpoint).update(current_weight=None, desired_weight=None)
    row = role_client("Viewer").get(reverse("endpoints:list")).context["rows"][0]
    assert row.variants[0].summary.endswith("· –")


def test_list_filters_by_name_region_and_status(role_client):
    make_endpoint("alpha-fraud")
    make_endpoint("beta-iris", region="eu-west-1")
    make_endpoint("gamma-broken", status="Failed")
    client = role_client("Viewer")

    def names(**params):
        response = client.get(reverse("endpoints:list"), params)
        assert response.status_code == 200
        return [r.name for r in response.context["rows"]]

    assert names(name="IRIS") == ["beta-iris"]
    assert names(region="eu-west-1") == ["beta-iris"]
    assert names(status="Failed") == ["gamma-broken"]
    assert names(sort="-name") == ["gamma-broken", "beta-iris", "alpha-fraud"]


def test_invalid_filter_is_explained_not_ignored(role_client):
    make_endpoint("alpha")
    response = role_client("Viewer").get(reverse("endpoints:list"), {"region": "mars-1"})
    assert response.status_code == 400
    assert "Some filters are not valid" in response.content.decode()
    assert response.context["rows"] == []


def test_deleted_endpoints_hidden_unless_asked(role_client):
    make_endpoint("gone", deleted_at=timezone.now())
    client = role_client("Viewer")
    assert "gone" not in client.get(reverse("endpoints:list")).content.decode()
    shown = client.get(reverse("endpoints:list"), {"deleted": "on"}).content.decode()
    assert "gone" in shown and "Deleted" in shown


def test_list_queries_do_not_grow_with_endpoints(role_client, django_assert_max_num_queries):
    client = role_client("Viewer")
    for i in range(5):
        make_endpoint(f"few-{i}", weights=(1, 1, 1))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("endpoints:list"))
    for i in range(60):
        make_endpoint(f"many-{i}", weights=(1, 1, 1))
    with django_assert_max_num_queries(12) as many:
        response = client.get(reverse("endpoints:list"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(response.context["rows"]) == 50
    assert response.context["page"].has_next()


def test_htmx_filter_returns_only_the_table(role_client):
    make_endpoint("alpha")
    response = role_client("Viewer").get(
        reverse("endpoints:list"),
        {"name": "alp"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="endpoint-table",
    )
    body = response.content.decode()
    assert "alpha" in body and "<html" not in body


def test_detail_shows_the_whole_configuration(role_client):
    endpoint = make_endpoint(
        "tumor",
        weights=(80, 20),
        data_capture={
            "enabled": True,
            "status": "Started",
            "sampling_percentage": 100,
            "destination_s3_uri": "s3://bucket/capture/",
        },
        describe_raw={"EndpointName": "tumor", "EndpointStatus": "InService"},
        config_raw={"EndpointConfigName": "tumor-config", "KmsKeyId": "arn:aws:kms:key/1"},
        autoscaling=[
            {
                "variant": "variant-0",
                "min_capacity": 1,
                "max_capacity": 4,
                "policies": [
                    {
                        "name": "p",
                        "type": "TargetTrackingScaling",
                        "metric": "SageMakerVariantInvocationsPerInstance",
                        "target_value": 70.0,
                        "scale_in_cooldown": 300,
                        "scale_out_cooldown": 60,
                    }
                ],
            }
        ],
    )
    response = role_client("Viewer").get(reverse("endpoints:detail", args=[endpoint.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "tumor-config" in body and "arn:aws:kms:key/1" in body
    assert "s3://bucket/capture/" in body
    assert "variant-0: 1–4 instances" in body
    assert "80.0%" in body and "tumor-model" in body
    assert "&quot;EndpointStatus&quot;: &quot;InService&quot;" in body


def test_detail_of_failed_endpoint_shows_failure_reason(role_client):
    endpoint = make_endpoint(
        "broken", status="Failed", failure_reason="Failed to download model data"
    )
    body = (
        role_client("Viewer").get(reverse("endpoints:detail", args=[endpoint.pk])).content.decode()
    )
    assert "Failed to download model data" in body


def test_unknown_endpoint_is_a_404_page(role_client):
    response = role_client("Viewer").get(reverse("endpoints:detail", args=[99999]))
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_refresh_syncs_the_endpoint_and_audits(role_client, sandbox):
    """Real commits, so the task is queued when the request's transaction commits."""
    from django.conf import settings

    from endpoints.services import inventory_sync

    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    endpoint = Endpoint.objects.get(name="tumor-classifier")
    Endpoint.objects.filter(pk=endpoint.pk).update(status="Updating")
    client = role_client("Operator")
    response = client.post(reverse("endpoints:refresh", args=[endpoint.pk]), follow=True)
    assert response.status_code == 200
    assert "Refresh of tumor-classifier queued" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.status == "InService"
    entry = AuditEntry.objects.filter(action="inventory.refresh").latest("id")
    assert entry.target == endpoint.arn and entry.username == "user-operator"


@pytest.mark.django_db(transaction=True)
def test_refresh_with_broker_down_says_so(role_client, broker_down):
    """The broker refuses connections: the user is told, nothing is lost, no 500."""
    endpoint = make_endpoint("alpha")
    response = role_client("Operator").post(
        reverse("endpoints:refresh", args=[endpoint.pk]), follow=True
    )
    assert response.status_code == 200
    assert "broker is unreachable" in response.content.decode()


def test_refresh_is_post_only(role_client):
    endpoint = make_endpoint("alpha")
    response = role_client("Operator").get(reverse("endpoints:refresh", args=[endpoint.pk]))
    assert response.status_code == 405


def test_viewer_cannot_refresh_and_the_attempt_is_audited(role_client):
    endpoint = make_endpoint("alpha")
    response = role_client("Viewer").post(reverse("endpoints:refresh", args=[endpoint.pk]))
    assert response.status_code == 403
    assert AuditEntry.objects.filter(outcome="denied", username="user-viewer").exists()


def test_overview_counts_and_attention(role_client, settings):
    make_endpoint("ok-one")
    make_endpoint("failed-one", status="Failed", failure_reason="Model crashed")
    make_endpoint(
        "stuck-one", status="Updating", status_changed_at=timezone.now() - timedelta(hours=2)
    )
    idle = make_endpoint("idle-one", weights=(1, 0))
    make_endpoint("fresh-update", status="Updating")
    response = role_client("Viewer").get(reverse("overview"))
    body = response.content.decode()
    assert response.context["total"] == 5
    # "Needs attention" is the incident board's list, the same the Incidents card counts.
    attention = {
        item.endpoint.name: [s.text for s in item.signals] for item in response.context["incidents"]
    }
    assert attention == {
        "failed-one": ["Failed: Model crashed"],
        "stuck-one": ["Updating too long"],
    }
    incidents_card = body.split('data-testid="incidents-card"')[1].split("</section>")[0]
    assert '<p class="stat">2</p>' in incidents_card
    # Idle capacity is listed apart: it costs money, not customers.
    assert [a.endpoint.name for a in response.context["idle"]] == [idle.name]
    assert "Failed 1" in body


def test_pages_show_banner_when_aws_unreachable(role_client):
    make_endpoint("alpha")
    SyncStatus.objects.create(
        kind="inventory",
        target="sandbox",
        region="us-east-1",
        failing_since=timezone.now(),
        last_error_kind="Unavailable",
        last_error='Could not connect to the endpoint URL: "http://127.0.0.1:5005/"',
    )
    client = role_client("Viewer")
    for url in (reverse("overview"), reverse("endpoints:list")):
        body = client.get(url).content.decode()
        assert "AWS unreachable since" in body
    assert "alpha" in client.get(reverse("endpoints:list")).content.decode()
