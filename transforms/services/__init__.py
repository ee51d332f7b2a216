"""Batch transform writes: launch (after pre-flight checks) and create, follow (poll and
stop), and bring in jobs created elsewhere (sync, sweep).

A launch saves the job PENDING and enqueues the create task on commit; the create task
asks AWS for the job under the row's deterministic name and chains a poll task, which
re-schedules itself with a growing countdown until the job is terminal. Nothing here
sleeps, and no AWS call is made while a row is locked: a slow AWS must not hold up every
other write. A broker outage at any enqueue is logged, not raised: the beat sweeper
re-enqueues jobs left Pending or unpolled, and every task is idempotent.
"""

from transforms.services.follow import transform_job_poll, transform_job_stop
from transforms.services.launch import transform_job_create, transform_job_launch
from transforms.services.launch_spec import TransformLaunch
from transforms.services.preflight import (
    OVERWRITE_LABEL,
    quota_message,
    quota_message_from_aws,
    transform_job_preflight,
)
from transforms.services.sync import transform_jobs_sweep, transform_jobs_sync

__all__ = [
    "OVERWRITE_LABEL",
    "TransformLaunch",
    "quota_message",
    "quota_message_from_aws",
    "transform_job_create",
    "transform_job_launch",
    "transform_job_poll",
    "transform_job_preflight",
    "transform_job_stop",
    "transform_jobs_sweep",
    "transform_jobs_sync",
]
