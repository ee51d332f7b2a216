"""Celery tasks for traffic shifts: load by id, call one service, nothing else.

Apply and poll are idempotent (the services check the state under a row lock), so
acks_late redelivery and the sweeper's re-enqueueing are safe. Polls are chained with
`apply_async(countdown=...)` by the services; no task ever sleeps.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from shifts import notifications, services


@shared_task(name="shifts.tasks.shift_apply")
def shift_apply(proposal_id: int) -> str:
    return services.shift_apply(proposal_id=proposal_id)


@shared_task(name="shifts.tasks.shift_poll")
def shift_poll(proposal_id: int) -> str:
    return services.shift_poll(proposal_id=proposal_id)


@shared_task(name="shifts.tasks.shift_notify", expires=3600)
def shift_notify(proposal_id: int, event: str) -> dict[str, Any]:
    return notifications.shift_notify(proposal_id=proposal_id, event=event)


@shared_task(name="shifts.tasks.shift_expire_sweep", expires=300)
def shift_expire_sweep() -> int:
    return services.shift_expire_due()


@shared_task(name="shifts.tasks.shift_resume_sweep", expires=300)
def shift_resume_sweep() -> int:
    return services.shift_resume_stuck()


@shared_task(name="shifts.tasks.plan_tick")
def plan_tick(proposal_id: int) -> str:
    return services.plan_tick(proposal_id=proposal_id)


@shared_task(name="shifts.tasks.plan_tick_all", expires=60)
def plan_tick_all() -> int:
    return services.plan_tick_all()
