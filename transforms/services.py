"""Batch transform writes: launch with pre-flight checks, create, poll, stop, sync, sweep.

A launch saves the job PENDING and enqueues the create task on commit; the create task
asks AWS for the job under the row's deterministic name and chains a poll task, which
re-schedules itself with a growing countdown until the job is terminal. Nothing here
sleeps. A broker outage at any enqueue is logged, not raised: the beat sweeper re-enqueues
jobs left Pending or unpolled, and every task is idempotent, so duplicates are harmless.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.models import Outcome
from audit.services import audit_record
from core.aws import quotas as aws_quotas
from core.aws import s3 as aws_s3
from core.aws import transform as aws_transform
from core.aws.errors import AccessDenied, AwsError, Conflict, NotFound, QuotaExceeded
from core.aws.types import TransformJobDescription, TransformJobRequest
from core.targets import Target, target_by_name
from dataprocessing.jsonpath import jsonpath_problem
from transforms.models import (
    TERMINAL_STATUSES,
    TransformJob,
    TransformSource,
    TransformStatus,
    job_name_for,
)

logger = logging.getLogger(__name__)

MAX_PAYLOAD_PRODUCT = 100  # MaxConcurrentTransforms × MaxPayloadInMB, SageMaker's limit
MAX_PAYLOAD_MB = 100
HISTORY_LIMIT = 50
# Eager mode (tests) ignores countdown: a poll chain would recurse with no pause. Past this
# many nested hops the chain stops; the test (or, in production, the sweeper) goes on.
MAX_EAGER_HOPS = 2
_eager = threading.local()
_AWS_QUOTA = re.compile(
    r"service limit '(?P<name>[^']+)' is (?P<limit>[\d.]+) Instances, with current "
    r"utilization of (?P<used>\d+) Instances and a request delta of (?P<delta>\d+)"
)


class LaunchRejected(Exception):
    """A pre-flight check failed; `errors` maps form fields ("" for the form) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


@dataclass(frozen=True)
class TransformLaunch:
    """What the launch form asks for, before any check."""

    target: str
    region: str
    model_name: str
    input_uri: str
    content_type: str
    split_type: str = "Line"
    compression_type: str = "None"
    batch_strategy: str = "MultiRecord"
    max_payload_mb: int = 6
    max_concurrent_transforms: int = 1
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    output_path: str = ""
    accept: str = ""
    assemble_with: str = "Line"
    input_filter: str = ""
    output_filter: str = ""
    join_source: str = ""
    kms_key_id: str = ""
    environment: dict[str, str] = field(default_factory=dict)


def quota_message(*, name: str, limit: float, in_use: int, needed: int) -> str:
    """The one wording for a quota shortfall, whether the portal or AWS found it."""
    return (
        f"Quota '{name}' is {limit:g} instances; {in_use} in use; this job needs {needed}. "
        "Request an increase in Service Quotas."
    )


def quota_message_from_aws(message: str) -> str:
    """AWS's ResourceLimitExceeded text in the portal's wording (as is if unrecognised)."""
    match = _AWS_QUOTA.search(message)
    if not match:
        return message
    return quota_message(
        name=match["name"],
        limit=float(match["limit"]),
        in_use=int(match["used"]),
        needed=int(match["delta"]),
    )


# --- enqueueing --------------------------------------------------------------------------


def _enqueue(task_name: str, *args: Any, countdown: float | None = None) -> None:
    """Send a task once the current transaction commits; a broker outage is only logged."""

    def send() -> None:
        from transforms import tasks

        task = getattr(tasks, task_name)
        eager = bool(current_app.conf.task_always_eager)
        depth = getattr(_eager, "depth", 0)
        if eager and countdown and depth >= MAX_EAGER_HOPS:
            logger.info("eager mode: %s%r left for the next step", task_name, args)
            return
        _eager.depth = depth + 1
        try:
            task.apply_async(args=list(args), countdown=countdown)
        except Exception as exc:  # kombu raises several types for a broker that is down
            if eager:
                raise
            logger.warning("could not queue %s%r: %s", task_name, args, exc)
        finally:
            _eager.depth = depth

    transaction.on_commit(send)


def _poll_countdown(poll_count: int) -> float:
    base = settings.OPSPORTAL_TRANSFORM_POLL_SECONDS
    ceiling = settings.OPSPORTAL_TRANSFORM_POLL_MAX_SECONDS
    return float(min(base * 2 ** min(poll_count, 16), ceiling))


