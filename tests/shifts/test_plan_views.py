"""The staged-shift pages: the propose form (from scratch and from a template), the plan's
live panel and its controls, as Viewers, Operators and Approvers see them; and whatever a
plan spec holds, the service answers Invalid or records a plan, never anything else."""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import Invalid
from shifts import services
from shifts.models import ChangeType, PlanTemplate, ShiftProposal
from tests.shifts.helpers import make_endpoint

pytestmark = pytest.mark.django_db

FORM = {
    "candidate": "B",
    "baseline": "A",
    "shares": "5, 25!, 100",
    "bake_minutes": "10",
    "error_margin_points": "1",
    "latency_p99_ratio": "1.5",
    "latency_p50_ratio": "",
    "min_invocations": "100",
    "max_extensions": "2",
    "on_failure": "rollback",
    "reason": "B won the A/B test",
    "action": "propose",
}


def test_an_operator_proposes_a_plan_from_the_form(client, people, endpoint):
    client.force_login(people.operator)
    page = client.get(reverse("shifts:plan_propose", args=[endpoint.pk]))
    assert page.status_code == 200 and "Staged traffic shift" in page.content.decode()
    response = client.post(reverse("shifts:plan_propose", args=[endpoint.pk]), FORM)
    assert response.status_code == 302
    proposal = ShiftProposal.objects.get(endpoint=endpoint)
    assert proposal.change == ChangeType.PLAN and proposal.state == "pending"
    assert [s["candidate_percent"] for s in proposal.spec["steps"]] == [5, 25, 100]
    assert [s["manual"] for s in proposal.spec["steps"]] == [False, True, False]
    assert proposal.spec["gates"]["latency_p50_ratio"] is None
    assert proposal.desired_weights == {"A": 0.0, "B": 100.0}
    detail = client.get(response["Location"]).content.decode()
    assert 'data-testid="plan-panel"' in detail and "Waiting" not in detail
    assert "B 5 % → 25 % (manual) → 100 %" in detail
    assert "5XX rate at most 1 point above A&#x27;s (95 % confidence)" in detail


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"shares": "50, 25, 100"}, "must be above the step before"),
        ({"shares": "5, 50"}, "last step must give the candidate 100 %"),
        ({"shares": "five"}, "is not a share in percent"),
        ({"baseline": "B"}, "two different variants"),
        ({"bake_minutes": "0"}, "greater than or equal to 1"),
        ({"reason": ""}, "required"),
    ],
)
def test_a_bad_plan_is_refused_with_a_message_and_nothing_saved(
    client, people, endpoint, change, message
):
    client.force_login(people.operator)
    response = client.post(reverse("shifts:plan_propose", args=[endpoint.pk]), FORM | change)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ShiftProposal.objects.exists()


def test_viewers_cannot_open_the_form_and_nobody_posts_a_control_by_get(client, people, endpoint):
    client.force_login(people.viewer)
    assert client.get(reverse("shifts:plan_propose", args=[endpoint.pk])).status_code == 403
    client.force_login(people.operator)
    client.post(reverse("shifts:plan_propose", args=[endpoint.pk]), FORM)
    proposal = ShiftProposal.objects.get(endpoint=endpoint)
    url = reverse("shifts:plan_control", args=[proposal.pk, "abort"])
    assert client.get(url).status_code == 405
    client.force_login(people.viewer)
    assert client.post(url, {"comment": "x"}).status_code == 403
    bad = reverse("shifts:plan_control", args=[proposal.pk, "explode"])
    client.force_login(people.operator)
    assert client.post(bad).status_code == 404


def test_a_template_saved_on_the_form_fills_the_next_one(client, people, endpoint):
    client.force_login(people.operator)
    saved = client.post(
        reverse("shifts:plan_propose", args=[endpoint.pk]),
        FORM
        | {
            "action": "save_template",
            "name": "careful canary",
            "scope": "global",
            "shares": "1, 10, 50!, 100",
            "reason": "",
        },
    )
    assert saved.status_code == 302
    template = PlanTemplate.objects.get(name="careful canary")
    assert template.endpoint is None and "candidate" not in template.spec
    page = client.get(
        reverse("shifts:plan_propose", args=[endpoint.pk]) + f"?template={template.pk}"
    ).content.decode()
    assert 'value="1, 10, 50!, 100"' in page
    assert not ShiftProposal.objects.exists()


