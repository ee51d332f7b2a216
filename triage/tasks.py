"""Celery tasks for incidents: the beat sync that opens and follows incident records."""

from __future__ import annotations

from celery import shared_task

from triage.incidents import incidents_sync


@shared_task(name="triage.tasks.incidents_sync", expires=60)
def incidents_sync_task() -> dict[str, int]:
    report = incidents_sync()
    return {"opened": report.opened, "updated": report.updated, "cleared": report.cleared}
