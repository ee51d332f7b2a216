"""A batch job the portal launched is the portal's own in API history: its
CreateTransformJob and StopTransformJob link to the job's page ("via portal"), by the
TransformJobName the request names (a create names the model too), instead of being
marked "outside the portal"; jobs the portal did not launch stay outside it."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from apihistory.links import rows_with_links
from apihistory.models import IngestCursor, TrailEvent
from apihistory.services import trail_ingest
from core.aws.clients import forget_clients
from core.targets import target_by_name
from tests.apihistory import cloudtrail_settings
from tests.apihistory.test_pages import event
from tests.transforms.conftest import BUCKET, tumor_launch
from transforms import services
from transforms.models import TransformJob, TransformSource

PORTAL_KEY = "AKIAOPSPORTALDEMO000"  # the sandbox's access key for the portal's own role


def _job(name: str, *, source: str = TransformSource.PORTAL) -> TransformJob:
    return TransformJob.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name=name,
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:transform-job/{name}",
        source=source,
        model_name="tumor-model-v1",
        input_uri=f"s3://{BUCKET}/in.csv",
        instance_type="ml.m5.xlarge",
        output_path=f"s3://{BUCKET}/out/{name}",
        status="InProgress",
    )


def _call(name: str, job: str, *, region: str = "us-east-1") -> TrailEvent:
    params = {"transformJobName": job}
    if name == "CreateTransformJob":
        params["modelName"] = "tumor-model-v1"
    return event(name, params=params, region=region, principal="OpsPortal", identity="AssumedRole")


@pytest.mark.django_db
def test_create_and_stop_of_a_portal_job_link_to_its_page(role_client):
    job = _job("tumor-nightly")
    synced = _job("console-job", source=TransformSource.SYNCED)
    created, stopped = _call("CreateTransformJob", job.name), _call("StopTransformJob", job.name)
    elsewhere = _call("CreateTransformJob", job.name, region="eu-west-1")
    outside = _call("CreateTransformJob", synced.name)

    rows = {row.event.pk: row for row in rows_with_links([created, stopped, elsewhere, outside])}

    for call in (created, stopped):
        link = rows[call.pk].portal
        assert link is not None and link.kind == "transform" and link.pk == job.pk
        assert link.url == reverse("transforms:detail", args=[job.pk])
        assert link.label == "batch job tumor-nightly"
    assert rows[elsewhere.pk].outside_portal and rows[outside.pk].outside_portal

    body = role_client("Viewer").get(reverse("apihistory:list")).content.decode()
    row = body.split(f'data-event="{created.event_id}"', 1)[1].split("</tr>", 1)[0]
    assert "via portal: batch job tumor-nightly" in row
    assert 'data-testid="outside-portal"' not in row


@pytest.fixture
def as_portal_role(monkeypatch):
    """The portal calling AWS with its own role's credentials, as in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", PORTAL_KEY)
    forget_clients()
    yield
    monkeypatch.undo()
    forget_clients()


@pytest.mark.django_db(transaction=True)
def test_a_launched_job_is_the_portals_own_call_in_api_history(
    sandbox, as_portal_role, operator, role_client, settings
):
    job = services.transform_job_launch(
        launch=tumor_launch(output_path=f"s3://{BUCKET}/out/links-{uuid.uuid4().hex[:8]}"),
        actor=operator,
    )
    target = target_by_name("sandbox")
    IngestCursor.objects.create(
        target=target.name,
        account_id=target.account_id,
        region="us-east-1",
        newest_event_time=timezone.now(),
    )
    settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS = 120
    settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE = 50
    with cloudtrail_settings(sandbox.url, lookup_rate=50, lag_seconds=0):
        assert trail_ingest(target=target, region="us-east-1").ok

    created = TrailEvent.objects.get(event_name="CreateTransformJob", resource_name=job.name)
    assert created.principal_name == "OpsPortal"
    client = role_client("Viewer")
    listing = client.get(reverse("apihistory:list"), {"event": "CreateTransformJob"})
    row = listing.content.decode().split(f'data-event="{created.event_id}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    assert reverse("transforms:detail", args=[job.pk]) in row
    assert 'data-testid="outside-portal"' not in row
    # And the portal's own calls can be left out altogether.
    hidden = client.get(
        reverse("apihistory:list"), {"event": "CreateTransformJob", "hide_portal": "on"}
    )
    assert f'data-event="{created.event_id}"' not in hidden.content.decode()
