"""What a person should learn before acting, not after: that the weights moved under a
pending proposal (before Approve), that a proposal is already open (before typing a new
one), and what "move X % from A to B" does (before typing the reason)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from endpoints.models import Variant
from shifts import services

pytestmark = pytest.mark.django_db


def test_a_pending_proposal_whose_weights_moved_says_so_and_offers_no_approve(
    client, people, endpoint
):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 30, "B": 70}, reason="x"
    )
    client.force_login(people.approver)
    page = client.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert 'data-testid="approve"' in page and "moved-banner" not in page
    Variant.objects.filter(endpoint=endpoint, name="A").update(current_weight=80.0)
    page = client.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert 'data-testid="moved-banner"' in page and 'data-testid="approve"' not in page


def test_the_propose_form_says_first_that_a_proposal_is_already_open(client, people, endpoint):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 30, "B": 70}, reason="x"
    )
    client.force_login(people.admin)
    page = client.get(reverse("shifts:propose", args=[endpoint.pk])).content.decode()
    assert 'data-testid="already-open"' in page and f"Shift #{proposal.pk}" in page
    assert 'data-testid="shift-form"' not in page


def test_a_move_previews_before_the_reason_is_typed(client, people, endpoint):
    client.force_login(people.operator)
    preview = client.post(
        reverse("shifts:propose", args=[endpoint.pk]),
        {"mode": "move", "move_percent": "20", "move_from": "A", "move_to": "B", "reason": ""},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "70" in preview and "+20" in preview and "+0.00" not in preview
