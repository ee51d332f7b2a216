"""Celery tasks for incidents: the beat sync that opens and follows incident records, and
paging on-call about them. Load by id, call one function, nothing else."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from triage import incidents, paging


@shared_task(name="triage.tasks.incidents_sync", expires=60)
def incidents_sync_task() -> dict[str, int]:
    report = incidents.incidents_sync()
    return {
        "opened": report.opened,
        "updated": report.updated,
        "cleared": report.cleared,
        "paged_unowned": report.paged_unowned,
    }


@shared_task(name="triage.tasks.incident_page", expires=3600)
def incident_page_task(incident_id: int, event: str) -> dict[str, Any]:
    return paging.incident_page(incident_id=incident_id, event=event)
