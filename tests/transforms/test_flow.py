"""Launch through the portal, follow the job to the end, read the output: the classic
tumor-prediction flow and what happens when tasks are redelivered, lost or delayed."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from core.targets import target_by_name
from tests.aws_actor import sagemaker
from tests.transforms.conftest import form_data, poll_until_terminal, tumor_launch
from transforms import services
from transforms.models import TransformJob, TransformSource, TransformStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_tumor_flow_end_to_end_shows_id_and_prediction_per_row(sandbox, role_client):
    client = role_client("Operator")
    response = client.post(reverse("transforms:launch"), form_data(tumor_launch()))
    assert response.status_code == 302, response.content.decode()[:2000]
    job = TransformJob.objects.get()
    assert response["Location"] == reverse("transforms:detail", args=[job.pk])
    assert job.name.startswith("opsportal-") and job.created_by.username == "user-operator"
    assert job.status in (TransformStatus.IN_PROGRESS, TransformStatus.COMPLETED)

    detail = client.get(response["Location"]).content.decode()
    assert job.name in detail and "$[0,-1]" in detail and "tumor-model-v1" in detail

    job = poll_until_terminal(job)
    assert job.status == TransformStatus.COMPLETED, job.failure_reason
    assert job.start_time and job.end_time
    statuses = [e["status"] for e in job.status_history]
    assert statuses[0] == "Pending" and statuses[-1] == "Completed"

    status_panel = client.get(reverse("transforms:status", args=[job.pk])).content.decode()
    assert "hx-trigger" not in status_panel.split(">")[0]  # polling stops once terminal
    assert reverse("transforms:preview", args=[job.pk]) in status_panel

    preview = client.get(reverse("transforms:preview", args=[job.pk]))
    rows = preview.context["preview"].objects[0].rows
    assert preview.context["preview"].objects[0].header == ["input 1", "prediction"]
    assert len(rows) == 20
    assert [int(r[0]) for r in rows] == list(range(1001, 1021))  # in input order
    assert all(len(r) == 2 and float(r[1]) in (0.0, 1.0) or 0 <= float(r[1]) <= 1 for r in rows)
    assert '<td class="mono">1001</td>' in preview.content.decode()

    listing = client.get(reverse("transforms:list")).content.decode()
    assert job.name in listing and "user-operator" in listing and "Completed" in listing
    actions = list(
        AuditEntry.objects.filter(target__contains=job.name)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions[0] == "transform.launch" and "transform.create" in actions
    assert actions[-1] == "transform.status"


def test_create_redelivered_makes_one_aws_job(sandbox, operator):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    job.refresh_from_db()
    assert job.status != TransformStatus.PENDING
    # The worker died after AWS created the job but before its commit: the row still says
    # Pending and the broker redelivers the task.
    TransformJob.objects.filter(pk=job.pk).update(status=TransformStatus.PENDING, arn="")
    assert services.transform_job_create(job_id=str(job.pk)) == (
        "already existed (redelivered create)"
    )
    assert services.transform_job_create(job_id=str(job.pk)).startswith("skipped")
    listed = sagemaker(sandbox.url).list_transform_jobs(NameContains=job.name)
    assert len(listed["TransformJobSummaries"]) == 1
    assert poll_until_terminal(job).status == TransformStatus.COMPLETED


def test_poll_resumes_after_a_worker_kill(sandbox, operator):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    # The poll chain is lost (the worker was killed mid-task): the row stays InProgress.
    TransformJob.objects.filter(pk=job.pk).update(status=TransformStatus.IN_PROGRESS)
    time.sleep(1.5)
    later = timezone.now() + timedelta(hours=1)
    assert services.transform_jobs_sweep(now=later) >= 1  # re-enqueues the poll (eager here)
    job = poll_until_terminal(job)
    assert job.status == TransformStatus.COMPLETED


def test_a_duplicate_poll_ends_its_chain(sandbox, settings, operator):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    settings.OPSPORTAL_TRANSFORM_POLL_SECONDS = 60
    TransformJob.objects.filter(pk=job.pk).update(last_polled_at=None)
    assert services.transform_job_poll(job_id=str(job.pk)) in ("InProgress", "Completed")
    # Redelivered right after: skipped, and nothing re-enqueued (eager would run it here).
    assert services.transform_job_poll(job_id=str(job.pk)) == "skipped: polled moments ago"


def test_broker_down_returns_quickly_pending_and_the_sweeper_creates_later(
    sandbox, role_client, broker_down
):
    client = role_client("Operator")
    started = time.monotonic()
    response = client.post(reverse("transforms:launch"), form_data(tumor_launch()))
    assert response.status_code == 302
    assert time.monotonic() - started < 2
    job = TransformJob.objects.get()
    assert job.status == TransformStatus.PENDING
    page = client.get(reverse("transforms:detail", args=[job.pk])).content.decode()
    assert "Pending" in page

    from opsportal.celery import app

    app.conf.update(task_always_eager=True)  # the broker is back
    assert services.transform_jobs_sweep() == 0  # not yet past the deadline
    assert services.transform_jobs_sweep(now=timezone.now() + timedelta(hours=1)) == 1
    job.refresh_from_db()
    assert job.status in (TransformStatus.IN_PROGRESS, TransformStatus.COMPLETED)
    assert poll_until_terminal(job).status == TransformStatus.COMPLETED


def test_stop_moves_to_stopped(sandbox, role_client, operator):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    job.refresh_from_db()
    assert job.status == TransformStatus.IN_PROGRESS
    client = role_client("Operator")
    response = client.post(reverse("transforms:stop", args=[job.pk]), follow=True)
    assert "Stop of" in response.content.decode()
    job.refresh_from_db()
    assert job.status in (TransformStatus.STOPPING, TransformStatus.STOPPED)
    assert poll_until_terminal(job).status == TransformStatus.STOPPED
    assert AuditEntry.objects.filter(action="transform.stop", target=job.arn).count() == 1
    again = client.post(reverse("transforms:stop", args=[job.pk]), follow=True)
    assert "Only a job in progress can be stopped" in again.content.decode()


def test_sync_brings_in_jobs_created_elsewhere(sandbox, role_client):
    target = target_by_name("sandbox")
    report = services.transform_jobs_sync(target=target, region="us-east-1")
    assert {"tumor-batch-2026-11-20", "tumor-batch-2026-11-23"} <= set(report.created)
    failed = TransformJob.objects.get(name="tumor-batch-2026-11-23")
    assert failed.source == TransformSource.SYNCED and failed.created_by is None
    assert failed.status == TransformStatus.FAILED and "line" in failed.failure_reason
    assert failed.input_filter == "$[1:]" and failed.instance_type == "ml.m5.xlarge"
    again = services.transform_jobs_sync(target=target, region="us-east-1")
    assert again.created == []  # nothing twice

    client = role_client("Viewer")
    listing = client.get(reverse("transforms:list"), {"source": "synced", "status": "Failed"})
    body = listing.content.decode()
    assert "tumor-batch-2026-11-23" in body and "tumor-batch-2026-11-20" not in body
    assert "outside the portal" in body
    detail = client.get(reverse("transforms:detail", args=[failed.pk])).content.decode()
    assert failed.failure_reason[:40] in detail


def test_copy_from_a_previous_job_prefills_the_form(sandbox, role_client, operator):
    job = services.transform_job_launch(
        launch=tumor_launch(environment={"MODE": "nightly"}), actor=operator
    )
    client = role_client("Operator")
    response = client.get(reverse("transforms:launch"), {"copy": str(job.pk)})
    form = response.context["form"]
    assert form["output_filter"].value() == "$[0,-1]"
    assert form["input_uri"].value() == job.input_uri
    assert form["environment"].value() == "MODE=nightly"
    assert "tumor-model-v1" in response.context["models"]
    assert '<option value="tumor-model-v1">' in response.content.decode()


def test_sync_command_reports_each_region(sandbox):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sync_transform_jobs", stdout=out)
    assert re.search(r"sandbox/us-east-1: ([4-9]|\d\d+) new", out.getvalue())
    assert "sandbox/eu-west-1:" in out.getvalue()
