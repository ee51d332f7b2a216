"""A real Celery worker creates and polls a launched job through the configured broker:
the poll chain re-schedules itself with countdowns until the job is Completed."""

from __future__ import annotations

import time

import pytest

from tests.celery_worker import running_worker
from tests.transforms.conftest import tumor_launch
from transforms import services
from transforms.models import TransformStatus


@pytest.fixture
def worker(sandbox, transactional_db):
    with running_worker(
        aws_endpoint_url=sandbox.url,
        extra_env={
            "OPSPORTAL_TRANSFORM_POLL_SECONDS": "1",
            "OPSPORTAL_TRANSFORM_POLL_MAX_SECONDS": "2",
        },
    ) as proc:
        yield proc


def test_worker_creates_and_polls_to_completed(worker, sandbox, operator):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_terminal:
            break
        if worker.poll() is not None:
            pytest.fail(f"worker died:\n{worker.stdout.read()}")
        time.sleep(0.25)
    else:
        worker.terminate()
        pytest.fail(f"the job did not finish:\n{worker.communicate(timeout=10)[0]}")
    assert job.status == TransformStatus.COMPLETED, job.failure_reason
    assert job.poll_count >= 1 and job.last_polled_at is not None
