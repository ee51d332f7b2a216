"""Celery tasks for monitoring: load, call one service, nothing else."""

from __future__ import annotations

from celery import shared_task

from core.queue import per_target_region
from core.targets import target_by_name
from monitoring import services


@shared_task(name="monitoring.tasks.alarm_sync_all")
def alarm_sync_all() -> int:
    """Beat entry point: one alarm sync task per target-region."""
    return per_target_region(alarm_sync_region)


@shared_task(name="monitoring.tasks.alarm_sync_region", expires=120)
def alarm_sync_region(target_name: str, region: str) -> str:
    return services.alarm_sync(target=target_by_name(target_name), region=region).summary()


@shared_task(name="monitoring.tasks.monitor_sync_all")
def monitor_sync_all() -> int:
    """Beat entry point: one Model Monitor sync task per target-region."""
    return per_target_region(monitor_sync_region)


@shared_task(name="monitoring.tasks.monitor_sync_region", expires=600)
def monitor_sync_region(target_name: str, region: str) -> str:
    return services.monitor_sync(target=target_by_name(target_name), region=region).summary()


@shared_task(name="monitoring.tasks.check_run_execute")
def check_run_execute(run_id: int) -> str:
    return services.check_run_execute(run_id=run_id)


@shared_task(name="monitoring.tasks.check_run_sweep", expires=120)
def check_run_sweep() -> int:
    return services.check_run_sweep()
