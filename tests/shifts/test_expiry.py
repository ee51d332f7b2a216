"""Time: approvals count for OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS, proposals without quorum by
then expire, and work whose task was lost is picked up again by the sweeper (frozen clock)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from audit.models import AuditEntry
from core.errors import Conflict
from shifts import services, tasks
from shifts.models import ShiftApproval, ShiftState
from tests.shifts.helpers import reload

pytestmark = pytest.mark.django_db

TTL = django_settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS


@pytest.fixture
def proposal(endpoint, people, clock):
    return services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 70, "B": 30}, reason="x"
    )


def test_approval_just_inside_the_window_counts(proposal, people, clock):
    clock.advance(hours=TTL, seconds=-1)
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    assert reload(proposal).state == ShiftState.APPROVED


def test_approval_after_the_window_is_refused_and_the_proposal_expires(proposal, people, clock):
    clock.advance(hours=TTL, seconds=1)
    with pytest.raises(Conflict, match="expired"):
        services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    expired = reload(proposal)
    assert expired.state == ShiftState.EXPIRED and expired.finished_at == clock.now
    assert not ShiftApproval.objects.exists()
    entry = AuditEntry.objects.get(action="shift.expire")
    assert entry.username == "system" and entry.after["state"] == "expired"


def test_sweeper_expires_only_proposals_past_their_window(proposal, endpoint, people, clock):
    from tests.shifts.helpers import make_endpoint

    clock.advance(hours=TTL - 1)
    younger = services.shift_propose(
        endpoint_id=make_endpoint("other").pk,
        actor=people.operator,
        desired={"A": 10, "B": 90},
        reason="y",
    )
    clock.advance(hours=1, seconds=1)
    assert tasks.shift_expire_sweep.apply().get() == 1
    assert reload(proposal).state == ShiftState.EXPIRED
    assert reload(younger).state == ShiftState.PENDING


def test_partial_quorum_expires_with_the_proposal(proposal, people, clock, settings):
    settings.OPSPORTAL_SHIFT_APPROVALS_REQUIRED = 2
    clock.advance(hours=1)
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    clock.advance(hours=TTL)
    with pytest.raises(Conflict):
        services.shift_approve(proposal_id=proposal.pk, actor=people.approver2)
    assert reload(proposal).state == ShiftState.EXPIRED


def test_broker_down_at_approval_loses_nothing(
    proposal,
    people,
    clock,
    broker_down,
    django_capture_on_commit_callbacks,
    monkeypatch,
    caplog,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    assert reload(proposal).state == ShiftState.APPROVED  # committed despite the broker
    assert "could not queue shifts.tasks.shift_apply" in caplog.text
    queued = []
    monkeypatch.setattr(
        tasks.shift_apply, "apply_async", lambda **k: queued.append(list(k["args"]))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.shift_resume_stuck() == 0  # not stuck yet
        clock.advance(seconds=django_settings.OPSPORTAL_SHIFT_STUCK_SECONDS + 1)
        assert services.shift_resume_stuck() == 1
    assert queued == [[proposal.pk]]


@pytest.mark.django_db(transaction=True)
def test_unreachable_aws_retries_without_a_sleeping_or_runaway_worker_then_fails(
    proposal, people, clock, held_tasks, aws_unreachable
):
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    waiting = reload(proposal)
    assert waiting.state == ShiftState.APPROVED  # AWS (a closed port) never answered
    # No worker waits: each attempt hands the next one to the broker with a countdown.
    assert waiting.apply_attempts == 1
    assert held_tasks.names() == [tasks.shift_apply.name]
    assert held_tasks.countdowns() == [django_settings.OPSPORTAL_SHIFT_POLL_SECONDS]
    for attempt in (2, 3):
        clock.advance(seconds=django_settings.OPSPORTAL_SHIFT_POLL_SECONDS)
        held_tasks.run_next(wait=0)
        assert reload(proposal).apply_attempts == attempt and len(held_tasks) == 1
    clock.advance(seconds=django_settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS + 1)
    held_tasks.run_next(wait=0)
    failed = reload(proposal)
    assert failed.state == ShiftState.FAILED and not held_tasks.names()
    assert failed.error.startswith("Could not read the endpoint: ")


def test_a_retry_chain_ends_even_when_the_clock_stands_still(
    proposal,
    people,
    clock,
    settings,
    held_tasks,
    aws_unreachable,
    django_capture_on_commit_callbacks,
):
    settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS = 100  # 10 polls of 10 s
    with django_capture_on_commit_callbacks(execute=True):
        services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    # The frozen clock never reaches the deadline: the attempt cap ends the chain.
    assert held_tasks.run(wait=0) == 11
    failed = reload(proposal)
    assert failed.state == ShiftState.FAILED
    assert failed.apply_attempts == 12