# --- pre-flight --------------------------------------------------------------------------


def _job_target(job: TransformJob) -> str:
    return job.arn or f"transform-job:{job.account_id}/{job.region}/{job.name}"


def _instances_in_use(*, target: Target, region: str, instance_type: str) -> int:
    """Instances of `instance_type` held by transform jobs running in the account-region
    (as AWS lists them), plus portal jobs saved but not yet created."""
    known = {
        j.name: j
        for j in TransformJob.objects.filter(account_id=target.account_id, region=region)
        .exclude(status__in=TERMINAL_STATUSES)
        .only("name", "instance_type", "instance_count", "status")
    }
    used = 0
    for status in (TransformStatus.IN_PROGRESS, TransformStatus.STOPPING):
        for summary in aws_transform.list_transform_jobs(
            target=target, region=region, status=status
        ):
            row = known.pop(summary.name, None)
            if row is not None:
                kind, count = row.instance_type, row.instance_count
            else:
                request = aws_transform.describe_transform_job(
                    target=target, region=region, name=summary.name
                ).request
                kind, count = request.instance_type, request.instance_count
            if kind == instance_type:
                used += count
    used += sum(
        j.instance_count
        for j in known.values()
        if j.status == TransformStatus.PENDING and j.instance_type == instance_type
    )
    return used


def _check_quota(*, target: Target, region: str, instance_type: str, needed: int) -> str | None:
    name = f"{instance_type} for transform job usage"
    try:
        quota = aws_quotas.sagemaker_quota_by_name(target=target, region=region, name=name)
    except AccessDenied as exc:
        # Without servicequotas:ListServiceQuotas the check cannot be made; AWS still
        # enforces the quota at create time and the job then shows the same message.
        logger.warning("quota pre-check skipped for %s in %s: %s", name, region, exc)
        return None
    if quota is None:
        return None  # no such quota: AWS decides at create time
    in_use = _instances_in_use(target=target, region=region, instance_type=instance_type)
    if in_use + needed > quota.value:
        return quota_message(name=name, limit=quota.value, in_use=in_use, needed=needed)
    return None


def transform_job_preflight(*, launch: TransformLaunch) -> dict[str, list[str]]:
    """Every check a launch must pass, before anything is created; field → messages.

    AWS would refuse most of these only after the job started (a missing input fails the
    job; a quota shortfall fails the create), so they are asked here, where the form can
    say what to fix.
    """
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    target = target_by_name(launch.target)
    region = launch.region
    if launch.instance_count < 1:
        add("instance_count", "At least one instance is needed.")
    if not 1 <= launch.max_payload_mb <= MAX_PAYLOAD_MB:
        add("max_payload_mb", f"MaxPayloadInMB must be between 1 and {MAX_PAYLOAD_MB}.")
    if launch.max_concurrent_transforms < 1:
        add("max_concurrent_transforms", "MaxConcurrentTransforms must be at least 1.")
    elif launch.max_concurrent_transforms * launch.max_payload_mb > MAX_PAYLOAD_PRODUCT:
        add(
            "max_concurrent_transforms",
            f"MaxConcurrentTransforms × MaxPayloadInMB is "
            f"{launch.max_concurrent_transforms * launch.max_payload_mb}; "
            f"SageMaker allows at most {MAX_PAYLOAD_PRODUCT}.",
        )
    is_csv = launch.content_type == "text/csv"
    for name, expression in (
        ("input_filter", launch.input_filter),
        ("output_filter", launch.output_filter),
    ):
        problem = jsonpath_problem(expression, csv=is_csv)
        if problem:
            add(name, f"{expression!r} {problem}")
    try:
        source = aws_s3.parse_s3_uri(launch.input_uri)
    except ValueError as exc:
        add("input_uri", str(exc))
        source = None
    try:
        destination = aws_s3.parse_s3_uri(launch.output_path)
    except ValueError as exc:
        add("output_path", str(exc))
        destination = None
    try:
        if source is not None:
            if not aws_s3.bucket_exists(target=target, region=region, bucket=source.bucket):
                add("input_uri", f"Bucket {source.bucket!r} does not exist in {region}.")
            elif not aws_s3.prefix_has_objects(
                target=target, region=region, bucket=source.bucket, prefix=source.key
            ):
                add("input_uri", f"No object or prefix with objects at {source}.")
        if destination is not None and not aws_s3.bucket_exists(
            target=target, region=region, bucket=destination.bucket
        ):
            add("output_path", f"Bucket {destination.bucket!r} does not exist in {region}.")
        try:
            aws_transform.describe_model_name(target=target, region=region, name=launch.model_name)
        except NotFound:
            add("model_name", f"Model {launch.model_name!r} does not exist in {region}.")
        if not errors:
            problem = _check_quota(
                target=target,
                region=region,
                instance_type=launch.instance_type,
                needed=launch.instance_count,
            )
            if problem:
                add("instance_type", problem)
    except AwsError as exc:
        add("", f"Could not complete the pre-flight checks: {exc}")
    return errors


