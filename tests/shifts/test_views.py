"""The shift pages as people use them: the propose form (errors inline, nothing saved),
the preview, the proposals list with its filters, the detail page, the endpoint pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from shifts import services
from shifts.models import ShiftProposal, ShiftState
from tests.shifts.helpers import make_endpoint

pytestmark = pytest.mark.django_db


def _form(**overrides):
    data = {"mode": "split", "share_0": "80", "share_1": "20", "reason": "B regresses p99"}
    data.update(overrides)
    return data


@pytest.fixture
def operator_client(client, people):
    client.force_login(people.operator)
    return client


def test_form_starts_from_the_live_split(operator_client, endpoint):
    page = operator_client.get(reverse("shifts:propose", args=[endpoint.pk])).content.decode()
    assert 'name="share_0"' in page and 'value="50.0"' in page
    assert "Preview" in page and 'data-testid="split-chart"' in page


def test_valid_proposal_is_saved_and_shown(operator_client, endpoint):
    response = operator_client.post(reverse("shifts:propose", args=[endpoint.pk]), _form())
    assert response.status_code == 302
    proposal = ShiftProposal.objects.get()
    assert proposal.desired_weights == {"A": 80.0, "B": 20.0}
    page = operator_client.get(response["Location"]).content.decode()
    assert "80.00 %" in page and "20.00 %" in page and "B regresses p99" in page
    assert "proposed" in page and 'data-testid="timeline"' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_form(share_1="10"), "add up to 90 %, not 100 %"),
        (_form(share_0="50", share_1="50"), "Nothing would change"),
        (_form(share_0="-5", share_1="105"), "greater than or equal to 0"),
        (_form(share_0="0", share_1="0"), "not 100"),
        (_form(share_1=""), "Give B a share"),
        (_form(share_0="nan"), "Enter a number"),
        (_form(reason="  "), "This field is required"),
        (_form(mode="move", move_percent="60", move_from="B", move_to="A"), "only receives"),
        (_form(mode="move", move_percent="", move_from="B", move_to="A"), "How many percent"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_saved(
    operator_client, endpoint, data, message
):
    response = operator_client.post(reverse("shifts:propose", args=[endpoint.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ShiftProposal.objects.exists()


def test_move_x_percent_from_one_variant_to_another(operator_client, endpoint):
    data = _form(mode="move", move_percent="30", move_from="B", move_to="A")
    response = operator_client.post(reverse("shifts:propose", args=[endpoint.pk]), data)
    assert response.status_code == 302
    assert ShiftProposal.objects.get().desired_weights == {"A": 80.0, "B": 20.0}


def test_preview_changes_nothing(operator_client, endpoint):
    url = reverse("shifts:propose", args=[endpoint.pk])
    plain = operator_client.post(url, {**_form(share_0="70", share_1="30"), "action": "preview"})
    assert plain.status_code == 200 and "70.00 %" in plain.content.decode()
    fragment = operator_client.post(url, _form(share_0="65", share_1="35"), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert 'data-share="65.0000"' in body and "+15.00" in body
    assert not ShiftProposal.objects.exists()


def test_second_open_proposal_is_refused_on_the_form(operator_client, endpoint, people):
    services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 1, "B": 3}, reason="x"
    )
    response = operator_client.post(reverse("shifts:propose", args=[endpoint.pk]), _form())
    assert response.status_code == 400
    assert "already pending" in response.content.decode()
    assert ShiftProposal.objects.count() == 1


def test_proposals_page_lists_pending_with_age_and_who_must_act(client, people, endpoint):
    other = make_endpoint("search")
    mine = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="r1"
    )
    done = services.shift_propose(
        endpoint_id=other.pk, actor=people.admin, desired={"A": 10, "B": 90}, reason="r2"
    )
    services.shift_reject(proposal_id=done.pk, actor=people.approver, comment="no")
    ShiftProposal.objects.filter(pk=mine.pk).update(
        created_at=timezone.now() - timedelta(minutes=7)
    )
    client.force_login(people.viewer)
    page = client.get(reverse("shifts:list")).content.decode()
    pending = page.split('data-testid="pending-table"')[1].split("</table>")[0]
    assert "checkout" in pending and "7 min ago" in pending
    assert "Approver other than operator" in pending and "0 / 1" in pending
    history = page.split('data-testid="history-table"')[1]
    assert "search" in history and "rejected" in history

    def shown(**params):
        body = client.get(reverse("shifts:list"), params).content.decode()
        return {p.pk for p in ShiftProposal.objects.all() if f'data-shift="{p.pk}"' in body}

    assert shown(endpoint="sear") == {done.pk}
    assert shown(state="rejected") == {done.pk}
    assert shown(state="pending") == {mine.pk}
    assert shown(person="approver") == {done.pk}  # people who acted count, not only proposers
    assert shown(person="operator") == {mine.pk}
    assert client.get(reverse("shifts:list"), {"state": "bogus"}).status_code == 400


def test_endpoint_pages_show_open_and_last_applied_shifts(client, people, endpoint):
    applied = ShiftProposal.objects.create(
        endpoint=endpoint,
        proposer=people.admin,
        state=ShiftState.APPLIED,
        reason="earlier",
        before_weights={"A": 1.0, "B": 1.0},
        desired_weights={"A": 50.0, "B": 50.0},
        created_at=timezone.now(),
        expires_at=timezone.now(),
        updated_at=timezone.now(),
        finished_at=timezone.now(),
    )
    open_one = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="now"
    )
    client.force_login(people.viewer)
    detail = client.get(reverse("endpoints:detail", args=[endpoint.pk])).content.decode()
    assert f"Shift #{open_one.pk}" in detail.split('data-testid="open-shift"')[1]
    assert f"shift #{applied.pk}" in detail.split('data-testid="last-applied"')[1]
    traffic = client.get(reverse("shifts:endpoint", args=[endpoint.pk])).content.decode()
    assert 'aria-current="page">Traffic' in traffic
    assert f"#{applied.pk}" in traffic and f"#{open_one.pk}" in traffic
    assert "Propose a shift" not in traffic  # a Viewer, and one is already open
    overview = client.get(reverse("overview")).content.decode()
    assert '<p class="stat" data-testid="pending-shifts">1</p>' in overview


def test_edit_replaces_the_proposal(operator_client, endpoint, people):
    old = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="v1"
    )
    form = operator_client.get(reverse("shifts:edit", args=[old.pk])).content.decode()
    assert 'value="60.0"' in form and "v1" in form
    response = operator_client.post(
        reverse("shifts:edit", args=[old.pk]), _form(share_0="70", share_1="30", reason="v2")
    )
    assert response.status_code == 302
    new = ShiftProposal.objects.get(state=ShiftState.PENDING)
    assert new.replaces_id == old.pk and new.reason == "v2"
    assert ShiftProposal.objects.get(pk=old.pk).state == ShiftState.SUPERSEDED


def test_only_the_proposer_may_edit(client, endpoint, people):
    old = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="v1"
    )
    client.force_login(people.admin)
    assert client.get(reverse("shifts:edit", args=[old.pk])).status_code == 403


def test_state_fragment_polls_only_while_open(client, people, endpoint):
    proposal = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 60, "B": 40}, reason="x"
    )
    client.force_login(people.viewer)
    url = reverse("shifts:status", args=[proposal.pk])
    assert 'hx-trigger="every 2s"' in client.get(url).content.decode()
    services.shift_cancel(proposal_id=proposal.pk, actor=people.operator)
    body = client.get(url).content.decode()
    assert "hx-trigger" not in body and ">cancelled<" in body
