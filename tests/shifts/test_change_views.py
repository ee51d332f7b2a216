"""The change-request pages beyond traffic: the endpoint's Change requests tab, the capacity,
auto scaling, deploy and rollback forms (GET, Preview, propose, emergency) and the live
deployment panel. Who may open what; that each form records the change its checks accept
and shows their refusals (400, nothing saved); that no input makes one fail; and that the
pages read AWS within the page budget and say so when they cannot."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.targets import target_by_name
from endpoints.models import Endpoint, EndpointSnapshot
from monitoring.services.alarms import alarm_sync
from sandbox.testing import put_endpoint_alarms
from shifts import services
from shifts.models import ChangeType, ShiftKind, ShiftProposal, ShiftState
from tests.aws_actor import wait_for_status
from tests.shifts.helpers import autoscaling, console, make_endpoint, refreshed, reload, settle
from tests.shifts.test_deployments import cloudwatch, drive, model_version

pytestmark = pytest.mark.django_db

KINDS = ["capacity", "autoscaling", "deploy", "rollback"]
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
ALL_AT_ONCE = {
    "strategy": "ALL_AT_ONCE",
    "size_type": "CAPACITY_PERCENT",
    "size_value": "",
    "wait_seconds": "0",
    "termination_wait_seconds": "0",
    "max_execution_timeout_seconds": "",
    "rollback_batch_percent": "",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Model lists, activities and configs are cached per region; each test reads afresh."""
    cache.clear()
    yield
    cache.clear()


def form_url(endpoint: Endpoint, kind: str, *, emergency: bool = False) -> str:
    name = "shifts:change_emergency" if emergency else "shifts:change_propose"
    return reverse(name, kwargs={"pk": endpoint.pk, "kind": kind})


def tab_url(endpoint: Endpoint) -> str:
    return reverse("shifts:changes", args=[endpoint.pk])


def login(client, user):
    client.force_login(user)
    return client


def with_scaling(endpoint: Endpoint, variant: str = "A") -> Endpoint:
    """The inventory row with a scalable target and one policy on `variant` (no AWS)."""
    endpoint.autoscaling = [
        {
            "variant": variant,
            "min_capacity": 1,
            "max_capacity": 4,
            "suspended": [],
            "policies": [
                {
                    "name": "invocations",
                    "metric": "SageMakerVariantInvocationsPerInstance",
                    "target_value": 70.0,
                    "scale_in_cooldown": 300,
                    "scale_out_cooldown": 60,
                    "disable_scale_in": False,
                    "alarms": ["TargetTracking-x-AlarmHigh-1", "TargetTracking-x-AlarmLow-2"],
                }
            ],
        }
    ]
    endpoint.save(update_fields=["autoscaling"])
    return endpoint


def change_request(endpoint: Endpoint, proposer, **fields) -> ShiftProposal:
    now = timezone.now()
    values = {
        "change": ChangeType.CAPACITY,
        "state": ShiftState.PENDING,
        "spec": {"capacity": {"A": {"instances": 2}}, "warnings": []},
        "before_state": {"capacity": {"A": {"instances": 1}, "B": {"instances": 1}}},
        "reason": "more room",
        "before_weights": {"A": 50.0, "B": 50.0},
        "desired_weights": {"A": 50.0, "B": 50.0},
        "created_at": now,
        "expires_at": now + timedelta(hours=1),
        "updated_at": now,
        **fields,
    }
    return ShiftProposal.objects.create(endpoint=endpoint, proposer=proposer, **values)


def deploy_request(endpoint: Endpoint, proposer, **fields) -> ShiftProposal:
    spec = {
        "variant": "A",
        "model": "model-v2",
        "from_model": "model-v1",
        "instance_type": "",
        "instance_count": None,
        "deployment": {
            "strategy": "CANARY",
            "size_type": "CAPACITY_PERCENT",
            "size_value": 10,
            "wait_seconds": 300,
            "termination_wait_seconds": 0,
            "max_execution_timeout_seconds": None,
            "rollback_alarms": ["checkout-5xx"],
            "rollback_batch_percent": None,
        },
        "warnings": ["Canary: 10 % of the new fleet takes traffic first."],
    }
    values = {
        "change": ChangeType.DEPLOY,
        "spec": spec,
        "before_state": {"config_name": "checkout-config-1"},
        **fields,
    }
    return change_request(endpoint, proposer, **values)


