"""Celery task outcomes for /metrics, counted in whichever process runs the task (the
worker; the test process when tasks run eagerly). Connected in CoreConfig.ready."""

from __future__ import annotations

from typing import Any

from celery.signals import task_postrun, task_revoked

from core.metrics import TASKS

# task_postrun's states; anything else a task might report counts as "other".
_OUTCOMES = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry", "REJECTED": "rejected"}


def _task_name(task: Any) -> str:
    return str(getattr(task, "name", None) or "unknown")


@task_postrun.connect
def count_task_end(*, task: Any = None, state: str | None = None, **_: Any) -> None:
    TASKS.labels(_task_name(task), _OUTCOMES.get(state or "", "other")).inc()


@task_revoked.connect
def count_task_revoked(*, sender: Any = None, **_: Any) -> None:
    """Revoked, or expired before a worker took it (a stale heartbeat is dropped so)."""
    TASKS.labels(_task_name(sender), "revoked").inc()
