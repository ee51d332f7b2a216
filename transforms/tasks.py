"""Celery tasks for batch transform: load by id, call one service, nothing else.

Create and poll are idempotent (the services check the state under a row lock), so
acks_late redelivery and the sweeper's re-enqueueing are safe. Polls are chained with
`apply_async(countdown=...)` by the services; no task ever sleeps.
"""

from __future__ import annotations

from celery import shared_task

from core.queue import per_target_region
from core.targets import target_by_name
from transforms import services


@shared_task(name="transforms.tasks.transform_job_create")
def transform_job_create(job_id: str) -> str:
    return services.transform_job_create(job_id=job_id)


@shared_task(name="transforms.tasks.transform_job_poll")
def transform_job_poll(job_id: str) -> str:
    return services.transform_job_poll(job_id=job_id)


@shared_task(name="transforms.tasks.transform_jobs_sync_all", expires=120)
def transform_jobs_sync_all() -> int:
    """Beat entry point: one sync task per target-region."""
    return per_target_region(transform_jobs_sync_region)


@shared_task(name="transforms.tasks.transform_jobs_sync_region", expires=120)
def transform_jobs_sync_region(target_name: str, region: str) -> str:
    target = target_by_name(target_name)
    return services.transform_jobs_sync(target=target, region=region).summary()


@shared_task(name="transforms.tasks.transform_jobs_sweep", expires=300)
def transform_jobs_sweep() -> int:
    return services.transform_jobs_sweep()