# --- who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("Viewer", 403), ("Operator", 200), ("Approver", 200), ("Admin", 200)],
)
def test_change_forms_need_an_operator(
    kind, role, status, client, people, endpoint, aws_unreachable
):
    if role is not None:
        login(client, getattr(people, role.lower()))
    response = client.get(form_url(endpoint, kind))
    assert response.status_code == status
    if role is None:
        assert reverse("login") in response["Location"]
    posted = client.post(form_url(endpoint, kind), {"reason": "x"})
    assert posted.status_code == (status if status != 200 else 400)
    assert not ShiftProposal.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("role", "status"),
    [(None, 302), ("Viewer", 403), ("Operator", 403), ("Approver", 403), ("Admin", 200)],
)
def test_emergency_forms_need_an_admin(
    kind, role, status, client, people, endpoint, aws_unreachable
):
    if role is not None:
        login(client, getattr(people, role.lower()))
    assert client.get(form_url(endpoint, kind, emergency=True)).status_code == status
    posted = client.post(form_url(endpoint, kind, emergency=True), {"reason": "x"})
    assert posted.status_code == (status if status != 200 else 400)


@override_settings(OPSPORTAL_OPERATOR_EMERGENCY=True)
@pytest.mark.parametrize("kind", KINDS)
def test_operators_may_make_emergency_changes_when_the_setting_allows(
    kind, client, people, endpoint, aws_unreachable
):
    assert (
        login(client, people.operator).get(form_url(endpoint, kind, emergency=True)).status_code
        == 200
    )
    assert (
        login(client, people.viewer).get(form_url(endpoint, kind, emergency=True)).status_code
        == 403
    )


@pytest.mark.parametrize(("role", "status"), [(None, 302), ("Viewer", 200), ("Admin", 200)])
def test_the_tab_and_the_deployment_panel_are_for_every_reader(
    role, status, client, people, endpoint, aws_unreachable
):
    deploy = deploy_request(endpoint, people.operator, state=ShiftState.APPLIED)
    if role is not None:
        login(client, getattr(people, role.lower()))
    assert client.get(tab_url(endpoint)).status_code == status
    panel = client.get(reverse("shifts:deployment", args=[deploy.pk]))
    assert panel.status_code == status


def test_unknown_kinds_and_traffic_have_no_change_form(client, people, endpoint):
    login(client, people.admin)
    for kind in ("traffic", "nope", "capacity2"):
        assert client.get(form_url(endpoint, kind)).status_code == 404
        assert client.get(form_url(endpoint, kind, emergency=True)).status_code == 404
    shift = services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.operator, desired={"A": 1, "B": 3}, reason="x"
    )
    assert client.get(reverse("shifts:deployment", args=[shift.pk])).status_code == 404


# --- the tab --------------------------------------------------------------------------------


def test_tab_buttons_follow_the_role_and_the_open_change(client, people, endpoint):
    html = login(client, people.viewer).get(tab_url(endpoint)).content.decode()
    assert 'aria-current="page">Change requests' in html
    assert "Change capacity" not in html and "Emergency roll back" not in html
    html = login(client, people.operator).get(tab_url(endpoint)).content.decode()
    assert "Change capacity" in html and "Deploy a model version" in html
    assert 'data-testid="emergency-links"' not in html
    opened = change_request(endpoint, people.operator)
    html = client.get(tab_url(endpoint)).content.decode()
    assert "Change capacity" not in html
    assert f"Change #{opened.pk}</a> is pending" in html
    assert "Capacity: A 1 instance → 2 instances" in html  # the summary, in the open list
    html = login(client, people.admin).get(tab_url(endpoint)).content.decode()
    assert 'data-testid="emergency-links"' in html


def test_tab_lists_configs_with_rollback_buttons_and_requests_of_every_type(
    client, people, endpoint
):
    endpoint.config_name = "checkout-config-2"
    endpoint.save(update_fields=["config_name"])
    now = timezone.now()
    for minutes, name in [(30, "checkout-config-1"), (10, "checkout-config-2")]:
        EndpointSnapshot.objects.create(
            endpoint=endpoint,
            observed_at=now - timedelta(minutes=minutes),
            status="InService",
            config_name=name,
            fingerprint=name,
        )
    deploy_request(endpoint, people.operator, state=ShiftState.REJECTED)
    services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 1, "B": 3}, reason="x"
    )
    html = login(client, people.admin).get(tab_url(endpoint)).content.decode()
    configs = html.split('data-testid="configs"')[1].split("</section>")[0]
    current = configs.split('data-config="checkout-config-2"')[1].split("</tr>")[0]
    older = configs.split('data-config="checkout-config-1"')[1].split("</tr>")[0]
    assert "current" in current and "Roll back" not in current
    assert "Emergency roll back" in older and "config=checkout-config-1" in older
    history = html.split('data-testid="endpoint-change-history"')[1]
    assert "Deploy model model-v2 to A (canary)" in history and "Traffic A 25 %, B 75 %" in history


