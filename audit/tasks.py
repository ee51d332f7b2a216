"""Celery tasks for the audit log: call one service, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from audit import digests, login_refusals


@shared_task(name="audit.tasks.login_lock_tallies_close", expires=300)
def login_lock_tallies_close() -> int:
    return login_refusals.login_lock_tallies_close(now=timezone.now())


@shared_task(name="audit.tasks.audit_digest_write")
def audit_digest_write() -> str | None:
    written = digests.audit_digest_write(now=timezone.now())
    return written.name if written else None