# --- launch and create -------------------------------------------------------------------


def _history(job: TransformJob, status: str, at: datetime, note: str = "") -> None:
    entry = {"status": status, "at": at.isoformat()}
    if note:
        entry["note"] = note
    job.status_history = [*job.status_history, entry][-HISTORY_LIMIT:]


def _parameters(job: TransformJob) -> dict[str, Any]:
    return {
        "model": job.model_name,
        "input": job.input_uri,
        "output": job.output_path,
        "instance_type": job.instance_type,
        "instance_count": job.instance_count,
        "input_filter": job.input_filter,
        "output_filter": job.output_filter,
        "join_source": job.join_source,
        "environment": job.environment,
    }


def transform_job_launch(
    *, launch: TransformLaunch, actor: Any, request: HttpRequest | None = None
) -> TransformJob:
    """Check, save PENDING, audit and enqueue the create; raises LaunchRejected.

    The request returns as soon as the row is committed, broker or not: a create that could
    not be queued is re-enqueued by the sweeper.
    """
    errors = transform_job_preflight(launch=launch)
    if errors:
        raise LaunchRejected(errors)
    target = target_by_name(launch.target)
    now = timezone.now()
    with transaction.atomic():
        job = TransformJob(
            target=target.name,
            account_id=target.account_id,
            region=launch.region,
            source=TransformSource.PORTAL,
            model_name=launch.model_name,
            input_uri=launch.input_uri.strip(),
            content_type=launch.content_type,
            split_type=launch.split_type,
            compression_type=launch.compression_type,
            batch_strategy=launch.batch_strategy,
            max_payload_mb=launch.max_payload_mb,
            max_concurrent_transforms=launch.max_concurrent_transforms,
            instance_type=launch.instance_type,
            instance_count=launch.instance_count,
            output_path=launch.output_path.strip(),
            accept=launch.accept,
            assemble_with=launch.assemble_with,
            input_filter=launch.input_filter,
            output_filter=launch.output_filter,
            join_source=launch.join_source,
            kms_key_id=launch.kms_key_id,
            environment=dict(launch.environment),
            status=TransformStatus.PENDING,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            launched_at=now,
        )
        job.name = job_name_for(job.id)
        _history(job, TransformStatus.PENDING, now, "saved by the portal")
        job.save()
        audit_record(
            actor=actor,
            action="transform.launch",
            target=_job_target(job),
            after={"name": job.name, **_parameters(job)},
            request=request,
        )
        _enqueue("transform_job_create", str(job.id))
    return job


def _request_for(job: TransformJob) -> TransformJobRequest:
    return TransformJobRequest(
        name=job.name,
        model_name=job.model_name,
        input_uri=job.input_uri,
        input_data_type=job.input_data_type,
        content_type=job.content_type,
        split_type=job.split_type,
        compression_type=job.compression_type,
        batch_strategy=job.batch_strategy,
        max_payload_mb=job.max_payload_mb,
        max_concurrent_transforms=job.max_concurrent_transforms,
        instance_type=job.instance_type,
        instance_count=job.instance_count,
        output_path=job.output_path,
        accept=job.accept,
        assemble_with=job.assemble_with,
        input_filter=job.input_filter,
        output_filter=job.output_filter,
        join_source=job.join_source,
        kms_key_id=job.kms_key_id,
        environment=dict(job.environment),
    )


def _locked(job_id: str) -> TransformJob | None:
    return TransformJob.objects.select_for_update().filter(pk=job_id).first()


