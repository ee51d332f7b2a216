"""Launching a batch job: pre-flight, save it PENDING, and create it in AWS from a task."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import Outcome, audit_record, enforce
from core.aws import transform as aws_transform
from core.aws.errors import AccessDenied, AwsError, Conflict, NotFound, QuotaExceeded
from core.aws.types import TransformJobRequest
from core.errors import Invalid
from core.queue import enqueue_on_commit
from core.targets import Target, target_by_name
from transforms import policy, tasks
from transforms.models import TransformJob, TransformSource, TransformStatus, job_name_for
from transforms.services.launch_spec import TransformLaunch
from transforms.services.preflight import quota_message_from_aws, transform_job_preflight
from transforms.services.records import job_target, parameters, poll_countdown, record_status

logger = logging.getLogger(__name__)


def transform_job_launch(
    *, launch: TransformLaunch, actor: Any, request: HttpRequest | None = None
) -> TransformJob:
    """Check, save PENDING, audit and enqueue the create (Operators). Raises Refused for a
    role too low, Invalid (with the problems by form field) when a pre-flight check fails.

    The request returns as soon as the row is committed, broker or not: a create that could
    not be queued is re-enqueued by the sweeper.
    """
    target = target_by_name(launch.target)
    enforce(
        policy.refusal_for("launch", actor),
        actor=actor,
        action="transform.launch",
        target=f"transform-job:{target.account_id}/{launch.region}",
        request=request,
    )
    errors = transform_job_preflight(launch=launch)
    if errors:
        raise Invalid(errors=errors)
    try:
        return _saved(launch=launch, target=target, actor=actor, request=request)
    except IntegrityError:
        # Someone launched under the same name since the pre-flight looked.
        raise Invalid(
            errors={"name": [f"A job named {launch.name} already exists in {launch.region}."]}
        ) from None


def _saved(
    *, launch: TransformLaunch, target: Target, actor: Any, request: HttpRequest | None
) -> TransformJob:
    """The job's row, PENDING, with its audit entry and the create enqueued on commit."""
    now = timezone.now()
    with transaction.atomic():
        job = TransformJob(
            target=target.name,
            account_id=target.account_id,
            region=launch.region,
            source=TransformSource.PORTAL,
            status=TransformStatus.PENDING,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            launched_at=now,
            **TransformJob.spec_columns(launch.spec),
        )
        job.name = launch.name or job_name_for(job.id)
        record_status(job, TransformStatus.PENDING, now, "saved by the portal")
        job.save()
        audit_record(
            actor=actor,
            action="transform.launch",
            target=job_target(job),
            after={
                "name": job.name,
                **parameters(job),
                # Said only when the launcher went on past the non-empty-output warning.
                **({"overwrite_output": True} if launch.overwrite_output else {}),
            },
            request=request,
        )
        enqueue_on_commit(tasks.transform_job_create, str(job.id))
    return job


def _locked(job_id: str) -> TransformJob | None:
    return TransformJob.objects.select_for_update().filter(pk=job_id).first()


def transform_job_create(*, job_id: str) -> str:
    """The create task's body: idempotent under redelivery and the sweeper.

    Only a PENDING job is created, and AWS is asked with no row locked. "Already exists"
    for its name (fixed at launch, and checked unused in AWS by the pre-flight) means an
    earlier delivery created it, which counts as success (the next poll fills in the ARN).
    Transport failures and throttling leave it PENDING for the sweeper.
    """
    job = TransformJob.objects.filter(pk=job_id).first()
    if job is None:
        return "gone"
    if job.status != TransformStatus.PENDING:
        return f"skipped: already {job.status}"
    arn = ""
    note = "created"
    try:
        arn = aws_transform.create_transform_job(
            target=target_by_name(job.target),
            region=job.region,
            request=TransformJobRequest(name=job.name, spec=job.spec),
        )
    except Conflict:
        note = "already existed (redelivered create)"
    except QuotaExceeded as exc:
        return _create_failed(job_id, quota_message_from_aws(exc.message))
    except (NotFound, AccessDenied) as exc:
        return _create_failed(job_id, str(exc))
    except AwsError as exc:
        if exc.code.startswith("Validation"):
            return _create_failed(job_id, str(exc))
        logger.warning("create of %s failed, left Pending: %s", job.name, exc)
        return f"left pending: {exc}"
    with transaction.atomic():
        job = _locked(job_id)
        if job is None:
            return "gone"
        if job.status != TransformStatus.PENDING:
            return f"skipped: already {job.status}"  # another delivery recorded it first
        job.arn = arn or job.arn
        job.status = TransformStatus.IN_PROGRESS
        record_status(job, job.status, timezone.now(), note)
        job.save()
        audit_record(
            actor=None,
            action="transform.create",
            target=job_target(job),
            before={"status": TransformStatus.PENDING},
            after={"status": job.status, "note": note},
        )
        enqueue_on_commit(tasks.transform_job_poll, str(job.id), countdown=poll_countdown(0))
    return note


def _create_failed(job_id: str, reason: str) -> str:
    now: datetime = timezone.now()
    with transaction.atomic():
        job = _locked(job_id)
        if job is None or job.status != TransformStatus.PENDING:
            return f"skipped: {job.status if job else 'gone'}"
        job.status = TransformStatus.FAILED
        job.failure_reason = reason
        job.end_time = now
        record_status(job, job.status, now, "AWS refused the create")
        job.save()
        audit_record(
            actor=None,
            action="transform.create",
            target=job_target(job),
            before={"status": TransformStatus.PENDING},
            after={"status": job.status},
            outcome=Outcome.FAILED,
            error=reason,
        )
    return f"failed: {reason}"
