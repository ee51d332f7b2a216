"""A real Celery worker creates and polls a launched job through the configured broker:
the poll chain re-schedules itself with countdowns until the job is Completed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings

from opsportal.celery import app
from tests.endpoints.test_celery_worker import ROOT, _database_url
from tests.transforms.conftest import tumor_launch
from transforms import services
from transforms.models import TransformStatus

# The worker re-enqueues its own polls, so its default queue must be the private test queue
# too (a plain `-Q` only changes what it consumes).
LAUNCHER = (
    "import sys; from opsportal.celery import app; "
    "app.conf.task_default_queue = sys.argv[1]; "
    "app.worker_main(['worker', '-Q', sys.argv[1], '--pool', 'solo', '--without-gossip', "
    "'--without-mingle', '--loglevel', 'INFO'])"
)


@pytest.fixture
def worker(sandbox, transactional_db):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "OPSPORTAL_SECURE": "false",
        "DATABASE_URL": _database_url(),
        "AWS_ENDPOINT_URL": sandbox.url,
        "OPSPORTAL_VAR_DIR": str(settings.VAR_DIR),
        "OPSPORTAL_TRANSFORM_POLL_SECONDS": "1",
        "OPSPORTAL_TRANSFORM_POLL_MAX_SECONDS": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, queue],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    saved = {
        "task_always_eager": app.conf.task_always_eager,
        "task_default_queue": app.conf.task_default_queue,
    }
    app.conf.update(task_always_eager=False, task_default_queue=queue)
    yield proc
    app.conf.update(saved)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_worker_creates_and_polls_to_completed(worker, sandbox):
    job = services.transform_job_launch(launch=tumor_launch(), actor=None)
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
