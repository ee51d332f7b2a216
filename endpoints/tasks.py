"""Celery tasks for the inventory: load by id, call one service, nothing else."""

from __future__ import annotations

from celery import shared_task

from core.queue import per_target_region
from core.targets import target_by_name
from endpoints import services


@shared_task(name="endpoints.tasks.inventory_sync_all")
def inventory_sync_all() -> int:
    """Beat entry point: one sync task per target-region, so a slow or unreachable region
    delays nobody else."""
    return per_target_region(inventory_sync_region)


@shared_task(name="endpoints.tasks.inventory_sync_region", expires=120)
def inventory_sync_region(target_name: str, region: str) -> str:
    target = target_by_name(target_name)
    return services.inventory_sync(target=target, region=region).summary()


@shared_task(name="endpoints.tasks.endpoint_refresh", expires=600)
def endpoint_refresh(endpoint_id: int) -> str:
    return services.endpoint_refresh(endpoint_id=endpoint_id)
