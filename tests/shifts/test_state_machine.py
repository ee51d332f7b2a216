"""The proposal state machine: every allowed transition happens through its service with
one audit entry, and every forbidden one is refused without changing anything."""

from __future__ import annotations

from itertools import product

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from core.errors import Conflict, Refused
from shifts import services
from shifts.models import TRANSITIONS, ShiftApproval, ShiftProposal, ShiftState, can_transition
from tests.shifts.helpers import reload, update_calls

pytestmark = pytest.mark.django_db

S = ShiftState
ALLOWED = {
    (S.PENDING, S.APPROVED),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING, S.EXPIRED),
    (S.PENDING, S.SUPERSEDED),
    (S.APPROVED, S.APPLYING),
    (S.APPROVED, S.SUPERSEDED),
    (S.APPROVED, S.EXPIRED),
    (S.APPROVED, S.FAILED),
    (S.APPLYING, S.APPLIED),
    (S.APPLYING, S.FAILED),
}


@pytest.mark.parametrize(("source", "destination"), list(product(S, S)))
def test_transition_table(source, destination):
    assert can_transition(source, destination) == ((source, destination) in ALLOWED)


def test_terminal_states_lead_nowhere():
    assert {s for s, following in TRANSITIONS.items() if not following} == {
        S.APPLIED,
        S.REJECTED,
        S.CANCELLED,
        S.EXPIRED,
        S.SUPERSEDED,
        S.FAILED,
    }


def _propose(endpoint, people, **desired):
    return services.shift_propose(
        endpoint_id=endpoint.pk,
        actor=people.operator,
        desired=desired or {"A": 80, "B": 20},
        reason="canary looks good",
    )


def _in_state(endpoint, people, state) -> ShiftProposal:
    """A proposal put straight into `state` (the way the services would leave it)."""
    now = timezone.now()
    proposal = ShiftProposal.objects.create(
        endpoint=endpoint,
        proposer=people.operator,
        state=state,
        reason="set up",
        before_weights={"A": 50.0, "B": 50.0},
        desired_weights={"A": 80.0, "B": 20.0},
        created_at=now,
        expires_at=now + timezone.timedelta(hours=4),
        updated_at=now,
        approved_at=now if state != S.PENDING else None,
    )
    return proposal


def _audits() -> int:
    return AuditEntry.objects.filter(action__startswith="shift.").count()


def test_propose_starts_pending_with_one_audit_entry(endpoint, people):
    proposal = _propose(endpoint, people)
    assert proposal.state == S.PENDING
    assert proposal.before_weights == {"A": 50.0, "B": 50.0}
    assert proposal.desired_weights == {"A": 80.0, "B": 20.0}
    entry = AuditEntry.objects.get(action="shift.propose")
    assert entry.username == "operator" and entry.outcome == "ok"
    assert entry.before["weights"] == {"A": 50.0, "B": 50.0}
    assert entry.after["weights"] == {"A": 80.0, "B": 20.0}
    assert entry.after["reason"] == "canary looks good"


def test_pending_to_approved(endpoint, people):
    proposal = _propose(endpoint, people)
    before = _audits()
    services.shift_approve(proposal_id=proposal.pk, actor=people.approver, comment="ok")
    assert reload(proposal).state == S.APPROVED
    assert _audits() == before + 1
    entry = AuditEntry.objects.filter(action="shift.approve").get()
    assert (entry.before["state"], entry.after["state"]) == ("pending", "approved")
    assert entry.username == "approver" and entry.after["comment"] == "ok"


def test_apply_is_queued_only_when_the_approval_commits(
    endpoint, people, monkeypatch, django_capture_on_commit_callbacks
):
    from shifts import tasks

    queued = []
    monkeypatch.setattr(
        tasks.shift_apply, "apply_async", lambda **k: queued.append(list(k["args"]))
    )
    proposal = _propose(endpoint, people)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    assert queued == []  # nothing runs before the commit
    for callback in callbacks:
        callback()
    assert [proposal.pk] in queued


def test_pending_to_rejected_needs_a_comment(endpoint, people):
    proposal = _propose(endpoint, people)
    with pytest.raises(Exception, match="comment"):
        services.shift_reject(proposal_id=proposal.pk, actor=people.approver, comment="  ")
    assert reload(proposal).state == S.PENDING
    before = _audits()
    services.shift_reject(proposal_id=proposal.pk, actor=people.approver, comment="not tonight")
    assert reload(proposal).state == S.REJECTED
    assert _audits() == before + 1
    assert reload(proposal).events.last().comment == "not tonight"


