"""A slow AWS answer never holds a database lock: while CreateTransformJob,
DescribeTransformJob or StopTransformJob is on its way, other writes (to the same job and
elsewhere) go through at once. On SQLite a lock held during the call would be a lock on the
whole database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection

from audit.services import audit_record
from core.aws import transform as aws_transform
from tests.transforms.conftest import tumor_launch
from transforms import services
from transforms.models import TransformJob, TransformStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _write_while_aws_is_slow(
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    call: Callable[[], object],
    job_id: str,
    *,
    answer: Callable[..., object] | None = None,
) -> float:
    """Run `call` in another thread with `operation` held back until the main thread has
    written to the job's row and the audit log; how long those writes took. `answer` is
    what AWS finally says (the real call by default)."""
    entered, release = threading.Event(), threading.Event()
    real = answer or getattr(aws_transform, operation)

    def slow(**kwargs: object) -> object:
        entered.set()
        release.wait(15)
        return real(**kwargs)

    monkeypatch.setattr(aws_transform, operation, slow)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert entered.wait(15), f"{operation} was never called"
        started = time.monotonic()
        TransformJob.objects.filter(pk=job_id).update(kms_key_id="")
        audit_record(actor=None, action="test.concurrent_write", target="elsewhere")
        return time.monotonic() - started
    finally:
        release.set()
        thread.join(30)
        assert not errors, errors


def test_no_lock_is_held_while_aws_creates_polls_or_stops_a_job(
    sandbox, operator, monkeypatch, broker_down
):
    job = services.transform_job_launch(launch=tumor_launch(), actor=operator)
    assert TransformJob.objects.get(pk=job.pk).status == TransformStatus.PENDING
    from opsportal.celery import app

    app.conf.update(task_always_eager=True)  # follow-up tasks are held, not sent

    took = _write_while_aws_is_slow(
        monkeypatch,
        "create_transform_job",
        lambda: services.transform_job_create(job_id=str(job.pk)),
        str(job.pk),
    )
    assert took < 1.0
    assert TransformJob.objects.get(pk=job.pk).status == TransformStatus.IN_PROGRESS

    # The job in AWS ends within a second here: AWS's answer to the stop is stood in for.
    took = _write_while_aws_is_slow(
        monkeypatch,
        "stop_transform_job",
        lambda: services.transform_job_stop(job=job, actor=operator),
        str(job.pk),
        answer=lambda **kwargs: None,
    )
    assert took < 1.0
    assert TransformJob.objects.get(pk=job.pk).status == TransformStatus.STOPPING

    took = _write_while_aws_is_slow(
        monkeypatch,
        "describe_transform_job",
        lambda: services.transform_job_poll(job_id=str(job.pk)),
        str(job.pk),
    )
    assert took < 1.0
    assert TransformJob.objects.get(pk=job.pk).poll_count == 1
