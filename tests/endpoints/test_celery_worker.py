"""A real Celery worker process runs the refresh task end to end, through the configured
broker (Redis when REDIS_URL is set, the filesystem transport otherwise) and database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from endpoints.models import Endpoint
from endpoints.services import endpoint_refresh_request, inventory_sync
from opsportal.celery import app

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


@pytest.fixture
def worker(sandbox, transactional_db, monkeypatch):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "OPSPORTAL_SECURE": "false",
        "DATABASE_URL": _database_url(),
        "AWS_ENDPOINT_URL": sandbox.url,
        "OPSPORTAL_VAR_DIR": str(settings.VAR_DIR),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "opsportal",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
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
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_worker_refreshes_an_endpoint(worker, sandbox):
    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    endpoint = Endpoint.objects.get(name="fraud-detection")
    Endpoint.objects.filter(pk=endpoint.pk).update(status="Updating", describe_raw={})

    assert endpoint_refresh_request(endpoint=endpoint, actor=None) is True

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        endpoint.refresh_from_db()
        if endpoint.status == "InService":
            break
        if worker.poll() is not None:
            pytest.fail(f"worker died:\n{worker.stdout.read()}")
        time.sleep(0.25)
    else:
        worker.terminate()
        pytest.fail(
            f"the worker did not refresh the endpoint:\n{worker.communicate(timeout=10)[0]}"
        )
    assert endpoint.describe_raw["EndpointName"] == "fraud-detection"
