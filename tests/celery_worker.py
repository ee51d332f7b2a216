"""A real Celery worker process for integration tests, on a private queue.

It uses the test database and the configured broker (Redis when REDIS_URL is set, the
filesystem transport otherwise), and the test process publishes to the same private
queue, so a stray worker or a demo on the same machine never takes these tasks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from opsportal.celery import app

ROOT = Path(__file__).resolve().parents[1]

# The worker re-enqueues tasks itself (polls), so its default queue must be the private
# queue too: a plain `-Q` only changes what it consumes.
LAUNCHER = (
    "import sys; from opsportal.celery import app; "
    "app.conf.task_default_queue = sys.argv[1]; "
    "app.worker_main(['worker', '-Q', sys.argv[1], '--pool', 'solo', '--without-gossip', "
    "'--without-mingle', '--loglevel', 'INFO'])"
)


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{host}/{db['NAME']}"


@contextmanager
def running_worker(
    *, aws_endpoint_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "OPSPORTAL_SECURE": "false",
        "DATABASE_URL": database_url(),
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        "OPSPORTAL_VAR_DIR": str(settings.VAR_DIR),
        **(extra_env or {}),
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
    try:
        yield proc
    finally:
        app.conf.update(saved)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
