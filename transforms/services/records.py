"""What every transform service writes about a job: its status history and audit target."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.aws.types import TransformJobDescription
from transforms.models import TransformJob

HISTORY_LIMIT = 50


def job_target(job: TransformJob) -> str:
    """The job's audit target: its ARN, or where it will be once created."""
    return job.arn or f"transform-job:{job.account_id}/{job.region}/{job.name}"


def record_status(job: TransformJob, status: str, at: datetime, note: str = "") -> None:
    entry = {"status": status, "at": at.isoformat()}
    if note:
        entry["note"] = note
    job.status_history = [*job.status_history, entry][-HISTORY_LIMIT:]


def parameters(job: TransformJob) -> dict[str, Any]:
    """What the audit log keeps of a job's parameters."""
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


def apply_description(job: TransformJob, described: TransformJobDescription) -> bool:
    """Copy status, times and FailureReason; True when the status changed."""
    changed = described.status != job.status
    job.arn = described.arn or job.arn
    job.failure_reason = described.failure_reason
    job.creation_time = described.creation_time or job.creation_time
    job.start_time = described.start_time or job.start_time
    job.end_time = described.end_time or job.end_time
    if changed:
        job.status = described.status
        record_status(job, described.status, timezone.now())
    return changed


def poll_countdown(poll_count: int) -> float:
    """Seconds until the next poll: doubling from the base interval up to the ceiling."""
    base = settings.OPSPORTAL_TRANSFORM_POLL_SECONDS
    ceiling = settings.OPSPORTAL_TRANSFORM_POLL_MAX_SECONDS
    return float(min(base * 2 ** min(poll_count, 16), ceiling))