def test_pending_to_cancelled_by_the_proposer_only(endpoint, people):
    proposal = _propose(endpoint, people)
    with pytest.raises(Refused):
        services.shift_cancel(proposal_id=proposal.pk, actor=people.approver)
    assert reload(proposal).state == S.PENDING
    services.shift_cancel(proposal_id=proposal.pk, actor=people.operator)
    assert reload(proposal).state == S.CANCELLED
    assert reload(proposal).finished_at is not None


def test_pending_to_superseded_when_the_live_weights_moved(endpoint, people):
    proposal = _propose(endpoint, people)
    endpoint.variants.filter(name="A").update(current_weight=70.0, desired_weight=70.0)
    result = services.shift_approve(proposal_id=proposal.pk, actor=people.approver)
    assert result.state == S.SUPERSEDED
    assert not ShiftApproval.objects.filter(proposal=proposal).exists()
    entry = AuditEntry.objects.get(action="shift.supersede")
    assert entry.after["live_weights"] == {"A": 70.0, "B": 50.0}


def test_pending_to_superseded_by_an_edit(endpoint, people):
    old = _propose(endpoint, people)
    new = services.shift_revise(
        proposal_id=old.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="smaller"
    )
    assert reload(old).state == S.SUPERSEDED
    assert new.state == S.PENDING and new.replaces_id == old.pk
    assert new.desired_weights == {"A": 60.0, "B": 40.0}


def test_approvals_do_not_survive_an_edit(endpoint, people, settings):
    settings.OPSPORTAL_SHIFT_APPROVALS_REQUIRED = 2
    old = _propose(endpoint, people)
    services.shift_approve(proposal_id=old.pk, actor=people.approver)
    new = services.shift_revise(
        proposal_id=old.pk, actor=people.operator, desired={"A": 90, "B": 10}, reason="bigger"
    )
    services.shift_approve(proposal_id=new.pk, actor=people.approver2)
    assert reload(new).state == S.PENDING  # one fresh approval of two; the old one is void


NOT_PENDING = [s for s in S if s != S.PENDING]


@pytest.mark.parametrize("state", NOT_PENDING)
@pytest.mark.parametrize("action", ["approve", "reject", "cancel", "edit"])
def test_decisions_on_anything_but_pending_are_refused(endpoint, people, state, action):
    proposal = _in_state(endpoint, people, state)
    before = _audits()
    call = {
        "approve": lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver),
        "reject": lambda: services.shift_reject(
            proposal_id=proposal.pk, actor=people.approver, comment="no"
        ),
        "cancel": lambda: services.shift_cancel(proposal_id=proposal.pk, actor=people.operator),
        "edit": lambda: services.shift_revise(
            proposal_id=proposal.pk, actor=people.operator, desired={"A": 1, "B": 2}, reason="x"
        ),
    }[action]
    with pytest.raises(Conflict):
        call()
    assert reload(proposal).state == state
    assert _audits() == before


@pytest.mark.parametrize("state", [s for s in S if s != S.APPROVED])
def test_apply_does_nothing_unless_approved(endpoint, people, state):
    proposal = _in_state(endpoint, people, state)
    calls = update_calls()
    assert services.shift_apply(proposal_id=proposal.pk).startswith("nothing to do")
    assert reload(proposal).state == state
    assert update_calls() == calls


@pytest.mark.parametrize("state", [s for s in S if s != S.APPLYING])
def test_poll_does_nothing_unless_applying(endpoint, people, state):
    proposal = _in_state(endpoint, people, state)
    assert services.shift_poll(proposal_id=proposal.pk).startswith("nothing to do")
    assert reload(proposal).state == state


def test_one_open_proposal_per_endpoint(endpoint, people):
    _propose(endpoint, people)
    with pytest.raises(Exception, match="already pending"):
        _propose(endpoint, people, A=10, B=90)
    assert ShiftProposal.objects.count() == 1


@pytest.mark.parametrize("status", ["Updating", "Failed", "Creating"])
def test_only_in_service_endpoints_take_proposals(endpoint, people, status):
    endpoint.status = status
    endpoint.save()
    with pytest.raises(Exception, match="InService"):
        _propose(endpoint, people)
    assert not ShiftProposal.objects.exists()


def test_a_viewer_cannot_propose_and_is_audited(endpoint, people):
    with pytest.raises(Refused):
        services.shift_propose(
            endpoint_id=endpoint.pk, actor=people.viewer, desired={"A": 1, "B": 0}, reason="x"
        )
    assert not ShiftProposal.objects.exists()
    assert AuditEntry.objects.get(action="shift.propose").outcome == "denied"
