"""Putting work on the Celery queue: after the transaction commits, and once per
target-region.

Every write that starts background work enqueues it with `enqueue_on_commit`, so a task
never runs against a state that was rolled back. A broker that is down when the commit
happens loses nothing: the write is committed, the failure is logged and reported on the
returned handle, and each app's beat sweeper re-enqueues work that made no progress.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

from core.targets import target_regions

logger = logging.getLogger(__name__)

# What publishing raises when the broker cannot be reached (kombu wraps connection errors
# in OperationalError; a socket or file error can surface as OSError).
BROKER_ERRORS = (OperationalError, OSError)


@dataclass
class Enqueued:
    """What became of one `enqueue_on_commit`: `sent` is None until the transaction
    commits, then whether the broker took the task."""

    task: str
    sent: bool | None = None


def enqueue_on_commit(task: Task[..., Any], *args: Any, countdown: float | None = None) -> Enqueued:
    """Send `task(*args)` once the current transaction commits (at once outside one).

    `countdown` delays the task in the broker (a poll interval): no worker ever sleeps.
    """
    handle = Enqueued(task=task.name)

    def send() -> None:
        try:
            if countdown:
                task.apply_async(args=args, countdown=countdown)
            else:
                task.apply_async(args=args)
        except BROKER_ERRORS as exc:
            logger.warning("could not queue %s%r: %s", task.name, args, exc)
            handle.sent = False
        else:
            handle.sent = True

    transaction.on_commit(send)
    return handle


def per_target_region(task: Task[..., Any]) -> int:
    """Enqueue `task(target_name, region)` for each configured target-region; how many.

    Every periodic sync runs as one task per account-region, so a slow, throttled or
    unreachable region delays nobody else.
    """
    for target, region in target_regions():
        task.apply_async(args=(target.name, region))
    return len(target_regions())