def transform_job_create(*, job_id: str) -> str:
    """The create task's body: idempotent under redelivery and the sweeper.

    Only a PENDING job is created; "already exists" for its deterministic name means an
    earlier delivery created it, which counts as success (the next poll fills in the ARN).
    Transport failures and throttling leave it PENDING for the sweeper.
    """
    with transaction.atomic():
        job = _locked(job_id)
        if job is None:
            return "gone"
        if job.status != TransformStatus.PENDING:
            return f"skipped: already {job.status}"
        target = target_by_name(job.target)
        now = timezone.now()
        note = "created"
        try:
            job.arn = aws_transform.create_transform_job(
                target=target, region=job.region, request=_request_for(job)
            )
        except Conflict:
            note = "already existed (redelivered create)"
        except QuotaExceeded as exc:
            return _create_failed(job, quota_message_from_aws(exc.message), now)
        except (NotFound, AccessDenied) as exc:
            return _create_failed(job, str(exc), now)
        except AwsError as exc:
            if exc.code.startswith("Validation"):
                return _create_failed(job, str(exc), now)
            logger.warning("create of %s failed, left Pending: %s", job.name, exc)
            return f"left pending: {exc}"
        before = job.status
        job.status = TransformStatus.IN_PROGRESS
        _history(job, job.status, now, note)
        job.save()
        audit_record(
            actor=None,
            action="transform.create",
            target=_job_target(job),
            before={"status": before},
            after={"status": job.status, "note": note},
        )
        _enqueue("transform_job_poll", str(job.id), countdown=_poll_countdown(0))
    return note


def _create_failed(job: TransformJob, reason: str, now: datetime) -> str:
    before = job.status
    job.status = TransformStatus.FAILED
    job.failure_reason = reason
    job.end_time = now
    _history(job, job.status, now, "AWS refused the create")
    job.save()
    audit_record(
        actor=None,
        action="transform.create",
        target=_job_target(job),
        before={"status": before},
        after={"status": job.status},
        outcome=Outcome.FAILED,
        error=reason,
    )
    return f"failed: {reason}"


# --- poll and stop -----------------------------------------------------------------------


def _apply_description(job: TransformJob, described: TransformJobDescription) -> bool:
    """Copy status, times and FailureReason; True when the status changed."""
    changed = described.status != job.status
    job.arn = described.arn or job.arn
    job.failure_reason = described.failure_reason
    job.creation_time = described.creation_time or job.creation_time
    job.start_time = described.start_time or job.start_time
    job.end_time = described.end_time or job.end_time
    if changed:
        job.status = described.status
        _history(job, described.status, timezone.now())
    return changed


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
        target = target_by_name(job.target)
        before = job.status
        job.last_polled_at = now
        job.poll_count += 1
        try:
            described = aws_transform.describe_transform_job(
                target=target, region=job.region, name=job.name
            )
        except AwsError as exc:
            job.save(update_fields=["last_polled_at", "poll_count", "updated_at"])
            _enqueue("transform_job_poll", str(job.id), countdown=_poll_countdown(job.poll_count))
            return f"describe failed, retrying: {exc}"
        changed = _apply_description(job, described)
        job.save()
        if changed:
            audit_record(
                actor=None,
                action="transform.status",
                target=_job_target(job),
                before={"status": before},
                after={"status": job.status, "failure_reason": job.failure_reason},
                outcome=Outcome.FAILED if job.status == TransformStatus.FAILED else Outcome.OK,
            )
        if not job.is_terminal:
            _enqueue("transform_job_poll", str(job.id), countdown=_poll_countdown(job.poll_count))
    return job.status


class StopRefused(Exception):
    """The job cannot be stopped now; the message says why."""


