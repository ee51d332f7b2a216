"""Endpoint state history against the sandbox: snapshots written by the sync only when the
state changes, the state at a time, diffs, and the "What changed" page.

The sandbox does not implement UpdateEndpoint (moto lacks it too), so the config change
is made as the portal would see a blue/green deployment land: the endpoint is deleted and
created again under the same name from a new endpoint config that serves another model on
one variant.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint, EndpointSnapshot
from endpoints.selectors import endpoint_history, endpoint_state_at, endpoint_timeline
from endpoints.services import endpoint_refresh, inventory_sync, snapshot_record
from endpoints.state_diff import Change, state_diff
from monitoring.models import Alarm
from tests.aws_actor import sagemaker, wait_for_status
from triage.what_changed import comparison_window

pytestmark = pytest.mark.django_db

TARGET = settings.OPSPORTAL_TARGETS[0]
REGION = "us-east-1"


def _config(sm, *, models: tuple[str, ...], counts: tuple[int, ...] = ()) -> str:
    name = f"h-cfg-{uuid.uuid4().hex[:10]}"
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": f"v{i}",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": counts[i] if counts else 1,
                "InitialVariantWeight": 1.0,
            }
            for i, model in enumerate(models)
        ],
    )
    return name


def _endpoint(url: str, *, models: tuple[str, ...] = ("tumor-model-v1", "tumor-model-v1")):
    """A fresh InService endpoint of our own, tracked by the portal with one snapshot."""
    sm = sagemaker(url, REGION)
    name = f"h-{uuid.uuid4().hex[:10]}"
    sm.create_endpoint(EndpointName=name, EndpointConfigName=_config(sm, models=models))
    wait_for_status(sm, name, "InService")
    now = timezone.now()
    # A placeholder row lets the one-endpoint refresh path store it without a region sync.
    endpoint = Endpoint.objects.create(
        target=TARGET.name,
        account_id=TARGET.account_id,
        region=REGION,
        name=name,
        arn="pending",
        status="Creating",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )
    assert endpoint_refresh(endpoint_id=endpoint.pk) in ("created", "updated")
    endpoint.refresh_from_db()
    return sm, endpoint


def _refresh(endpoint: Endpoint) -> None:
    time.sleep(0.01)  # distinct observed_at values even on a coarse clock
    endpoint_refresh(endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()


def _recreate_with_config(sm, name: str, config_name: str) -> None:
    """Delete and create the endpoint again under the same name (UpdateEndpoint stand-in)."""
    sm.delete_endpoint(EndpointName=name)
    deadline = time.monotonic() + 20
    while True:
        try:
            sm.create_endpoint(EndpointName=name, EndpointConfigName=config_name)
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    wait_for_status(sm, name, "InService")


def _kinds(diff) -> dict[tuple[str, str], Change]:
    return {(c.variant, c.kind): c for c in diff.changes}


def test_first_refresh_records_one_snapshot_and_unchanged_refresh_none(sandbox):
    _, endpoint = _endpoint(sandbox.url)

    snapshot = EndpointSnapshot.objects.get(endpoint=endpoint)
    assert snapshot.status == "InService"
    assert snapshot.config_name == endpoint.config_name
    v0 = snapshot.variants["v0"]
    assert v0["model_name"] == "tumor-model-v1"
    assert v0["instance_type"] == "ml.m5.large"
    assert v0["weight"] == 1.0 and v0["current_instance_count"] == 1
    assert "@sha256:" in v0["image"]  # ResolvedImage preferred over SpecifiedImage
    assert v0["is_shadow"] is False and v0["serverless"] is None

    _refresh(endpoint)
    _refresh(endpoint)

    assert EndpointSnapshot.objects.filter(endpoint=endpoint).count() == 1


def test_no_change_region_sync_writes_and_reads_no_snapshot(sandbox):
    _endpoint(sandbox.url)
    for _ in range(20):  # endpoints created by earlier tests may still be settling
        if inventory_sync(target=TARGET, region=REGION).described == 0:
            break
    count = EndpointSnapshot.objects.count()

    with CaptureQueriesContext(connection) as queries:
        report = inventory_sync(target=TARGET, region=REGION)

    assert report.ok and report.described == 0
    assert EndpointSnapshot.objects.count() == count
    assert not [q for q in queries.captured_queries if "endpointsnapshot" in q["sql"].lower()]


def test_config_change_with_new_model_is_recorded_and_diffed(sandbox):
    sm, endpoint = _endpoint(sandbox.url)
    old_config = endpoint.config_name
    new_config = _config(sm, models=("tumor-model-v1", "tumor-model-v2"))

    _recreate_with_config(sm, endpoint.name, new_config)
    _refresh(endpoint)

    first, second = EndpointSnapshot.objects.filter(endpoint=endpoint).order_by("observed_at")
    assert second.config_name == new_config
    changes = _kinds(state_diff(before=first, after=second))
    assert changes[("", "config")].before == old_config
    assert changes[("", "config")].after == new_config
    model = changes[("v1", "model")]
    assert model.text == "variant v1 model tumor-model-v1 → tumor-model-v2"
    assert ("v0", "model") not in changes
    assert not {kind for _, kind in changes} & {"weight", "instance_count", "status"}


def test_weight_change_is_recorded_with_shares(sandbox):
    sm, endpoint = _endpoint(sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 3.0},
            {"VariantName": "v1", "DesiredWeight": 1.0},
        ],
    )
    wait_for_status(sm, endpoint.name, "InService")
    _refresh(endpoint)

    first, *_, last = EndpointSnapshot.objects.filter(endpoint=endpoint).order_by("observed_at")
    assert last.variants["v0"]["weight"] == 3.0
    diff = state_diff(before=first, after=last)
    changes = _kinds(diff)
    assert changes[("v0", "weight")].text == "variant v0 weight 1 (50.0%) → 3 (75.0%)"
    assert changes[("v1", "share")].text == "variant v1 traffic share 50.0% → 25.0%"
    assert "- variant **v0** weight `1 (50.0%)` → `3 (75.0%)`" in diff.markdown()


def test_instance_count_change_is_recorded(sandbox):
    sm, endpoint = _endpoint(sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint.name,
        DesiredWeightsAndCapacities=[{"VariantName": "v1", "DesiredInstanceCount": 3}],
    )
    wait_for_status(sm, endpoint.name, "InService")
    _refresh(endpoint)

    first, *_, last = EndpointSnapshot.objects.filter(endpoint=endpoint).order_by("observed_at")
    changes = _kinds(state_diff(before=first, after=last))
    assert changes[("v1", "instance_count")].text == "variant v1 instances 1 → 3"
    assert ("v0", "instance_count") not in changes
    assert ("v0", "weight") not in changes and ("v1", "weight") not in changes


def test_status_only_change_is_recorded(sandbox):
    _, endpoint = _endpoint(sandbox.url)
    endpoint.status = "Updating"
    endpoint.synced_at = timezone.now() + timedelta(seconds=1)

    snapshot = snapshot_record(endpoint=endpoint)

    assert snapshot is not None
    first = endpoint_state_at(
        endpoint=endpoint, when=snapshot.observed_at - timedelta(microseconds=1)
    )
    diff = state_diff(before=first, after=snapshot)
    assert [c.text for c in diff.changes] == ["status InService → Updating"]
    assert snapshot_record(endpoint=endpoint) is None


def test_state_at_between_snapshots_is_the_earlier_one(sandbox):
    sm, endpoint = _endpoint(sandbox.url)
    sm.update_endpoint_weights_and_capacities(
        EndpointName=endpoint.name,
        DesiredWeightsAndCapacities=[{"VariantName": "v0", "DesiredWeight": 2.0}],
    )
    wait_for_status(sm, endpoint.name, "InService")
    _refresh(endpoint)
    first, *_, last = EndpointSnapshot.objects.filter(endpoint=endpoint).order_by("observed_at")
    between = first.observed_at + (last.observed_at - first.observed_at) / 2

    assert endpoint_state_at(endpoint=endpoint, when=between) == first
    assert endpoint_state_at(endpoint=endpoint, when=last.observed_at) == last
    assert (
        endpoint_state_at(endpoint=endpoint, when=first.observed_at - timedelta(seconds=1)) is None
    )
    assert endpoint_history(endpoint=endpoint, start=between, end=last.observed_at) == [last]
    timeline = endpoint_timeline(endpoint=endpoint, start=between, end=last.observed_at)
    assert [e.snapshot for e in timeline] == [last]
    assert ("v0", "weight") in _kinds(timeline[0].diff)


def test_diff_covers_images_variants_and_serverless():
    def snap(status: str, variants: dict) -> EndpointSnapshot:
        return EndpointSnapshot(status=status, config_name="c", variants=variants)

    base = {
        "position": 0,
        "weight": 1.0,
        "desired_weight": 1.0,
        "current_instance_count": 1,
        "desired_instance_count": 1,
        "instance_type": "ml.m5.large",
        "model_name": "m1",
        "image": "repo@sha256:aaa",
        "serverless": None,
        "is_shadow": False,
    }
    before = snap("InService", {"A": base, "B": {**base, "position": 1}})
    after = snap(
        "InService",
        {
            "A": {**base, "image": "repo@sha256:bbb", "instance_type": "ml.c5.xlarge"},
            "C": {**base, "position": 1, "model_name": "m2", "is_shadow": True},
        },
    )

    texts = [c.text for c in state_diff(before=before, after=after).changes]

    assert texts == [
        "variant A image repo@sha256:aaa → repo@sha256:bbb",
        "variant A instance type ml.m5.large → ml.c5.xlarge",
        "variant A traffic share 50.0% → 100.0%",
        "variant C added (model m2, ml.m5.large × 1, shadow)",
        "variant B removed (was model m1, ml.m5.large × 1, weight 1, 50.0%)",
    ]
    assert state_diff(before=before, after=before).changes == ()


def test_comparison_window_defaults():
    now = timezone.now()
    incident = now - timedelta(minutes=30)

    chosen = comparison_window(start=now - timedelta(hours=2), end=None, now=now, incident_at=None)
    assert (chosen.basis, chosen.end) == ("chosen", now)
    assert chosen.basis_text == "Comparing the 'from' time you chose with now."
    day = comparison_window(start=None, end=None, now=now, incident_at=None)
    assert (day.start, day.basis) == (now - timedelta(hours=24), "day")
    firing = comparison_window(start=None, end=None, now=now, incident_at=incident)
    assert (firing.start, firing.basis) == (incident - timedelta(hours=1), "incident")
    earlier = now - timedelta(hours=5)
    before_incident = comparison_window(start=None, end=earlier, now=now, incident_at=incident)
    assert (before_incident.start, before_incident.basis) == (earlier - timedelta(hours=24), "day")
    assert "the chosen 'to' time" in before_incident.basis_text
    assert "incident began after it" in before_incident.basis_text


def _page(client, endpoint: Endpoint, **params: str):
    return client.get(reverse("triage:what_changed", kwargs={"pk": endpoint.pk}), params)


def test_page_renders_the_diff_for_a_viewer(sandbox, role_client):
    sm, endpoint = _endpoint(sandbox.url)
    start = timezone.now()
    _recreate_with_config(
        sm, endpoint.name, _config(sm, models=("tumor-model-v1", "tumor-model-v2"))
    )
    _refresh(endpoint)
    client = role_client("Viewer")

    response = _page(
        client,
        endpoint,
        **{"from": start.strftime("%Y-%m-%dT%H:%M:%S.%f"), "to": timezone.now().isoformat()},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Comparing the times you chose." in body
    assert 'data-kind="model" data-variant="v1"' in body
    assert "variant **v1** model `tumor-model-v1` → `tumor-model-v2`" in body
    assert "variant v1 model tumor-model-v1 → tumor-model-v2" in body  # the timeline
    detail = client.get(reverse("endpoints:detail", kwargs={"pk": endpoint.pk})).content.decode()
    assert reverse("triage:what_changed", kwargs={"pk": endpoint.pk}) in detail


def test_page_default_is_a_day_without_alarms_and_before_the_incident_with_one(
    sandbox, role_client
):
    _, endpoint = _endpoint(sandbox.url)
    # Recorded since two days ago, so neither default reaches before the known history
    # (clamping to it: tests/triage/test_what_changed.py).
    EndpointSnapshot.objects.filter(endpoint=endpoint).update(
        observed_at=timezone.now() - timedelta(days=2)
    )
    client = role_client("Viewer")

    response = _page(client, endpoint)

    assert response.status_code == 200
    assert "Default: now compared with 24 hours earlier (no alarm" in response.content.decode()

    now = timezone.now()
    for name, state, at in (("h-firing", "ALARM", 10), ("h-ok", "OK", 300)):
        Alarm.objects.create(
            target=TARGET.name,
            account_id=endpoint.account_id,
            region=endpoint.region,
            name=f"{endpoint.name}-{name}",
            state=state,
            state_updated_at=now - timedelta(minutes=at),
            endpoint_name=endpoint.name,
            synced_at=now,
        )

    response = _page(client, endpoint)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Default: now compared with one hour before the first alarm" in body
    assert (now - timedelta(minutes=70)).strftime("%Y-%m-%dT%H:%M") in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, "Not a date and time"),
        ({"from": "2026-11-27T10:00", "to": "2026-11-27T09:00"}, "must be before"),
        ({"from": "2026-11-27T10:00", "to": "2026-11-27T10:00"}, "must be before"),
    ],
)
def test_page_refuses_bad_times(params, message, role_client):
    now = timezone.now()
    endpoint = Endpoint.objects.create(
        target=TARGET.name,
        account_id=TARGET.account_id,
        region=REGION,
        name=f"h-{uuid.uuid4().hex[:10]}",
        arn="arn",
        status="InService",
        status_changed_at=now,
        creation_time=now,
        last_modified_time=now,
        synced_at=now,
    )

    response = _page(role_client("Viewer"), endpoint, **params)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'data-testid="diff-table"' not in response.content.decode()
