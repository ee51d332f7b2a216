"""Bringing in jobs created outside the portal, and picking up portal jobs whose task chain
was lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.aws import transform as aws_transform
from core.aws.errors import AwsError
from core.aws.types import TransformJobDescription
from core.models import SyncKind
from core.queue import enqueue_on_commit
from core.sync_status import sync_failed, sync_succeeded
from core.targets import Target
from transforms import tasks
from transforms.models import TransformJob, TransformSource, TransformStatus
from transforms.services.records import apply_description

logger = logging.getLogger(__name__)


@dataclass
class TransformSyncReport:
    """What one sync of one target-region brought in."""

    target: str
    region: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    error: str = ""

    def summary(self) -> str:
        where = f"{self.target}/{self.region}"
        if self.error:
            return f"{where}: FAILED {self.error}"
        return f"{where}: {len(self.created)} new, {len(self.updated)} changed"


def _synced_row(target: Target, region: str, described: TransformJobDescription) -> TransformJob:
    job = TransformJob(
        target=target.name,
        account_id=target.account_id,
        region=region,
        name=described.name,
        arn=described.arn,
        source=TransformSource.SYNCED,
        status=described.status,
        **TransformJob.spec_columns(described.request.spec),
    )
    apply_description(job, described)
    job.status_history = [
        {"status": described.status, "at": timezone.now().isoformat(), "note": "synced"}
    ]
    return job


def transform_jobs_sync(*, target: Target, region: str) -> TransformSyncReport:
    """Bring in jobs created elsewhere (ListTransformJobs) and follow the status of synced
    ones that were still running; portal jobs are followed by their own poll chain. One
    DescribeTransformJob per new or changed job. A failure is recorded (the banner says
    the batch-job list is stale) and returned, not raised."""
    report = TransformSyncReport(target=target.name, region=region)
    started = timezone.now()
    known = {
        j.name: j
        for j in TransformJob.objects.filter(account_id=target.account_id, region=region).only(
            "id", "name", "status", "source"
        )
    }
    try:
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
                    report.created.append(summary.name)
                else:
                    locked = TransformJob.objects.select_for_update().filter(pk=row.pk).first()
                    if locked is not None and apply_description(locked, described):
                        locked.save()
                        report.updated.append(summary.name)
    except AwsError as exc:
        report.error = str(exc)
        sync_failed(kind=SyncKind.TRANSFORMS, target=target, region=region, error=exc, at=started)
        logger.warning("transform job sync %s/%s failed: %s", target.name, region, exc)
    else:
        sync_succeeded(kind=SyncKind.TRANSFORMS, target=target, region=region, at=started)
    if report.created or report.updated:
        audit_record(
            actor=None,
            action="transform.sync",
            target=f"{target.name}/{target.account_id}/{region}",
            after={"created": report.created, "updated": report.updated},
        )
    return report


def transform_jobs_sweep(*, now: datetime | None = None) -> int:
    """Re-enqueue portal jobs whose task chain was lost: PENDING past the deadline (broker
    down at launch) get their create again, running ones not polled for as long get a poll.
    Both tasks are idempotent, so a duplicate is harmless."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.OPSPORTAL_TRANSFORM_STUCK_SECONDS)
    portal = TransformJob.objects.filter(source=TransformSource.PORTAL)
    # Both lists are read before anything is enqueued: a create run at once (no broker
    # delay, as in tests) would otherwise turn a Pending job into a running one that the
    # second query also picks up.
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
    count = 0
    for task, ids in ((tasks.transform_job_create, pending), (tasks.transform_job_poll, running)):
        for pk in ids:
            with transaction.atomic():
                enqueue_on_commit(task, str(pk))
            count += 1
    return count