def transform_job_stop(
    *, job: TransformJob, actor: Any, request: HttpRequest | None = None
) -> TransformJob:
    """StopTransformJob (Operator+): the job moves to Stopping and the poll chain follows."""
    with transaction.atomic():
        locked = _locked(str(job.pk))
        if locked is None or locked.status != TransformStatus.IN_PROGRESS:
            status = locked.status if locked else "gone"
            raise StopRefused(f"Only a job in progress can be stopped; this one is {status}.")
        target = target_by_name(locked.target)
        try:
            aws_transform.stop_transform_job(target=target, region=locked.region, name=locked.name)
        except AwsError as exc:
            audit_record(
                actor=actor,
                action="transform.stop",
                target=_job_target(locked),
                outcome=Outcome.FAILED,
                error=str(exc),
                request=request,
            )
            raise StopRefused(f"AWS refused the stop: {exc}") from exc
        before = locked.status
        locked.status = TransformStatus.STOPPING
        _history(locked, locked.status, timezone.now(), "stop requested")
        locked.save()
        audit_record(
            actor=actor,
            action="transform.stop",
            target=_job_target(locked),
            before={"status": before},
            after={"status": locked.status},
            request=request,
        )
        _enqueue("transform_job_poll", str(locked.id), countdown=_poll_countdown(0))
    return locked


# --- sync and sweep ----------------------------------------------------------------------


def _synced_row(target: Target, region: str, described: TransformJobDescription) -> TransformJob:
    request = described.request
    job = TransformJob(
        target=target.name,
        account_id=target.account_id,
        region=region,
        name=described.name,
        arn=described.arn,
        source=TransformSource.SYNCED,
        model_name=request.model_name,
        input_uri=request.input_uri,
        input_data_type=request.input_data_type,
        content_type=request.content_type,
        split_type=request.split_type,
        compression_type=request.compression_type,
        batch_strategy=request.batch_strategy,
        max_payload_mb=request.max_payload_mb,
        max_concurrent_transforms=request.max_concurrent_transforms,
        instance_type=request.instance_type,
        instance_count=request.instance_count,
        output_path=request.output_path,
        accept=request.accept,
        assemble_with=request.assemble_with,
        input_filter=request.input_filter,
        output_filter=request.output_filter,
        join_source=request.join_source,
        kms_key_id=request.kms_key_id,
        environment=request.environment,
        status=described.status,
    )
    _apply_description(job, described)
    job.status_history = [
        {"status": described.status, "at": timezone.now().isoformat(), "note": "synced"}
    ]
    return job


def transform_jobs_sync(*, target: Target, region: str) -> dict[str, list[str]]:
    """Bring in jobs created elsewhere (ListTransformJobs) and follow the status of synced
    ones that were still running; portal jobs are followed by their own poll chain. One
    DescribeTransformJob per new or changed job."""
    report: dict[str, list[str]] = {"created": [], "updated": []}
    known = {
        j.name: j
        for j in TransformJob.objects.filter(account_id=target.account_id, region=region).only(
            "id", "name", "status", "source"
        )
    }
    for summary in aws_transform.list_transform_jobs(target=target, region=region):
        row = known.get(summary.name)
        if row is not None and (
            row.source == TransformSource.PORTAL or row.status == summary.status
        ):
            continue
        described = aws_transform.describe_transform_job(
            target=target, region=region, name=summary.name
        )
        with transaction.atomic():
            if row is None:
                _synced_row(target, region, described).save()
                report["created"].append(summary.name)
            else:
                locked = _locked(str(row.pk))
                if locked is not None and _apply_description(locked, described):
                    locked.save()
                    report["updated"].append(summary.name)
    if report["created"] or report["updated"]:
        audit_record(
            actor=None,
            action="transform.sync",
            target=f"{target.name}/{target.account_id}/{region}",
            after=report,
        )
    return report


def transform_jobs_sweep(*, now: datetime | None = None) -> int:
    """Re-enqueue portal jobs whose task chain was lost: PENDING past the deadline (broker
    down at launch) get their create again, running ones not polled for as long get a poll.
    Both tasks are idempotent, so a duplicate is harmless."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.OPSPORTAL_TRANSFORM_STUCK_SECONDS)
    count = 0
    portal = TransformJob.objects.filter(source=TransformSource.PORTAL)
    # Both lists are read before anything is enqueued: an eager create would otherwise turn
    # a Pending job into a running one that the second query also picks up.
    pending = list(
        portal.filter(status=TransformStatus.PENDING, updated_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    running = list(
        portal.filter(
            status__in=(TransformStatus.IN_PROGRESS, TransformStatus.STOPPING),
            updated_at__lt=stale,
        ).values_list("pk", flat=True)
    )
    for task_name, ids in (("transform_job_create", pending), ("transform_job_poll", running)):
        for pk in ids:
            with transaction.atomic():
                _enqueue(task_name, str(pk))
            count += 1
    return count
