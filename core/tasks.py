"""Celery tasks core owns: the worker heartbeat."""

from __future__ import annotations

from celery import Task, shared_task

from core.worker_health import heartbeat_record


@shared_task(name="core.tasks.worker_heartbeat", bind=True)
def worker_heartbeat(self: Task) -> None:
    heartbeat_record(hostname=self.request.hostname or "worker")
