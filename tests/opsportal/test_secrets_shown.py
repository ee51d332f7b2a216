"""A batch job's secret-looking environment values are redacted wherever the portal shows
them, as in the audit log: the job page, the copy form, CloudTrail's request parameters,
and the API history search (a value nobody can see must not be found by guessing it)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apihistory.models import TrailEvent
from apihistory.parse import event_fields
from tests.support.world import matrix_endpoint
from transforms.models import TransformJob

pytestmark = pytest.mark.django_db

ENVIRONMENT = {"DB_PASSWORD": "hunter2-s3cret", "API_KEY": "k-123-zz", "MODE": "nightly"}


def test_the_job_page_and_the_copy_form_never_show_a_secret(role_client):
    job = TransformJob.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="opsportal-secrets",
        model_name="m",
        input_uri="s3://bucket/in.csv",
        output_path="s3://bucket/out",
        instance_type="ml.m5.xlarge",
        status="Completed",
        environment=ENVIRONMENT,
    )
    page = role_client("Viewer").get(reverse("transforms:detail", args=[job.pk])).content.decode()
    assert "nightly" in page and page.count("[redacted]") == 2
    assert "hunter2" not in page and "k-123-zz" not in page
    copy = role_client("Operator").get(reverse("transforms:launch"), {"copy": str(job.pk)})
    form = copy.content.decode()
    assert "MODE=nightly" in form and "DB_PASSWORD=\n" in form and "API_KEY=" in form
    assert "hunter2" not in form and "k-123-zz" not in form


def test_cloudtrail_request_parameters_are_shown_and_searched_redacted(role_client):
    endpoint = matrix_endpoint()
    record = {
        "eventVersion": "1.08",
        "eventID": "secret-event",
        "eventTime": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": "CreateTransformJob",
        "awsRegion": "us-east-1",
        "recipientAccountId": endpoint.account_id,
        "readOnly": False,
        "userIdentity": {"type": "IAMUser", "userName": "maria"},
        "requestParameters": {
            "endpointName": endpoint.name,
            "transformJobName": "nightly",
            "environment": ENVIRONMENT,
        },
    }
    TrailEvent.objects.create(target="sandbox", **event_fields(record))
    stored = TrailEvent.objects.get(event_id="secret-event")
    assert "hunter2" not in stored.search_text and "nightly" in stored.search_text
    client = role_client("Viewer")
    detail = client.get(reverse("apihistory:detail", args=[stored.pk])).content.decode()
    assert "hunter2" not in detail and "k-123-zz" not in detail and "nightly" in detail
    changes = client.get(reverse("apihistory:endpoint_changes", args=[endpoint.pk]))
    assert "hunter2" not in changes.content.decode() and "[redacted]" in changes.content.decode()
    found = client.get(reverse("apihistory:list"), {"q": "hunter2-s3cret"}).content.decode()
    assert (
        "secret-event" not in found and "CreateTransformJob" not in found.split("trail-table")[-1]
    )
