"""A batch transform job through the portal: AWS calls to launch it and to follow it."""

from __future__ import annotations

import os
import time

from django.conf import settings
from django.contrib.auth.models import Group, User

from core.aws import clients
from core.aws.types import TransformSpec
from sandbox.testing import SandboxServer
from transforms import services
from transforms.models import TransformJob
from transforms.services.records import poll_countdown

BUCKET = "s3://sagemaker-us-east-1-123456789012"


def _calls() -> int:
    return sum(clients.call_counts().values())


def _polls_within(seconds: float) -> int:
    """Polls the backoff schedule makes while a job runs for `seconds`."""
    elapsed, polls = 0.0, 0
    while True:
        elapsed += poll_countdown(polls)
        if elapsed > seconds:
            return polls
        polls += 1


def run() -> None:
    actor = User.objects.create_user("bench-operator", password="unused-bench-password")
    actor.groups.add(Group.objects.get_or_create(name="Operator")[0])
    with SandboxServer(port=0, seed="demo", creating_seconds=0.0) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        clients.forget_clients()
        launch = services.TransformLaunch(
            target=settings.OPSPORTAL_TARGETS[0].name,
            region="us-east-1",
            spec=TransformSpec(
                model_name="tumor-model-v1",
                input_uri=f"{BUCKET}/batch/tumor/input/",
                content_type="text/csv",
                output_path=f"{BUCKET}/batch/bench-output/",
                input_filter="$[1:]",
                join_source="Input",
                output_filter="$[0,-1]",
                accept="text/csv",
            ),
        )
        clients.reset_call_counts()
        services.transform_job_preflight(launch=launch)
        preflight = _calls()
        clients.reset_call_counts()
        job = services.transform_job_launch(launch=launch, actor=actor)
        # No worker runs here: the bench plays the create and poll tasks itself.
        services.transform_job_create(job_id=str(job.pk))
        launched = _calls()
        clients.reset_call_counts()
        polls = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            TransformJob.objects.filter(pk=job.pk).update(last_polled_at=None)
            services.transform_job_poll(job_id=str(job.pk))
            polls += 1
            job.refresh_from_db()
            if job.is_terminal:
                break
            time.sleep(0.2)
        per_poll = _calls() / max(1, polls)
    print("== Batch transform job through the portal ==")
    print(
        f"launch: {preflight} AWS calls of pre-flight checks, {launched} to launch "
        f"(checks again, create task); job {job.status} after {polls} polls, "
        f"{per_poll:.1f} AWS call per poll"
    )
    for minutes in (1, 10, 60, 240):
        polls_in = _polls_within(minutes * 60)
        print(
            f"following a job running {minutes} min: {polls_in} polls = "
            f"{polls_in * per_poll / minutes:.2f} AWS calls per minute"
        )
