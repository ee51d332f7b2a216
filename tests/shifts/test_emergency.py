"""Emergency shifts: applied at once by an Admin (or an Operator when allowed), everyone
told, a red banner on every endpoint tab until another Approver acknowledges it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEntry
from core.errors import Invalid, Refused
from shifts import services
from shifts.models import ShiftProposal, ShiftState
from tests.shifts.helpers import console, reload, settle, update_calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def _form(**extra):
    return {"mode": "split", "share_0": "0", "share_1": "100", "reason": "v0 is 5xx-ing", **extra}


def test_admin_emergency_applies_at_once_and_bans_until_acknowledged(
    client, live, people, aws_sandbox, held_tasks, commit
):
    client.force_login(people.admin)
    calls = update_calls()
    response = commit(
        lambda: client.post(reverse("shifts:emergency", args=[live.pk]), _form(action="submit"))
    )
    assert response.status_code == 302
    shift = ShiftProposal.objects.get(endpoint=live)
    assert shift.kind == "emergency" and not shift.approvals.exists()
    assert settle(held_tasks, shift).state == ShiftState.APPLIED
    assert update_calls() == calls + 1
    weights = console(aws_sandbox.url).describe_endpoint(EndpointName=live.name)
    assert [v["CurrentWeight"] for v in weights["ProductionVariants"]] == [0.0, 100.0]
    # Everyone with a role heard about it.
    told = {address for m in mail.outbox if "emergency" in m.subject for address in m.to}
    assert told == {
        f"{p}@example.com" for p in ("viewer", "operator", "approver", "approver2", "admin")
    }
    assert AuditEntry.objects.get(action="shift.emergency").after["reason"] == "v0 is 5xx-ing"

    client.force_login(people.viewer)
    for url in (
        reverse("endpoints:detail", args=[live.pk]),
        reverse("monitoring:endpoint_metrics", args=[live.pk]),
        reverse("shifts:endpoint", args=[live.pk]),
    ):
        page = client.get(url).content.decode()
        assert 'data-testid="emergency-banner"' in page, url
        assert "v0 is 5xx-ing" in page

    client.force_login(people.admin)
    own = client.post(reverse("shifts:acknowledge", args=[shift.pk]))
    assert own.status_code == 403  # its author cannot sign it off
    client.force_login(people.approver)
    assert (
        client.post(reverse("shifts:acknowledge", args=[shift.pk]), {"comment": "seen"}).status_code
        == 302
    )
    assert reload(shift).acknowledged_by == people.approver
    page = client.get(reverse("endpoints:detail", args=[live.pk])).content.decode()
    assert 'data-testid="emergency-banner"' not in page


def test_operators_may_not_unless_the_setting_allows(client, endpoint, people, settings):
    client.force_login(people.operator)
    url = reverse("shifts:emergency", args=[endpoint.pk])
    assert client.get(url).status_code == 403
    with pytest.raises(Refused):
        services.shift_emergency(
            endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 0, "B": 1}, reason="x"
        )
    assert AuditEntry.objects.get(action="shift.emergency").outcome == "denied"
    settings.OPSPORTAL_OPERATOR_EMERGENCY = True
    assert client.get(url).status_code == 200
    shift = services.shift_emergency(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 0, "B": 1}, reason="x"
    )
    assert shift.state == ShiftState.APPROVED


def test_emergency_supersedes_a_pending_proposal_and_needs_a_reason(endpoint, people):
    pending = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="r"
    )
    with pytest.raises(Invalid, match="reason"):
        services.shift_emergency(
            endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 0, "B": 1}, reason=" "
        )
    assert reload(pending).state == ShiftState.PENDING
    shift = services.shift_emergency(
        endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 0, "B": 1}, reason="fire"
    )
    assert reload(pending).state == ShiftState.SUPERSEDED
    assert "emergency shift by admin" in reload(pending).events.last().comment
    assert shift.state == ShiftState.APPROVED
