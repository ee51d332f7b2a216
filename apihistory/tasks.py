"""Celery tasks for CloudTrail ingestion: load by name, call one service, nothing else."""

from __future__ import annotations

from celery import shared_task

from apihistory import services
from core.queue import per_target_region
from core.targets import target_by_name


@shared_task(name="apihistory.tasks.cloudtrail_ingest_all")
def cloudtrail_ingest_all() -> int:
    """Beat entry point: one ingest task per target-region, so a slow or throttled region
    delays nobody else (each region has its own LookupEvents allowance)."""
    return per_target_region(cloudtrail_ingest_region)


# A task still queued after a few intervals is superseded by the ones beat sent since.
@shared_task(name="apihistory.tasks.cloudtrail_ingest_region", expires=300)
def cloudtrail_ingest_region(target_name: str, region: str) -> str:
    target = target_by_name(target_name)
    return services.trail_ingest(target=target, region=region).summary()
