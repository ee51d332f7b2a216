"""Following a created job: polls with a growing countdown until it is terminal, and stop.
AWS is always asked with no row locked; the row is locked only to record the answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import Outcome, audit_record, enforce
from core.aws import transform as aws_transform
from core.aws.errors import AwsError
from core.errors import Conflict
from core.queue import enqueue_on_commit
from core.targets import target_by_name
from transforms import policy, tasks
from transforms.models import TransformJob, TransformStatus
from transforms.services.records import apply_description, job_target, poll_countdown, record_status


def _locked(job_id: str) -> TransformJob | None:
    return TransformJob.objects.select_for_update().filter(pk=job_id).first()


def transform_job_poll(*, job_id: str) -> str:
    """The poll task's body: describe once, record, and schedule the next poll unless the
    job is terminal. Re-running it (redelivery, after a worker kill) is harmless.

    A poll arriving within half the base interval of the previous one is a duplicate (a
    redelivered task whose chain already went on); it ends without re-enqueueing, so
    duplicate chains die out instead of doubling the DescribeTransformJob calls.
    """
    with transaction.atomic():
        job = _locked(job_id)
        if job is None:
            return "gone"
        if job.is_terminal or job.status == TransformStatus.PENDING:
            return f"skipped: {job.status}"
        now = timezone.now()
        gap = timedelta(seconds=settings.OPSPORTAL_TRANSFORM_POLL_SECONDS / 2)
        if job.last_polled_at is not None and now - job.last_polled_at < gap:
            return "skipped: polled moments ago"
        job.last_polled_at = now
        job.poll_count += 1
        job.save(update_fields=["last_polled_at", "poll_count", "updated_at"])
    # The poll is claimed (committed): a duplicate now ends above, and AWS is asked with
    # nothing locked.
    try:
        described = aws_transform.describe_transform_job(
            target=target_by_name(job.target), region=job.region, name=job.name
        )
    except AwsError as exc:
        with transaction.atomic():
            enqueue_on_commit(
                tasks.transform_job_poll, str(job.id), countdown=poll_countdown(job.poll_count)
            )
        return f"describe failed, retrying: {exc}"
    with transaction.atomic():
        job = _locked(job_id)
        if job is None:
            return "gone"
        if job.is_terminal:
            return job.status
        before = job.status
        changed = apply_description(job, described)
        job.save()
        if changed:
            audit_record(
                actor=None,
                action="transform.status",
                target=job_target(job),
                before={"status": before},
                after={"status": job.status, "failure_reason": job.failure_reason},
                outcome=Outcome.FAILED if job.status == TransformStatus.FAILED else Outcome.OK,
            )
        if not job.is_terminal:
            enqueue_on_commit(
                tasks.transform_job_poll, str(job.id), countdown=poll_countdown(job.poll_count)
            )
    return job.status


def transform_job_stop(
    *, job: TransformJob, actor: Any, request: HttpRequest | None = None
) -> TransformJob:
    """StopTransformJob (Operators): the job moves to Stopping and the poll chain follows.
    Raises Refused for a role too low, Conflict when the job is not running or AWS says no."""
    enforce(
        policy.refusal_for("stop", actor),
        actor=actor,
        action="transform.stop",
        target=job_target(job),
        request=request,
    )
    current = TransformJob.objects.filter(pk=job.pk).first()
    if current is None or current.status != TransformStatus.IN_PROGRESS:
        status = current.status if current else "gone"
        raise Conflict(f"Only a job in progress can be stopped; this one is {status}.")
    try:
        aws_transform.stop_transform_job(
            target=target_by_name(current.target), region=current.region, name=current.name
        )
    except AwsError as exc:
        audit_record(
            actor=actor,
            action="transform.stop",
            target=job_target(current),
            outcome=Outcome.FAILED,
            error=str(exc),
            request=request,
        )
        raise Conflict(f"AWS refused the stop: {exc}") from exc
    with transaction.atomic():
        locked = _locked(str(job.pk))
        if locked is None:
            raise Conflict("The job is gone.")
        before = locked.status
        if locked.status == TransformStatus.IN_PROGRESS:
            locked.status = TransformStatus.STOPPING
            record_status(locked, locked.status, timezone.now(), "stop requested")
            locked.save()
        audit_record(
            actor=actor,
            action="transform.stop",
            target=job_target(locked),
            before={"status": before},
            after={"status": locked.status},
            request=request,
        )
        enqueue_on_commit(tasks.transform_job_poll, str(locked.id), countdown=poll_countdown(0))
    return locked