def test_tab_shows_auto_scaling_from_the_inventory_and_degrades_without_aws(
    client, people, endpoint, aws_unreachable
):
    with_scaling(endpoint)
    response = login(client, people.viewer).get(tab_url(endpoint))
    assert response.status_code == 200
    html = response.content.decode()
    variant_a = html.split('data-variant="A"')[1].split("</section>")[0]
    assert "ml.m5.large × 1" in variant_a and "1–4 instances" in variant_a
    assert "invocations" in variant_a and "70.0" in variant_a and "60 s" in variant_a
    assert 'data-testid="activities-error"' in variant_a and "could not read:" in variant_a
    variant_b = html.split('data-variant="B"')[1].split("</section>")[0]
    assert "no scalable target" in variant_b and "activities" not in variant_b


def test_tab_shows_live_scaling_activities_policies_and_alarms(client, people, live, aws_sandbox):
    aas = autoscaling(aws_sandbox.url)
    resource = f"endpoint/{live.name}/variant/v0"
    aas.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        MinCapacity=2,
        MaxCapacity=3,
    )
    aas.put_scaling_policy(
        PolicyName="invocations",
        ServiceNamespace="sagemaker",
        ResourceId=resource,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
        },
    )
    # The minimum of 2 makes auto scaling scale v0 out from 1: an activity.
    deadline = time.monotonic() + 20
    while not aas.describe_scaling_activities(ServiceNamespace="sagemaker", ResourceId=resource)[
        "ScalingActivities"
    ]:
        assert time.monotonic() < deadline, "no scaling activity"
        time.sleep(0.2)
    live = refreshed(live)
    report = alarm_sync(target=target_by_name(live.target), region=live.region)
    assert not report.error, report.summary()
    html = login(client, people.viewer).get(tab_url(live)).content.decode()
    v0 = html.split('data-variant="v0"')[1].split("</section>")[0]
    assert "2–3 instances" in v0 and "active" in v0
    assert "invocations" in v0 and "70.0" in v0
    activities = v0.split('data-testid="activities"')[1]
    assert "Setting desired instance count to 2." in activities
    assert "could not read" not in v0
    alarms = html.split('data-testid="scaling-alarms"')[1].split("</section>")[0]
    assert f"TargetTracking-endpoint/{live.name}/variant/v0-AlarmHigh" in alarms


# --- the forms against the sandbox ----------------------------------------------------------


