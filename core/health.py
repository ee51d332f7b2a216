"""Liveness and readiness: what /healthz and /readyz report.

Neither calls AWS. A load balancer that pulled every web node because AWS was throttling
or hanging would take the console away exactly when on-call needs it, so AWS is reported
per target-region from what the background syncs last saw, and never fails readiness.
"""

from __future__ import annotations

from typing import Any

from celery import current_app as app
from django.conf import settings
from django.db import connection
from kombu import Connection, Queue
from kombu.exceptions import ChannelError

from core.models import SyncStatus
from core.targets import target_regions
from core.worker_health import is_stale, worker_last_seen


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def check_broker() -> dict[str, Any]:
    """Connect once (bounded by the broker's connection timeout) and count the tasks
    waiting in the default queue: a growing count with a stale worker is a stuck worker."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT)
            waiting = _waiting(conn)
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "transport": app.conf.broker_url.split(":", 1)[0], "queued": waiting}


def _waiting(conn: Connection) -> int:
    """Messages in the default queue; a queue nobody has published to yet holds none
    (Redis keeps no empty list, so a passive declare of it says "not found")."""
    declared = Queue(app.conf.task_default_queue, channel=conn.default_channel)
    try:
        answer: Any = declared.queue_declare(passive=True)
    except ChannelError:
        return 0
    return int(answer.message_count)


def check_worker() -> dict[str, Any]:
    last = worker_last_seen()
    return {
        "ok": not is_stale(last),
        "last_heartbeat": last.isoformat() if last else None,
        "stale_after_seconds": settings.OPSPORTAL_WORKER_STALE_SECONDS,
    }


def check_aws() -> dict[str, Any]:
    """Per target-region: which syncs are failing and since when (no AWS call)."""
    statuses: dict[tuple[str, str], list[SyncStatus]] = {}
    for status in SyncStatus.objects.all():
        statuses.setdefault((status.target, status.region), []).append(status)
    report: dict[str, Any] = {}
    for target, region in target_regions():
        seen = statuses.get((target.name, region), [])
        failing = [s for s in seen if s.failing_since is not None]
        since = [s.failing_since for s in failing if s.failing_since is not None]
        successes = [s.last_success_at for s in seen if s.last_success_at is not None]
        report[f"{target.name}/{region}"] = {
            "ok": not failing,
            "failing": sorted(s.kind for s in failing),
            "failing_since": min(since).isoformat() if since else None,
            "last_error": failing[0].last_error_kind if failing else "",
            "last_success_at": max(successes).isoformat() if successes else None,
        }
    return {"ok": all(r["ok"] for r in report.values()), "targets": report}
