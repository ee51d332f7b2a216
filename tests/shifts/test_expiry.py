"""Time: approvals count for OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS, proposals without quorum by
then expire, and work whose task was lost is picked up again by the sweeper (frozen clock)."""

from __future__ import annotations

import functools

import pytest
from celery import Task
from django.conf import settings as django_settings

from audit.models import AuditEntry
from shifts import services, tasks
from shifts.models import ShiftApproval, ShiftState
from shifts.services import ShiftConflict
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
    with pytest.raises(ShiftConflict, match="expired"):
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
    with pytest.raises(ShiftConflict):
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
    assert "could not queue shift_apply" in caplog.text
    queued = []
    monkeypatch.setattr(tasks.shift_apply, "apply_async", lambda **k: queued.append(k["args"]))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.shift_resume_stuck() == 0  # not stuck yet
        clock.advance(seconds=django_settings.OPSPORTAL_SHIFT_STUCK_SECONDS + 1)
        assert services.shift_resume_stuck() == 1
    assert queued == [[proposal.pk]]


@pytest.mark.django_db(transaction=True)
def test_unreachable_aws_retries_without_a_sleeping_or_runaway_worker_then_fails(
    proposal, people, clock, monkeypatch, aws_unreachable
):
    # Celery's own eager apply_async, countdown ignored: the worst case for a retry chain.
    for task in (tasks.shift_apply, tasks.shift_poll):
        real = task._get_current_object()
        monkeypatch.setattr(task, "apply_async", functools.partial(Task.apply_async, real))
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    waiting = reload(proposal)
    assert waiting.state == ShiftState.APPROVED  # AWS (a closed port) never answered
    assert waiting.apply_attempts == services.MAX_EAGER_HOPS  # the chain was cut, not recursed
    clock.advance(seconds=django_settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS + 1)
    assert tasks.shift_resume_sweep.apply().get() == 1
    failed = reload(proposal)
    assert failed.state == ShiftState.FAILED
    assert failed.error.startswith("Could not read the endpoint: ")


def test_a_retry_chain_ends_even_when_the_clock_stands_still(
    proposal,
    people,
    clock,
    monkeypatch,
    django_capture_on_commit_callbacks,
    settings,
    aws_unreachable,
):
    settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS = 100  # 10 polls of 10 s
    for task in (tasks.shift_apply, tasks.shift_poll):
        real = task._get_current_object()
        monkeypatch.setattr(task, "apply_async", functools.partial(Task.apply_async, real))
    # Callbacks captured here run one after another, not nested: no hop limit applies, and
    # the frozen clock never reaches the deadline. The attempt cap ends it.
    with django_capture_on_commit_callbacks(execute=True):
        services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    failed = reload(proposal)
    assert failed.state == ShiftState.FAILED
    assert failed.apply_attempts == 12