def test_capacity_form_proposes_the_new_instance_count(client, people, live):
    page = login(client, people.operator).get(form_url(live, "capacity")).content.decode()
    assert 'name="instances_0"' in page and "ml.m5.large × 1" in page
    response = client.post(
        form_url(live, "capacity"),
        {"instances_0": "2", "instances_1": "1", "reason": "Black Friday", "action": "submit"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    proposal = ShiftProposal.objects.get(endpoint=live)
    assert response["Location"] == reverse("shifts:detail", args=[proposal.pk])
    assert proposal.change == ChangeType.CAPACITY and proposal.state == ShiftState.PENDING
    assert proposal.spec["capacity"] == {"v0": {"instances": 2}}
    detail = client.get(response["Location"]).content.decode()
    assert "Change #" in detail and "Capacity: v0 1 instance → 2 instances" in detail
    assert 'data-testid="capacity-change"' in detail and 'data-testid="split-chart"' not in detail


def test_capacity_preview_runs_the_checks_and_saves_nothing(client, people, live):
    login(client, people.operator)
    fragment = client.post(
        form_url(live, "capacity"),
        {"instances_0": "3", "instances_1": "1", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert "Capacity: v0 1 instance → 3 instances" in body
    button = client.post(
        form_url(live, "capacity"),
        {"instances_0": "0", "instances_1": "1", "reason": "x", "action": "preview"},
    )
    assert button.status_code == 200 and "from 1 to 1000" in button.content.decode()
    assert not ShiftProposal.objects.filter(endpoint=live).exists()


def test_auto_scaling_forms_propose_a_target_then_a_policy(client, people, live, aws_sandbox):
    login(client, people.operator)
    chooser = client.get(form_url(live, "autoscaling"), {"variant": "v1", "operation": "target"})
    assert 'name="min_capacity"' in chooser.content.decode()
    assert 'name="policy_name"' not in chooser.content.decode()
    response = client.post(
        form_url(live, "autoscaling"),
        {
            "variant": "v1",
            "operation": "target",
            "min_capacity": "1",
            "max_capacity": "3",
            "reason": "r",
            "action": "submit",  # the button: never taken for the auto scaling action
        },
    )
    assert response.status_code == 302
    proposal = ShiftProposal.objects.get(endpoint=live)
    assert proposal.change == ChangeType.AUTOSCALING
    assert {k: v for k, v in proposal.spec.items() if k != "warnings"} == {
        "variant": "v1",
        "action": "target",
        "min_capacity": 1,
        "max_capacity": 3,
    }
    services.shift_cancel(proposal_id=proposal.pk, actor=people.operator)

    autoscaling(aws_sandbox.url).register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{live.name}/variant/v1",
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=2,
    )
    live = refreshed(live)
    page = client.get(form_url(live, "autoscaling"), {"variant": "v1", "operation": "policy"})
    assert 'name="target_value"' in page.content.decode()
    response = client.post(
        form_url(live, "autoscaling"),
        {
            "variant": "v1",
            "operation": "policy",
            "policy_name": "invocations",
            "target_value": "120.5",
            "scale_out_cooldown": "60",
            "scale_in_cooldown": "600",
            "metric": "predefined",
            "statistic": "Average",
            "reason": "r",
            "action": "submit",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = ShiftProposal.objects.get(endpoint=live, state=ShiftState.PENDING)
    assert policy.spec["policy"] == {
        "name": "invocations",
        "target_value": 120.5,
        "scale_in_cooldown": 600,
        "scale_out_cooldown": 60,
        "disable_scale_in": False,
    }


def copy_of_model(url: str, endpoint_name: str) -> str:
    """A second version of the endpoint's model (same artifacts under a new name)."""
    sm = console(url)
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    )
    described = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    new = f"v2-{uuid.uuid4().hex[:8]}"
    sm.create_model(
        ModelName=new,
        PrimaryContainer=described["PrimaryContainer"],
        ExecutionRoleArn=described["ExecutionRoleArn"],
    )
    return new


def test_deploy_form_lists_the_models_and_proposes_the_version(client, people, live, aws_sandbox):
    model = copy_of_model(aws_sandbox.url, live.name)
    login(client, people.operator)
    page = client.get(form_url(live, "deploy")).content.decode()
    assert f'<option value="{model}">' in page  # a select of the region's models
    assert "Rolling is not offered: this endpoint has 2 production variants" in page
    assert '<option value="ROLLING"' not in page
    preview = client.post(
        form_url(live, "deploy"),
        {"variant": "v0", "model": model, **ALL_AT_ONCE, "strategy": "CANARY", "size_value": "10"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f"Deploy model {model} to v0 (canary)" in preview
    assert "Canary 10 % with no bake, then all; no rollback alarms" in preview
    response = client.post(
        form_url(live, "deploy"),
        {"variant": "v0", "model": model, **ALL_AT_ONCE, "reason": "v2 passed shadow tests"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    proposal = ShiftProposal.objects.get(endpoint=live)
    assert proposal.change == ChangeType.DEPLOY
    assert proposal.spec["model"] == model and proposal.spec["variant"] == "v0"
    assert proposal.spec["deployment"]["strategy"] == "ALL_AT_ONCE"
    assert proposal.before_state == {"config_name": live.config_name}


def test_deploy_form_takes_a_typed_model_when_models_cannot_be_listed(
    client, people, endpoint, aws_unreachable
):
    page = login(client, people.operator).get(form_url(endpoint, "deploy")).content.decode()
    assert 'type="text" name="model"' in page and "Could not list the models" in page


def test_deploy_refusals_land_on_the_fields(client, people, live, aws_sandbox):
    model = copy_of_model(aws_sandbox.url, live.name)
    login(client, people.operator)
    response = client.post(
        form_url(live, "deploy"),
        {
            "variant": "v0",
            "model": model,
            **ALL_AT_ONCE,
            "strategy": "CANARY",
            "size_value": "60",
            "wait_seconds": "5000",
            "reason": "x",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    size = html.split('data-field="size_value"')[1].split('data-field="')[0]
    assert "Canary size (CanarySize) must be 1–50 % of the new fleet; got 60 %." in size
    wait = html.split('data-field="wait_seconds"')[1].split('data-field="')[0]
    assert "must be 0–3600 seconds" in wait
    rolling = client.post(
        form_url(live, "deploy"),
        {"variant": "v0", "model": model, **ALL_AT_ONCE, "strategy": "ROLLING", "reason": "x"},
    )
    assert rolling.status_code == 400 and "Select a valid choice" in rolling.content.decode()
    assert not ShiftProposal.objects.filter(endpoint=live).exists()


def test_rollback_from_the_tab_proposes_the_earlier_config(client, people, live, aws_sandbox):
    sm = console(aws_sandbox.url)
    old = sm.describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    described = sm.describe_endpoint_config(EndpointConfigName=old)
    new = f"ci-{uuid.uuid4().hex[:8]}"
    sm.create_endpoint_config(
        EndpointConfigName=new, ProductionVariants=described["ProductionVariants"]
    )
    sm.update_endpoint(EndpointName=live.name, EndpointConfigName=new)
    wait_for_status(sm, live.name, "InService")
    live = refreshed(live)
    assert live.config_name == new
    login(client, people.operator)
    tab = client.get(tab_url(live)).content.decode()
    older = tab.split(f'data-config="{old}"')[1].split("</tr>")[0]
    link = f"{form_url(live, 'rollback')}?config={old}"
    assert link in older and "Roll back to this config" in older
    form = client.get(link).content.decode()
    assert f'<option value="{old}" selected>' in form
    response = client.post(
        form_url(live, "rollback"), {"config_name": old, **ALL_AT_ONCE, "reason": "ci broke it"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    proposal = ShiftProposal.objects.get(endpoint=live)
    assert proposal.change == ChangeType.ROLLBACK
    assert proposal.spec["config_name"] == old and proposal.before_state == {"config_name": new}


def test_emergency_capacity_change_by_an_admin_is_approved_at_once(client, people, live):
    response = login(client, people.admin).post(
        form_url(live, "capacity", emergency=True),
        {"instances_0": "1", "instances_1": "2", "reason": "v1 is saturated", "action": "submit"},
    )
    assert response.status_code == 302
    proposal = ShiftProposal.objects.get(endpoint=live)
    assert proposal.kind == ShiftKind.EMERGENCY and proposal.state == ShiftState.APPROVED
    assert proposal.spec["capacity"] == {"v1": {"instances": 2}}


def test_emergency_submit_is_offered_only_to_those_the_policy_allows(client, people, endpoint):
    page = login(client, people.operator).get(form_url(endpoint, "capacity")).content.decode()
    assert 'data-testid="submit-emergency"' not in page
    page = login(client, people.admin).get(form_url(endpoint, "capacity")).content.decode()
    emergency = form_url(endpoint, "capacity", emergency=True)
    assert f'formaction="{emergency}"' in page
    page = client.get(emergency).content.decode()
    assert "Applied at once, without approval" in page


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("capacity", {"instances_0": "0", "instances_1": "1"}, "from 1 to 1000"),
        ("capacity", {"instances_0": "1", "instances_1": "1"}, "Nothing would change"),
        ("capacity", {"instances_0": "two", "instances_1": "1"}, "Enter a whole number."),
        ("capacity", {"instances_0": "9" * 5000}, "Enter a whole number."),
        ("capacity", {"instances_0": "9" * 12}, "less than or equal to 1000000000"),
        (
            "autoscaling",
            {"variant": "A", "operation": "target", "min_capacity": "4", "max_capacity": "2"},
            "The maximum must be at least the minimum.",
        ),
        (
            "autoscaling",
            {"variant": "A", "operation": "target", "min_capacity": "", "max_capacity": "2"},
            "The minimum must be a whole number from 1 to 1000.",
        ),
        (
            "autoscaling",
            {"variant": "A", "operation": "suspend"},
            "no scalable target; set its minimum and maximum first",
        ),
        ("autoscaling", {"variant": "Z", "operation": "resume"}, "Select a valid choice"),
        ("rollback", {"config_name": "nope", **ALL_AT_ONCE}, "Select a valid choice"),
        ("deploy", {"variant": "A", "model": "m", **ALL_AT_ONCE}, "refresh the endpoint first"),
    ],
)
def test_refusals_are_shown_on_the_form_with_400_and_nothing_is_saved(
    kind, data, message, client, people, endpoint, aws_unreachable
):
    login(client, people.operator)
    response = client.post(form_url(endpoint, kind), {**data, "reason": "because"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ShiftProposal.objects.exists()


def test_a_missing_reason_is_refused(client, people, endpoint):
    login(client, people.operator)
    response = client.post(form_url(endpoint, "capacity"), {"instances_0": "2", "reason": " "})
    assert response.status_code == 400 and "This field is required" in response.content.decode()


def test_a_second_open_change_is_refused_on_the_form(client, people, endpoint):
    services.shift_propose(
        endpoint_id=endpoint.pk, actor=people.admin, desired={"A": 1, "B": 3}, reason="x"
    )
    login(client, people.operator)
    response = client.post(form_url(endpoint, "capacity"), {"instances_0": "2", "reason": "x"})
    assert response.status_code == 400 and "already pending" in response.content.decode()


# --- no input makes a form fail -------------------------------------------------------------

NASTY = [
    "",
    " ",
    "²",
    "٣",
    "\x00",
    "a\x00b",
    "1e-320",
    "1e309",
    "-1",
    "0",
    "NaN",
    "inf",
    "99999999999999999999999999",
    "9" * 5000,
    "<script>alert(1)</script>",
    "🙂" * 300,
    "x" * 70_000,
]
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=200))
DEPLOYMENT_FIELDS = {
    "strategy": ["ALL_AT_ONCE", "CANARY", "LINEAR", "ROLLING"],
    "size_type": ["CAPACITY_PERCENT", "INSTANCE_COUNT"],
    "size_value": ["10", "1", "50"],
    "wait_seconds": ["0", "600"],
    "termination_wait_seconds": ["0", "10"],
    "max_execution_timeout_seconds": ["", "600"],
    "rollback_batch_percent": ["", "5"],
    "rollback_alarms": ["checkout-5xx"],
}
FIELDS = {
    "capacity": {"instances_0": ["2", "1"], "instances_1": ["3"]},
    "autoscaling": {
        "variant": ["A", "B"],
        "operation": ["target", "policy", "suspend", "resume", "remove_policy"],
        "min_capacity": ["1"],
        "max_capacity": ["3"],
        "policy_name": ["invocations"],
        "target_value": ["70"],
        "scale_out_cooldown": ["60"],
        "scale_in_cooldown": ["300"],
        "disable_scale_in": ["on"],
        "metric": ["predefined", "custom"],
        "namespace": ["Custom"],
        "metric_name": ["Latency"],
        "statistic": ["Average"],
        "policy_to_remove": ["invocations"],
    },
    "deploy": {
        "variant": ["A"],
        "model": ["model-v2"],
        "instance_type": ["ml.m5.xlarge"],
        "instance_count": ["2"],
        **DEPLOYMENT_FIELDS,
    },
    "rollback": {"config_name": ["checkout-config-1"], **DEPLOYMENT_FIELDS},
}


def form_data(kind: str) -> st.SearchStrategy[dict[str, str]]:
    fields = {name: st.one_of(st.sampled_from(valid), TEXT) for name, valid in FIELDS[kind].items()}
    fields["reason"] = st.one_of(st.just("on call"), TEXT)
    fields["action"] = st.sampled_from(["submit", "preview"])
    return st.fixed_dictionaries(fields)


FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("kind", KINDS)
def test_no_input_makes_a_change_form_fail(kind, client, people, endpoint, aws_unreachable):
    with_scaling(endpoint)
    endpoint.config_name = "checkout-config-2"
    endpoint.config_raw = {
        "EndpointConfigName": "checkout-config-2",
        "ProductionVariants": [
            {"VariantName": "A", "ModelName": "model-v1", "InstanceType": "ml.m5.large"},
            {"VariantName": "B", "ModelName": "model-v1", "InstanceType": "ml.m5.large"},
        ],
    }
    endpoint.save(update_fields=["config_name", "config_raw"])
    EndpointSnapshot.objects.create(
        endpoint=endpoint,
        observed_at=timezone.now() - timedelta(hours=1),
        status="InService",
        config_name="checkout-config-1",
        fingerprint="1",
    )
    login(client, people.admin)
    urls = [form_url(endpoint, kind), form_url(endpoint, kind, emergency=True)]

    @FUZZ
    @given(form_data(kind), st.sampled_from(urls), st.booleans())
    def check(data: dict[str, str], url: str, htmx: bool) -> None:
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        response = client.post(url, data, **headers)
        assert response.status_code in (200, 302, 400), (kind, url, response.status_code)
        ShiftProposal.objects.all().delete()
        query = client.get(url, {"variant": data.get("variant", ""), "config": data["reason"]})
        assert query.status_code == 200

    check()


# --- the change request's page and the live deployment panel --------------------------------


def test_detail_page_of_a_change_shows_summary_binding_and_warnings(client, people, endpoint):
    proposal = change_request(
        endpoint,
        people.operator,
        spec={
            "capacity": {"A": {"instances": 5}},
            "warnings": ["A: 5 is outside auto scaling's 1–4; auto scaling will move it back."],
        },
    )
    html = login(client, people.approver).get(reverse("shifts:detail", args=[proposal.pk]))
    body = html.content.decode()
    assert f"Change #{proposal.pk}: capacity on" in body
    assert "Capacity: A 1 instance → 5 instances" in body
    bound = body.split('data-testid="change-bound"')[1].split("</dl>")[0]
    assert "1 instance" in bound
    assert "outside auto scaling" in body.split('data-testid="change-warnings"')[1]
    assert 'data-testid="approve"' in body and 'data-testid="split-chart"' not in body
    assert (
        "Edit</a>"
        not in login(client, people.operator)
        .get(reverse("shifts:detail", args=[proposal.pk]))
        .content.decode()
    )
    assert client.get(reverse("shifts:edit", args=[proposal.pk])).status_code == 409


def test_deployment_panel_says_when_aws_cannot_be_read(client, people, endpoint, aws_unreachable):
    deploy = deploy_request(
        endpoint, people.operator, state=ShiftState.APPLYING, update_sent_at=timezone.now()
    )
    login(client, people.viewer)
    panel = client.get(reverse("shifts:deployment", args=[deploy.pk]))
    body = panel.content.decode()
    assert panel.status_code == 200 and "could not read:" in body
    assert 'hx-trigger="every 3s"' in body
    assert "checkout-5xx" in body and "not known to the portal" in body
    detail = client.get(reverse("shifts:detail", args=[deploy.pk])).content.decode()
    assert "Canary: 10 % of the new fleet takes traffic first." in detail
    assert "model-v1 → model-v2" in detail


def test_deploy_followed_live_until_in_service_on_the_new_config(
    client, people, live, aws_sandbox, held_tasks, run_commits
):
    model = copy_of_model(aws_sandbox.url, live.name)
    proposal = services.change_propose(
        endpoint_id=live.pk,
        actor=people.operator,
        change=ChangeType.DEPLOY,
        spec={"variant": "v0", "model": model, "deployment": {"strategy": "ALL_AT_ONCE"}},
        reason="v2",
    )
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    assert reload(proposal).state == ShiftState.APPLYING
    login(client, people.viewer)
    panel = client.get(reverse("shifts:deployment", args=[proposal.pk])).content.decode()
    assert 'hx-trigger="every 3s"' in panel
    assert f"{live.name}-cr{proposal.pk}" in panel
    assert 'data-testid="deployment-status"' in panel
    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.APPLIED, done.error
    cache.clear()
    panel = client.get(reverse("shifts:deployment", args=[proposal.pk])).content.decode()
    assert "hx-trigger" not in panel
    assert f"InService on {live.name}-cr{proposal.pk}." in panel


def test_list_shows_every_type_with_its_summary_and_filters_by_type(client, people, endpoint):
    other = make_endpoint("search")
    capacity = change_request(endpoint, people.operator)
    traffic = services.shift_propose(
        endpoint_id=other.pk, actor=people.operator, desired={"A": 1, "B": 3}, reason="x"
    )
    login(client, people.viewer)
    page = client.get(reverse("shifts:list")).content.decode()
    assert "Capacity: A 1 instance → 2 instances" in page and "Traffic A 25 %, B 75 %" in page

    def shown(**params):
        body = client.get(reverse("shifts:list"), params).content.decode()
        return {p for p in (capacity.pk, traffic.pk) if f'data-shift="{p}"' in body}

    assert shown(change="capacity") == {capacity.pk}
    assert shown(change="traffic") == {traffic.pk}
    assert client.get(reverse("shifts:list"), {"change": "bogus"}).status_code == 400


@pytest.mark.parametrize(
    ("state", "observed", "error", "words"),
    [
        (
            ShiftState.APPLIED,
            {"status": "InService", "config_name": "checkout-cr9", "failure_reason": ""},
            "",
            "InService on checkout-",
        ),
        (
            ShiftState.FAILED,
            {
                "status": "InService",
                "config_name": "checkout-config-1",
                "failure_reason": "Alarm checkout-5xx went into ALARM state.",
            },
            "Rolled back: …",
            "Rolled back to checkout-config-1: Alarm checkout-5xx went into ALARM state.",
        ),
        (ShiftState.FAILED, None, "The endpoint is Failed: boom", "The endpoint is Failed: boom"),
        (
            ShiftState.SUPERSEDED,
            None,
            "",
            "Nothing was sent to SageMaker: the change is superseded.",
        ),
        (ShiftState.PENDING, None, "", "Waiting for approval"),
    ],
)
def test_deployment_panel_of_a_settled_change_says_what_happened_without_aws(
    state, observed, error, words, client, people, endpoint, aws_unreachable
):
    deploy = deploy_request(
        endpoint, people.operator, state=state, observed_state=observed, error=error
    )
    body = login(client, people.viewer).get(reverse("shifts:deployment", args=[deploy.pk]))
    html = body.content.decode()
    assert body.status_code == 200 and "hx-trigger" not in html and "could not read" not in html
    assert words in html.split('data-testid="deployment-outcome"')[1].split("</p>")[0]


def test_broken_canary_is_followed_live_to_its_rollback(
    client, people, live, aws_sandbox, held_tasks, run_commits
):
    url = aws_sandbox.url
    old_config = console(url).describe_endpoint(EndpointName=live.name)["EndpointConfigName"]
    rate_alarm, latency_alarm = put_endpoint_alarms(cloudwatch(url), live.name, "v0")
    assert not alarm_sync(target=target_by_name(live.target), region=live.region).error
    broken = model_version(url, live.name, failing=True)
    login(client, people.operator)
    form = client.get(form_url(live, "deploy")).content.decode()
    # The endpoint's health alarms are the rollback alarms unless unticked.
    for name in (rate_alarm, latency_alarm):
        box = form.split(f'value="{name}"')[1].split(">")[0]
        assert "checked" in box
    response = client.post(
        form_url(live, "deploy"),
        {
            "variant": "v0",
            "model": broken,
            **ALL_AT_ONCE,
            "strategy": "CANARY",
            "size_value": "50",
            "wait_seconds": "5",
            "rollback_alarms": [rate_alarm],
            "reason": "new model version",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    proposal = ShiftProposal.objects.get(endpoint=live)
    run_commits(lambda: services.shift_approve(proposal_id=proposal.pk, actor=people.approver))
    assert reload(proposal).state == ShiftState.APPLYING
    panel_url = reverse("shifts:deployment", args=[proposal.pk])

    seen = drive(url, live.name, until={"InService"})
    assert "RollingBack" in seen
    alarm_sync(target=target_by_name(live.target), region=live.region)
    cache.clear()
    panel = client.get(panel_url).content.decode()
    outcome = panel.split('data-testid="deployment-outcome"')[1].split("</p>")[0]
    assert f"Rolled back to {old_config}: " in outcome and rate_alarm in outcome
    watched = panel.split('data-testid="deployment-alarms"')[1].split("</ul>")[0]
    # Listed with its state as last synced (by now it may be OK again: the old fleet serves,
    # and a new minute of healthy traffic may have been evaluated).
    assert rate_alarm in watched and "as synced" in watched

    done = settle(held_tasks, proposal)
    assert done.state == ShiftState.FAILED
    detail = client.get(reverse("shifts:detail", args=[proposal.pk])).content.decode()
    assert f"Rolled back to {old_config}: " in detail
    assert f'hx-get="{panel_url}"' not in detail  # finished: no more polling


def test_preview_warns_of_a_rollback_alarm_already_in_alarm(client, people, live, aws_sandbox):
    url = aws_sandbox.url
    rate_alarm, _ = put_endpoint_alarms(cloudwatch(url), live.name, "v0")
    cloudwatch(url).set_alarm_state(
        AlarmName=rate_alarm, StateValue="ALARM", StateReason="testing the warning"
    )
    assert not alarm_sync(target=target_by_name(live.target), region=live.region).error
    model = copy_of_model(url, live.name)
    login(client, people.operator)
    preview = client.post(
        form_url(live, "deploy"),
        {"variant": "v0", "model": model, **ALL_AT_ONCE, "rollback_alarms": [rate_alarm]},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f"The rollback alarm {rate_alarm} is in ALARM now" in preview