def test_a_template_for_one_endpoint_is_offered_only_on_its_form(client, people, endpoint):
    other = make_endpoint("search")
    client.force_login(people.operator)
    saved = client.post(
        reverse("shifts:plan_propose", args=[endpoint.pk]),
        FORM
        | {
            "action": "save_template",
            "name": "checkout canary",
            "scope": "endpoint",
            "shares": "2, 20, 100",
            "reason": "",
        },
    )
    assert saved.status_code == 302
    template = PlanTemplate.objects.get(name="checkout canary")
    assert template.endpoint == endpoint
    own = reverse("shifts:plan_propose", args=[endpoint.pk])
    chooser = client.get(own).content.decode().split('data-testid="template-chooser"')[1]
    assert f'<option value="{template.pk}">checkout canary</option>' in chooser
    filled = client.get(own + f"?template={template.pk}").content.decode()
    assert 'value="2, 20, 100"' in filled
    elsewhere = reverse("shifts:plan_propose", args=[other.pk])
    assert "checkout canary" not in client.get(elsewhere).content.decode()
    # Asked for by id on another endpoint's form, it fills nothing in.
    page = client.get(elsewhere + f"?template={template.pk}").content.decode()
    assert "2, 20, 100" not in page and "checkout canary" not in page


def test_the_live_panel_shows_the_plan_to_viewers(client, people, endpoint):
    client.force_login(people.operator)
    client.post(reverse("shifts:plan_propose", args=[endpoint.pk]), FORM)
    proposal = ShiftProposal.objects.get(endpoint=endpoint)
    client.force_login(people.viewer)
    panel = client.get(reverse("shifts:plan_panel", args=[proposal.pk]))
    assert panel.status_code == 200
    body = panel.content.decode()
    assert 'data-testid="plan-steps"' in body and "plan-controls" not in body
    other = ShiftProposal.objects.create(
        endpoint=endpoint,
        proposer=people.operator,
        reason="x",
        before_weights={},
        desired_weights={},
        created_at=proposal.created_at,
        expires_at=proposal.expires_at,
        updated_at=proposal.updated_at,
        state="cancelled",
    )
    assert client.get(reverse("shifts:plan_panel", args=[other.pk])).status_code == 404


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=20), inner, max_size=4)
    ),
    max_leaves=12,
)
STEP = st.fixed_dictionaries(
    {"candidate_percent": JSON, "bake_seconds": JSON}, optional={"manual": JSON}
)
SPECS = st.fixed_dictionaries(
    {},
    optional={
        "candidate": st.one_of(st.sampled_from(["A", "B", "C"]), JSON),
        "baseline": st.one_of(st.sampled_from(["A", "B"]), JSON),
        "steps": st.one_of(st.lists(STEP, max_size=4), JSON),
        "gates": st.one_of(
            st.dictionaries(
                st.sampled_from(
                    ["error_rate_margin", "confidence", "latency_p99_ratio", "min_invocations", "x"]
                ),
                JSON,
                max_size=3,
            ),
            JSON,
        ),
        "on_failure": st.one_of(st.sampled_from(["rollback", "pause"]), JSON),
        "alarms": JSON,
        "max_extensions": JSON,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=SPECS)
def test_any_plan_spec_is_recorded_or_refused_with_a_message(people, endpoint, spec):
    before = ShiftProposal.objects.count()
    try:
        proposal = services.plan_propose(
            endpoint_id=endpoint.pk, actor=people.operator, spec=spec, reason="fuzz"
        )
    except Invalid as exc:
        assert str(exc)
        assert ShiftProposal.objects.count() == before
    else:
        assert proposal.spec["steps"][-1]["candidate_percent"] == 100
        proposal.delete()
