"""The two-person rule: nobody approves their own proposal by any route, nobody approves
twice, only Approvers approve, and every refused attempt is in the audit log."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from core.errors import Refused
from shifts import services
from shifts.models import ShiftApproval, ShiftState
from tests.shifts.helpers import reload

pytestmark = pytest.mark.django_db


@pytest.fixture
def approver_proposal(endpoint, people):
    """Proposed by an Approver, who could approve anybody else's."""
    return services.shift_propose(
        endpoint_id=endpoint.pk,
        actor=people.approver,
        desired={"A": 90, "B": 10},
        reason="B is slow",
    )


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _denials(action: str = "shift.approve") -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, outcome="denied"))


def test_self_approval_through_the_page_is_refused_and_audited(approver_proposal, people):
    client = _client_for(people.approver)
    detail = client.get(reverse("shifts:detail", args=[approver_proposal.pk]))
    assert b'data-testid="approve"' not in detail.content  # no button for your own
    response = client.post(
        reverse("shifts:approve", args=[approver_proposal.pk]), {"comment": "lgtm"}
    )
    assert response.status_code == 403
    assert b"cannot approve your own proposal" in response.content
    assert reload(approver_proposal).state == ShiftState.PENDING
    assert not ShiftApproval.objects.exists()
    [entry] = _denials()
    assert entry.username == "approver" and "own proposal" in entry.error
    assert entry.source_ip == "127.0.0.1"


def test_self_approval_from_a_second_session_is_refused(approver_proposal, people):
    first, second = _client_for(people.approver), _client_for(people.approver)
    assert first.session.session_key != second.session.session_key
    response = second.post(reverse("shifts:approve", args=[approver_proposal.pk]))
    assert response.status_code == 403
    assert reload(approver_proposal).state == ShiftState.PENDING
    assert len(_denials()) == 1


def test_self_approval_by_calling_the_service_is_refused(approver_proposal, people):
    with pytest.raises(Refused, match="own proposal"):
        services.shift_approve(proposal_id=approver_proposal.pk, actor=people.approver)
    assert reload(approver_proposal).state == ShiftState.PENDING
    assert len(_denials()) == 1


def test_an_admin_cannot_approve_their_own_either(endpoint, people):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 0, "B": 100}, reason="drain A"
    )
    with pytest.raises(Refused):
        services.shift_approve(proposal_id=proposal.pk, actor=people.admin)
    assert reload(proposal).state == ShiftState.PENDING


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_viewers_and_operators_cannot_approve(endpoint, people, who):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 70, "B": 30}, reason="x"
    )
    user = getattr(people, who)
    response = _client_for(user).post(reverse("shifts:approve", args=[proposal.pk]))
    assert response.status_code == 403
    assert reload(proposal).state == ShiftState.PENDING
    # The role check refuses before the service runs; the 403 handler audits the attempt.
    assert AuditEntry.objects.filter(
        action="access.denied", username=who, outcome="denied"
    ).exists()
    with pytest.raises(Refused, match="Approver role"):
        services.shift_approve(proposal_id=proposal.pk, actor=user)
    assert _denials()[-1].username == who


def test_an_approver_cannot_approve_twice(endpoint, people, settings):
    settings.OPSPORTAL_SHIFT_APPROVALS_REQUIRED = 2
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 70, "B": 30}, reason="x"
    )
    client = _client_for(people.approver)
    assert client.post(reverse("shifts:approve", args=[proposal.pk])).status_code == 302
    again = client.post(reverse("shifts:approve", args=[proposal.pk]))
    assert again.status_code == 403
    assert b"already approved" in again.content
    assert reload(proposal).state == ShiftState.PENDING
    assert ShiftApproval.objects.filter(proposal=proposal).count() == 1
    page = client.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert "1 of 2" in page and 'data-testid="approve"' not in page
    # A second, different Approver completes the quorum.
    _client_for(people.approver2).post(reverse("shifts:approve", args=[proposal.pk]))
    assert reload(proposal).state == ShiftState.APPROVED


def test_rejection_by_another_approver_with_comment(endpoint, people):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 70, "B": 30}, reason="x"
    )
    client = _client_for(people.approver)
    missing = client.post(reverse("shifts:reject", args=[proposal.pk]), {"comment": ""})
    assert missing.status_code == 400 and b"comment saying why is required" in missing.content
    response = client.post(
        reverse("shifts:reject", args=[proposal.pk]), {"comment": "traffic peak now"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "rejected" in page and "traffic peak now" in page


def test_proposer_cannot_reject_their_own(approver_proposal, people):
    response = _client_for(people.approver).post(
        reverse("shifts:reject", args=[approver_proposal.pk]), {"comment": "meh"}
    )
    assert response.status_code == 403
    assert reload(approver_proposal).state == ShiftState.PENDING


def test_approving_a_decided_proposal_is_a_conflict_shown_on_the_page(endpoint, people):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 70, "B": 30}, reason="x"
    )
    services.shift_cancel(proposal_id=proposal.pk, actor=people.operator)
    response = _client_for(people.approver).post(reverse("shifts:approve", args=[proposal.pk]))
    assert response.status_code == 409
    assert b"is cancelled" in response.content


def test_cancel_by_someone_else_is_refused(endpoint, people):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 70, "B": 30}, reason="x"
    )
    response = _client_for(people.admin).post(reverse("shifts:cancel", args=[proposal.pk]))
    assert response.status_code == 403
    assert reload(proposal).state == ShiftState.PENDING
    assert _denials("shift.cancel")[0].username == "admin"
