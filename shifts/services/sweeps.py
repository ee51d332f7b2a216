"""The beat sweeps: expire proposals nobody decided in time, and pick up applies and polls
whose task was lost (broker down at enqueue time, a worker killed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.queue import enqueue_on_commit
from shifts import tasks
from shifts.models import ChangeType, ShiftProposal, ShiftState
from shifts.services.transitions import expire_if_due, locked


def shift_expire(*, proposal_id: int, now: datetime | None = None) -> bool:
    """Expire one pending proposal whose approval window has closed; False if it had not."""
    now = now or timezone.now()
    with transaction.atomic():
        return expire_if_due(locked(proposal_id), now)


def shift_expire_due(*, now: datetime | None = None) -> int:
    """The beat sweeper: expire every pending proposal past its window."""
    now = now or timezone.now()
    due = ShiftProposal.objects.filter(state=ShiftState.PENDING, expires_at__lte=now)
    return sum(shift_expire(proposal_id=pk, now=now) for pk in due.values_list("pk", flat=True))


def shift_resume_stuck(*, now: datetime | None = None) -> int:
    """The beat sweeper: re-enqueue approved/applying proposals whose task chain was lost
    (broker down at enqueue time, worker killed). Apply and poll are idempotent, so a
    duplicate is harmless; each of their runs bumps `updated_at`, so a live chain is not
    duplicated."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.OPSPORTAL_SHIFT_STUCK_SECONDS)
    count = 0
    # Staged shifts have their own beat tick (plan_tick_all).
    for pk, state in (
        ShiftProposal.objects.filter(
            state__in=(ShiftState.APPROVED, ShiftState.APPLYING), updated_at__lt=stale
        )
        .exclude(change=ChangeType.PLAN)
        .values_list("pk", "state")
    ):
        task = tasks.shift_apply if state == ShiftState.APPROVED else tasks.shift_poll
        with transaction.atomic():
            enqueue_on_commit(task, pk)
        count += 1
    return count
