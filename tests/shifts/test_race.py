"""Concurrency with real commits (one database connection per thread): approvals landing
at the same instant and an apply task delivered twice still make exactly one
UpdateEndpointWeightsAndCapacities call. Runs on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from core.errors import Conflict
from shifts import services, tasks
from shifts.models import ShiftApproval, ShiftState
from tests.shifts.helpers import reload, settle, update_calls

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each result or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _propose(live, people):
    return services.shift_propose(
        endpoint_id=live.pk, actor=people.operator, desired={"v0": 30, "v1": 70}, reason="race"
    )


def test_two_approvals_at_once_make_one_update(live, people, held_tasks):
    proposal = _propose(live, people)
    calls = update_calls()
    results = at_once(
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver),
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver2),
    )
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(conflicts) == 1, results  # the second found it already approved
    assert "is approved" in str(conflicts[0]) or "is applying" in str(conflicts[0])
    assert ShiftApproval.objects.filter(proposal=proposal).count() == 1
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
    assert update_calls() == calls + 1


def test_quorum_of_two_reached_by_simultaneous_approvals(live, people, held_tasks, settings):
    settings.OPSPORTAL_SHIFT_APPROVALS_REQUIRED = 2
    proposal = _propose(live, people)
    calls = update_calls()
    results = at_once(
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver),
        lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver2),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    # Each saw the other's approval under the row lock: quorum reached once, not zero times.
    assert ShiftApproval.objects.filter(proposal=proposal).count() == 2
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
    assert update_calls() == calls + 1
    transitions = [e.to_state for e in reload(proposal).events.all() if e.action == "approve"]
    assert transitions.count(ShiftState.APPROVED) == 1


def test_apply_task_delivered_twice_at_once_sends_one_update(live, people, held_tasks, monkeypatch):
    monkeypatch.setattr(tasks.shift_apply, "apply_async", lambda **kwargs: None)
    proposal = _propose(live, people)
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    assert reload(proposal).state == ShiftState.APPROVED
    calls = update_calls()
    results = at_once(
        lambda: tasks.shift_apply.apply(args=[proposal.pk], throw=True).get(),
        lambda: tasks.shift_apply.apply(args=[proposal.pk], throw=True).get(),
    )
    assert sorted(r.split(":")[0] for r in results) == ["nothing to do", "sent"], results
    assert update_calls() == calls + 1
    assert settle(held_tasks, proposal).state == ShiftState.APPLIED
