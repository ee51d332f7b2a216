"""Is background work running? The heartbeat a beat task writes through a worker.

Approved shifts, syncs and transform jobs all wait on the Celery worker; when it stops
running tasks (killed, frozen, broker down, beat stopped) the heartbeat goes stale, every
page carries a banner and /readyz answers "not ready".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from core.models import WorkerHeartbeat


def heartbeat_record(*, hostname: str) -> None:
    """The calling worker ran a task just now."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:255], defaults={"last_seen": timezone.now()}
    )


def worker_last_seen() -> datetime | None:
    """When any worker last ran the heartbeat task; None if none ever has."""
    last: datetime | None = WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]
    return last


def is_stale(last_seen: datetime | None, *, now: datetime | None = None) -> bool:
    """Older than OPSPORTAL_WORKER_STALE_SECONDS, or never seen at all."""
    if last_seen is None:
        return True
    now = now or timezone.now()
    return now - last_seen > timedelta(seconds=settings.OPSPORTAL_WORKER_STALE_SECONDS)


def worker_silent_since() -> datetime | None:
    """For the banner: when the last heartbeat was, if it is stale now.

    A portal whose worker has never reported says nothing here (a fresh install's first
    minute); /readyz reports that case as not ready."""
    last = worker_last_seen()
    return last if last is not None and is_stale(last) else None
